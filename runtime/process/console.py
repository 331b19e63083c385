"""A terminal for a container's process, made in the container's own devpts (as runc's console does).

The pair is opened by a process that has joined the container's mount namespace, so the
container sees its terminal as ``/dev/pts/N`` of its own devpts. The master goes back to
podbay over the channel; the slave becomes the process's controlling terminal and stdio.

The container owns its /dev: ``/dev/pts/ptmx`` is opened without following links and without
blocking, and refused unless it is the pty multiplexer (5:2), so a container that planted a
FIFO or a link there cannot stall or redirect the init. The slave is reached with
``TIOCGPTPEER`` from the master, never by a path the container could swap.
Standard library only: the init imports it.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import termios

PTMX = "/dev/pts/ptmx"
TIOCGPTPEER = 0x5441  # these two are not in Python's termios module
TIOCSPTLCK = 0x40045431
PTMX_DEVICE = os.makedev(5, 2)


def open_pair(rows: int, columns: int) -> tuple[int, int]:
    """A new pty in the devpts mounted at /dev/pts of our mount namespace: (master, slave)."""
    master = os.open(PTMX, os.O_RDWR | os.O_NOCTTY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(master)
        if not stat.S_ISCHR(info.st_mode) or info.st_rdev != PTMX_DEVICE:
            raise OSError(0, f"{PTMX} in the container is not the pty multiplexer")
        os.set_blocking(master, True)
        fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))  # unlockpt
        slave = fcntl.ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        set_size(master, rows, columns)
    except BaseException:
        os.close(master)
        raise
    return master, slave


def set_size(fd: int, rows: int, columns: int) -> None:
    """The window size; on a master, the kernel sends SIGWINCH to the slave's foreground group."""
    if rows > 0 and columns > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def get_size(fd: int) -> tuple[int, int]:
    rows, columns, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    return rows, columns


def become_controlling(slave: int) -> None:
    """In the process about to exec: a session of its own, the slave as its terminal and stdio."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for target in (0, 1, 2):
        os.dup2(slave, target)
    if slave > 2:
        os.close(slave)
