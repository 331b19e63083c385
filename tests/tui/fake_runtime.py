"""An in-memory runtime for the TUI's own logic (the real one is podbay.runtime.api.Runtime)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from podbay.runtime.api import ApiError, PodRow, Problem, Runtime, WorkloadRow
from podbay.runtime.cgroups.podusage import PodUsage
from podbay.runtime.cgroups.stats import Usage
from podbay.runtime.state.store import Event


def row(name: str, status: str = "Running", namespace: str = "default", **fields: Any) -> PodRow:
    base = PodRow(namespace, name, f"uid-{namespace}-{name}", "1/1", status, 0, time.time() - 60, "10.88.0.2",
                  "BestEffort", {})
    return replace(base, **fields)


def workload(kind: str, name: str, ready: str = "2/2", status: str = "Ready", **fields: Any) -> WorkloadRow:
    base = WorkloadRow(kind, "default", name, f"uid-{kind}-{name}", ready, "2", "2", status, time.time() - 120,
                       f"app={name}")
    return replace(base, **fields)


@dataclass
class FakeRuntime:
    rows: list[PodRow] = field(default_factory=list)
    logs: dict[str, Path] = field(default_factory=dict)
    deleted: list[tuple[str, str, int | None]] = field(default_factory=list)
    failing: str = ""  # when set, pods() raises ApiError with it
    created: list[str] = field(default_factory=list)
    restarted: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    pod_events: list[Event] = field(default_factory=list)  # what events() returns for every pod
    cgroups: bool = True  # False: usage() has no figures, as on a host without cgroup v2
    paused: list[tuple[str, str, bool]] = field(default_factory=list)
    samples: int = 0
    workload_rows: list[WorkloadRow] = field(default_factory=list)
    workload_calls: list[tuple[Any, ...]] = field(default_factory=list)  # scale, restart and delete, in order

    def pods(self) -> list[PodRow]:
        if self.failing:
            raise ApiError(self.failing)
        return list(self.rows)

    def _find(self, namespace: str, name: str) -> PodRow:
        for candidate in self.rows:
            if (candidate.namespace, candidate.name) == (namespace, name):
                return candidate
        raise ApiError(f'pod "{name}" not found in namespace "{namespace}"')

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        found = self._find(namespace, name)
        return {"metadata": {"name": name, "namespace": namespace}, "spec": {
            "initContainers": [{"name": "setup", "image": "busybox"},
                               {"name": "proxy", "image": "busybox", "restartPolicy": "Always"}],
            "containers": [{"name": "main", "image": "busybox"}],
            "ephemeralContainers": [{"name": "debugger-abcde", "image": "tools"}]},
            "status": {"phase": found.status, "conditions": [{"type": "Ready", "status": "True"}] + (
                [{"type": "podbay.io/Paused", "status": "True"}] if self.paused and self.paused[-1][2] else []),
                       "containerStatuses": [{"name": "main", "restartCount": 2, "ready": True,
                                              "state": {"running": {"startedAt": "2026-11-25T10:00:00Z"}},
                                              "lastState": {"terminated": {
                                                  "reason": "OOMKilled", "exitCode": 137, "signal": 9,
                                                  "finishedAt": "2026-11-25T09:59:58Z"}}}]}}

    def yaml(self, namespace: str, name: str) -> str:
        self._find(namespace, name)
        return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"

    def describe(self, namespace: str, name: str) -> str:
        self._find(namespace, name)
        return f"Name:         {name}\nNamespace:    {namespace}\n"

    def events(self, namespace: str, name: str) -> list[Any]:
        self._find(namespace, name)
        return list(self.pod_events)

    def log_file(self, namespace: str, name: str, container: str, *, previous: bool = False) -> Path | None:
        return self.logs.get(container)

    def validate(self, text: str) -> list[Problem]:
        return Runtime().validate(text)  # pure: the loader and the API server's validation, no store

    def create(self, text: str) -> tuple[str, str]:
        if any(problem.error for problem in self.validate(text)):
            raise ApiError("the pod is invalid")
        name = yaml.safe_load(text)["metadata"]["name"]
        self.created.append(text)
        self.rows.append(row(name, "Pending"))
        return "default", name

    def delete(self, namespace: str, name: str, grace: int | None = None) -> None:
        self._find(namespace, name)
        self.deleted.append((namespace, name, grace))
        self.rows = [r for r in self.rows if (r.namespace, r.name) != (namespace, name)]

    def restart(self, namespace: str, name: str, container: str, grace: int | None = None) -> None:
        self._find(namespace, name)
        self.restarted.append((namespace, name, container, grace))

    def pause(self, namespace: str, name: str, paused: bool = True) -> None:
        self._find(namespace, name)
        self.paused.append((namespace, name, paused))

    def inspect(self, namespace: str, name: str) -> dict[str, Any]:
        self._find(namespace, name)
        return {"namespace": namespace, "name": name, "phase": "Running", "containers": {}}

    def usage(self, namespace: str, name: str) -> PodUsage:
        """A pod using a quarter of a core and growing by a MiB a sample."""
        self._find(namespace, name)
        if not self.cgroups:
            return PodUsage(namespace, name, None, {})
        self.samples += 1
        n = self.samples
        pod = Usage(at=n * 1.0, cpu_usec=n * 250_000, nr_periods=n * 10, nr_throttled=n * 5, memory=n << 20,
                    working_set=n << 20, memory_peak=(n + 1) << 20, memory_max=64 << 20, pids=3, pids_max=100,
                    pressure={"cpu": 1.5, "memory": 0.0, "io": 0.25})
        return PodUsage(namespace, name, pod, {"main": pod})

    def host_limits(self) -> list[str]:
        return ["no cgroup v2 hierarchy: CPU and memory figures and resource limits are unavailable"]

    def workloads(self) -> list[WorkloadRow]:
        return list(self.workload_rows)

    def _workload(self, kind: str, namespace: str, name: str) -> WorkloadRow:
        for candidate in self.workload_rows:
            if (candidate.kind, candidate.namespace, candidate.name) == (kind, namespace, name):
                return candidate
        raise ApiError(f'{kind} "{name}" not found in namespace "{namespace}"')

    def describe_workload(self, kind: str, namespace: str, name: str) -> str:
        self._workload(kind, namespace, name)
        return f"Name:               {name}\nNamespace:          {namespace}\nSelector:           app={name}\n"

    def workload_yaml(self, kind: str, namespace: str, name: str) -> str:
        self._workload(kind, namespace, name)
        return f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n"

    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> None:
        self._workload(kind, namespace, name)
        self.workload_calls.append(("scale", kind, name, replicas))

    def rollout_restart(self, namespace: str, name: str) -> None:
        self._workload("Deployment", namespace, name)
        self.workload_calls.append(("restart", name))

    def delete_workload(self, kind: str, namespace: str, name: str, cascade: str = "background") -> None:
        self._workload(kind, namespace, name)
        self.workload_calls.append(("delete", kind, name, cascade))
        self.workload_rows = [w for w in self.workload_rows if (w.kind, w.name) != (kind, name)]
