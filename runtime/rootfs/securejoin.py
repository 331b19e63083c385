"""Resolve a path inside a root folder as if the root were ``/`` (filepath-securejoin's idea).

Mount targets inside an image must never be reached through a symlink that points out of
it: ``/etc/hosts -> /etc/shadow`` would otherwise bind over the host's file, since the
container's mounts are made before ``pivot_root``. Symlinks are followed by hand, with
``..`` clamped at the root. Standard library only (runs in the init).
"""

from __future__ import annotations

import os

MAX_LINKS = 255


def secure_join(root: str, path: str) -> str:
    """The host path of ``path`` under ``root``, every symlink resolved within ``root``."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            is_link = os.path.islink(candidate)
        except OSError:
            is_link = False
        if not is_link:
            resolved.append(part)
            continue
        links += 1
        if links > MAX_LINKS:
            raise OSError(40, "too many levels of symbolic links", path)  # ELOOP
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p not in ("", ".")] + parts
    return os.path.join(root, *resolved)
