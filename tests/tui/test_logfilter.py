"""grep -C on a followed log: context before and after, separators, matches found across batches."""

from __future__ import annotations

from podbay.tui.logfilter import ContextGrep


def test_matches_come_with_their_context_and_separators() -> None:
    grep = ContextGrep("error", context=1)
    lines = ["a", "b", "ERROR one", "c", "d", "e", "f", "error two", "g"]
    assert grep.feed(lines[:4]) == ["b", "ERROR one", "c"]
    assert grep.feed(lines[4:]) == ["--", "f", "error two", "g"]


def test_touching_groups_are_not_separated_and_spans_are_given() -> None:
    grep = ContextGrep("x", context=2)
    assert grep.feed(["x1", "a", "b", "x2"]) == ["x1", "a", "b", "x2"]
    assert grep.matches("axbX") == [(1, 2), (3, 4)]
    assert ContextGrep("a.b").matches("aXb a.b") == [(4, 7)]  # text, not a regex
