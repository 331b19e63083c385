"""One pod: its containers (init, sidecar, app, ephemeral) with state, reason, restarts, image and
last termination; the highlighted container's timeline (timeline.py); its conditions; its events.
Refreshed in a worker once a second."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from podbay.tui.actions import pod_bindings
from podbay.tui.services import ApiError, sidecar_names
from podbay.tui.timeline import timeline

CONTAINER_KEYS = (("initContainers", "initContainerStatuses", "init"), ("containers", "containerStatuses", "app"),
                  ("ephemeralContainers", "ephemeralContainerStatuses", "ephemeral"))


def container_rows(pod: dict[str, Any]) -> list[tuple[str, ...]]:
    spec, status = pod.get("spec", {}), pod.get("status", {})
    sidecars = set(sidecar_names(pod))
    rows: list[tuple[str, ...]] = []
    for spec_key, status_key, kind in CONTAINER_KEYS:
        by_name = {s.get("name"): s for s in status.get(status_key, [])}
        for container in spec.get(spec_key, []):
            state = by_name.get(container["name"], {})
            current: dict[str, dict[str, Any]] = state.get("state", {})
            name, detail = next(iter(current.items()), ("waiting", {}))
            reason = detail.get("reason", "") or ("Running" if name == "running" else "")
            last = state.get("lastState", {}).get("terminated", {})
            role = "sidecar" if container["name"] in sidecars else kind
            rows.append((container["name"], role, name, reason, str(state.get("restartCount", 0)),
                         str(state.get("ready", False)), container.get("image", ""),
                         f"{last.get('reason', '')} ({last.get('exitCode', '')})" if last else ""))
    return rows


class DetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        *pod_bindings(),
    ]

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__()
        self.namespace, self.pod_name = namespace, name
        self.pod: dict[str, Any] = {}
        self.events: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("Containers", classes="title")
            yield DataTable(id="containers", cursor_type="row")
            yield Static("Timeline", classes="title", id="timeline-title")
            yield Static("", id="timeline")
            yield Static("Conditions", classes="title")
            yield DataTable(id="conditions", cursor_type="none")
            yield Static("Events", classes="title")
            yield DataTable(id="events", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"pod {self.namespace}/{self.pod_name}"
        self.query_one("#containers", DataTable).add_columns(
            "NAME", "KIND", "STATE", "REASON", "RESTARTS", "READY", "IMAGE", "LAST TERMINATION")
        self.query_one("#conditions", DataTable).add_columns("TYPE", "STATUS", "SINCE")
        self.query_one("#events", DataTable).add_columns("TYPE", "REASON", "COUNT", "MESSAGE")
        self.query_one("#containers", DataTable).focus()  # up/down pick the container the actions are for
        self.load()
        self.set_interval(1.0, self.load)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        runtime = self.app.runtime  # type: ignore[attr-defined]
        try:
            pod = runtime.pod(self.namespace, self.pod_name)
            events = runtime.events(self.namespace, self.pod_name)
        except ApiError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=5)
            return
        self.app.call_from_thread(self._show, pod, events)

    def _show(self, pod: dict[str, Any], events: list[Any]) -> None:
        self.pod, self.events = pod, events
        self.sub_title = pod.get("status", {}).get("phase", "")
        _fill(self.query_one("#containers", DataTable), container_rows(pod))
        _fill(self.query_one("#conditions", DataTable), [
            (c.get("type", ""), c.get("status", ""), c.get("lastTransitionTime") or "")
            for c in pod.get("status", {}).get("conditions", [])])
        _fill(self.query_one("#events", DataTable), [
            (e.type, e.reason, str(e.count), e.message) for e in events])
        self.show_timeline()

    @on(DataTable.RowHighlighted, "#containers")
    def show_timeline(self) -> None:
        """The highlighted container's life: events, terminations, the back-off countdown."""
        rows = container_rows(self.pod)
        table = self.query_one("#containers", DataTable)
        if not rows or table.cursor_row >= len(rows):
            return
        name = rows[table.cursor_row][0]
        self.query_one("#timeline-title", Static).update(f"Timeline of {name}")
        self.query_one("#timeline", Static).update("\n".join(timeline(self.pod, self.events, name)))

    def action_pod(self, view: str) -> None:
        rows = container_rows(self.pod)
        row = self.query_one("#containers", DataTable).cursor_row
        container = rows[row][0] if 0 <= row < len(rows) else ""
        self.app.open_pod_view(view, self.namespace, self.pod_name, container)  # type: ignore[attr-defined]


def _fill(table: DataTable[str], rows: list[tuple[str, ...]]) -> None:
    """Replace the rows, keeping the cursor's position."""
    row = table.cursor_row
    table.clear()
    for values in rows:
        table.add_row(*values)
    if rows:
        table.move_cursor(row=min(row, len(rows) - 1), animate=False)
