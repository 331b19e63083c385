"""Every key binding of the screen below it and of the app, generated from the bindings themselves."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        yield DataTable(id="help", cursor_type="none")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("KEY", "ACTION", "WHERE")
        seen = set()
        for where, bindings in (("this view", self.under.BINDINGS), ("everywhere", self.app.BINDINGS)):
            for binding in bindings:
                if isinstance(binding, Binding) and (binding.key, where) not in seen:
                    seen.add((binding.key, where))
                    table.add_row(binding.key, binding.description or binding.action, where)
