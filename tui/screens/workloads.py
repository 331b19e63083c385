"""Workloads (``w`` from the pods table): every Deployment, StatefulSet, DaemonSet, ReplicaSet and Job,
refreshed each second. ``enter`` shows the pods the workload selects (the pods table, filtered by its
selector, as k9s does); describe, YAML, scale, rollout restart and delete act on the one under the cursor."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from podbay.tui.keyedrows import KeyedRows, RowsLoaded, read_rows
from podbay.tui.services import WorkloadRow, age

COLUMNS = ("KIND", "NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "STATUS", "AGE")
REFRESH_SECONDS = 1.0
SCALABLE = ("Deployment", "ReplicaSet", "StatefulSet")


def cells(row: WorkloadRow) -> tuple[str, ...]:
    return (row.kind, row.namespace, row.name, row.ready, row.up_to_date, row.available, row.status,
            age(row.created))


def styled(column: str, value: str) -> Text | str:
    if column != "STATUS":
        return value
    style = {"Ready": "green", "Complete": "dim", "Progressing": "yellow", "Running": "yellow"}.get(value, "bold red")
    return Text(value, style=style, justify="left")


class WorkloadsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pods", "Pods"),
        Binding("d", "view('describe')", "Describe"),
        Binding("y", "view('yaml')", "YAML"),
        Binding("s", "view('scale')", "Scale"),
        Binding("r", "view('restart')", "Rollout restart"),
        Binding("ctrl+d", "view('delete')", "Delete"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, WorkloadRow] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="workloads", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.table_rows = KeyedRows(self.query_one(DataTable), COLUMNS, styled)
        self.table_rows.table.focus()
        self.title = "podbay: workloads"
        self.load()
        self.set_interval(REFRESH_SECONDS, self.load)

    @work(thread=True, exclusive=True, group="workloads", exit_on_error=False)
    def load(self) -> None:
        read_rows(self, self.app.runtime.workloads)  # type: ignore[attr-defined]

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=5)
            return
        selected = self.table_rows.selected()
        before = list(self.rows)
        self.rows = {row.uid: row for row in sorted(message.rows, key=lambda r: (r.kind, r.namespace, r.name))}
        self.table_rows.update({uid: cells(row) for uid, row in self.rows.items()})
        if list(self.rows) != before:
            self.query_one(DataTable).sort("KIND", "NAMESPACE", "NAME")
        self.table_rows.keep_cursor(selected)
        self.sub_title = f"{len(self.rows)} workloads" if self.rows else "no workloads: podbay apply -f FILE"

    def selected(self) -> WorkloadRow | None:
        return self.rows.get(self.table_rows.selected())

    def action_pods(self) -> None:
        row = self.selected()
        if row is not None:
            self.app.show_pods(row.pods)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected)
    def row_chosen(self) -> None:
        self.action_pods()

    def action_view(self, view: str) -> None:
        row = self.selected()
        if row is None:
            self.notify("no workload selected", severity="warning", timeout=2)
        elif view == "scale" and row.kind not in SCALABLE:
            self.notify(f"a {row.kind} is not scaled (scale works on {', '.join(SCALABLE)})", severity="warning")
        elif view == "restart" and row.kind != "Deployment":
            self.notify("rollout restart works on Deployments", severity="warning")
        else:
            self.app.open_workload_view(view, row.kind, row.namespace, row.name)  # type: ignore[attr-defined]
