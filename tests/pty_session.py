"""A podbay command on a pty pair that the test drives, as a user at a terminal would.

The command gets the pair's slave as stdin, stdout, stderr and controlling terminal (``setsid
-c``), so window size changes on the master reach it as SIGWINCH from the kernel."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

from tests.podbay_harness import Podbay

CURSOR_QUERY, CURSOR_AT_TOP = b"\x1b[6n", b"\x1b[1;1R"


class PtySession:
    def __init__(self, podbay: Podbay, *args: str, rows: int = 24, columns: int = 80) -> None:
        self.master, self.slave = pty.openpty()
        self.resize(rows, columns)
        self.saved = termios.tcgetattr(self.slave)
        argv, kwargs = podbay.argv(*args)
        self.process = subprocess.Popen(["setsid", "-c", *argv], stdin=self.slave, stdout=self.slave,
                                        stderr=self.slave, env=podbay.env(), cwd=str(podbay.home), **kwargs)
        self.seen = b""

    def resize(self, rows: int, columns: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def expect(self, pattern: bytes, timeout: float = 30) -> re.Match[bytes]:
        """Wait for ``pattern`` (a regex) in the output after the last match; fails with what was seen."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.seen)) is None:
            left = deadline - time.monotonic()
            assert left > 0, f"{pattern!r} not seen; output: {self.seen!r}"
            if select.select([self.master], [], [], min(left, 0.5))[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: the command closed the terminal
                    raise AssertionError(f"{pattern!r} not seen before the end; output: {self.seen!r}") from None
                self.seen += data
                for _ in range(data.count(CURSOR_QUERY)):  # answered as a terminal would (busybox sh asks)
                    self.send(CURSOR_AT_TOP)
        self.seen = self.seen[found.end():]
        return found

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout)

    def restored(self) -> bool:
        """Whether the terminal's modes are those it had before the command (raw mode undone)."""
        return termios.tcgetattr(self.slave) == self.saved

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        os.close(self.master)
        os.close(self.slave)
