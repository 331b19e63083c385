"""Delete a workload: confirmed, with what becomes of its pods (kubectl delete --cascade)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select

CASCADES = (("its ReplicaSets and pods go too (background)", "background"),
            ("keep its ReplicaSets and pods (orphan)", "orphan"))


class ConfirmCascade(ModalScreen[str | None]):
    """Answers the cascade chosen, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Select(CASCADES, value="background", id="cascade", allow_blank=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Delete", id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        self.dismiss(str(self.query_one("#cascade", Select).value))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
