"""Follow one CRI log file, whole lines at a time (``logs -f``, ``run --attach``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from podbay.runtime.logs.cri import LogLine, parse


@dataclass
class LogTail:
    path: Path
    prefix: str = ""
    timestamps: bool = False
    position: int = 0
    inode: int = 0
    buffered: bytes = b""

    def skip_existing(self) -> None:
        """Start from the file's current end (what is there was printed already)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return
        self.position, self.inode = stat.st_size, stat.st_ino

    def read(self) -> tuple[list[LogLine], bool]:
        """The whole lines added since the last call (pieces joined), and whether the file grew."""
        try:
            with open(self.path, "rb") as file:
                inode = os.fstat(file.fileno()).st_ino
                if inode != self.inode:  # rotated: the new file from its start
                    self.position, self.inode = 0, inode
                file.seek(self.position)
                data = file.read()
        except FileNotFoundError:
            return [], False
        self.position += len(data)
        *records, self.buffered = (self.buffered + data).split(b"\n")
        return list(parse(iter(record + b"\n" for record in records))), bool(data)

    def pump(self, out: IO[bytes]) -> bool:
        """Write the lines added since the last call; False when there were none."""
        lines, grew = self.read()
        if lines:
            out.write(b"".join(self.prefix.encode() + (f"{line.time} ".encode() if self.timestamps else b"")
                               + line.text + b"\n" for line in lines))
            out.flush()
        return grew
