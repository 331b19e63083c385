"""The kernel boundary: the few syscalls Python 3.11's ``os`` module lacks, as typed ctypes wrappers.

Every wrapper raises :class:`SyscallError`, an ``OSError`` that carries the errno, the call
and its path, so that a failure deep in a container's set-up can be reported as
``mount /proc: EPERM``. This module imports only the standard library: it runs in the
container's init process, whose start-up time is on every launch's critical path.
"""

from __future__ import annotations

import ctypes
import errno as errno_module
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)

# Namespace flags (linux/sched.h).
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# mount(2) flags (linux/mount.h).
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_STRICTATIME = 0x1000000
MNT_DETACH = 0x2

# prctl(2) options (linux/prctl.h).
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2

_NAMESPACE_NAMES = {
    CLONE_NEWUSER: "user", CLONE_NEWNS: "mnt", CLONE_NEWPID: "pid", CLONE_NEWNET: "net",
    CLONE_NEWIPC: "ipc", CLONE_NEWUTS: "uts", CLONE_NEWCGROUP: "cgroup",
}


class SyscallError(OSError):
    """A failed syscall: ``str()`` reads ``mount /proc: EPERM (Operation not permitted)``."""

    def __init__(self, err: int, call: str, path: str = "") -> None:
        super().__init__(err, os.strerror(err), path or None)
        self.call = call

    def __str__(self) -> str:
        name = errno_module.errorcode.get(self.errno or 0, f"errno {self.errno}")
        where = f"{self.call} {self.filename}" if self.filename else self.call
        return f"{where}: {name} ({self.strerror})"


def _check(result: int, call: str, path: str = "") -> int:
    if result < 0:
        raise SyscallError(ctypes.get_errno(), call, path)
    return result


def namespace_names(flags: int) -> str:
    """``CLONE_NEWUSER|CLONE_NEWNS`` -> ``user+mnt`` (for error messages)."""
    return "+".join(name for bit, name in _NAMESPACE_NAMES.items() if flags & bit) or "none"


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare {namespace_names(flags)}")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), f"setns {namespace_names(nstype)}")


def _c(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    kind = fstype or ("remount" if flags & MS_REMOUNT else "bind" if flags & MS_BIND else "propagation")
    _check(_libc.mount(_c(source), _c(target), _c(fstype), ctypes.c_ulong(flags), _c(data)), f"mount {kind}", target)


def umount(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_c(target), ctypes.c_int(flags)), "umount", target)


_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}[os.uname().machine]


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.syscall(ctypes.c_long(_SYS_PIVOT_ROOT), _c(new_root), _c(put_old)), "pivot_root", new_root)


def prctl(option: int, arg2: int = 0, arg3: int = 0, *, call: str = "prctl") -> int:
    return _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
                              ctypes.c_ulong(0), ctypes.c_ulong(0)), call)


def set_child_subreaper() -> None:
    """Orphaned descendants (a container whose launcher exited) are re-parented to us."""
    prctl(PR_SET_CHILD_SUBREAPER, 1, call="prctl PR_SET_CHILD_SUBREAPER")


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1, call="prctl PR_SET_NO_NEW_PRIVS")


def clear_ambient_capabilities() -> None:
    # python-prctl has no PR_CAP_AMBIENT; this is the one call podbay needs.
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, call="prctl PR_CAP_AMBIENT_CLEAR_ALL")


def load_seccomp_filter(bpf: bytes) -> None:
    """Install a classic-BPF seccomp program (8 bytes per instruction), exported by libseccomp."""
    if len(bpf) % 8:
        raise ValueError("seccomp program length is not a multiple of 8")
    program = ctypes.create_string_buffer(bpf, len(bpf))
    # struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    fprog = struct.pack("HxxxxxxP", len(bpf) // 8, ctypes.addressof(program))
    fprog_buffer = ctypes.create_string_buffer(fprog, len(fprog))
    _check(_libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER),
                       ctypes.c_void_p(ctypes.addressof(fprog_buffer)), ctypes.c_ulong(0), ctypes.c_ulong(0)),
           "seccomp load filter")


# Interface ioctls (linux/sockios.h): enough to set up a pod's side of its network in the init,
# where a netlink library would cost 200 ms of imports.
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _SIOCSIFADDR, _SIOCSIFNETMASK, _SIOCADDRT = 0x8913, 0x8914, 0x8916, 0x891C, 0x890B
_IFF_UP = 0x1


