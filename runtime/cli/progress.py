"""A pull's progress on a terminal: one line per blob, redrawn in place at most ten times a second.

Only for an interactive stderr; scripts (a pipe, a file, CI) get nothing but the result.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.3g} GB"


class PullProgress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.blobs: dict[str, tuple[int, int]] = {}  # digest -> (done, total), in first-seen order
        self.lock = threading.Lock()
        self.drawn = 0  # lines drawn last time, to move back over
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, digest: str, done: int, total: int) -> None:
        with self.lock:
            self.blobs[digest] = (done, total)
            now = time.monotonic()
            if now - self.last >= 0.1 or done >= total:
                self.last = now
                self._draw()

    def _draw(self) -> None:
        lines = []
        for digest, (done, total) in self.blobs.items():
            width = 30
            filled = int(width * done / total) if total else width
            state = "done" if total and done >= total else f"{human(done)} / {human(total)}"
            lines.append(f"Copying blob {digest.removeprefix('sha256:')[:12]} [{'=' * filled:<{width}}] {state}")
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F")  # back to the first line drawn last time
        self.stream.write("".join(f"\x1b[2K{line}\n" for line in lines))
        self.stream.flush()
        self.drawn = len(lines)

    def finish(self) -> None:
        with self.lock:
            if self.blobs:
                self._draw()
                total = sum(t for _, t in self.blobs.values())
                took = time.monotonic() - self.started
                self.stream.write(f"Copied {human(total)} in {took:.1f}s\n")
                self.stream.flush()


def for_terminal() -> PullProgress | None:
    return PullProgress() if sys.stderr.isatty() else None
