"""Delete a pod: confirmation with the grace period (empty: the pod's own)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

KEEP = -1  # the dialog's answer when the pod's own terminationGracePeriodSeconds applies


class ConfirmDelete(ModalScreen[int | None]):
    """Answers None (cancelled), KEEP, or a grace period in seconds."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__()
        self.namespace, self.pod_name = namespace, name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Delete pod {self.namespace}/{self.pod_name}?")
            yield Input(placeholder="grace period in seconds (empty: the pod's own)", id="grace",
                        restrict=r"[0-9]*")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Delete", id="delete", variant="error")

    def on_mount(self) -> None:
        self.query_one("#delete", Button).focus()

    @on(Button.Pressed, "#delete")
    @on(Input.Submitted, "#grace")
    def confirm(self) -> None:
        text = self.query_one("#grace", Input).value.strip()
        self.dismiss(int(text) if text else KEEP)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
