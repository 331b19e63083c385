"""Build the container's filesystem in its new mount namespace, then pivot into it.

Runs in the container's init, after the namespaces exist and before the user switch, in
the order runc and crun use: the root (overlayfs, else a merged copy), /proc, /dev with
its nodes and links, /dev/pts, /dev/shm, /dev/mqueue, /sys (read-only), the pod's /etc
files, the masked and read-only paths, ``pivot_root``, and the read-only root last.
Every target inside the image is resolved with ``secure_join``. Standard library only.
"""

from __future__ import annotations

import os

from podbay.runtime.rootfs.defaults import DEV_LINKS
from podbay.runtime.rootfs.securejoin import secure_join
from podbay.runtime.syscalls import (
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    MS_SLAVE,
    MS_STRICTATIME,
    O_PATH,
    SyscallError,
    mount,
    open_beneath,
    pivot_root,
    umount,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the init 4 ms
if TYPE_CHECKING:
    from typing import Any

# statvfs flags that are also mount flags; a remount inside a user namespace must keep them.
_LOCKED = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
           (os.ST_NOATIME, 0x400), (os.ST_NODIRATIME, 0x800), (os.ST_RELATIME, 0x200000))
OVERLAY_REFUSED = (1, 19, 22, 95)  # EPERM, ENODEV, EINVAL, EOPNOTSUPP


def _kept_flags(path: str) -> int:
    flags = os.statvfs(path).f_flag
    return sum(mount_flag for st_flag, mount_flag in _LOCKED if flags & st_flag)


def remount_readonly(path: str) -> None:
    mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _kept_flags(path))


def bind(source: str, target: str, *, readonly: bool = False, recursive: bool = False) -> None:
    mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    if readonly:
        remount_readonly(target)


def _make_target(path: str, directory: bool) -> None:
    if directory:
        os.makedirs(path, exist_ok=True)
    elif not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a"):
            pass


def make_slave() -> None:
    """Mounts made from here on stay in this mount namespace (host mounts still arrive)."""
    mount(None, "/", None, MS_REC | MS_SLAVE)


def mount_tmpfs_volume(volume: dict[str, Any]) -> None:
    """A pod-wide tmpfs (a Memory emptyDir, a secret) and the files it starts with."""
    options = f"mode={volume['mode']:o}" + (f",size={volume['size']}" if volume.get("size") else "")
    mount("tmpfs", volume["path"], "tmpfs", MS_NOSUID | MS_NODEV, options)
    for file in volume.get("files", []):
        write_file(volume["path"], file)


def write_file(root: str, file: dict[str, Any]) -> None:
    """One projected file (secret, configMap or downward API key) under ``root``, never through a symlink."""
    path = secure_join(root, file["path"])
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, bytes.fromhex(file["data"]))
        os.fchown(fd, file.get("uid", 0), file.get("gid", 0))
        os.fchmod(fd, file["mode"])
    finally:
        os.close(fd)


def mount_root(plan: dict[str, Any], log: Any) -> str:
    """Mount the image at ``plan['target']``; returns the mode used (overlay or copy)."""
    target = plan["target"]
    make_slave()
    if plan["mode"] == "overlay":
        os.chdir(plan["layers_dir"])  # relative lowerdirs keep the option string short
        options = f"lowerdir={':'.join(plan['lower'])},upperdir={plan['upper']},workdir={plan['work']}"
        if plan["userxattr"]:
            options += ",userxattr"
        try:
            mount("overlay", target, "overlay", 0, options)
            return "overlay"
        except SyscallError as err:
            if err.errno not in OVERLAY_REFUSED:
                raise
            log(f"overlayfs refused ({err}): copying the image layers instead (slow)")
    from podbay.runtime.rootfs.copy import merge_layers  # noqa: PLC0415 - already imported by the init

    copy_dir = plan["copy_dir"]
    os.makedirs(copy_dir, exist_ok=True)
    os.chmod(copy_dir, 0o755)
    merge_layers([os.path.join(plan["layers_dir"], name) for name in reversed(plan["lower"])], copy_dir)
    bind(copy_dir, target)
    return "copy"


