"""Create a pod: a YAML editor prefilled from a template, validated as you type (in a worker, a
moment after the last key) with every error listed by field path and its line marked; ``ctrl+s``
applies it and opens the new pod's detail. ``ctrl+t`` cycles the templates; choosing a listed
problem selects its line in the editor."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, ListItem, ListView, Static, TextArea
from textual.widgets.text_area import Selection

from podbay.tui.services import ApiError, Problem
from podbay.tui.templates import TEMPLATES

VALIDATE_AFTER = 0.3  # seconds of quiet typing


class CreateScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "apply", "Apply"),
        Binding("ctrl+t", "next_template", "Template"),
    ]

    def __init__(self, text: str | None = None) -> None:
        super().__init__()
        self.template = 0
        self.initial = text if text is not None else next(iter(TEMPLATES.values()))
        self.problems: list[Problem] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextArea(self.initial, id="editor", show_line_numbers=True, tab_behavior="indent")
        yield Static("", id="verdict", classes="title")
        yield ListView(id="problems")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "create a pod"
        editor = self.query_one(TextArea)
        try:
            editor.language = "yaml"
        except Exception:  # highlighting needs the tree-sitter grammars: plain text without them
            editor.language = None
        editor.focus()
        self.validate()

    @on(TextArea.Changed, "#editor")
    def changed(self) -> None:
        self.validate()

    @work(thread=True, exclusive=True, group="validate", exit_on_error=False)
    def validate(self) -> None:
        import time  # noqa: PLC0415

        text = self.app.call_from_thread(lambda: self.query_one(TextArea).text)
        time.sleep(VALIDATE_AFTER)  # exclusive: a newer key press cancels this one's result
        problems = self.app.runtime.validate(text)  # type: ignore[attr-defined]
        if self.app.call_from_thread(lambda: self.query_one(TextArea).text) == text:
            self.app.call_from_thread(self._show, problems)

    def _show(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.error]
        verdict = self.query_one("#verdict", Static)
        verdict.update(f"{len(errors)} error(s): ctrl+s is refused until they are fixed" if errors else
                       "valid: ctrl+s creates the pod" + (f" ({len(problems)} warning(s))" if problems else ""))
        listing = self.query_one(ListView)
        listing.clear()
        for problem in problems:
            mark = "error" if problem.error else "warning"
            listing.append(ListItem(Static(f"{mark} line {problem.line}: {problem.text}")))

    @on(ListView.Selected, "#problems")
    def problem_chosen(self, event: ListView.Selected) -> None:
        """The chosen problem's line, selected in the editor (never moved there while typing)."""
        problem = self.problems[event.list_view.index or 0]
        if problem.line:
            editor = self.query_one(TextArea)
            line = min(problem.line, editor.document.line_count) - 1
            editor.selection = Selection((line, 0), (line, len(editor.document.get_line(line))))
            editor.focus()

    def action_next_template(self) -> None:
        names = list(TEMPLATES)
        self.template = (self.template + 1) % len(names)
        self.query_one(TextArea).load_text(TEMPLATES[names[self.template]])
        self.notify(f"template: {names[self.template]}", timeout=2)

    def action_apply(self) -> None:
        if any(p.error for p in self.problems):
            self.notify("fix the errors first", severity="error", timeout=3)
            return
        self.create(self.query_one(TextArea).text)

    @work(thread=True, exclusive=True, group="create", exit_on_error=False)
    def create(self, text: str) -> None:
        try:
            namespace, name = self.app.runtime.create(text)  # type: ignore[attr-defined]
        except ApiError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=8)
            return
        self.app.call_from_thread(self._created, namespace, name)

    def _created(self, namespace: str, name: str) -> None:
        self.notify(f"pod {namespace}/{name} created", timeout=3)
        self.app.pop_screen()
        self.app.open_pod_view("detail", namespace, name)  # type: ignore[attr-defined]
