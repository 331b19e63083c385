"""Whether the TUI's log view keeps up with a fast writer without blocking the UI (headless, an
in-memory runtime, a real CRI log file written by a thread at RATE lines a second for SECONDS).

Reported: lines written and shown per second, how long after the writer stopped its last line was
on screen, and the UI's event-loop lag while following (a 20 ms timer: how late it ran, p50 / p99 /
max), next to the same timer with no log view (the floor).
Run: .venv/bin/python bench/tui_logs.py [RATE] [SECONDS]."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from podbay.runtime.logs.cri import LogWriter
from podbay.tui.app import make_app
from podbay.tui.screens.logs import LogsScreen
from tests.tui.fake_runtime import FakeRuntime, row

RATE = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
TICK = 0.02


def write(path: Path, done: threading.Event) -> int:
    """RATE lines a second in 10 ms slices, as a busy container's stdout arrives; returns the count."""
    writer = LogWriter(path)
    count, started = 0, time.monotonic()
    while (elapsed := time.monotonic() - started) < SECONDS:
        due = int(elapsed * RATE)
        if due > count:
            chunk = "".join(f"line {n:07d} GET /api/items?page={n % 97} 200 {n % 13} ms\n" for n in range(count, due))
            writer.write("stdout", chunk.encode())
            count = due
        time.sleep(0.01)
    writer.close()
    done.set()
    return count


async def lags(seconds: float) -> list[float]:
    """How late a TICK timer fires on the event loop, over ``seconds``."""
    late: list[float] = []
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        await asyncio.sleep(TICK)
        late.append(time.monotonic() - now - TICK)
    return late


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "0.log"
        LogWriter(log).close()
        app = make_app(FakeRuntime([row("web")], logs={"main": log}))  # type: ignore[arg-type]
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            floor = await lags(2.0)
            app.push_screen(LogsScreen("default", "web", ["main"]))
            await pilot.pause(0.3)
            done = threading.Event()
            written: list[int] = []
            thread = threading.Thread(target=lambda: written.append(write(log, done)))
            started = time.monotonic()
            thread.start()
            following = await lags(SECONDS)
            thread.join()
            screen = app.screen
            assert isinstance(screen, LogsScreen)
            last = f"line {written[0] - 1:07d} "
            while not (screen.lines and screen.lines[-1].startswith(last)):  # the view keeps the last 50,000
                await asyncio.sleep(0.01)
            caught_up = time.monotonic() - started - SECONDS
            total = time.monotonic() - started
    print(f"# TUI log view, a writer at {RATE} lines/s for {SECONDS:g} s (2 cores)\n")
    print(f"- written {written[0]} lines ({written[0] / SECONDS:.0f}/s); all shown after {total:.2f} s "
          f"({written[0] / total:.0f}/s), the last {caught_up * 1000:.0f} ms after the writer stopped")
    print(f"- event-loop lag while following: {summary(following)}")
    print(f"- event-loop lag, no log view: {summary(floor)}")


asyncio.run(main())
