"""A container's life on one axis: its events (created, started, probe failures, kills, back-off),
its terminations (reason, exit code, signal, OOM) and, while it waits to restart, the back-off
countdown. Pure: a pod as the API returns it, its events and the time now."""

from __future__ import annotations

import re
import time
from typing import Any

from podbay.tui.services import parse_time

BACKOFF = re.compile(r"back-off (\d+(?:\.\d+)?)s restarting failed container=(\S+)")
KINDS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")


def _clock(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(moment))


def _about(event: Any, container: str, only: bool) -> bool:
    """Whether an event is this container's: by its field path (spec.containers{NAME}); an event about
    the pod only when the pod has one container; one of an older store when its text names it."""
    path = getattr(event, "field_path", "")
    if path:
        return bool(event.container == container)
    if only:
        return True
    return re.search(rf"(?<![\w-]){re.escape(container)}(?![\w-])", event.message) is not None


def timeline(pod: dict[str, Any], events: list[Any], container: str, now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    statuses = {s["name"]: s for key in KINDS for s in pod.get("status", {}).get(key, [])}
    only = len(statuses) <= 1
    entries: list[tuple[float, str]] = []
    for event in events:
        if _about(event, container, only):
            count = f" (x{event.count}, first {_clock(event.first)})" if event.count > 1 else ""
            entries.append((event.last, f"{event.reason}: {event.message}{count}"))
    status = statuses.get(container, {})
    for key in ("lastState", "state"):
        ended = status.get(key, {}).get("terminated")
        if ended and ended.get("finishedAt"):
            signal = f", signal {ended['signal']}" if ended.get("signal") else ""
            oom = "  <- killed for memory (OOM)" if ended.get("reason") == "OOMKilled" else ""
            entries.append((parse_time(ended["finishedAt"]), f"Terminated: {ended.get('reason', '')}, exit "
                                                             f"{ended.get('exitCode')}{signal}{oom}"))
    lines = [f"{_clock(moment)}  {text}" for moment, text in sorted(entries, key=lambda entry: entry[0])]
    state = status.get("state", {})
    waiting = state.get("waiting", {})
    found = BACKOFF.search(waiting.get("message", ""))
    ended = status.get("lastState", {}).get("terminated", {})
    if waiting.get("reason") == "CrashLoopBackOff" and found and ended.get("finishedAt"):
        left = parse_time(ended["finishedAt"]) + float(found.group(1)) - now
        lines.append(f"   now    CrashLoopBackOff: restarts in {max(left, 0):.0f}s "
                     f"(back-off {float(found.group(1)):g}s)")
    elif "running" in state:
        started = state["running"].get("startedAt")
        lines.append("   now    running" + (f" since {_clock(parse_time(started))}" if started else "")
                     + f", {status.get('restartCount', 0)} restart(s)")
    elif waiting:
        lines.append(f"   now    waiting: {waiting.get('reason', '')}")
    return lines or ["(nothing yet)"]
