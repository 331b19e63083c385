"""Container output into CRI log files: one reader thread for every container's pipes.

Each container has one stdout pipe and one stderr pipe for the pod's whole life (so the
descriptor keeper need not change when a container restarts); each run of the container
writes its own log file, ``<restartCount>.log``. The read ends are non-blocking and read
under the sink's lock, so the pod worker can drain what a container wrote just before it
exited, and close that run's file, without racing the reader.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from podbay.runtime.logs.cri import DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE, LogWriter

CHUNK = 1024 * 1024
HELD_LIMIT = 4 * 1024 * 1024
PIPE_SIZE = 1024 * 1024
COALESCE_SECONDS = 0.002


def log_limits() -> tuple[int, int]:
    """The kubelet's containerLogMaxSize and containerLogMaxFiles: ``PODBAY_LOG_MAX_SIZE`` (bytes) and
    ``PODBAY_LOG_MAX_FILES`` (the supervisor's environment), default 10 MiB and 5."""
    return (int(os.environ.get("PODBAY_LOG_MAX_SIZE", DEFAULT_MAX_SIZE)),
            int(os.environ.get("PODBAY_LOG_MAX_FILES", DEFAULT_MAX_FILES)))


@dataclass
class LogSink:
    """One container's two pipes and its current log file."""

    stdout: tuple[int, int]  # (read end, write end)
    stderr: tuple[int, int]
    lock: threading.Lock = field(default_factory=threading.Lock)
    writer: LogWriter | None = None
    held: list[tuple[str, bytes]] = field(default_factory=list)  # read while no run's file was open

    @classmethod
    def create(cls) -> LogSink:
        sink = cls(os.pipe(), os.pipe())
        for fd in (sink.stdout[0], sink.stderr[0]):
            os.set_blocking(fd, False)
            if os.geteuid() == 0:  # fewer wake-ups for a fast writer; an ordinary user's pipe pages are
                with contextlib.suppress(OSError):  # capped (pipe-user-pages-soft), so theirs keep 64 KiB
                    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        return sink

    @property
    def fds(self) -> list[int]:
        return [*self.stdout, *self.stderr]

    def streams(self) -> dict[int, str]:
        return {self.stdout[0]: "stdout", self.stderr[0]: "stderr"}

    def open(self, path: Path) -> None:
        with self.lock:
            if self.writer is not None:
                self.writer.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = LogWriter(path, *log_limits())
            for stream, data in self.held:  # e.g. written while the supervisor was being restarted
                self.writer.write(stream, data)
            self.held.clear()

    def read(self, fd: int) -> None:
        with self.lock:
            self._read(fd, self.streams()[fd])

    def _read(self, fd: int, stream: str) -> bool:
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return False
        if data and self.writer is not None:
            self.writer.write(stream, data)
        elif data and sum(len(d) for _, d in self.held) < HELD_LIMIT:
            self.held.append((stream, data))
        return bool(data)

    def finish(self) -> None:
        """The run ended: what is left in the pipes is its, and its file is complete."""
        with self.lock:
            for fd, stream in self.streams().items():
                while self._read(fd, stream):
                    pass
            if self.writer is not None:
                self.writer.close()
                self.writer = None

    def close(self) -> None:
        """Idempotent: the run's file is finished and the pipes closed."""
        if self.stdout[0] < 0:
            return
        self.finish()
        for fd in self.fds:
            os.close(fd)
        self.stdout, self.stderr = (-1, -1), (-1, -1)


class LogPump(threading.Thread):
    """Reads every sink's pipes as data comes; sinks are added and removed from other threads."""

    def __init__(self) -> None:
        super().__init__(name="log pump", daemon=True)
        self.selector = selectors.DefaultSelector()
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        self.selector.register(self.wake_read, selectors.EVENT_READ)
        self.pending: list[tuple[bool, LogSink]] = []
        self.lock = threading.Lock()
        self.removed = threading.Condition(self.lock)

    def add(self, sink: LogSink) -> None:
        with self.lock:
            self.pending.append((True, sink))
        os.write(self.wake_write, b"x")

    def remove(self, sink: LogSink) -> None:
        """Returns once the pump no longer watches the sink's descriptors (they may be closed then)."""
        with self.lock:
            self.pending.append((False, sink))
            os.write(self.wake_write, b"x")
            self.removed.wait_for(lambda: all(s is not sink for _, s in self.pending), timeout=10)

    def _apply(self) -> None:
        with self.lock:
            for adding, sink in self.pending:
                for fd in sink.streams():
                    if adding:
                        self.selector.register(fd, selectors.EVENT_READ, sink)
                    else:
                        with contextlib.suppress(KeyError, ValueError):  # removed twice: once is enough
                            self.selector.unregister(fd)
            self.pending.clear()
            self.removed.notify_all()

    def run(self) -> None:
        while True:
            woken = read = False
            for key, _ in self.selector.select():
                if key.fd == self.wake_read:
                    woken = True
                else:
                    key.data.read(key.fd)
                    read = True
            if read:  # let output gather: fewer, bigger reads leave the CPU to a fast writer (1 MiB pipes)
                time.sleep(COALESCE_SECONDS)
            if woken:  # after the reads: a sink removed now has no event left in this round
                with contextlib.suppress(BlockingIOError):
                    while os.read(self.wake_read, 4096):
                        pass
                self._apply()
