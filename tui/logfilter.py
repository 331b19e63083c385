"""grep -C for a followed log: matching lines with the lines around them, fed as lines arrive."""

from __future__ import annotations

import re
from collections import deque

SEPARATOR = "--"


class ContextGrep:
    """Feed lines in order; get back what to show: context before a match (at most ``context``
    lines), the match, ``context`` lines after it, and ``--`` between groups that do not touch."""

    def __init__(self, text: str, context: int = 2) -> None:
        self.text = text
        self.pattern = re.compile(re.escape(text), re.IGNORECASE)
        self.context = context
        self.before: deque[tuple[int, str]] = deque(maxlen=context)
        self.after = 0
        self.last_shown = -1
        self.seen = 0

    def fresh(self) -> ContextGrep:
        """The same search from the first line again."""
        return ContextGrep(self.text, self.context)

    def matches(self, line: str) -> list[tuple[int, int]]:
        return [match.span() for match in self.pattern.finditer(line)]

    def feed(self, lines: list[str]) -> list[str]:
        shown: list[str] = []
        for line in lines:
            number, self.seen = self.seen, self.seen + 1
            if self.pattern.search(line):
                first = self.before[0][0] if self.before else number
                if self.last_shown >= 0 and first > self.last_shown + 1:
                    shown.append(SEPARATOR)
                shown.extend(text for _, text in self.before)
                self.before.clear()
                shown.append(line)
                self.last_shown, self.after = number, self.context
            elif self.after:
                shown.append(line)
                self.last_shown, self.after = number, self.after - 1
            else:
                self.before.append((number, line))
        return shown
