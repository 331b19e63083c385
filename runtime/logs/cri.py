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
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 5


def timestamp(moment: datetime.datetime | None = None) -> str:
    """RFC 3339 with nanosecond digits, in UTC (what Go's RFC3339Nano parses back)."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


class LogWriter:
    """One container run's log file; ``write(stream, data)`` takes raw output as it comes."""

    def __init__(self, path: Path, max_size: int = DEFAULT_MAX_SIZE, max_files: int = DEFAULT_MAX_FILES) -> None:
        self.path, self.max_size, self.max_files = path, max_size, max(max_files, 1)
        self.pending: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self.file = open(path, "ab")  # noqa: SIM115 - lives as long as the container's run

    def write(self, stream: str, data: bytes) -> None:
        *lines, rest = (self.pending[stream] + data).split(b"\n")
        prefix = b"%s %s " % (timestamp().encode(), stream.encode())
        if max(map(len, lines), default=0) <= MAX_LINE:  # the usual case, joined at C speed
            records = [prefix + b"F " + (b"\n" + prefix + b"F ").join(lines) + b"\n"] if lines else []
        else:
            records = []
            for line in lines:
                pieces = [line[i:i + MAX_LINE] for i in range(0, len(line), MAX_LINE)] or [b""]
                records += [prefix + b"P " + piece + b"\n" for piece in pieces[:-1]]
                records.append(prefix + b"F " + pieces[-1] + b"\n")
        while len(rest) >= MAX_LINE:  # a line too long to wait for its end
            records.append(prefix + b"P " + rest[:MAX_LINE] + b"\n")
            rest = rest[MAX_LINE:]
        self.pending[stream] = rest
        if records:
            self.file.write(b"".join(records))
            self.file.flush()
            if self.file.tell() >= self.max_size:
                self._rotate()

    def close(self) -> None:
        """The container's streams are closed: what is left of a line is a whole line now."""
        for stream, rest in self.pending.items():
            if rest:
                self.file.write(b"%s %s F %s\n" % (timestamp().encode(), stream.encode(), rest))
        self.pending = {"stdout": b"", "stderr": b""}
        self.file.close()

    def _rotate(self) -> None:
        self.file.close()
        if self.max_files == 1:
            os.truncate(self.path, 0)
        else:
            for number in range(self.max_files - 1, 1, -1):
                older = self.path.with_name(f"{self.path.name}.{number - 1}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{number}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self.file = open(self.path, "ab")  # noqa: SIM115


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
