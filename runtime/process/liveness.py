"""Is the process we recorded still the same one? A PID plus its start time tells reuse apart."""

from __future__ import annotations


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces


def start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    return _stat_fields(pid)[19]


def alive(pid: int, start: str) -> bool:
    """Running (not a zombie) and started when recorded: not a later process with a reused PID."""
    try:
        fields = _stat_fields(pid)
    except (OSError, IndexError):
        return False
    return len(fields) > 19 and fields[0] not in ("Z", "X") and fields[19] == start
