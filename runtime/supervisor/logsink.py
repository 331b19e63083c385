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
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from podbay.runtime.logs.cri import DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE, LogWriter
from podbay.runtime.supervisor.attach import OUTPUT_KINDS, frame

CHUNK = 1024 * 1024
HELD_LIMIT = 4 * 1024 * 1024
PIPE_SIZE = 1024 * 1024
COALESCE_SECONDS = 0.002
SEND_TIMEOUT = 2.0


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
    terminal: int = -1  # tty: true: the current run's pty master, read as its stdout
    attached: list[Attached] = field(default_factory=list)  # attach sessions that get the output too

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
        streams = {self.stdout[0]: "stdout", self.stderr[0]: "stderr"}
        if self.terminal >= 0:
            streams[self.terminal] = "stdout"
        return streams

    def open(self, path: Path) -> None:
        with self.lock:
            if self.writer is not None:
                self.writer.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = LogWriter(path, *log_limits())
            for stream, data in self.held:  # e.g. written while the supervisor was being restarted
                self.writer.write(stream, data)
            self.held.clear()

    def read(self, fd: int) -> bool:
        """Whatever is there; False once ``fd`` is done (a pty master whose terminal was closed)."""
        with self.lock:
            stream = self.streams().get(fd)
            if stream is None:  # a terminal unwatched since the pump's select: its event is stale
                return False
            try:
                self._read(fd, stream)
            except OSError:  # EIO: the run's terminal is gone; the pod worker closes the master
                return False
            return True

    def _read(self, fd: int, stream: str) -> bool:
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return False
        if data and self.attached:
            self.attached = [session for session in self.attached if session.send(stream, data)]
        if data and self.writer is not None:
            self.writer.write(stream, data)
        elif data and sum(len(d) for _, d in self.held) < HELD_LIMIT:
            self.held.append((stream, data))
        return bool(data)

    def finish(self) -> None:
        """The run ended: what is left in the pipes is its, and its file is complete."""
        with self.lock:
            for fd, stream in self.streams().items():
                with contextlib.suppress(OSError):  # EIO: the terminal is drained
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


class Attached:
    """One ``podbay attach`` session's socket: the container's output, framed (attach.py)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        conn.settimeout(SEND_TIMEOUT)

    def send(self, stream: str, data: bytes) -> bool:
        """False once the session is gone or too slow to keep (the container must never wait on it)."""
        try:
            self.conn.sendall(frame(OUTPUT_KINDS[stream], data))
        except OSError:
            return False
        return True


class LogPump(threading.Thread):
    """Reads every sink's pipes as data comes; sinks are added and removed from other threads."""

    def __init__(self) -> None:
        super().__init__(name="log pump", daemon=True)
        self.selector = selectors.DefaultSelector()
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        self.selector.register(self.wake_read, selectors.EVENT_READ)
        self.pending: list[tuple[bool, LogSink, list[int]]] = []
        self.lock = threading.Lock()
        self.removed = threading.Condition(self.lock)

    def add(self, sink: LogSink) -> None:
        self._change(True, sink, list(sink.streams()))

    def remove(self, sink: LogSink) -> None:
        """Returns once the pump no longer watches the sink's descriptors (they may be closed then)."""
        self._change(False, sink, list(sink.streams()), wait=True)

    def watch_terminal(self, sink: LogSink, master: int) -> None:
        """A run's pty master, read as its stdout until ``unwatch_terminal``."""
        with sink.lock:
            sink.terminal = master
        self._change(True, sink, [master])

    def unwatch_terminal(self, sink: LogSink) -> int:
        """Stop reading the run's terminal; returns its master for the caller to close (-1 if none)."""
        with sink.lock:
            master, sink.terminal = sink.terminal, -1
        if master >= 0:
            self._change(False, sink, [master], wait=True)
        return master

    def _change(self, adding: bool, sink: LogSink, fds: list[int], *, wait: bool = False) -> None:
        with self.lock:
            entry = (adding, sink, fds)
            self.pending.append(entry)
            os.write(self.wake_write, b"x")
            if wait:
                self.removed.wait_for(lambda: all(e is not entry for e in self.pending), timeout=10)

    def _apply(self) -> None:
        with self.lock:
            for adding, sink, fds in self.pending:
                for fd in fds:
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
                elif key.data.read(key.fd):
                    read = True
                else:
                    self.selector.unregister(key.fd)
            if read:  # let output gather: fewer, bigger reads leave the CPU to a fast writer (1 MiB pipes)
                time.sleep(COALESCE_SECONDS)
            if woken:  # after the reads: a sink removed now has no event left in this round
                with contextlib.suppress(BlockingIOError):
                    while os.read(self.wake_read, 4096):
                        pass
                self._apply()
