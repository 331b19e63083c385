"""A container's log, followed as ``podbay logs -f`` follows it: read in a worker thread and handed
to the UI in batches at most ten times a second, into Textual's ``Log``, which keeps plain strings
and styles only the lines on screen as they are drawn (RichLog renders every line when it is
written: at 5,000 lines a second that stalled the UI for seconds; see bench/tui_logs.py).
``p`` pauses (lines gather and come when it resumes), ``t`` timestamps, ``w`` wraps (at the
view's width), ``P`` the previous run, ``c`` the next container, ``a`` all containers
interleaved, ``/`` searches (matches highlighted, two lines of context, ``--`` between groups),
``ctrl+s`` saves what is shown to a file in the current folder."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import ClassVar

from rich.cells import chop_cells
from rich.highlighter import Highlighter
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Log

from podbay.tui.logfilter import SEPARATOR, ContextGrep
from podbay.tui.services import ApiError, read_log_lines

BATCH_SECONDS = 0.1
KEEP_LINES = 50_000
ALL = "all containers"


class Matches(Highlighter):
    """The search's matches in bold reverse yellow, its ``--`` separators dim (applied as lines are drawn)."""

    def __init__(self) -> None:
        self.grep: ContextGrep | None = None

    def highlight(self, text: Text) -> None:
        if self.grep is None:
            return
        if text.plain == SEPARATOR:
            text.stylize("dim")
            return
        for start, end in self.grep.matches(text.plain):
            text.stylize("bold reverse yellow", start, end)


class LogsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("p", "pause", "Pause"),
        Binding("t", "timestamps", "Timestamps"),
        Binding("w", "wrap", "Wrap"),
        Binding("P", "previous", "Previous run"),
        Binding("c", "next_container", "Container"),
        Binding("a", "all_containers", "All"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, namespace: str, name: str, containers: list[str]) -> None:
        super().__init__()
        self.namespace, self.pod_name, self.containers = namespace, name, containers or ["?"]
        self.container = self.containers[0]
        self.paused = self.timestamps = self.previous = self.wrap = False
        self.lines: list[str] = []  # everything read, for search and save
        self.held: list[str] = []
        self.grep: ContextGrep | None = None
        self.matches = Matches()
        self.stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search (text; esc clears)", id="search")
        log = Log(id="log", highlight=True, max_lines=KEEP_LINES)
        log.highlighter = self.matches
        yield log
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one(Log).focus()  # the keys are the screen's until / opens the search
        self.restart()

    def on_unmount(self) -> None:
        self.stop.set()

    def restart(self) -> None:
        self.stop.set()
        self.stop = threading.Event()
        self.lines.clear()
        self.held.clear()
        self.render_all()
        shown = self.container + (" (previous)" if self.previous else "")
        self.title = f"logs {self.namespace}/{self.pod_name} [{shown}]"
        for container in (self.containers if self.container == ALL else [self.container]):
            self.follow(self.stop, container, self.container == ALL)

    @work(thread=True, exit_on_error=False)
    def follow(self, stop: threading.Event, container: str, prefix: bool) -> None:
        runtime = self.app.runtime  # type: ignore[attr-defined]
        try:
            path = runtime.log_file(self.namespace, self.pod_name, container, previous=self.previous)
        except ApiError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        if path is None:
            self.app.call_from_thread(self.notify, f"{container}: no log for this run yet", timeout=3)
            return
        label = f"[{container}] " if prefix else ""
        for lines in read_log_lines(path, stop, follow=not self.previous, timestamps=lambda: self.timestamps):
            if stop.is_set():
                return
            self.app.call_from_thread(self.add, [label + line for line in lines])
            time.sleep(BATCH_SECONDS)

    def add(self, lines: list[str]) -> None:
        self.lines.extend(lines)
        del self.lines[:-KEEP_LINES]
        if self.paused:
            self.held.extend(lines)
            return
        self.show(lines)

    def show(self, lines: list[str]) -> None:
        log = self.query_one(Log)
        if self.grep is not None:
            lines = self.grep.feed(lines)
        if self.wrap:  # Log draws one row per line: wrapping is cutting at the view's width
            width = max(log.scrollable_content_region.width - 1, 10)
            lines = [part for line in lines for part in (chop_cells(line, width) or [""])]
        log.write_lines(lines)

    def render_all(self) -> None:
        """Everything read so far again (after search, wrap or pause changed)."""
        self.query_one(Log).clear()
        if self.grep is not None:
            self.grep = self.grep.fresh()
        self.matches.grep = self.grep
        self.show(list(self.lines))

    def on_resize(self) -> None:
        if self.wrap:
            self.render_all()

    # --- actions -------------------------------------------------------------------------------

    def action_search(self) -> None:
        field = self.query_one("#search", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#search")
    def search(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.grep = ContextGrep(text) if text else None
        self.sub_title = f"matching {text!r}" if text else ""
        self.render_all()
        self.query_one(Log).focus()

    def action_back(self) -> None:
        field = self.query_one("#search", Input)
        if self.grep is not None or field.display:
            field.value, field.display, self.grep, self.sub_title = "", False, None, ""
            self.render_all()
            return
        self.app.pop_screen()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.sub_title = "paused" if self.paused else ""
        if not self.paused and self.held:
            held, self.held = self.held, []
            self.show(held)

    def action_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self.restart()

    def action_wrap(self) -> None:
        self.wrap = not self.wrap
        self.render_all()

    def action_previous(self) -> None:
        self.previous = not self.previous
        self.restart()

    def action_next_container(self) -> None:
        choices = [*self.containers, ALL]
        self.container = choices[(choices.index(self.container) + 1) % len(choices)]
        self.restart()

    def action_all_containers(self) -> None:
        self.container = ALL
        self.restart()

    def action_save(self) -> None:
        """What is shown (everything, or the search's matches with their context) to a file."""
        if self.grep is None:
            self.save(list(self.lines))
        else:
            self.save(self.grep.fresh().feed(self.lines))

    @work(thread=True, exit_on_error=False)
    def save(self, lines: list[str]) -> None:
        name = self.container.replace(" ", "-")
        path = Path.cwd() / f"podbay-{self.namespace}-{self.pod_name}-{name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
        try:
            path.write_text("".join(line + "\n" for line in lines))
        except OSError as err:
            self.app.call_from_thread(self.notify, f"cannot save: {err}", severity="error")
            return
        self.app.call_from_thread(self.notify, f"saved {len(lines)} lines to {path}", timeout=5)
