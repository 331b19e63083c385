"""podbay's cgroup v2 tree: ``<root>/pod<uid>/<container>`` (and ``_pause`` for a pod's infra process).

Every path is under the root from hierarchy.py, which is a parameter: unit tests point it at a
folder of plain files. Processes are put in their group by the launcher before the container's
process exists (``attach`` of the init's pid, as runc's parent does for ``runc init``); removal
kills with ``cgroup.kill``, waits until ``cgroup.events`` says ``populated 0``, then removes the
folders from the leaves up.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from podbay.runtime.cgroups.hierarchy import WANTED, Hierarchy, unenforced
from podbay.runtime.cgroups.resources import Limits

CONTROLLER_OF = {"cpu.weight": "cpu", "cpu.max": "cpu", "memory.max": "memory", "memory.swap.max": "memory",
                 "memory.oom.group": "memory", "pids.max": "pids"}
INFRA = "_pause"  # a name no container can have (container names are DNS labels)
EMPTY_WAIT = 10.0


class CgroupError(Exception):
    """A cgroup could not be made, limited, joined or removed; the message names the file."""


def _write(path: Path, value: str) -> None:
    try:
        with open(path, "w") as handle:
            handle.write(value)
    except OSError as err:
        raise CgroupError(f"cannot write {value!r} to {path}: {err.strerror}") from err


def read_keyed(path: Path) -> dict[str, int]:
    """A flat keyed file (``memory.events``, ``cgroup.events``, ``cpu.stat``) as numbers."""
    out: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out


class Cgroups:
    """The manager. With no root (no cgroup v2, nothing delegated, disabled) every call does nothing
    and ``pod_path`` is None, so callers need no second code path."""

    def __init__(self, hierarchy: Hierarchy, rmdir: Callable[[Path], None] = os.rmdir) -> None:
        self.hierarchy = hierarchy
        self.root = hierarchy.root
        self.rmdir = rmdir  # a fake tree's folders hold plain files, which cgroupfs's rmdir ignores

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def warnings(self, wanted: dict[str, list[str]]) -> list[str]:
        """What ``wanted`` asks that this host cannot enforce; CgroupError under ``cgroups: required``."""
        found = unenforced(self.hierarchy, wanted)
        if found and self.hierarchy.mode == "required":
            raise CgroupError(f"{found[0]} (the cgroups setting is `required`)")
        return found

    def pod_path(self, uid: str) -> Path | None:
        return self.root / f"pod{uid}" if self.root is not None else None

    # --- making ---------------------------------------------------------------------------

    def _enable(self, path: Path) -> None:
        """Hand the usable controllers down to the children of ``path``."""
        controllers = [c for c in WANTED if c in self.hierarchy.controllers]
        if controllers:
            _write(path / "cgroup.subtree_control", " ".join(f"+{c}" for c in controllers))

    def _ensure_root(self) -> None:
        assert self.root is not None
        top = self.hierarchy.delegated
        if top is not None:  # rootless: the delegated cgroup itself hands the delegated controllers down
            wanted = [c for c in self.hierarchy.controllers
                      if c not in (top / "cgroup.subtree_control").read_text().split()]
            if wanted:
                _write(top / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
        if not self.root.is_dir():
            with contextlib.suppress(FileExistsError):
                self.root.mkdir()
            self._enable(self.root)

    def _limit(self, path: Path, limits: Limits) -> None:
        for name, value in limits.files().items():
            if CONTROLLER_OF[name] in self.hierarchy.controllers and (
                    name != "memory.swap.max" or (path / name).exists()):  # no swap accounting: nothing to limit
                _write(path / name, value)

    def create(self, path: Path, limits: Limits, *, parent: bool = False) -> None:
        """Make ``path`` (a pod's group when ``parent``: its children get the controllers) and limit it."""
        if self.root is None:
            return
        if self.root not in path.parents:
            raise CgroupError(f"{path} is outside podbay's cgroup root {self.root}")
        self._ensure_root()
        try:
            path.mkdir()
        except FileExistsError:
            pass
        except OSError as err:
            raise CgroupError(f"cannot create cgroup {path}: {err.strerror}") from err
        try:
            if parent:
                self._enable(path)
            self._limit(path, limits)
        except CgroupError:
            self.remove(path)
            raise

    def attach(self, path: Path | None, pid: int) -> None:
        """Move ``pid`` into ``path``: for a process that has not exec'd its program yet."""
        if path is None or self.root is None:
            return
        for _ in range(5):
            try:
                _write(path / "cgroup.procs", str(pid))
                return
            except CgroupError as err:  # EINVAL: a task still being forked; the kernel asks to retry
                if not isinstance(err.__cause__, OSError) or err.__cause__.errno != errno.EINVAL:
                    raise
                time.sleep(0.03)
        _write(path / "cgroup.procs", str(pid))

    # --- state ----------------------------------------------------------------------------

    def oom_kills(self, path: Path | None) -> int:
        return read_keyed(path / "memory.events").get("oom_kill", 0) if path is not None else 0

    def freeze(self, path: Path | None, frozen: bool, timeout: float = EMPTY_WAIT) -> None:
        """``cgroup.freeze``, waiting until ``cgroup.events`` says it is done."""
        if path is None or self.root is None:
            raise CgroupError("pausing needs a cgroup of the pod's own, and it has none: cgroups are not available "
                              + (self.hierarchy.why_missing or "to it"))
        _write(path / "cgroup.freeze", "1" if frozen else "0")
        deadline = time.monotonic() + timeout
        while read_keyed(path / "cgroup.events").get("frozen", int(frozen)) != int(frozen):
            if time.monotonic() > deadline:
                raise CgroupError(f"{path} did not {'freeze' if frozen else 'thaw'} within {timeout:.0f} s")
            time.sleep(0.01)

    # --- removal --------------------------------------------------------------------------

    def _kill(self, path: Path) -> None:
        if (path / "cgroup.kill").exists():  # Linux 5.14+: every process of the subtree, atomically
            with contextlib.suppress(CgroupError):
                _write(path / "cgroup.kill", "1")
            return
        for procs in path.rglob("cgroup.procs"):  # older kernels: one by one (frozen ones die too)
            for pid in procs.read_text().split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)

    def remove(self, path: Path | None, timeout: float = EMPTY_WAIT) -> None:
        """Kill whatever is left in ``path`` and remove it and its children; idempotent."""
        if path is None or self.root is None or not path.is_dir():
            return
        if self.root not in path.parents:
            raise CgroupError(f"{path} is outside podbay's cgroup root {self.root}")
        self._kill(path)
        deadline = time.monotonic() + timeout
        while read_keyed(path / "cgroup.events").get("populated", 0):
            if time.monotonic() > deadline:
                raise CgroupError(f"{path} still has processes {timeout:.0f} s after cgroup.kill")
            time.sleep(0.01)
        for folder in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) + [path]:
            try:
                self.rmdir(folder)
            except FileNotFoundError:
                pass
            except OSError as err:
                raise CgroupError(f"cannot remove cgroup {folder}: {err.strerror}") from err
