"""Where podbay's cgroups go and which controllers it may use there, found without writing anything.

Rootful: a folder under the unified hierarchy (``cgroupRoot``, default ``/sys/fs/cgroup/podbay``),
with the controllers its parent hands down (``cgroup.subtree_control``); podbay never writes to the
parent. Rootless: the user's delegated subtree, the topmost cgroup above this process that the user
owns (systemd's ``user@UID.service`` with ``Delegate=``), plus ``/podbay``; its controllers are those
delegated (``cgroup.controllers`` of that cgroup). A hybrid host (controllers in cgroup v1, like
our development machines) or a cgroup that is not delegated gives no root, and a reason that names
why, for the warnings.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from podbay.runtime.settings import Settings

MOUNT = Path("/sys/fs/cgroup")
WANTED = ("cpu", "cpuset", "io", "memory", "pids")  # what podbay enables where it can
NEEDED = ("cpu", "memory", "pids")  # what the limits use (io and cpuset only add figures)
FIX_DELEGATION = ("systemd delegates them with a drop-in /etc/systemd/system/user@.service.d/delegate.conf "
                  "containing [Service] Delegate=cpu cpuset io memory pids")


@dataclass(frozen=True)
class Hierarchy:
    root: Path | None  # podbay's subtree; None: no cgroups at all
    controllers: frozenset[str]  # the WANTED controllers podbay can enable in it
    why_missing: str = ""  # completes "the memory controller is not available ..."
    delegated: Path | None = None  # rootless: the delegated cgroup the root is made in
    mode: str = "enabled"  # the cgroups setting

    def missing(self, controller: str) -> bool:
        return controller not in self.controllers


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def own_cgroup(mount: Path = MOUNT, proc_self: Path = Path("/proc/self/cgroup")) -> Path | None:
    """This process's cgroup v2 folder (the ``0::`` line), when the unified hierarchy is at ``mount``."""
    for line in _read(proc_self).splitlines():
        if line.startswith("0::"):
            return mount / line[3:].strip().lstrip("/")
    return None


def delegated_top(start: Path, mount: Path, uid: int) -> Path | None:
    """The topmost cgroup from ``start`` up that ``uid`` owns: where its delegation begins."""
    found = None
    here = start
    while here != mount and mount in here.parents:
        try:
            if (here / "cgroup.procs").stat().st_uid != uid:
                break
        except OSError:
            break
        found = here
        here = here.parent
    return found


def user_manager_subtree(mount: Path = MOUNT, uid: int | None = None) -> Path | None:
    """systemd's ``user@UID.service`` of this user, when it exists and is delegated to it (lingering or
    a login session started the user manager)."""
    uid = os.getuid() if uid is None else uid
    path = mount / "user.slice" / f"user-{uid}.slice" / f"user@{uid}.service"
    try:
        return path if (path / "cgroup.procs").stat().st_uid == uid else None
    except OSError:
        return None


def needs_user_scope(settings: Settings, mount: Path = MOUNT) -> bool:
    """Rootless, in a cgroup that is not ours (an ssh or console login's scope belongs to root), with a
    systemd user manager to ask: the supervisor should start in a delegated scope of that manager
    (``systemd-run --user --scope -p Delegate=yes``, which has systemd move it), as podman asks
    systemd for a scope. Never for root, nor with cgroups disabled or a cgroupRoot of one's own."""
    if os.geteuid() == 0 or settings.cgroups == "disabled" or settings.cgroup_root or not is_unified(mount):
        return False
    here = own_cgroup(mount)
    if here is None or delegated_top(here, mount, os.geteuid()) is not None:
        return False
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
    bus = bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")) or bool(runtime_dir and os.path.exists(f"{runtime_dir}/bus"))
    return bus and user_manager_subtree(mount) is not None and shutil.which("systemd-run") is not None


def is_unified(mount: Path = MOUNT) -> bool:
    return (mount / "cgroup.controllers").exists()


def is_hybrid(mount: Path = MOUNT) -> bool:
    return (mount / "unified" / "cgroup.controllers").exists() or (mount / "memory").is_dir()


def detect(settings: Settings, *, mount: Path = MOUNT, proc_self: Path = Path("/proc/self/cgroup"),
           euid: int | None = None) -> Hierarchy:
    euid = os.geteuid() if euid is None else euid
    if settings.cgroups == "disabled":
        return Hierarchy(None, frozenset(), "because cgroups are disabled in podbay's settings", mode="disabled")
    if not is_unified(mount):
        why = ("in cgroup v2 on this host (hybrid hierarchy: the controllers are in cgroup v1)" if is_hybrid(mount)
               else f"on this host: there is no cgroup v2 hierarchy at {mount}")
        return Hierarchy(None, frozenset(), why, mode=settings.cgroups)
    if euid == 0:
        root = Path(settings.cgroup_root) if settings.cgroup_root else mount / "podbay"
        handed = set(_read(root.parent / "cgroup.subtree_control").split())
        found = frozenset(c for c in WANTED if c in handed)
        why = f"to podbay's cgroups: {root.parent}/cgroup.subtree_control does not enable it"
        return Hierarchy(root, found, why if len(found) < len(WANTED) else "", mode=settings.cgroups)
    if settings.cgroup_root:
        root = Path(settings.cgroup_root)
        top = delegated_top(root.parent, mount, euid) if root.parent.exists() else None
    else:
        here = own_cgroup(mount, proc_self)
        top = delegated_top(here, mount, euid) if here is not None else None
        root = top / "podbay" if top is not None else mount / "podbay"
    if top is None:
        where = root.parent if settings.cgroup_root else own_cgroup(mount, proc_self)
        return Hierarchy(None, frozenset(), f"to this user: its cgroup {where} is not delegated to it (run podbay "
                                            "in a systemd user session or `systemd-run --user --scope -p "
                                            "Delegate=yes`)", mode=settings.cgroups)
    delegated = set(_read(top / "cgroup.controllers").split())
    found = frozenset(c for c in WANTED if c in delegated)
    why = f"to this user: systemd does not delegate it to {top}; {FIX_DELEGATION}"
    return Hierarchy(root, found, why if len(found) < len(WANTED) else "", delegated=top, mode=settings.cgroups)


def unenforced(hierarchy: Hierarchy, wanted: dict[str, list[str]]) -> list[str]:
    """One sentence per reason: what is not enforced, and why
    (``memory limit of web not enforced: the memory controller is not available ...``)."""
    lacking = sorted(c for c in wanted if wanted[c] and hierarchy.missing(c))
    if not lacking or hierarchy.mode == "disabled":
        return []
    what = [item for c in lacking for item in wanted[c]]
    names = " and ".join(lacking)
    verb = "controller is" if len(lacking) == 1 else "controllers are"
    return [f"{', '.join(what)} not enforced: the {names} {verb} not available {hierarchy.why_missing}"]