def mount_system(root: str, plan: dict[str, Any], log: Any) -> None:
    """/proc, /dev, /sys and the pod's /etc files under ``root``."""
    nosuid_noexec_nodev = MS_NOSUID | MS_NOEXEC | MS_NODEV
    proc = secure_join(root, "/proc")
    _make_target(proc, True)
    mount("proc", proc, "proc", nosuid_noexec_nodev)

    dev = secure_join(root, "/dev")
    _make_target(dev, True)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k")
    for name in plan["devices"]:
        node = os.path.join(dev, name)
        _make_target(node, False)
        bind(f"/dev/{name}", node)  # a bind works in a user namespace, where mknod does not
    for source, name in DEV_LINKS:
        os.symlink(source, os.path.join(dev, name))
    os.makedirs(os.path.join(dev, "pts"))
    pts_options = "newinstance,ptmxmode=0666,mode=0620"
    try:
        mount("devpts", os.path.join(dev, "pts"), "devpts", MS_NOSUID | MS_NOEXEC, pts_options + ",gid=5")
    except SyscallError:  # gid 5 (tty) is not mapped with a single-id mapping
        mount("devpts", os.path.join(dev, "pts"), "devpts", MS_NOSUID | MS_NOEXEC, pts_options)
    os.makedirs(os.path.join(dev, "shm"))
    mount("shm", os.path.join(dev, "shm"), "tmpfs", nosuid_noexec_nodev, "mode=1777,size=65536k")
    os.makedirs(os.path.join(dev, "mqueue"))
    mount("mqueue", os.path.join(dev, "mqueue"), "mqueue", nosuid_noexec_nodev)

    sys_dir = secure_join(root, "/sys")
    _make_target(sys_dir, True)
    sys_flags = nosuid_noexec_nodev | (0 if plan["sys_writable"] else MS_RDONLY)
    try:
        mount("sysfs", sys_dir, "sysfs", sys_flags)
    except SyscallError:  # the host's network namespace is not ours to mount sysfs for
        bind("/sys", sys_dir, recursive=True, readonly=not plan["sys_writable"])
    if plan["cgroup2"]:
        # The container's own cgroup (its cgroup namespace's root), read-only, as containerd mounts it.
        cgroup = os.path.join(sys_dir, "fs", "cgroup")
        try:
            mount("cgroup2", cgroup, "cgroup2", nosuid_noexec_nodev | MS_RDONLY)
        except SyscallError as err:
            log(f"/sys/fs/cgroup is not mounted ({err})")

    for inside, source in plan["etc_files"].items():
        target = secure_join(root, inside)
        if os.path.islink(target) or os.path.isdir(target):
            raise SyscallError(21, "bind", inside)  # EISDIR: the image has a folder where a file belongs
        _make_target(target, False)
        bind(source, target)


def _sub_path_fd(volume: str, sub_path: str) -> int:
    """An O_PATH descriptor of ``sub_path`` inside ``volume``, every step resolved beneath it (a symlink
    placed or swapped in by a container cannot lead out: openat2 says EXDEV). Missing folders are created,
    as the kubelet does, one component at a time, each beneath the last."""
    parent = os.open(volume, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in [p for p in sub_path.split("/") if p not in ("", ".")][:-1] or []:
            try:
                child = open_beneath(parent, part)
            except SyscallError as err:
                if err.errno != 2:  # ENOENT
                    raise
                _mkdir_beneath(parent, part)
                child = open_beneath(parent, part)
            os.close(parent)
            parent = child
        last = sub_path.rstrip("/").rsplit("/", 1)[-1]
        try:
            return open_beneath(parent, last)
        except SyscallError as err:
            if err.errno != 2:
                raise
            _mkdir_beneath(parent, last)
            return open_beneath(parent, last)
    finally:
        os.close(parent)


def _mkdir_beneath(path_fd: int, name: str) -> None:
    """mkdirat needs a real directory descriptor, not O_PATH: reopen it through /proc (no path walk)."""
    dir_fd = os.open(f"/proc/self/fd/{path_fd}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.mkdir(name, 0o755, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def mount_volumes(root: str, mounts: list[dict[str, Any]]) -> None:
    """The container's volumeMounts: bind mounts onto targets resolved inside the image."""
    for volume in mounts:
        fd = None
        source = volume["source"]
        if volume["sub_path"]:
            fd = _sub_path_fd(source, volume["sub_path"])
            source = f"/proc/self/fd/{fd}"  # the resolved inode itself: nothing can be swapped after the check
        try:
            target = secure_join(root, volume["target"])
            _make_target(target, os.path.isdir(source))
            bind(source, target, recursive=True)
            mount(None, target, None, (MS_SLAVE if volume["propagation"] == "rslave" else MS_PRIVATE) | MS_REC)
            if volume["readonly"]:
                remount_readonly(target)
        finally:
            if fd is not None:
                os.close(fd)


def mask_paths(root: str, plan: dict[str, Any]) -> None:
    null = os.path.join(root, "dev", "null")
    for path in plan["masked"]:
        target = os.path.join(root, path.lstrip("/"))
        if os.path.isdir(target):
            mount("tmpfs", target, "tmpfs", MS_RDONLY)
        elif os.path.exists(target):
            bind(null, target)
    for path in plan["readonly"]:
        target = os.path.join(root, path.lstrip("/"))
        if os.path.exists(target):
            bind(target, target, readonly=True, recursive=True)


def pivot(root: str) -> None:
    """Make ``root`` the root, and detach the old one (``pivot_root(".", ".")``, as runc does)."""
    os.chdir(root)
    pivot_root(".", ".")
    mount(None, ".", None, MS_REC | MS_SLAVE)
    umount(".", MNT_DETACH)
    os.chdir("/")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
