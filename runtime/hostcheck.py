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
from podbay.runtime.paths import Paths, default_paths

CGROUP = Path("/sys/fs/cgroup")


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
    return Check("user namespaces", "ok", f"available (at most {_read('/proc/sys/user/max_user_namespaces')} "
                                          "per user)")


def id_tools() -> Check:
    """Rootless maps need the setuid (or file-capability) newuidmap and newgidmap of the uidmap package."""
    if os.geteuid() == 0:
        return Check("id tools", "ok", "root writes the id maps itself")
    problems = []
    for tool in ("newuidmap", "newgidmap"):
        path = shutil.which(tool)
        if path is None:
            problems.append(f"{tool} is missing")
            continue
        capable = os.stat(path).st_mode & 0o4000 or b"security.capability" in _xattrs(path)
        if not capable:
            problems.append(f"{path} is neither setuid nor given file capabilities")
    if problems:
        return Check("id tools", "warn", "; ".join(problems) + ": containers get a single-id map "
                                                               "(apt-get install uidmap)")
    return Check("id tools", "ok", "newuidmap and newgidmap")


def _xattrs(path: str) -> bytes:
    try:
        return b" ".join(name.encode() for name in os.listxattr(path))
    except OSError:
        return b""


def id_ranges() -> Check:
    mapping = idmap.rootful_mapping() if os.geteuid() == 0 else idmap.rootless_mapping()
    if mapping.warning:
        return Check("id ranges", "warn", mapping.warning)
    inside = sum(count for _, _, count in mapping.uids)
    if os.geteuid() == 0:
        return Check("id ranges", "ok", f"{inside} uids for containers, from host uid {mapping.uids[0][1]}")
    return Check("id ranges", "ok", f"{inside} uids for containers: 0 is you, 1-{inside - 1} from /etc/subuid")


def cgroups(mount: Path | None = None) -> Check:
    """cgroup v2, podbay's cgroup root and the controllers it may use there (cgroups/hierarchy.py)."""
    from podbay.runtime import settings  # noqa: PLC0415
    from podbay.runtime.cgroups import hierarchy  # noqa: PLC0415

    try:
        chosen = settings.load()
    except settings.SettingsError as err:
        return Check("cgroups", "fail", str(err))
    found = hierarchy.detect(chosen, mount=mount or CGROUP)
    if chosen.cgroups == "disabled":
        return Check("cgroups", "ok", "disabled in podbay's settings: no limits, no usage figures")
    if found.root is None and hierarchy.needs_user_scope(chosen, mount or CGROUP):
        service = hierarchy.user_manager_subtree(mount or CGROUP)
        assert service is not None
        delegated = set(_read(service / "cgroup.controllers").split())
        missing = [c for c in hierarchy.NEEDED if c not in delegated]
        detail = (f"your session's cgroup is not delegated to you, so podbay's supervisor starts in a delegated "
                  f"systemd user scope (systemd-run --user): pods' cgroups under {service}/podbay")
        if missing:
            return Check("cgroups", "fail" if chosen.cgroups == "required" else "warn",
                         f"{detail}, without the {', '.join(missing)} controller(s): {hierarchy.FIX_DELEGATION}")
        return Check("cgroups", "ok", f"{detail}; `run --rm --attach` in this session runs without limits")
    if found.root is None:
        hybrid = hierarchy.is_hybrid(mount or CGROUP) and not hierarchy.is_unified(mount or CGROUP)
        what = ("a hybrid hierarchy (the controllers are in cgroup v1)" if hybrid
                else f"no controller is available {found.why_missing}")
        return Check("cgroups", "fail" if chosen.cgroups == "required" else "warn",
                     f"{what}: resource limits cannot be enforced, and CPU and memory figures are unavailable")
    missing = [c for c in hierarchy.NEEDED if found.missing(c)]
    if missing:
        return Check("cgroups", "fail" if chosen.cgroups == "required" else "warn",
                     f"cgroup v2 at {found.root}, without the {', '.join(missing)} controller(s): not available "
                     f"{found.why_missing}")
    return Check("cgroups", "ok", f"cgroup v2, controllers {' '.join(sorted(found.controllers))}, podbay's root "
                                  f"{found.root}")


def overlay_trial() -> str:
    """Mount an overlay in a fresh user and mount namespace, as a container's init does; "" or why not."""
    import tempfile  # noqa: PLC0415

    from podbay.runtime import syscalls  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="podbay-doctor-") as folder:
        for name in ("lower", "upper", "work", "merged"):
            os.mkdir(os.path.join(folder, name))
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: no threads in this short CLI, so forking is safe
            os.close(read)
            message = b""
            try:
                uid, gid = os.geteuid(), os.getegid()
                syscalls.unshare(syscalls.CLONE_NEWUSER | syscalls.CLONE_NEWNS)
                Path("/proc/self/setgroups").write_text("deny")
                Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
                Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
                options = (f"lowerdir={folder}/lower,upperdir={folder}/upper,workdir={folder}/work,userxattr")
                syscalls.mount("overlay", f"{folder}/merged", "overlay", 0, options)
            except OSError as err:
                message = str(err).encode()
            os.write(write, message)
            os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as answer:
            said = answer.read().decode()
        os.waitpid(pid, 0)
        return said


def overlay() -> Check:
    failed = overlay_trial()
    if not failed:
        return Check("overlayfs", "ok", "a trial mount in a user namespace worked")
    return Check("overlayfs", "warn", f"a trial mount in a user namespace failed ({failed}): root filesystems are "
                                      "copied instead, slowly")


def storage(paths: Paths | None = None) -> Check:
    """Where images, containers and live state go, and the room left there."""
    paths = paths or default_paths()
    folder = paths.data_dir if paths.data_dir.exists() else paths.data_dir.parent
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    text = f"data {paths.data_dir}, state {paths.run_dir}; {free / (1 << 30):.1f} GiB free"
    if free < 1 << 30:
        return Check("storage", "warn", text + ": under 1 GiB, images and containers may not fit")
    return Check("storage", "ok", text)


def libraries() -> Check:
    from importlib import metadata  # noqa: PLC0415

    found, missing = [], []
    for package, label in (("python-prctl", "python-prctl"), ("pyseccomp", "pyseccomp")):
        try:
            found.append(f"{label} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            missing.append(label)
    try:
        major, minor, micro = _libseccomp_version()
        found.append(f"libseccomp {major}.{minor}.{micro}")
    except (OSError, AttributeError):
        missing.append("libseccomp")
    if missing:
        return Check("libraries", "fail", f"missing: {', '.join(missing)} (pip install podbay's dependencies; "
                                          "apt-get install libseccomp2)")
    return Check("libraries", "ok", ", ".join(found))


def _libseccomp_version() -> tuple[int, int, int]:
    import ctypes  # noqa: PLC0415
    import ctypes.util  # noqa: PLC0415

    library = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2")

    class Version(ctypes.Structure):
        _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]

    library.seccomp_version.restype = ctypes.POINTER(Version)
    version = library.seccomp_version().contents
    return version.major, version.minor, version.micro


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


CHECKS: tuple[Callable[[], Check], ...] = (kernel, user_namespaces, id_ranges, id_tools, cgroups, overlay, seccomp,
                                           rootless_network, storage, libraries)


def run_checks() -> list[Check]:
    return [check() for check in CHECKS]
