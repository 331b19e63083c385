"""The fallback root filesystem where overlayfs is refused: the layers merged by copying.

Applies each unpacked layer on top of the previous ones, honouring the overlayfs
whiteouts (0/0 character devices) and opaque directories the unpacker wrote. Slow and
disk-hungry, which is why podbay warns when it has to. Standard library only (runs in the
init, inside the container's user namespace, so owners carry over unchanged).
"""

from __future__ import annotations

import os
import shutil
import stat

_OPAQUE = ("user.overlay.opaque", "trusted.overlay.opaque")


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    for name in _OPAQUE:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _copy_entry(source: str, target: str, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(source), target)
    elif stat.S_ISREG(st.st_mode):
        shutil.copyfile(source, target, follow_symlinks=False)
    elif stat.S_ISFIFO(st.st_mode):
        os.mkfifo(target)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        try:
            os.mknod(target, st.st_mode, st.st_rdev)
        except PermissionError:
            return
    elif stat.S_ISSOCK(st.st_mode):
        return
    os.chown(target, st.st_uid, st.st_gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(target, stat.S_IMODE(st.st_mode))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _apply(layer: str, target: str) -> None:
    for entry in os.scandir(layer):
        source, dest = entry.path, os.path.join(target, entry.name)
        st = entry.stat(follow_symlinks=False)
        if _is_whiteout(st):
            _remove(dest)
            continue
        if stat.S_ISDIR(st.st_mode):
            if os.path.islink(dest) or (os.path.lexists(dest) and not os.path.isdir(dest)):
                _remove(dest)
            if _is_opaque(source):
                _remove(dest)
            if not os.path.lexists(dest):
                os.mkdir(dest, 0o700)
            _apply(source, dest)
            os.chown(dest, st.st_uid, st.st_gid)
            os.chmod(dest, stat.S_IMODE(st.st_mode))
            continue
        _remove(dest)
        _copy_entry(source, dest, st)


def merge_layers(layers_bottom_first: list[str], target: str) -> None:
    for layer in layers_bottom_first:
        _apply(layer, target)
