"""Debug a pod: image, target container and profile for an ephemeral container (``podbay debug -it``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

PROFILES = ("general", "baseline", "restricted", "netadmin", "sysadmin")


@dataclass(frozen=True)
class DebugRequest:
    image: str
    target: str
    profile: str


class DebugDialog(ModalScreen[DebugRequest | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, namespace: str, name: str, containers: list[str]) -> None:
        super().__init__()
        self.namespace, self.pod_name, self.containers = namespace, name, containers

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"An ephemeral debug container in {self.namespace}/{self.pod_name}")
            yield Input(placeholder="image (for example busybox)", id="image")
            yield Select([(name, name) for name in self.containers], prompt="target container (its processes)",
                         id="target", allow_blank=True)
            yield Select([(name, name) for name in PROFILES], value="general", id="profile", allow_blank=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Debug", id="debug", variant="primary")

    @on(Button.Pressed, "#debug")
    @on(Input.Submitted, "#image")
    def confirm(self) -> None:
        image = self.query_one("#image", Input).value.strip()
        if not image:
            self.notify("an image is needed", severity="warning", timeout=2)
            return
        target = self.query_one("#target", Select).value
        profile = self.query_one("#profile", Select).value
        self.dismiss(DebugRequest(image, target if isinstance(target, str) else "", str(profile)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
