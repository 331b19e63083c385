"""The TUI driven by Pilot against real pods: podbay.runtime.api.Runtime over a real store and
supervisor. Every view (table, detail, logs, describe, YAML, kernel view, workloads) and the actions
that need no terminal of their own (restart, pause, delete, scale, rollout restart, delete a workload);
the shell and debug hand-overs are covered by the tmux test and by exec/debug's own tests.

The app runs in a thread that has entered the tests' network namespace, where the store's supervisor
and pods live, so nothing it starts reaches the host's network."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Log, Select, TextArea

from podbay.runtime.api import Runtime
from podbay.runtime.paths import Paths
from podbay.tui.app import PodbayApp, make_app
from podbay.tui.dialogs.cascade import ConfirmCascade
from podbay.tui.dialogs.confirm import ConfirmStop
from podbay.tui.dialogs.prompt import Prompt
from podbay.tui.screens.detail import DetailScreen
from podbay.tui.screens.inspect import InspectScreen
from podbay.tui.screens.logs import LogsScreen
from podbay.tui.screens.pods import PodsScreen
from podbay.tui.screens.text import TextScreen
from podbay.tui.screens.workloads import WorkloadsScreen
from tests.integration.test_workloads import IMAGE, apply, pods, workload
from tests.podbay_harness import Podbay
from tests.registry import inside
from tests.tui.test_app import SIZE, names

pytestmark = [pytest.mark.root, pytest.mark.images]


def drive_real(podbay: Podbay, script: Callable[[PodbayApp, Pilot[None]], Awaitable[None]]) -> None:
    runtime = Runtime(Paths(podbay.data_dir, podbay.run_dir))
    failures: list[BaseException] = []

    async def main() -> None:
        app = make_app(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(app, pilot)

    def run() -> None:
        try:
            with inside(podbay.netns):
                asyncio.run(main())
        except BaseException as err:  # handed to the test's thread
            failures.append(err)

    thread = threading.Thread(target=run, name="tui")
    thread.start()
    thread.join(240)
    assert not thread.is_alive(), "the TUI test never ended"
    if failures:
        raise failures[0]


async def until(pilot: Pilot[None], check: Callable[[], object], what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.1)):
        await pilot.pause(0.1)
        if check():
            return
    raise AssertionError(f"never: {what}")


def cell(app: PodbayApp, name: str, column: int) -> str:
    table = app.screen.query_one(DataTable)
    index = names(app).index(name)
    return str(table.get_row_at(index)[column])


def screen_text(app: PodbayApp) -> str:
    return app.screen.query_one(TextArea).text


def test_every_pod_view_and_action_on_a_real_pod(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    podbay.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tui-real"}, "spec": {
        "terminationGracePeriodSeconds": 1,
        "initContainers": [{"name": "setup", "image": IMAGE, "imagePullPolicy": "Never",
                            "command": ["sh", "-c", "echo ready > /work/flag"],
                            "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        "containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                        "command": ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"],
                        "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        "volumes": [{"name": "work", "emptyDir": {}}]}})

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await until(pilot, lambda: "tui-real" in names(app) and cell(app, "tui-real", 3) == "Running", "Running")
        assert cell(app, "tui-real", 2) == "1/1"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen)
                    and app.screen.query_one("#containers", DataTable).row_count == 2, "the detail")
        rows = app.screen.query_one("#containers", DataTable)
        kinds = {str(rows.get_row_at(i)[0]): str(rows.get_row_at(i)[1]) for i in range(2)}
        assert kinds == {"setup": "init", "main": "app"}
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogsScreen)
                    and any(line.startswith("tick ") for line in app.screen.query_one(Log).lines), "the log")
        await pilot.press("escape", "d")
        await until(pilot, lambda: isinstance(app.screen, TextScreen) and "Name:" in screen_text(app)
                    and "Started" in screen_text(app), "describe")
        await pilot.press("escape", "y")
        await until(pilot, lambda: isinstance(app.screen, TextScreen) and "kind: Pod" in screen_text(app), "yaml")
        await pilot.press("escape", "i")
        await until(pilot, lambda: isinstance(app.screen, InspectScreen)
                    and "== main (app)" in screen_text(app) and "effective" in screen_text(app), "kernel view")
        kernel = screen_text(app)
        assert "KILL" in kernel and "seccomp filter" in kernel and "uid map:" in kernel
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, PodsScreen), "the table again")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmStop), "which container")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PodsScreen) and cell(app, "tui-real", 4) == "1",
                    "restarted once")
        await pilot.press("z")
        if podbay.cgroup2:
            await until(pilot, lambda: cell(app, "tui-real", 3) == "Paused", "paused")
            await pilot.press("z")
            await until(pilot, lambda: cell(app, "tui-real", 3) == "Running", "running again")
        else:  # a host without cgroup v2: said, and the TUI goes on
            await until(pilot, lambda: any(n.severity == "error" for n in app._notifications), "refused, said")
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmStop), "delete asks")
        await pilot.press("enter")
        await until(pilot, lambda: "tui-real" not in names(app), "deleted", seconds=90)

    drive_real(podbay, script)


def test_workloads_view_on_a_real_deployment(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, workload("Deployment", 1))

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WorkloadsScreen) and "Deployment" in names(app)
                    and cell(app, "Deployment", 3) == "1/1", "the Deployment ready", seconds=90)
        assert "ReplicaSet" in names(app)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, TextScreen) and "ScalingReplicaSet" in screen_text(app),
                    "describe with the controller's events")
        await pilot.press("escape", "s")
        await until(pilot, lambda: isinstance(app.screen, Prompt), "how many")
        await pilot.press("2", "enter")
        await until(pilot, lambda: isinstance(app.screen, WorkloadsScreen) and cell(app, "Deployment", 3) == "2/2",
                    "scaled to two", seconds=90)
        await pilot.press("enter")  # its pods, in the pods table filtered by the selector
        await until(pilot, lambda: isinstance(app.screen, PodsScreen) and len(names(app)) == 2
                    and all(name.startswith("web-") for name in names(app)), "the Deployment's two pods")
        before = set(names(app))
        await pilot.press("w", "r")
        await until(pilot, lambda: not before & {p["metadata"]["name"] for p in pods(podbay)}, "every pod replaced",
                    seconds=120)
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmCascade), "delete asks")
        assert app.screen.query_one("#cascade", Select).value == "background"
        await pilot.click("#confirm")
        await until(pilot, lambda: isinstance(app.screen, WorkloadsScreen) and not names(app), "nothing left")
        await until(pilot, lambda: not pods(podbay), "its pods collected", seconds=90)

    drive_real(podbay, script)
