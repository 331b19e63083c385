"""CRI log records: whole lines, partial lines, streams, rotation, and reading them back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podbay.runtime.logs.cri import MAX_LINE, LogWriter, files_of, read_lines, timestamp

RECORD = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) ")


def test_lines_become_records_with_time_stream_and_tag(tmp_path: Path) -> None:
    log = LogWriter(tmp_path / "0.log")
    log.write("stdout", b"hello\nwor")
    log.write("stderr", b"oops\n")
    log.write("stdout", b"ld\nno newline at the end")
    log.close()
    records = (tmp_path / "0.log").read_bytes().splitlines()
    assert all(RECORD.match(record) for record in records), records
    assert [record.split(b" ", 1)[1] for record in records] == [
        b"stdout F hello", b"stderr F oops", b"stdout F world", b"stdout F no newline at the end"]
    assert [(line.stream, line.text) for line in read_lines(tmp_path / "0.log")] == [
        ("stdout", b"hello"), ("stderr", b"oops"), ("stdout", b"world"), ("stdout", b"no newline at the end")]


def test_long_lines_are_split_into_partial_records_and_joined_back(tmp_path: Path) -> None:
    log = LogWriter(tmp_path / "0.log")
    long = b"x" * (MAX_LINE * 2 + 5)
    log.write("stdout", long + b"\nshort\n")
    log.close()
    tags = [record.split(b" ")[2] for record in (tmp_path / "0.log").read_bytes().splitlines()]
    assert tags == [b"P", b"P", b"F", b"F"]
    assert [line.text for line in read_lines(tmp_path / "0.log")] == [long, b"short"]


def test_files_rotate_by_size_and_keep_at_most_max_files(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    log = LogWriter(path, max_size=1000, max_files=3)
    for number in range(100):
        log.write("stdout", b"line %03d\n" % number)
    log.close()
    assert [p.name for p in files_of(path)] == ["0.log.2", "0.log.1", "0.log"]
    assert all(p.stat().st_size < 1000 + 100 for p in files_of(path))
    texts = [line.text for line in read_lines(path)]
    assert texts[-1] == b"line 099" and texts == sorted(texts)  # the newest, in order; the oldest are gone
    assert len(texts) < 100


def test_timestamps_sort_as_text_and_carry_nanoseconds() -> None:
    first, second = timestamp(), timestamp()
    assert first <= second and len(first) == len("2026-11-25T14:35:32.123456789Z")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3 * MAX_LINE), min_size=1, max_size=8), st.integers(1, 70000))
def test_any_mix_of_line_lengths_reads_back_whole(tmp_path_factory: pytest.TempPathFactory, lengths: list[int],
                                                  chunk: int) -> None:
    # Long lines among short ones, cut into arbitrary chunks: the fast path and the split path agree.
    path = tmp_path_factory.mktemp("logs") / "0.log"
    lines = [bytes([97 + n % 26]) * length for n, length in enumerate(lengths)]
    data = b"".join(line + b"\n" for line in lines)
    writer = LogWriter(path, max_size=1 << 30)
    for start in range(0, len(data), chunk):
        writer.write("stdout", data[start:start + chunk])
    writer.close()
    records = path.read_bytes().splitlines()
    assert all(len(r.split(b" ", 3)[3]) <= MAX_LINE for r in records if len(r.split(b" ", 3)) > 3)
    assert [line.text for line in read_lines(path)] == lines
