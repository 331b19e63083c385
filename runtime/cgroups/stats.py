"""Usage figures of a cgroup (and of the node, from /proc), read without changing anything.

CPU is a counter: a rate needs two samples (``cpu_cores``). Memory is the kubelet's working set
(``memory.current`` less ``inactive_file``), which is what ``kubectl top`` shows and what evictions
and OOM decisions look at. Pressure is PSI's ``some avg10`` (the share of the last 10 s in which
some task of the group waited for the resource).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from podbay.runtime.cgroups.manager import read_keyed


@dataclass(frozen=True)
class Usage:
    at: float  # time.monotonic() of the sample
    cpu_usec: int = 0
    nr_periods: int = 0
    nr_throttled: int = 0
    throttled_usec: int = 0
    memory: int = 0  # memory.current
    working_set: int = 0
    memory_peak: int | None = None
    memory_max: int | None = None
    pids: int = 0
    pids_max: int | None = None
    io_read: int = 0
    io_write: int = 0
    pressure: dict[str, float] = field(default_factory=dict)  # cpu/memory/io -> some avg10 (%)


def _text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _number(path: Path) -> int | None:
    text = _text(path)
    return int(text) if text.isdigit() else None


def pressure(path: Path) -> float | None:
    """``some avg10`` of a PSI file, in percent."""
    for line in _text(path).splitlines():
        if line.startswith("some "):
            for item in line.split()[1:]:
                key, _, value = item.partition("=")
                if key == "avg10":
                    return float(value)
    return None


def _io(path: Path) -> tuple[int, int]:
    read = written = 0
    for line in _text(path / "io.stat").splitlines():
        for item in line.split()[1:]:
            key, _, value = item.partition("=")
            if key == "rbytes" and value.isdigit():
                read += int(value)
            elif key == "wbytes" and value.isdigit():
                written += int(value)
    return read, written


def read_usage(path: Path) -> Usage | None:
    """A cgroup's figures, or None when it is gone."""
    if not path.is_dir():
        return None
    cpu = read_keyed(path / "cpu.stat")
    memory = _number(path / "memory.current") or 0
    inactive = read_keyed(path / "memory.stat").get("inactive_file", 0)
    read, written = _io(path)
    psi = {kind: value for kind in ("cpu", "memory", "io")
           if (value := pressure(path / f"{kind}.pressure")) is not None}
    return Usage(at=time.monotonic(), cpu_usec=cpu.get("usage_usec", 0), nr_periods=cpu.get("nr_periods", 0),
                 nr_throttled=cpu.get("nr_throttled", 0), throttled_usec=cpu.get("throttled_usec", 0),
                 memory=memory, working_set=max(memory - inactive, 0), memory_peak=_number(path / "memory.peak"),
                 memory_max=_number(path / "memory.max"), pids=_number(path / "pids.current") or 0,
                 pids_max=_number(path / "pids.max"), io_read=read, io_write=written, pressure=psi)


def read_brief(path: Path) -> Usage | None:
    """CPU and working set only (three files, not eleven): what a table of every pod shows each second."""
    cpu = read_keyed(path / "cpu.stat")
    if not cpu:
        return None
    memory = _number(path / "memory.current") or 0
    inactive = read_keyed(path / "memory.stat").get("inactive_file", 0)
    return Usage(at=time.monotonic(), cpu_usec=cpu.get("usage_usec", 0), memory=memory,
                 working_set=max(memory - inactive, 0))


def cpu_cores(before: Usage, after: Usage) -> float:
    """CPU used between two samples, in cores (1.0 = one core busy all the time)."""
    elapsed = after.at - before.at
    return max(after.cpu_usec - before.cpu_usec, 0) / 1e6 / elapsed if elapsed > 0 else 0.0


# --- the node ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeUsage:
    at: float
    busy_ticks: int
    total_ticks: int
    cpus: int
    memory_total: int
    working_set: int  # MemTotal - MemAvailable, as the kubelet's node summary
    pressure: dict[str, float] = field(default_factory=dict)


def read_node(proc: Path = Path("/proc")) -> NodeUsage:
    lines = _text(proc / "stat").splitlines()
    ticks = [int(f) for f in lines[0].split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    meminfo = {}
    for line in _text(proc / "meminfo").splitlines():
        key, _, rest = line.partition(":")
        meminfo[key] = int(rest.split()[0]) * 1024 if rest.split() else 0
    psi = {kind: value for kind in ("cpu", "memory", "io")
           if (value := pressure(proc / "pressure" / kind)) is not None}
    total = meminfo.get("MemTotal", 0)
    return NodeUsage(at=time.monotonic(), busy_ticks=sum(ticks[:8]) - idle, total_ticks=sum(ticks[:8]),
                     cpus=max(cpus, 1), memory_total=total, working_set=total - meminfo.get("MemAvailable", total),
                     pressure=psi)


def node_cores(before: NodeUsage, after: NodeUsage) -> float:
    total = after.total_ticks - before.total_ticks
    return (after.busy_ticks - before.busy_ticks) / total * after.cpus if total > 0 else 0.0
