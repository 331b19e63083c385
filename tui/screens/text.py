"""``describe`` and ``yaml`` of a pod, exactly as ``podbay describe pod`` and ``get -o yaml`` print them."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea

from podbay.tui.services import ApiError


class TextScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back"),
                                             Binding("r", "reload", "Reload")]

    def __init__(self, title: str, fetch: Callable[[], str], language: str | None = None) -> None:
        super().__init__()
        self.heading, self.fetch, self.language = title, fetch, language

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextArea("", read_only=True, show_line_numbers=True, id="text")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.heading
        self.action_reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def action_reload(self) -> None:
        try:
            text = self.fetch()
        except ApiError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=5)
            return
        self.app.call_from_thread(self._show, text)

    def _show(self, text: str) -> None:
        area = self.query_one(TextArea)
        area.load_text(text)
        if self.language:
            try:
                area.language = self.language
            except Exception:
                area.language = None
