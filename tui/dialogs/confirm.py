"""Stop something: delete a pod, or restart one of its containers. A confirmation with the grace
period (empty: the pod's own) and, for a restart, the container."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select


@dataclass(frozen=True)
class Stop:
    container: str  # "" for the whole pod
    grace: int | None  # None: the pod's terminationGracePeriodSeconds


class ConfirmStop(ModalScreen[Stop | None]):
    """Answers None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, verb: str, containers: list[str] | None = None, selected: str = "") -> None:
        super().__init__()
        self.question, self.verb, self.containers = question, verb, containers or []
        self.selected = selected if selected in self.containers else (self.containers or [""])[0]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            if self.containers:
                yield Select([(name, name) for name in self.containers], value=self.selected, id="container",
                             allow_blank=False)
            yield Input(placeholder="grace period in seconds (empty: the pod's own)", id="grace",
                        restrict=r"[0-9]*")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.verb, id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted, "#grace")
    def confirm(self) -> None:
        text = self.query_one("#grace", Input).value.strip()
        container = str(self.query_one("#container", Select).value) if self.containers else ""
        self.dismiss(Stop(container, int(text) if text else None))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
