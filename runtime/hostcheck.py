"""What this host lets podbay do, checked without changing anything: user namespaces, id ranges,
cgroup v2 and the controllers this user may use, overlayfs, seccomp, rootless networking.

Each check is ``ok``, ``warn`` (pods run, something is degraded: say what and how to fix it) or
``fail`` (pods cannot run). ``podbay doctor`` prints them; the API's host_limits() and the TUI
show the warnings and failures."""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from podbay.runtime import idmap
from podbay.runtime.network.rootless import TUN

CGROUP = Path("/sys/fs/cgroup")
WANTED = ("cpu", "cpuset", "io", "memory", "pids")  # what pod and container limits use


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # "ok", "warn" or "fail"
    detail: str


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def kernel() -> Check:
    return Check("kernel", "ok", f"Linux {platform.release()}")


def user_namespaces() -> Check:
    if _read("/proc/sys/user/max_user_namespaces") == "0":
        return Check("user namespaces", "fail", "disabled: sysctl user.max_user_namespaces is 0")
    if os.geteuid() != 0:
        if _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
            return Check("user namespaces", "fail", "unprivileged ones are disabled: sysctl "
                                                    "kernel.unprivileged_userns_clone=1 enables them")
        if _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
            return Check("user namespaces", "fail", "AppArmor restricts unprivileged ones (Ubuntu): sysctl "
                                                    "kernel.apparmor_restrict_unprivileged_userns=0, or a profile")
    return Check("user namespaces", "ok", "available")


def id_ranges() -> Check:
    mapping = idmap.rootful_mapping() if os.geteuid() == 0 else idmap.rootless_mapping()
    if mapping.warning:
        return Check("id ranges", "warn", mapping.warning)
    inside = sum(count for _, _, count in mapping.uids)
    if os.geteuid() == 0:
        return Check("id ranges", "ok", f"{inside} uids for containers, from host uid {mapping.uids[0][1]}")
    return Check("id ranges", "ok", f"{inside} uids for containers: 0 is you, 1-{inside - 1} from /etc/subuid")


def own_cgroup() -> Path | None:
    """This process's cgroup v2 folder, when the unified hierarchy is mounted at /sys/fs/cgroup."""
    if not (CGROUP / "cgroup.controllers").exists():
        return None
    for line in _read("/proc/self/cgroup").splitlines():
        if line.startswith("0::"):
            return CGROUP / line[3:].lstrip("/")
    return None


def cgroups() -> Check:
    folder = own_cgroup()
    if folder is None:
        hybrid = (CGROUP / "unified" / "cgroup.controllers").exists() or (CGROUP / "memory").is_dir()
        why = ("a hybrid hierarchy (the controllers are in cgroup v1)" if hybrid
               else "no cgroup v2 hierarchy at /sys/fs/cgroup")
        return Check("cgroups", "warn", f"{why}: resource limits cannot be enforced, and CPU and memory "
                                        "figures are unavailable")
    # Rootless, limits need a subtree this user owns (systemd's Delegate=); root may use the root's.
    base = CGROUP if os.geteuid() == 0 else folder
    available = set(_read(base / "cgroup.controllers").split())
    missing = [name for name in WANTED if name not in available]
    if os.geteuid() != 0 and not os.access(base / "cgroup.subtree_control", os.W_OK):
        return Check("cgroups", "warn", f"cgroup v2, but {base} is not delegated to this user: limits cannot be "
                                        "enforced (systemd: Delegate=yes for user@.service, or run in "
                                        "`systemd-run --user --scope -p Delegate=yes`)")
    if missing:
        return Check("cgroups", "warn", f"cgroup v2 without the {', '.join(missing)} controller(s) here ({base}); "
                                        f"systemd delegates them with Delegate={' '.join(WANTED)}")
    return Check("cgroups", "ok", f"cgroup v2, controllers {' '.join(WANTED)} at {base}")


def overlay() -> Check:
    if "overlay" in _read("/proc/filesystems").split():
        return Check("overlayfs", "ok", "available")
    if list(Path("/lib/modules", platform.release(), "kernel/fs/overlayfs").glob("overlay.ko*")):
        return Check("overlayfs", "ok", "available (a module, loaded on first mount)")
    return Check("overlayfs", "warn", "not in this kernel: root filesystems are copied (--rootfs copy), slowly")


def seccomp() -> Check:
    actions = _read("/proc/sys/kernel/seccomp/actions_avail")
    if not actions:
        return Check("seccomp", "fail", "the kernel has no seccomp filters: the default profile cannot be applied")
    return Check("seccomp", "ok", f"filters ({actions})")


def rootless_network() -> Check:
    if os.geteuid() == 0:
        return Check("network", "ok", "rootful: veth pairs and a bridge")
    if shutil.which("slirp4netns") is None:
        return Check("network", "warn", "no slirp4netns: pods reach each other but not the outside "
                                        "(apt-get install slirp4netns)")
    if not os.access(TUN, os.R_OK | os.W_OK):
        return Check("network", "warn", f"{TUN} is not open to this user: pods reach each other but not the outside")
    return Check("network", "ok", "slirp4netns for the way out")


CHECKS: tuple[Callable[[], Check], ...] = (kernel, user_namespaces, id_ranges, cgroups, overlay, seccomp,
                                           rootless_network)


def run_checks() -> list[Check]:
    return [check() for check in CHECKS]
