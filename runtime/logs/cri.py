"""Container logs in the CRI format the kubelet reads, written and read back.

Each line of a container's output becomes ``<RFC3339Nano time> <stdout|stderr> <F|P> <text>``:
``F`` ends a line; ``P`` is a piece of a line longer than ``MAX_LINE`` (containerd splits at
16 KiB), the rest following in later records. Output that ends without a newline is written
as ``F`` when the stream closes, as containerd does. A file is rotated when it passes
``max_size`` (the kubelet's containerLogMaxSize, 10 MiB) into ``NAME.1``..``NAME.{max_files-1}``
(containerLogMaxFiles, 5, counts the live file).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_LINE = 16 * 1024
IOV_MAX = 1024
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 5


def timestamp(moment: datetime.datetime | None = None) -> str:
    """RFC 3339 with nanosecond digits, in UTC (what Go's RFC3339Nano parses back)."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _may_hold_long_lines(body: bytes) -> bool:
    """Could a line of ``body`` be longer than MAX_LINE? A line that long covers at least one whole
    aligned window of half that size, so a window without a newline is the only case to check
    line by line (a few memchr calls per MiB, where splitting costs a list of every line)."""
    step = (MAX_LINE + 1) // 2
    return any(body.find(b"\n", start, start + step) < 0 for start in range(0, len(body) - step + 1, step))


class LogWriter:
    """One container run's log file; ``write(stream, data)`` takes raw output as it comes."""

    def __init__(self, path: Path, max_size: int = DEFAULT_MAX_SIZE, max_files: int = DEFAULT_MAX_FILES) -> None:
        self.path, self.max_size, self.max_files = path, max_size, max(max_files, 1)
        self.pending: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self.fd = self._open()
        self.size = os.fstat(self.fd).st_size

    def write(self, stream: str, data: bytes) -> None:
        buffered = self.pending[stream] + data if self.pending[stream] else data
        end = buffered.rfind(b"\n")
        body, rest = (buffered[:end], buffered[end + 1:]) if end >= 0 else (None, buffered)
        prefix = b"%s %s " % (timestamp().encode(), stream.encode())
        parts: list[bytes] = []
        if body is not None and not _may_hold_long_lines(body):  # the usual case: one pass in C
            parts += [prefix + b"F ", body.replace(b"\n", b"\n" + prefix + b"F "), b"\n"]
        elif body is not None:
            for line in body.split(b"\n"):
                pieces = [line[i:i + MAX_LINE] for i in range(0, len(line), MAX_LINE)] or [b""]
                parts += [prefix + b"P " + piece + b"\n" for piece in pieces[:-1]]
                parts.append(prefix + b"F " + pieces[-1] + b"\n")
        while len(rest) >= MAX_LINE:  # a line too long to wait for its end
            parts.append(prefix + b"P " + rest[:MAX_LINE] + b"\n")
            rest = rest[MAX_LINE:]
        self.pending[stream] = rest
        if parts:
            self._append(parts)

    def _append(self, parts: list[bytes]) -> None:
        """One writev of the records (no joined copy); the file is rotated once it passes max_size."""
        if len(parts) > IOV_MAX:
            parts = [b"".join(parts)]
        total = sum(map(len, parts))
        written = os.writev(self.fd, parts)
        if written < total:  # a short write: the rest, however long it takes
            rest = b"".join(parts)[written:]
            while rest:
                rest = rest[os.write(self.fd, rest):]
        self.size += total
        if self.size >= self.max_size:
            self._rotate()

    def close(self) -> None:
        """The container's streams are closed: what is left of a line is a whole line now."""
        for stream, rest in self.pending.items():
            if rest:
                self._append([b"%s %s F %s\n" % (timestamp().encode(), stream.encode(), rest)])
        self.pending = {"stdout": b"", "stderr": b""}
        os.close(self.fd)
        self.fd = -1

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def _rotate(self) -> None:
        os.close(self.fd)
        if self.max_files == 1:
            os.truncate(self.path, 0)
        else:
            for number in range(self.max_files - 1, 1, -1):
                older = self.path.with_name(f"{self.path.name}.{number - 1}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{number}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self.fd = self._open()
        self.size = 0


@dataclass(frozen=True)
class LogLine:
    time: str
    stream: str
    text: bytes


def files_of(path: Path) -> list[Path]:
    """The rotated files of a log, oldest first, then the live one."""
    rotated = sorted((p for p in path.parent.glob(f"{path.name}.*") if p.suffix[1:].isdigit()),
                     key=lambda p: -int(p.suffix[1:]))
    return [*rotated, path] if path.exists() else rotated


def parse(records: Iterator[bytes]) -> Iterator[LogLine]:
    """Whole lines back from CRI records (``P`` pieces joined), per stream."""
    pieces: dict[str, list[bytes]] = {}
    for record in records:
        parts = record.rstrip(b"\n").split(b" ", 3)
        if len(parts) < 3:
            continue  # not a CRI record (a torn write at a crash): skipped, as the kubelet's parser does
        stamp, stream, tag = (part.decode(errors="replace") for part in parts[:3])
        text = parts[3] if len(parts) > 3 else b""
        if tag == "P":
            pieces.setdefault(stream, []).append(text)
            continue
        yield LogLine(stamp, stream, b"".join(pieces.pop(stream, [])) + text)


def read_lines(path: Path) -> list[LogLine]:
    def records() -> Iterator[bytes]:
        for file in files_of(path):
            with open(file, "rb") as handle:
                yield from handle
    return list(parse(records()))
