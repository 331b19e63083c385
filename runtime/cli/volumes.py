"""``podbay volume ls`` and ``podbay volume rm NAME...``: the named local volumes behind claims."""

from __future__ import annotations

import sys

from podbay.runtime.paths import Paths


def volume_ls(paths: Paths, quiet: bool = False) -> int:
    folder = paths.data_dir / "volumes"
    names = sorted(p.name for p in folder.iterdir() if (p / "_data").is_dir()) if folder.is_dir() else []
    if not quiet:
        print("DRIVER  VOLUME NAME")
    for name in names:
        print(name if quiet else f"local   {name}")
    return 0


def volume_rm(paths: Paths, names: list[str]) -> int:
    from podbay.runtime.idmap import default_mapping  # noqa: PLC0415
    from podbay.runtime.process.userns import UsernsError, remove_tree  # noqa: PLC0415

    status = 0
    for name in names:
        folder = paths.data_dir / "volumes" / name
        if "/" in name or name in ("", ".", "..") or not (folder / "_data").is_dir():
            print(f"error: no such volume {name!r}", file=sys.stderr)
            status = 1
            continue
        try:
            remove_tree(str(folder), default_mapping())
        except (UsernsError, OSError) as err:
            print(f"error: volume {name}: {err}", file=sys.stderr)
            status = 1
            continue
        print(name)
    return status
