"""The TUI driven by Textual's Pilot against an in-memory runtime: the pods table (live updates that
keep the cursor, filters, sorting), the detail, describe, YAML and log views, delete with
confirmation, help, and runtime errors shown as notifications."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Label, ListView, Log, Select, Sparkline, Static, TextArea

from podbay.runtime.lifecycle.status import parse_time
from podbay.runtime.logs.cri import LogWriter
from podbay.runtime.state.store import Event
from podbay.tui.app import PodbayApp, make_app
from podbay.tui.dialogs.cascade import ConfirmCascade
from podbay.tui.dialogs.confirm import ConfirmStop
from podbay.tui.dialogs.prompt import Prompt
from podbay.tui.logfilter import ContextGrep
from podbay.tui.screens.create import CreateScreen
from podbay.tui.screens.detail import DetailScreen
from podbay.tui.screens.help import HelpScreen
from podbay.tui.screens.inspect import InspectScreen, kernel_view
from podbay.tui.screens.logs import LogsScreen
from podbay.tui.screens.pods import PodsScreen
from podbay.tui.screens.text import TextScreen
from podbay.tui.screens.workloads import WorkloadsScreen
from podbay.tui.templates import TEMPLATES
from podbay.tui.timeline import timeline
from tests.tui.fake_runtime import FakeRuntime, row, workload

SIZE = (140, 40)


def drive(runtime: FakeRuntime, script: Callable[[PodbayApp, Pilot[None]], Awaitable[None]]) -> None:
    async def main() -> None:
        app = make_app(runtime)  # type: ignore[arg-type]
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(app, pilot)

    asyncio.run(main())


async def settle(pilot: Pilot[None], until: Callable[[], Any], what: str) -> None:
    for _ in range(100):
        await pilot.pause(0.05)
        if until():
            return
    raise AssertionError(f"never: {what}")


def log_text(app: PodbayApp) -> list[str]:
    return [line.rstrip() for line in app.screen.query_one(Log).lines]


def names(app: PodbayApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]


def cursor_name(app: PodbayApp) -> str:
    table = app.screen.query_one(DataTable)
    return str(table.get_row_at(table.cursor_row)[0])


def test_pods_table_updates_in_place_and_keeps_the_cursor_on_its_pod() -> None:
    runtime = FakeRuntime([row("web"), row("db", "CrashLoopBackOff", restarts=4), row("cache", "Init:0/2")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["cache", "db", "web"], "three pods, by name")
        table = app.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(1)[2:5]] == ["1/1", "CrashLoopBackOff", "4"]
        await pilot.press("down", "down")
        assert cursor_name(app) == "web"
        runtime.rows = [row("api"), row("web", "Terminating"), row("db", "Running")]  # cache gone, api new
        await settle(pilot, lambda: names(app) == ["api", "db", "web"], "the new set")
        assert cursor_name(app) == "web"  # the cursor followed its pod, not its row number
        assert str(table.get_row_at(2)[3]) == "Terminating"
        assert "note: no cgroup v2" in str(app.screen.query_one("#host-limits").render())

    drive(runtime, script)


def test_filter_by_text_and_by_label_selector_and_sort_by_column() -> None:
    runtime = FakeRuntime([row("web-1", labels={"app": "web"}), row("web-2", labels={"app": "web"}),
                           row("db", labels={"app": "db"}, restarts=9)])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: len(names(app)) == 3, "three pods")
        await pilot.press("slash", *"web-2")
        await settle(pilot, lambda: names(app) == ["web-2"], "text filter")
        await pilot.press(*["backspace"] * 5, *"app!=web", "enter")
        await settle(pilot, lambda: names(app) == ["db"], "label selector")
        await pilot.press("escape")
        await settle(pilot, lambda: len(names(app)) == 3, "filter cleared")
        assert names(app) == ["db", "web-1", "web-2"]  # by name
        await pilot.press(*["greater_than_sign"] * 4)  # NAME -> NAMESPACE -> READY -> STATUS -> RESTARTS
        await settle(pilot, lambda: names(app) == ["web-1", "web-2", "db"], "by restarts, fewest first")
        table = app.screen.query_one(DataTable)
        x = sum(column.get_render_width(table) for column in list(table.columns.values())[:4]) + 2
        await pilot.click("#pods", offset=(x, 0))  # the RESTARTS header again: the other way round
        await settle(pilot, lambda: names(app) == ["db", "web-2", "web-1"], "by restarts, most first")

    drive(runtime, script)


def test_detail_describe_yaml_views_and_back() -> None:
    runtime = FakeRuntime([row("web")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen)
                     and app.screen.query_one("#containers", DataTable).row_count == 4, "detail")
        containers = app.screen.query_one("#containers", DataTable)
        kinds = {str(containers.get_row_at(i)[0]): str(containers.get_row_at(i)[1]) for i in range(4)}
        assert kinds == {"setup": "init", "proxy": "sidecar", "main": "app", "debugger-abcde": "ephemeral"}
        assert "OOMKilled (137)" in [str(c) for c in containers.get_row_at(2)]
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, TextScreen)
                     and "Name:         web" in app.screen.query_one(TextArea).text, "describe")
        await pilot.press("escape", "y")
        await settle(pilot, lambda: isinstance(app.screen, TextScreen)
                     and "kind: Pod" in app.screen.query_one(TextArea).text, "yaml")
        await pilot.press("escape", "escape")
        await settle(pilot, lambda: isinstance(app.screen, PodsScreen), "home again")

    drive(runtime, script)


def test_a_pods_age_is_redrawn_as_it_grows() -> None:
    runtime = FakeRuntime([row("web", created=time.time() - 30)])  # the same row at every read

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        table = app.screen.query_one(DataTable)
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        first = str(table.get_row_at(0)[5])
        assert first.endswith("s") and 30 <= int(first[:-1]) < 50, first
        await settle(pilot, lambda: str(table.get_row_at(0)[5]) != first, "an older age shown")
        assert int(str(table.get_row_at(0)[5])[:-1]) > int(first[:-1])

    drive(runtime, script)


def test_workloads_view_drills_into_pods_and_acts_on_the_workload() -> None:
    runtime = FakeRuntime([row("web-7d9f-abcde", labels={"app": "web"}), row("db-0", labels={"app": "db"})],
                          workload_rows=[workload("Deployment", "web"), workload("StatefulSet", "db", "0/1",
                                                                                     "Progressing"),
                                         workload("Job", "batch", "1/3", "Running", pods="job-name=batch")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: len(names(app)) == 2, "two pods")
        await pilot.press("w")
        await settle(pilot, lambda: isinstance(app.screen, WorkloadsScreen) and len(names(app)) == 3, "workloads")
        assert names(app) == ["Deployment", "Job", "StatefulSet"]
        table = app.screen.query_one(DataTable)
        assert [str(cell) for cell in table.get_row_at(2)[2:7]] == ["db", "0/1", "2", "2", "Progressing"]
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, TextScreen)
                     and "Selector:           app=web" in app.screen.query_one(TextArea).text, "describe")
        await pilot.press("escape", "y")
        await settle(pilot, lambda: isinstance(app.screen, TextScreen)
                     and "kind: Deployment" in app.screen.query_one(TextArea).text, "yaml")
        await pilot.press("escape", "s")
        await settle(pilot, lambda: isinstance(app.screen, Prompt), "how many replicas")
        await pilot.press("5", "enter")
        await settle(pilot, lambda: runtime.workload_calls == [("scale", "Deployment", "web", 5)], "scaled")
        await pilot.press("r")
        await settle(pilot, lambda: runtime.workload_calls[-1] == ("restart", "web"), "rollout restart")
        await pilot.press("down", "s")  # a Job is not scaled: said, nothing asked
        await pilot.pause(0.2)
        assert isinstance(app.screen, WorkloadsScreen) and len(runtime.workload_calls) == 2
        await pilot.press("ctrl+d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmCascade), "delete asks")
        app.screen.query_one("#cascade", Select).value = "orphan"
        await pilot.click("#confirm")
        await settle(pilot, lambda: runtime.workload_calls[-1] == ("delete", "Job", "batch", "orphan"), "deleted")
        await settle(pilot, lambda: names(app) == ["Deployment", "StatefulSet"], "gone from the table")
        await pilot.press("up", "enter")  # the Deployment's pods: the pods table filtered by its selector
        await settle(pilot, lambda: isinstance(app.screen, PodsScreen) and names(app) == ["web-7d9f-abcde"],
                     "the workload's pods")
        assert app.screen.query_one("#filter").value == "app=web"

    drive(runtime, script)


def test_delete_asks_first_with_a_grace_period() -> None:
    runtime = FakeRuntime([row("web"), row("db")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["db", "web"], "two pods")
        await pilot.press("ctrl+d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmStop), "the question")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, PodsScreen), "cancelled")
        assert runtime.deleted == []
        await pilot.press("ctrl+d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmStop), "asked again")
        app.screen.query_one("#grace").focus()
        await pilot.press("5", "enter")
        await settle(pilot, lambda: runtime.deleted == [("default", "db", 5)], "deleted with grace 5")
        await settle(pilot, lambda: names(app) == ["web"], "gone from the table")

    drive(runtime, script)


def test_restart_asks_which_container_with_the_highlighted_one_chosen() -> None:
    runtime = FakeRuntime([row("web")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("r")  # from the table: the first app container
        await settle(pilot, lambda: isinstance(app.screen, ConfirmStop), "the question")
        container = app.screen.query_one("#container", Select)
        assert container.value == "main" and [str(option[0]) for option in container._options] == ["main", "proxy"]
        await pilot.press("enter")
        await settle(pilot, lambda: runtime.restarted == [("default", "web", "main", None)], "main restarted")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen) and
                     app.screen.query_one("#containers", DataTable).row_count == 4, "the detail")
        await pilot.press("down", "r")  # the highlighted sidecar
        await settle(pilot, lambda: isinstance(app.screen, ConfirmStop), "asked again")
        assert app.screen.query_one("#container", Select).value == "proxy"
        app.screen.query_one("#grace").focus()
        await pilot.press("0", "enter")
        await settle(pilot, lambda: runtime.restarted[-1] == ("default", "web", "proxy", 0), "proxy, grace 0")

    drive(runtime, script)


def test_logs_follow_new_lines_and_pause(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    writer = LogWriter(log)
    writer.write("stdout", b"first\nsecond\n")
    runtime = FakeRuntime([row("web")], logs={"main": log})

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, LogsScreen)
                     and log_text(app) == ["first", "second"], "the log so far")
        writer.write("stdout", b"third\n")
        await settle(pilot, lambda: log_text(app)[-1:] == ["third"], "a new line")
        await pilot.press("p")
        writer.write("stdout", b"fourth\n")
        await pilot.pause(0.5)
        assert log_text(app)[-1] == "third"  # paused: held back
        await pilot.press("p")
        await settle(pilot, lambda: log_text(app)[-1:] == ["fourth"], "resumed")

    drive(runtime, script)
    writer.close()


def test_errors_are_notifications_and_help_lists_every_binding() -> None:
    runtime = FakeRuntime([row("web")], failing="the state store is busy")

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: any("the state store is busy" in str(n.message)
                                        for n in app._notifications), "a notification")
        runtime.failing = ""
        await settle(pilot, lambda: names(app) == ["web"], "recovered")
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        table = app.screen.query_one(DataTable)
        keys = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert {"enter", "l", "d", "y", "s", "ctrl+d", "slash", "question_mark", "q"} <= keys

    drive(runtime, script)


def test_create_validates_as_you_type_and_applies() -> None:
    runtime = FakeRuntime([row("web")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, CreateScreen), "the editor")
        screen = app.screen
        verdict = screen.query_one("#verdict", Static)
        await settle(pilot, lambda: "valid" in str(verdict.render()), "the template is valid")
        editor = screen.query_one(TextArea)
        editor.load_text(TEMPLATES["nginx"].replace("image: nginx:1.14.2", "image: nginx:1.14.2\n    bogus: 1")
                         .replace("containerPort: 80", "containerPort: 70000"))
        await settle(pilot, lambda: "2 error(s)" in str(verdict.render()), "two errors in the verdict")

        def listed() -> list[str]:  # the list's items mount after the verdict is drawn
            return [str(text.render()) for text in screen.query_one(ListView).query(Static)]

        await settle(pilot, lambda: len(listed()) == 2, "two errors listed")
        assert any("spec.containers[0].ports[0].containerPort" in text and "line 13" in text for text in listed())
        assert any("bogus" in text for text in listed())
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert runtime.created == []  # refused while invalid
        screen.query_one(ListView).focus()
        await pilot.press("down", "enter")  # the first problem listed: its line selected in the editor
        await settle(pilot, lambda: editor.selected_text.strip() == "bogus: 1", "the line selected")
        editor.load_text(TEMPLATES["probes"])
        await settle(pilot, lambda: "valid" in str(verdict.render()), "valid again")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.pod_name == "probed",
                     "the new pod's detail")
        assert runtime.created == [TEMPLATES["probes"]]

    drive(runtime, script)


def test_kernel_view_names_capabilities_and_who_shares_each_namespace() -> None:
    data = {"name": "web", "namespace": "default", "phase": "Running", "ip": "10.88.0.9",
            "host_namespaces": {"cgroup": "cgroup:[1]"},
            "containers": {
                "main": {"kind": "app", "pid": 10, "runs": 1,
                         "namespaces": {"net": "net:[5]", "mnt": "mnt:[6]", "cgroup": "cgroup:[1]"},
                         "process": {"CapEff": "00000000a80425fb", "CapBnd": "00000000a80425fb", "CapAmb": "0",
                                     "NoNewPrivs": "1", "Seccomp": "2", "Seccomp_filters": "1",
                                     "uid_map": "0 2130706432 65536"},
                         "settings": {"argv": ["nginx"], "env": ["PATH=/bin"], "user": "101", "cwd": "/"},
                         "mounts": [{"target": "/", "type": "overlay", "source": "overlay", "options": "rw"}]},
                "debugger-x": {"kind": "ephemeral", "target": "main", "pid": 11, "runs": 1,
                               "namespaces": {"net": "net:[5]", "mnt": "mnt:[7]"},
                               "process": {"CapEff": "0000000000080000", "Seccomp": "0"}},
                "done": {"kind": "init", "pid": 0}}}
    text = kernel_view(data, ["no cgroup v2 hierarchy"])
    assert "net     net:[5]                      shared with debugger-x" in text
    assert "mnt     mnt:[6]                      its own" in text
    assert "cgroup  cgroup:[1]                   the host's" in text
    assert "effective   CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW " \
           "SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP" in text
    assert "effective   SYS_PTRACE" in text and "ambient     (none)" in text
    assert "no_new_privs 1   seccomp filter (1 filter(s))" in text
    assert "== debugger-x (ephemeral, target main)" in text and "== done (init)  pid not running" in text
    assert "uid map: 0 2130706432 65536" in text and text.endswith("note: no cgroup v2 hierarchy")


def test_log_search_shows_matches_with_context_and_saves_them(tmp_path: Path, monkeypatch: Any) -> None:
    log = tmp_path / "0.log"
    writer = LogWriter(log)
    writer.write("stdout", b"".join(f"line {n}\n".encode() for n in range(1, 21)) + b"boom here\n")
    runtime = FakeRuntime([row("web")], logs={"main": log})
    monkeypatch.chdir(tmp_path)

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, LogsScreen) and len(log_text(app)) == 21, "the log")
        await pilot.press("slash", *"line 1", "enter")
        await settle(pilot, lambda: log_text(app)[:3] == ["line 1", "line 2", "line 3"], "matches and context")
        shown = log_text(app)
        assert shown[3:6] == ["--", "line 8", "line 9"] and shown[-2:] == ["line 20", "boom here"]
        writer.write("stdout", b"line 100\n")
        await settle(pilot, lambda: log_text(app)[-1:] == ["line 100"], "a new match as it comes")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: list(tmp_path.glob("podbay-default-web-main-*.log")), "saved")
        saved = next(tmp_path.glob("podbay-default-web-main-*.log")).read_text().splitlines()
        assert saved == log_text(app)
        await pilot.press("escape")  # clears the search first
        await settle(pilot, lambda: len(log_text(app)) == 22, "everything again")
        highlighted = Text("line 1 and line 10")  # matches are styled as lines are drawn
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        screen.matches.grep = ContextGrep("line 1")
        screen.matches.highlight(highlighted)
        assert [(span.start, span.end) for span in highlighted.spans] == [(0, 6), (11, 17)]
        writer.write("stdout", b"x" * 300 + b"\n")
        await settle(pilot, lambda: log_text(app)[-1:] == ["x" * 300], "a long line, not wrapped")
        await pilot.press("w")
        await settle(pilot, lambda: log_text(app)[-1:] != ["x" * 300], "wrapped")
        parts = log_text(app)[-3:]
        assert "".join(parts) == "x" * 300 and all(len(part) < SIZE[0] for part in parts), parts

    drive(runtime, script)
    writer.close()


def test_timeline_lines_up_events_terminations_and_the_backoff_countdown() -> None:
    finished = "2026-11-25T10:00:30Z"
    pod = {"status": {"containerStatuses": [
        {"name": "main", "restartCount": 2, "state": {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": "back-off 20s restarting failed container=main pod=web_default(u)"}},
         "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137, "signal": 9, "finishedAt": finished}}},
        {"name": "side", "restartCount": 0, "state": {"running": {"startedAt": "2026-11-25T10:00:00Z"}}}]}}
    ended = parse_time(finished)
    events = [Event("u", "Normal", "Started", "Started container main", ended - 90, ended - 20, 3),
              Event("u", "Normal", "Started", "Started container side", ended - 30, ended - 30, 1),
              Event("u", "Warning", "BackOff", "Back-off restarting failed container main in pod web", ended - 50,
                    ended + 1, 2),
              # the kubelet's probe texts do not name the container: its field path does
              Event("u", "Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500",
                    ended - 10, ended - 10, 1, "spec.containers{side}")]
    now = ended + 6
    lines = timeline(pod, events, "main", now)
    clock = lambda moment: time.strftime("%H:%M:%S", time.localtime(moment))  # noqa: E731
    assert lines[:3] == [
        f"{clock(ended - 20)}  Started: Started container main (x3, first {clock(ended - 90)})",
        f"{clock(ended)}  Terminated: OOMKilled, exit 137, signal 9  <- killed for memory (OOM)",
        f"{clock(ended + 1)}  BackOff: Back-off restarting failed container main in pod web (x2, first "
        f"{clock(ended - 50)})"]
    assert lines[-1].strip() == "now    CrashLoopBackOff: restarts in 14s (back-off 20s)"
    assert not any("Unhealthy" in line for line in lines)
    side = timeline(pod, events, "side", now)
    assert len(side) == 3 and "Started container side" in side[0] and "running since" in side[2]
    assert side[1] == f"{clock(ended - 10)}  Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500"


def test_the_palette_offers_every_action_on_the_selected_pod() -> None:
    runtime = FakeRuntime([row("web")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Create a pod", "Help", "Logs of default/web", "Describe default/web", "Kernel view of default/web",
                "Shell in default/web", "Debug default/web", "Delete default/web"} <= set(titles)
        await pilot.press("colon")
        await settle(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the palette")
        await pilot.press(*"describe def")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, TextScreen), "describe, from the palette")

    drive(runtime, script)


def test_inspect_graphs_the_pods_cgroup_live_or_says_why_not() -> None:
    runtime = FakeRuntime([row("web")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("i")
        await settle(pilot, lambda: isinstance(app.screen, InspectScreen)
                     and len(app.screen.query_one("#cpu-graph", Sparkline).data or []) >= 2, "two samples")
        label = str(app.screen.query_one("#cpu-label", Label).render())
        assert label == "CPU 250m, throttled 50% of periods"  # 0.25 s of CPU a second, half the periods
        assert "of 64 MiB" in str(app.screen.query_one("#memory-label", Label).render())
        assert "cpu 1.5%" in str(app.screen.query_one("#pressure-label", Label).render())

    drive(runtime, script)
    runtime = FakeRuntime([row("web")], cgroups=False)

    async def without(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("i")
        await settle(pilot, lambda: isinstance(app.screen, InspectScreen) and "no live CPU" in str(
            app.screen.query_one("#usage-note", Static).render()), "the reason")
        assert "no cgroup v2 hierarchy" in str(app.screen.query_one("#usage-note", Static).render())
        assert not app.screen.query_one("#usage").display

    drive(runtime, without)


def test_cpu_and_memory_columns_sort_by_amount() -> None:
    runtime = FakeRuntime([row("a", cpu="5m", memory="2Mi"), row("b", cpu="120m", memory="900Ki"),
                           row("c", cpu="-", memory="-")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: len(names(app)) == 3, "three pods")
        await pilot.press(*["greater_than_sign"] * 8)  # NAME ... QOS -> CPU
        await settle(pilot, lambda: names(app) == ["c", "a", "b"], "by CPU, least first")
        await pilot.press("greater_than_sign")
        await settle(pilot, lambda: names(app) == ["c", "b", "a"], "by memory, least first")

    drive(runtime, script)


def test_pause_toggles_from_its_key() -> None:
    runtime = FakeRuntime([row("web")])

    async def script(app: PodbayApp, pilot: Pilot[None]) -> None:
        await settle(pilot, lambda: names(app) == ["web"], "the pod")
        await pilot.press("z")
        await settle(pilot, lambda: runtime.paused == [("default", "web", True)], "paused")
        await pilot.press("z")
        await settle(pilot, lambda: runtime.paused[-1] == ("default", "web", False), "unpaused")

    drive(runtime, script)
