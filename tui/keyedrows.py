"""Live tables: rows read in a worker and posted back (``read_rows``), and a DataTable kept equal to a
set of keyed rows by changing only what changed: no flicker, and the cursor stays on its row. The cells
compared are the ones last drawn (so an AGE that ticks over is redrawn)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.message_pump import MessagePump
from textual.widgets import DataTable

from podbay.tui.services import ApiError


@dataclass
class RowsLoaded(Message):
    """A live table's rows, or the error that stopped reading them."""

    rows: list[Any]
    error: str = ""


def read_rows(target: MessagePump, fetch: Callable[[], list[Any]]) -> None:
    """In a worker: ``fetch()``'s rows (or its error, worded for the user) posted to ``target``."""
    try:
        rows = fetch()
    except ApiError as err:
        target.post_message(RowsLoaded([], str(err)))
        return
    target.post_message(RowsLoaded(rows))


def plain(_column: str, value: str) -> Text | str:
    return value


class KeyedRows:
    def __init__(self, table: DataTable[Text | str], columns: tuple[str, ...],
                 style: Callable[[str, str], Text | str] = plain) -> None:
        self.table, self.columns, self.style = table, columns, style
        self.cells: dict[str, tuple[str, ...]] = {}  # key -> the values drawn
        for column in columns:
            table.add_column(column, key=column)

    def update(self, rows: dict[str, tuple[str, ...]]) -> None:
        """Gone rows removed, new ones added, changed cells redrawn."""
        for key in [key for key in self.cells if key not in rows]:
            self.table.remove_row(key)
            del self.cells[key]
        for key, values in rows.items():
            drawn = self.cells.get(key)
            if drawn is None:
                self.table.add_row(*(self.style(column, value) for column, value in
                                     zip(self.columns, values, strict=True)), key=key)
            else:
                for column, before, after in zip(self.columns, drawn, values, strict=True):
                    if before != after:
                        self.table.update_cell(key, column, self.style(column, after))
            self.cells[key] = values

    def selected(self) -> str:
        """The key of the row under the cursor ("" in an empty table)."""
        if not self.table.row_count:
            return ""
        return str(self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value)

    def keep_cursor(self, key: str) -> None:
        if key in self.cells:
            self.table.move_cursor(row=self.table.get_row_index(key), animate=False)