def _sockaddr_in(address: str) -> bytes:
    import socket  # noqa: PLC0415

    return struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton(address))


def _ioctl(request: int, data: bytes, call: str, name: str) -> bytes:
    import fcntl  # noqa: PLC0415 - only the init process needs these
    import socket  # noqa: PLC0415

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            return fcntl.ioctl(sock, request, data)
        except OSError as err:
            raise SyscallError(err.errno or errno_module.EIO, call, name) from err


def set_interface_up(name: str) -> None:
    """Bring an interface up (SIOCSIFFLAGS)."""
    flags = struct.unpack("16sH14x", _ioctl(_SIOCGIFFLAGS, struct.pack("16sH14x", name.encode(), 0),
                                            "ioctl SIOCGIFFLAGS", name))[1]
    _ioctl(_SIOCSIFFLAGS, struct.pack("16sH14x", name.encode(), flags | _IFF_UP), "ioctl SIOCSIFFLAGS", name)


def set_loopback_up() -> None:
    set_interface_up("lo")


def set_interface_address(name: str, address: str, prefix: int) -> None:
    """An IPv4 address and netmask on an interface (SIOCSIFADDR, SIOCSIFNETMASK)."""
    import socket  # noqa: PLC0415

    mask = socket.inet_ntoa(struct.pack("!I", (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF))
    _ioctl(_SIOCSIFADDR, struct.pack("16s16s8x", name.encode(), _sockaddr_in(address)), "ioctl SIOCSIFADDR", name)
    _ioctl(_SIOCSIFNETMASK, struct.pack("16s16s8x", name.encode(), _sockaddr_in(mask)), "ioctl SIOCSIFNETMASK",
           name)


def add_default_route(gateway: str) -> None:
    """``default via gateway`` (SIOCADDRT with struct rtentry, native alignment)."""
    rtf_up, rtf_gateway = 0x1, 0x2
    zero = _sockaddr_in("0.0.0.0")
    entry = struct.pack("@L16s16s16sHhLPhPLLH0L", 0, zero, _sockaddr_in(gateway), zero, rtf_up | rtf_gateway,
                        0, 0, 0, 0, 0, 0, 0, 0)
    _ioctl(_SIOCADDRT, entry, "ioctl SIOCADDRT", f"default via {gateway}")


# openat2(2) (linux/openat2.h): resolve a path without leaving a directory, whatever its symlinks say.
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_BENEATH = 0x08
_SYS_OPENAT2 = 437  # the same on x86_64 and aarch64
O_PATH = 0o10000000


def open_beneath(dir_fd: int, path: str, flags: int = O_PATH | os.O_CLOEXEC) -> int:
    """Open ``path`` relative to ``dir_fd``; EXDEV if any step (``..``, a symlink) would leave it."""
    how = struct.pack("QQQ", flags, 0, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
    buffer = ctypes.create_string_buffer(how, len(how))
    return _check(_libc.syscall(ctypes.c_long(_SYS_OPENAT2), ctypes.c_int(dir_fd), _c(path),
                                ctypes.c_void_p(ctypes.addressof(buffer)), ctypes.c_size_t(len(how))),
                  "openat2", path)


# inotify(7): cgroup v2 files such as memory.events signal "modified" when a counter changes.
IN_MODIFY = 0x2
IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x8, 0x40, 0x80, 0x100, 0x200
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC


def inotify_init() -> int:
    return _check(_libc.inotify_init1(ctypes.c_int(IN_NONBLOCK | IN_CLOEXEC)), "inotify_init1")


def inotify_add_watch(fd: int, path: str, mask: int = IN_MODIFY) -> int:
    return _check(_libc.inotify_add_watch(ctypes.c_int(fd), _c(path), ctypes.c_uint32(mask)), "inotify_add_watch",
                  path)


def inotify_rm_watch(fd: int, wd: int) -> None:
    _check(_libc.inotify_rm_watch(ctypes.c_int(fd), ctypes.c_int(wd)), "inotify_rm_watch")


def inotify_events(data: bytes) -> list[int]:
    """The watch descriptors of the events in one read (struct inotify_event: wd, mask, cookie, len, name)."""
    found, offset = [], 0
    while offset + 16 <= len(data):
        wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
        found.append(wd)
        offset += 16 + length
    return found
