"""When a container that exited runs again: the restart policy and the kubelet's crash-loop backoff.

Backoff, per container of a pod: the first restart is immediate, the next waits ``base``
(10 s), then twice as long each time up to ``cap`` (300 s); a container that ran ``reset``
(10 minutes) before it exited starts the sequence again. Base and cap are settings, as the
kubelet's flags are, so tests can shorten them. The clock is a parameter: tests drive it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_BASE = 10.0
DEFAULT_CAP = 300.0
DEFAULT_RESET = 600.0


def restarts(policy: str, exit_code: int) -> bool:
    """Does a container that exited with this code run again under this restartPolicy?"""
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return exit_code != 0
    return False


def terminated_reason(exit_code: int, oom_killed: bool = False) -> str:
    """The Terminated state's reason, as the kubelet reports it."""
    if oom_killed:
        return "OOMKilled"
    return "Completed" if exit_code == 0 else "Error"


@dataclass
class _Entry:
    delay: float
    until: float


@dataclass
class CrashLoopBackoff:
    base: float = DEFAULT_BASE
    cap: float = DEFAULT_CAP
    reset: float = DEFAULT_RESET
    entries: dict[str, _Entry] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> CrashLoopBackoff:
        """``PODBAY_BACKOFF_BASE`` and ``PODBAY_BACKOFF_CAP`` (seconds) override the kubelet's 10 s and 300 s."""
        base = float(os.environ.get("PODBAY_BACKOFF_BASE", DEFAULT_BASE))
        cap = float(os.environ.get("PODBAY_BACKOFF_CAP", DEFAULT_CAP))
        if base <= 0 or cap < base:
            raise ValueError(f"crash-loop backoff: base {base:g} s and cap {cap:g} s need 0 < base <= cap")
        return cls(base, cap)

    def exited(self, key: str, now: float, ran_for: float) -> float:
        """The container ``key`` exited at ``now`` after running ``ran_for`` seconds: how long until it may
        start again (0: at once)."""
        entry = self.entries.get(key)
        if entry is None or ran_for >= self.reset:
            self.entries[key] = _Entry(0.0, now)
            return 0.0
        delay = self.base if entry.delay == 0 else min(entry.delay * 2, self.cap)
        self.entries[key] = _Entry(delay, now + delay)
        return delay

    def waiting(self, key: str, now: float) -> float:
        """Seconds left of the container's backoff (0 when it may start)."""
        entry = self.entries.get(key)
        return max(entry.until - now, 0.0) if entry else 0.0


def backoff_message(delay: float, container: str, pod: str, namespace: str, uid: str) -> str:
    """The kubelet's CrashLoopBackOff message."""
    return f"back-off {delay:g}s restarting failed container={container} pod={pod}_{namespace}({uid})"
