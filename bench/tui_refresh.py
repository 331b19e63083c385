"""How long the TUI's pods table takes to refresh with 200 pods (headless, an in-memory runtime):
the first fill, a refresh where a fifth of the pods changed status, one where nothing changed.
Run: .venv/bin/python bench/tui_refresh.py [PODS] (prints medians in ms)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from podbay.tui.app import make_app
from podbay.tui.screens.pods import PodsScreen
from tests.tui.fake_runtime import FakeRuntime, row

PODS = int(sys.argv[1]) if len(sys.argv) > 1 else 200


async def main() -> None:
    rows = [row(f"pod-{index:03d}", labels={"app": f"a{index % 7}"}) for index in range(PODS)]
    runtime = FakeRuntime([])
    app = make_app(runtime)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PodsScreen)
        timings: dict[str, list[float]] = {"first fill": [], "a fifth changed": [], "nothing changed": [],
                                           "screen update alone": []}
        for round_ in range(15):
            screen.show([])
            await pilot.pause()
            started = time.perf_counter()
            screen.show(rows)
            await pilot.pause()
            timings["first fill"].append(time.perf_counter() - started)
            changed = [replace(r, status="CrashLoopBackOff" if (i + round_) % 5 == 0 else r.status)
                       for i, r in enumerate(rows)]
            started = time.perf_counter()
            screen.show(changed)
            await pilot.pause()
            timings["a fifth changed"].append(time.perf_counter() - started)
            started = time.perf_counter()
            screen.show(changed)
            await pilot.pause()
            timings["nothing changed"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await pilot.pause()
            timings["screen update alone"].append(time.perf_counter() - started)
    print(f"# TUI pods table, {PODS} pods, median of 15 (each includes one screen update)\n")
    for what, values in timings.items():
        print(f"- {what}: {statistics.median(values) * 1000:.1f} ms")


asyncio.run(main())
