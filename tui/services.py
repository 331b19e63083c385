"""The TUI's one door to podbay.runtime: every call blocks, so screens make them in worker threads.

``RuntimeAPI`` is what the screens need; ``podbay.runtime.api.Runtime`` provides it, and tests
give an in-memory double with the same methods.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from podbay.runtime.api import ApiError, PodRow, Problem, WorkloadRow
from podbay.runtime.cgroups.podusage import PodUsage
from podbay.runtime.cgroups.stats import Usage, cpu_cores
from podbay.runtime.lifecycle.status import is_paused


class RuntimeAPI(Protocol):
    def pods(self) -> list[PodRow]: ...
    def pod(self, namespace: str, name: str) -> dict[str, Any]: ...
    def yaml(self, namespace: str, name: str) -> str: ...
    def describe(self, namespace: str, name: str) -> str: ...
    def events(self, namespace: str, name: str) -> list[Any]: ...
    def log_file(self, namespace: str, name: str, container: str, *, previous: bool = False) -> Path | None: ...
    def inspect(self, namespace: str, name: str) -> dict[str, Any]: ...
    def validate(self, text: str) -> list[Problem]: ...
    def create(self, text: str) -> tuple[str, str]: ...
    def delete(self, namespace: str, name: str, grace: int | None = None) -> None: ...
    def restart(self, namespace: str, name: str, container: str, grace: int | None = None) -> None: ...
    def pause(self, namespace: str, name: str, paused: bool = True) -> None: ...
    def usage(self, namespace: str, name: str) -> PodUsage: ...
    def host_limits(self) -> list[str]: ...
    def workloads(self) -> list[WorkloadRow]: ...
    def describe_workload(self, kind: str, namespace: str, name: str) -> str: ...
    def workload_yaml(self, kind: str, namespace: str, name: str) -> str: ...
    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> None: ...
    def rollout_restart(self, namespace: str, name: str) -> None: ...
    def delete_workload(self, kind: str, namespace: str, name: str, cascade: str = "background") -> None: ...


def label_filter(text: str) -> Callable[[dict[str, str]], bool] | None:
    """A label selector typed in the filter (``app=web``, ``tier!=db``, ``env in (a,b)``), or None when the
    text is a plain search; raises ValueError with the parser's words when it is a bad selector."""
    if not any(mark in text for mark in ("=", " in ", " notin ", "!")):
        return None
    from podbay.runtime.cli.table import parse_selector, selects  # noqa: PLC0415

    requirements = parse_selector(text)
    return lambda labels: selects(requirements, labels)


def age(created: float) -> str:
    import time  # noqa: PLC0415

    from podbay.runtime.cli.table import human_duration  # noqa: PLC0415

    return human_duration(time.time() - created)


def read_log_lines(path: Path, stop: threading.Event, *, follow: bool,
                   timestamps: Callable[[], bool]) -> Iterator[list[str]]:
    """Batches of a CRI log's lines (runtime/logs/tail.py: pieces joined, rotation followed), until
    ``stop``; with ``follow``, new ones as they are written."""
    from podbay.runtime.logs.tail import LogTail  # noqa: PLC0415

    tail = LogTail(path)
    while not stop.is_set():
        lines, grew = tail.read()
        if lines:
            yield [(f"{line.time} " if timestamps() else "") + line.text.decode(errors="replace") for line in lines]
        elif not follow:
            return
        elif not grew:
            stop.wait(0.1)


def capability_names(mask_hex: str) -> list[str]:
    from podbay.runtime.security.capabilities import capability_names as names  # noqa: PLC0415

    return names(mask_hex)


def parse_time(text: str) -> float:
    from podbay.runtime.lifecycle.status import parse_time as parse  # noqa: PLC0415

    return parse(text)


def container_names(pod: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """A pod's app, init and ephemeral containers' names (as the CLI lists them)."""
    from podbay.runtime.cli.records import container_names as names  # noqa: PLC0415

    return names(pod)


def sidecar_names(pod: dict[str, Any]) -> list[str]:
    from podbay.runtime.cli.records import sidecar_names as names  # noqa: PLC0415

    return names(pod)


def default_runtime() -> RuntimeAPI:
    from podbay.runtime.api import Runtime  # noqa: PLC0415

    return Runtime()


__all__ = [
    "ApiError",
    "PodRow",
    "PodUsage",
    "Problem",
    "RuntimeAPI",
    "Usage",
    "WorkloadRow",
    "age",
    "capability_names",
    "container_names",
    "cpu_cores",
    "default_runtime",
    "is_paused",
    "label_filter",
    "parse_time",
    "read_log_lines",
    "sidecar_names",
]
