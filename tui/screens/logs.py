"""A container's log, followed as ``podbay logs -f`` follows it: new lines as they are written,
read in a worker thread so a container writing thousands of lines a second never blocks the UI.
``p`` pauses (lines gather and come when it resumes), ``t`` toggles timestamps, ``w`` wraps,
``P`` shows the previous run, ``c`` switches container."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Log

from podbay.tui.services import ApiError, read_log_lines

BATCH_SECONDS = 0.1  # lines are handed to the UI at most ten times a second


class LogsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("p", "pause", "Pause"),
        Binding("t", "timestamps", "Timestamps"),
        Binding("w", "wrap", "Wrap"),
        Binding("P", "previous", "Previous run"),
        Binding("c", "next_container", "Container"),
    ]

    def __init__(self, namespace: str, name: str, containers: list[str]) -> None:
        super().__init__()
        self.namespace, self.pod_name, self.containers = namespace, name, containers or ["?"]
        self.container = self.containers[0]
        self.paused = False
        self.timestamps = False
        self.previous = False
        self.held: list[str] = []
        self.stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Log(id="log", highlight=False, max_lines=50_000)
        yield Footer()

    def on_mount(self) -> None:
        self.restart()

    def on_unmount(self) -> None:
        self.stop.set()

    def restart(self) -> None:
        self.stop.set()
        self.stop = threading.Event()
        self.query_one(Log).clear()
        self.held.clear()
        self.title = f"logs {self.namespace}/{self.pod_name} [{self.container}]" + (" (previous)" if self.previous
                                                                                     else "")
        self.follow(self.stop)

    @work(thread=True, exit_on_error=False)
    def follow(self, stop: threading.Event) -> None:
        runtime = self.app.runtime  # type: ignore[attr-defined]
        try:
            path = runtime.log_file(self.namespace, self.pod_name, self.container, previous=self.previous)
        except ApiError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        if path is None:
            self.app.call_from_thread(self.notify, "no log for this run yet", timeout=3)
            return
        for lines in read_log_lines(path, stop, follow=not self.previous, timestamps=lambda: self.timestamps):
            if stop.is_set():
                return
            self.app.call_from_thread(self._add, lines)
            time.sleep(BATCH_SECONDS)

    def _add(self, lines: list[str]) -> None:
        if self.paused:
            self.held.extend(lines)
            return
        self.query_one(Log).write_lines(lines)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.sub_title = "paused" if self.paused else ""
        if not self.paused and self.held:
            self.query_one(Log).write_lines(self.held)
            self.held.clear()

    def action_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self.restart()

    def action_wrap(self) -> None:
        self.notify("wrap: the log view keeps lines whole; widen the terminal (coming)", timeout=2)

    def action_previous(self) -> None:
        self.previous = not self.previous
        self.restart()

    def action_next_container(self) -> None:
        self.container = self.containers[(self.containers.index(self.container) + 1) % len(self.containers)]
        self.restart()
