"""The home screen: a live table of every pod, as ``podbay get pods -o wide`` with QoS.

Rows are keyed by pod uid and updated cell by cell, so the table never flickers and the cursor
stays on the pod it was on while pods come, go and change. The refresh runs in a worker thread
once a second; ``/`` filters by text or by a label selector; clicking a header (or ``<``/``>``)
sorts by that column.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from podbay.tui.actions import pod_bindings
from podbay.tui.keyedrows import KeyedRows, RowsLoaded, read_rows
from podbay.tui.services import PodRow, age, label_filter

COLUMNS = ("NAME", "NAMESPACE", "READY", "STATUS", "RESTARTS", "AGE", "IP", "QOS", "CPU", "MEM")
REFRESH_SECONDS = 1.0


def cells(row: PodRow) -> tuple[str, ...]:
    return (row.name, row.namespace, row.ready, row.status, str(row.restarts), age(row.created), row.ip or "<none>",
            row.qos, row.cpu, row.memory)


STATUS_STYLES = (("Running", "green"), ("Completed", "dim"), ("Succeeded", "dim"), ("Pending", "yellow"),
                 ("Paused", "cyan"),
                 ("ContainerCreating", "yellow"), ("PodInitializing", "yellow"), ("Init:", "yellow"),
                 ("Terminating", "magenta"))


def styled(column: str, value: str) -> Text | str:
    """k9s's colours: healthy green, on its way yellow, done dim, anything else (errors, back-off) red."""
    if column != "STATUS":
        return value
    style = next((style for prefix, style in STATUS_STYLES if value.startswith(prefix)), "bold red")
    return Text(value, style=style, justify="left")


UNITS = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}


def amount(text: str) -> float:
    """``250m`` cores or ``12Mi`` bytes as a number to sort by (``-`` first)."""
    if text.endswith("m") and text[:-1].isdigit():
        return int(text[:-1])
    if text[-2:] in UNITS and text[:-2].isdigit():
        return int(text[:-2]) * UNITS[text[-2:]]
    return float(text) if text.isdigit() else -1.0


def sort_key(column: str, row: PodRow) -> object:
    if column in ("CPU", "MEM"):
        return amount(row.cpu if column == "CPU" else row.memory)
    return {"AGE": -row.created, "RESTARTS": row.restarts}.get(column, cells(row)[COLUMNS.index(column)])


class PodsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pod('detail')", "Detail"),
        *pod_bindings(),
        Binding("c", "create", "Create"),
        Binding("w", "workloads", "Workloads"),
        Binding("slash", "filter", "Filter"),
        Binding("less_than_sign", "sort(-1)", "Sort left", show=False),
        Binding("greater_than_sign", "sort(1)", "Sort right", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[PodRow] = []  # every pod, as last read (the table shows those the filter keeps)
        self.rows: dict[str, PodRow] = {}
        self.sort_column = "NAME"
        self.reverse = False
        self.filter_text = ""
        self.order: list[str] = []  # the uids in the table's current order

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter: text, or a label selector such as app=web,tier!=db", id="filter")
        yield DataTable(id="pods", cursor_type="row", zebra_stripes=True)
        yield Static("", id="host-limits")
        yield Footer()

    def on_mount(self) -> None:
        self.table_rows = KeyedRows(self.query_one(DataTable), COLUMNS, styled)
        self.table_rows.table.focus()
        self.title = "podbay: pods"
        self.load()
        self.set_interval(REFRESH_SECONDS, self.load)
        self.load_host_limits()

    @work(thread=True, exit_on_error=False)
    def load_host_limits(self) -> None:
        limits = self.app.runtime.host_limits()  # type: ignore[attr-defined]
        text = "\n".join(f"note: {line}" for line in limits)
        self.app.call_from_thread(self.query_one("#host-limits", Static).update, text)

    @work(thread=True, exclusive=True, group="pods", exit_on_error=False)
    def load(self) -> None:
        read_rows(self, self.app.runtime.pods)  # type: ignore[attr-defined]

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=5)
            return
        self.loaded = message.rows
        self.show(message.rows)

    def matching(self, rows: list[PodRow]) -> list[PodRow]:
        text = self.filter_text.strip()
        if not text:
            return rows
        try:
            by_labels = label_filter(text)
        except ValueError:
            return []
        if by_labels is not None:
            return [row for row in rows if by_labels(row.labels)]
        return [row for row in rows if any(text.lower() in cell.lower() for cell in cells(row))]

    def show(self, rows: list[PodRow]) -> None:
        """Bring the table to ``rows``: changed cells, new and gone rows; the cursor stays on its pod."""
        table = self.query_one(DataTable)
        selected = self.table_rows.selected()
        self.rows = {row.uid: row for row in self.matching(rows)}
        self.table_rows.update({uid: cells(row) for uid, row in self.rows.items()})
        ordered = sorted(self.rows.values(), key=lambda r: (sort_key(self.sort_column, r), r.namespace, r.name),
                         reverse=self.reverse)
        order = [row.uid for row in ordered]
        if order != self.order:  # re-sorting costs a full repaint: only when the order changed
            position = {(row.name, row.namespace): index for index, row in enumerate(ordered)}
            table.sort("NAME", "NAMESPACE", key=lambda pair: position[pair])
            self.order = order
        self.table_rows.keep_cursor(selected)
        self.sub_title = f"{len(self.rows)} of {len(rows)} pods" + (f" matching {self.filter_text!r}"
                                                                    if self.filter_text else "")

    def selected(self) -> PodRow | None:
        return self.rows.get(self.table_rows.selected())

    # --- actions -------------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("visible")
        field.focus()

    def set_filter(self, text: str) -> None:
        """Show only the pods ``text`` matches (a workload's selector, from the workloads view)."""
        field = self.query_one("#filter", Input)
        field.value = text
        field.set_class(bool(text), "visible")
        self.filter_text = text
        self.show(self.loaded)
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        try:
            label_filter(event.value.strip())
        except ValueError as err:
            self.notify(f"selector: {err}", severity="warning", timeout=3)
        self.show(self.loaded)

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.remove_class("visible")
        self.query_one(DataTable).focus()

    @on(DataTable.HeaderSelected)
    def header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        self.reverse = not self.reverse if column == self.sort_column else False
        self.sort_column = column
        self.show(self.loaded)

    def action_sort(self, step: int) -> None:
        index = (COLUMNS.index(self.sort_column) + step) % len(COLUMNS)
        self.sort_column, self.reverse = COLUMNS[index], False
        self.show(self.loaded)
        self.notify(f"sorted by {self.sort_column}", timeout=1)

    def action_pod(self, view: str) -> None:
        row = self.selected()
        if row is None:
            self.notify("no pod selected", severity="warning", timeout=2)
            return
        self.app.open_pod_view(view, row.namespace, row.name)  # type: ignore[attr-defined]

    def action_workloads(self) -> None:
        self.app.show_workloads()  # type: ignore[attr-defined]

    def action_create(self) -> None:
        self.app.create_pod()  # type: ignore[attr-defined]

    @on(DataTable.RowSelected)
    def row_chosen(self) -> None:
        self.action_pod("detail")
