"""One thread per probe of a running container, as the kubelet's probe workers.

It waits ``initialDelaySeconds``, then probes every ``periodSeconds`` with ``timeoutSeconds``;
``failureThreshold`` failures in a row make the result Failure, ``successThreshold`` successes
in a row make it Success, and each change of result is posted to the pod worker. Liveness and
readiness wait while a startup probe has not passed; a startup probe stops once it has.
Every failed attempt is an ``Unhealthy`` event (the store counts repeats, as the kubelet's
recorder does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from podbay.runtime.lifecycle import handlers
from podbay.runtime.spec.pod import Probe

PROBE_NAMES = {"startup": "Startup", "liveness": "Liveness", "readiness": "Readiness"}

Post = Callable[[str, bool, str], None]  # (kind, ok, message)
Event = Callable[[str, str, str], None]  # (type, reason, message)


class ProbeWorker(threading.Thread):
    def __init__(self, kind: str, probe: Probe, target: handlers.Target, *, post: Post, event: Event,
                 started: Callable[[], bool]) -> None:
        super().__init__(name=f"{kind} probe of {target.name}", daemon=True)
        self.kind, self.probe, self.target = kind, probe, target
        self.post, self.event, self.started = post, event, started
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        probe = self.probe
        period = max(probe.period_seconds or 10, 1)
        timeout = max(probe.timeout_seconds or 1, 1)
        result: bool | None = None
        successes = failures = 0
        if self.stopped.wait(probe.initial_delay_seconds or 0):
            return
        while not self.stopped.is_set():
            if self.kind != "startup" and not self.started():
                self.stopped.wait(period)
                continue
            outcome = handlers.run(probe, self.target, timeout)
            if self.stopped.is_set():
                return  # the container stopped meanwhile: this attempt says nothing
            if outcome.ok:
                successes, failures = successes + 1, 0
            else:
                successes, failures = 0, failures + 1
                self.event("Warning", "Unhealthy", f"{PROBE_NAMES[self.kind]} probe failed: {outcome.message}".strip())
            if failures >= max(probe.failure_threshold or 3, 1) and result is not False:
                result = False
                self.post(self.kind, False, outcome.message)
                if self.kind != "readiness":
                    return  # the container is killed: a new run gets new workers
            elif successes >= max(probe.success_threshold or 1, 1) and result is not True:
                result = True
                self.post(self.kind, True, outcome.message)
                if self.kind == "startup":
                    return
            self.stopped.wait(period)
