"""The user's side of a container's terminal: raw mode, window size, and the byte pump.

Used by ``exec -t``, ``attach`` and ``debug -it``. The local terminal is put in raw mode (so
Ctrl-C, Ctrl-Z and Ctrl-D reach the container's program as bytes) and restored on every way
out: the command's end, an error, detaching, SIGTERM and SIGHUP. Window size changes
(SIGWINCH) are copied onto the container's pty, whose kernel then signals its foreground group.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import signal
import termios
import tty
from collections.abc import Callable, Iterator
from types import FrameType

from podbay.runtime.process.console import get_size

DETACH_KEYS = b"\x10\x11"  # ctrl-p ctrl-q, as docker, podman and kubectl attach
CHUNK = 65536


def terminal_size(*fds: int) -> tuple[int, int]:
    """Rows and columns of the first of ``fds`` that is a terminal (24x80 if none is)."""
    for fd in fds:
        with contextlib.suppress(OSError):
            rows, columns = get_size(fd)
            if rows and columns:
                return rows, columns
    return 24, 80


@contextlib.contextmanager
def raw_mode(fd: int = 0) -> Iterator[None]:
    """``fd``'s terminal in raw mode for the block, restored however the block ends."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)

    def leave(number: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + number)  # unwinds through the finally below

    previous = {number: signal.signal(number, leave) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        tty.setraw(fd, termios.TCSADRAIN)  # not TCSAFLUSH: what the user typed already is kept, not discarded
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def window_follower(apply: Callable[[int, int], None], source: int = 0) -> Iterator[None]:
    """Give the local window size (rows, columns) to ``apply`` now and on every SIGWINCH."""
    def resize(_number: int = 0, _frame: FrameType | None = None) -> None:
        with contextlib.suppress(OSError):
            apply(*terminal_size(source, 1))

    resize()
    previous = signal.signal(signal.SIGWINCH, resize)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


class DetachScanner:
    """Finds the detach sequence in typed input, even split across reads; holds back a partial one."""

    def __init__(self, keys: bytes = DETACH_KEYS) -> None:
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """The bytes to pass on, and whether the user asked to detach."""
        data = self.held + data
        self.held = b""
        at = data.find(self.keys)
        if at >= 0:
            return data[:at], True
        for size in range(len(self.keys) - 1, 0, -1):
            if data.endswith(self.keys[:size]):
                self.held = data[-size:]
                return data[:-size], False
        return data, False


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def pump(master: int, until: int) -> None:
    """Copy the pty ``master``'s output to our stdout and our stdin to it, until ``until`` (a pidfd) is
    readable, then what is left of the output."""
    with selectors.DefaultSelector() as selector:
        selector.register(master, selectors.EVENT_READ, "output")
        selector.register(0, selectors.EVENT_READ, "input")
        selector.register(until, selectors.EVENT_READ, "until")
        while True:
            for key, _ in selector.select():
                if key.data == "until":
                    _drain(master)
                    return
                if key.data == "output":
                    data = _read(master)
                    if data:
                        write_all(1, data)
                    else:
                        selector.unregister(master)  # the pty's last slave closed; the command may still run
                    continue
                data = os.read(0, CHUNK)
                if data:
                    write_all(master, data)
                else:
                    selector.unregister(0)  # end of our input: the command keeps its terminal


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, CHUNK)
    except OSError as err:
        if err.errno == errno.EIO:  # a pty master whose slaves are all closed
            return b""
        raise


def _drain(fd: int) -> None:
    os.set_blocking(fd, False)
    try:
        while data := _read(fd):
            write_all(1, data)
    except BlockingIOError:
        pass
    finally:
        os.set_blocking(fd, True)
