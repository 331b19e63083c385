"""What the TUI's screens look like, as SVG snapshots (pytest-textual-snapshot, Textual's own tool):
the pods table with its status colours and the host's limits, a pod's detail with the timeline, the
kernel view with its live cgroup graphs, the
create editor with a problem listed, the delete and restart dialogs, and the help screen.

A change to a screen fails here with a side-by-side report (``snapshot_report.html``); when the change
is meant, regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVGs
under ``__snapshots__`` like code. The in-memory runtime and a fixed time zone keep them stable."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, TextArea

from podbay.runtime.lifecycle.status import parse_time
from podbay.runtime.state.store import Event
from podbay.tui.app import make_app
from podbay.tui.dialogs.confirm import ConfirmStop
from podbay.tui.screens.create import CreateScreen
from podbay.tui.screens.detail import DetailScreen
from podbay.tui.screens.inspect import InspectScreen
from podbay.tui.screens.workloads import WorkloadsScreen
from tests.tui.fake_runtime import FakeRuntime, row, workload

SIZE = (120, 32)
HOURS = 3600.0


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """The timeline prints local clock times."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def runtime() -> FakeRuntime:
    """Ages in whole hours, so a second more or less changes nothing shown; events at fixed times."""
    old = time.time() - 5 * HOURS - 60
    at = parse_time("2026-11-25T09:58:00Z")
    main, proxy = "spec.containers{main}", "spec.initContainers{proxy}"
    events = [Event("u", "Normal", "Started", "Started container proxy", at, at, 1, proxy),
              Event("u", "Normal", "Started", "Started container main", at + 1, at + 120, 3, main),
              Event("u", "Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503",
                    at + 60, at + 100, 3, main),
              Event("u", "Normal", "Killing", "Container main failed liveness probe, will be restarted", at + 100,
                    at + 100, 1, main),
              Event("u", "Warning", "BackOff", "Back-off restarting failed container main in pod cache_default(u)",
                    at + 110, at + 110, 1, main)]
    return FakeRuntime(pod_events=events, rows=[
        row("web", created=old, ip="10.88.0.2", qos="Burstable"),
        row("db", "CrashLoopBackOff", restarts=7, ready="0/1", created=old, ip="10.88.0.3"),
        row("cache", "Init:1/2", ready="0/1", created=old, ip="10.88.0.4"),
        row("batch", "Completed", ready="0/1", created=old - 20 * HOURS, ip=""),
        row("api", "Running", namespace="shop", ready="2/2", created=old, ip="10.88.0.5", qos="Guaranteed"),
    ], workload_rows=[
        workload("Deployment", "web", created=old),
        workload("ReplicaSet", "web-7d9f5c8b4", up_to_date="-", created=old),
        workload("StatefulSet", "db", "0/1", "Progressing", up_to_date="1", available="0", created=old),
        workload("DaemonSet", "logs", "1/1", up_to_date="1", available="1", created=old),
        workload("Job", "batch", "1/1", "Complete", up_to_date="-", available="-", created=old - 20 * HOURS),
    ])


def until(check: Callable[[Any], bool], what: str, *keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press ``keys`` (one at a time, each waited for), then wait until ``check(app)``."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.1)
        for _ in range(100):
            await pilot.pause(0.05)
            if check(pilot.app):
                await pilot.pause(0.2)  # a last refresh and the cursor's paint
                return
        raise AssertionError(f"never: {what}")

    return run_before


def rows(app: Any) -> int:
    return int(app.screen.query_one(DataTable).row_count)


def test_pods_view(snap_compare: Any) -> None:
    assert snap_compare(make_app(runtime()), terminal_size=SIZE,  # type: ignore[arg-type]
                        run_before=until(lambda app: rows(app) == 5, "five pods"))


def test_detail_view_with_the_timeline(snap_compare: Any) -> None:
    app = make_app(runtime())  # type: ignore[arg-type]
    assert snap_compare(app, terminal_size=SIZE, run_before=until(
        lambda app: isinstance(app.screen, DetailScreen) and rows(app) == 4, "the detail", "down", "down",
        "enter", "down", "down"))


def test_create_view_lists_a_problem(snap_compare: Any) -> None:
    def broken(app: Any) -> bool:
        if not isinstance(app.screen, CreateScreen):
            return False
        editor = app.screen.query_one(TextArea)
        editor.cursor_blink = False  # or the snapshot depends on the blink's phase
        if "replicas" not in editor.text:
            editor.text = editor.text.replace("containers:", "replicas: 2\n  containers:", 1)
        return any("replicas" in str(problem) for problem in app.screen.problems)

    assert snap_compare(make_app(runtime()), terminal_size=SIZE,  # type: ignore[arg-type]
                        run_before=until(broken, "the problem listed", "c"))


def test_restart_dialog(snap_compare: Any) -> None:
    assert snap_compare(make_app(runtime()), terminal_size=SIZE,  # type: ignore[arg-type]
                        run_before=until(lambda app: isinstance(app.screen, ConfirmStop), "the dialog", "r"))


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(runtime()), terminal_size=SIZE,  # type: ignore[arg-type]
                        press=["question_mark"])


def test_inspect_with_live_graphs(snap_compare: Any) -> None:
    def three_samples(app: Any) -> bool:
        return isinstance(app.screen, InspectScreen) and len(app.screen.history["cpu"]) == 3

    assert snap_compare(make_app(runtime()), terminal_size=SIZE,  # type: ignore[arg-type]
                        run_before=until(three_samples, "three samples", "i"))


def test_workloads_view(snap_compare: Any) -> None:
    assert snap_compare(make_app(runtime()), terminal_size=SIZE,  # type: ignore[arg-type]
                        run_before=until(lambda app: isinstance(app.screen, WorkloadsScreen) and rows(app) == 5,
                                         "five workloads", "w"))
