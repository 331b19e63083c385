"""podbay's Python API: what the TUI (and any other client) calls; the CLI's commands print the same.

Reads come from the state store and the log files; changes go through the supervisor. Every
method is blocking and may take milliseconds to seconds: a UI calls them in worker threads.
Errors are :class:`ApiError` with a sentence for the user, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podbay.runtime.cgroups.podusage import PodUsage, binary_size, millicores, pod_usage
from podbay.runtime.cgroups.stats import Usage, cpu_cores, read_brief
from podbay.runtime.cli.records import open_store
from podbay.runtime.hostcheck import run_checks
from podbay.runtime.lifecycle.status import summary
from podbay.runtime.paths import Paths, default_paths
from podbay.runtime.state.store import PodRecord, StateError, StateStore
from podbay.runtime.supervisor import protocol

if TYPE_CHECKING:
    from podbay.runtime.controllers.objects import ObjectStore


class ApiError(Exception):
    """A refused or failed request, worded for the user."""


@dataclass(frozen=True)
class PodRow:
    """One line of the pods table, as ``podbay get pods -o wide`` computes it."""

    namespace: str
    name: str
    uid: str
    ready: str
    status: str
    restarts: int
    created: float
    ip: str
    qos: str
    labels: dict[str, str] = field(default_factory=dict)
    cpu: str = "-"  # millicores since the previous pods() call, where the pod has a cgroup
    memory: str = "-"  # working set


@dataclass(frozen=True)
class WorkloadRow:
    """One line of the workloads table: the same counts for every kind (a Job's READY is its completions)."""

    kind: str
    namespace: str
    name: str
    uid: str
    ready: str
    up_to_date: str
    available: str
    status: str
    created: float
    pods: str  # a label selector for the workload's pods


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


@dataclass(frozen=True)
class Problem:
    """A validation error or warning of an edited manifest: its line (1-based, 0 if unknown)."""

    line: int
    text: str
    error: bool = True


@dataclass
class Runtime:
    paths: Paths = field(default_factory=default_paths)
    _store: StateStore | None = None
    _samples: dict[str, Usage] = field(default_factory=dict)  # each pod's last usage, for CPU rates
    _object_store: ObjectStore | None = None  # opened on first use

    @property
    def store(self) -> StateStore:
        if self._store is None:
            self._store = open_store(self.paths)
        return self._store

    # --- reads -------------------------------------------------------------------------------

    def pods(self) -> list[PodRow]:
        try:
            records = self.store.pods()
        except StateError as err:
            raise ApiError(f"the state store cannot be read: {err}") from err
        rows = [self._row(record) for record in records]
        self._samples = {uid: sample for uid, sample in self._samples.items() if uid in {r.uid for r in rows}}
        return rows

    def _row(self, record: PodRecord) -> PodRow:
        ready, reason, restarts, _ = summary(record.manifest.get("spec", {}), record.status,
                                             bool(record.runtime.get("deleting")))
        cpu = memory = "-"
        group = record.runtime.get("cgroup")
        usage = read_brief(Path(group)) if group else None
        if usage is not None:
            before = self._samples.get(record.uid)
            cpu = millicores(cpu_cores(before, usage)) if before is not None else "0m"
            memory = binary_size(usage.working_set)
            self._samples[record.uid] = usage
        return PodRow(record.namespace, record.name, record.uid, ready, reason, restarts, record.created,
                      record.status.get("podIP", ""), record.status.get("qosClass", ""),
                      dict(record.manifest.get("metadata", {}).get("labels", {})), cpu, memory)

    def workloads(self) -> list[WorkloadRow]:
        """Every Deployment, StatefulSet, DaemonSet, ReplicaSet and Job, as ``podbay get`` counts them."""
        from podbay.runtime.cli.workloads import pods_selector  # noqa: PLC0415
        from podbay.runtime.lifecycle.status import parse_time  # noqa: PLC0415

        objects = self._objects()
        rows = []
        for obj in objects.select() if objects is not None else []:
            if obj["kind"] not in WORKLOAD_KINDS:
                continue
            meta = obj["metadata"]
            try:
                created = parse_time(meta.get("creationTimestamp", ""))
            except ValueError:
                created = 0.0
            rows.append(WorkloadRow(obj["kind"], meta["namespace"], meta["name"], meta["uid"],
                                    *workload_counts(obj), created, pods_selector(obj)))
        return rows

    def workload(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        objects = self._objects()
        obj = objects.get(kind, namespace, name) if objects is not None else None
        if obj is None:
            raise ApiError(f'{kind} "{name}" not found in namespace "{namespace}"')
        return obj

    def describe_workload(self, kind: str, namespace: str, name: str) -> str:
        from podbay.runtime.cli.workloads import describe_text  # noqa: PLC0415

        obj = self.workload(kind, namespace, name)
        return describe_text(obj, self.store.events(obj["metadata"]["uid"]))

    def workload_yaml(self, kind: str, namespace: str, name: str) -> str:
        import yaml  # noqa: PLC0415

        return str(yaml.safe_dump(self.workload(kind, namespace, name), sort_keys=False, default_flow_style=False))

    def _objects(self) -> ObjectStore | None:
        """The applied objects' store; None before the first apply (reading does not create it)."""
        from podbay.runtime.controllers.objects import existing_store  # noqa: PLC0415

        if self._object_store is None:
            self._object_store = existing_store(self.paths.objects_db)
        return self._object_store

    def usage(self, namespace: str, name: str) -> PodUsage:
        """The pod's and each running container's cgroup figures now (CPU as a counter: compare two)."""
        record = self.record(namespace, name)
        return pod_usage(record.namespace, record.name, record.runtime)

    def record(self, namespace: str, name: str) -> PodRecord:
        record = self.store.pod(namespace, name)
        if record is None:
            raise ApiError(f'pod "{name}" not found in namespace "{namespace}"')
        return record

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        """The Pod as ``get -o json`` prints it."""
        from podbay.runtime.cli.pods import pod_object  # noqa: PLC0415

        return pod_object(self.record(namespace, name))

    def yaml(self, namespace: str, name: str) -> str:
        import yaml  # noqa: PLC0415

        return str(yaml.safe_dump(self.pod(namespace, name), sort_keys=False, default_flow_style=False))

    def describe(self, namespace: str, name: str) -> str:
        from podbay.runtime.cli.describe import describe  # noqa: PLC0415

        record = self.record(namespace, name)
        return describe(record, self.store.events(record.uid))

    def events(self, namespace: str, name: str) -> list[Any]:
        return list(self.store.events(self.record(namespace, name).uid))

    def inspect(self, namespace: str, name: str) -> dict[str, Any]:
        """What the kernel did, per container (``podbay inspect pod``)."""
        from podbay.runtime.cli.describe import inspect_data  # noqa: PLC0415

        return inspect_data(self.record(namespace, name))

    def log_file(self, namespace: str, name: str, container: str, *, previous: bool = False) -> Path | None:
        """The CRI log file of a container's current (or previous) run, if there is one."""
        from podbay.runtime.cli.pods import run_log  # noqa: PLC0415

        found = run_log(self.paths, self.record(namespace, name), container, previous=previous)
        return found[0] if found is not None and found[0].exists() else None

    # --- changes -----------------------------------------------------------------------------

    def validate(self, text: str) -> list[Problem]:
        """Every error and warning of a manifest being edited, with its line."""
        from podbay.runtime.spec.loader import load_text  # noqa: PLC0415

        problems: list[Problem] = []
        for document in load_text(text, "<editor>"):
            problems += [Problem(document.line_of(error.path), str(error)) for error in document.errors]
            problems += [Problem(document.line_of(warning.path), str(warning), error=False)
                         for warning in document.warnings]
        return problems

    def create(self, text: str) -> tuple[str, str]:
        """Create the Pod in ``text`` (with the ConfigMaps and Secrets beside it): (namespace, name)."""
        from podbay.runtime.cli.run import choose_pod  # noqa: PLC0415
        from podbay.runtime.spec.loader import load_text  # noqa: PLC0415
        from podbay.runtime.spec.pod import meta_of  # noqa: PLC0415
        from podbay.runtime.spec.schema import encode  # noqa: PLC0415

        chosen = choose_pod(load_text(text, "<editor>"), "<editor>")
        if isinstance(chosen, str):
            raise ApiError(chosen)
        pod, others = chosen
        self._call({"op": "run", "objects": [encode(pod)] + [encode(o) for o in others]})
        meta = meta_of(pod)
        return meta.namespace or "default", meta.name

    def delete(self, namespace: str, name: str, grace: int | None = None) -> None:
        self._call({"op": "delete", "namespace": namespace, "name": name, "grace": grace})

    def pause(self, namespace: str, name: str, paused: bool = True) -> None:
        """Freeze (or thaw) every process of the pod (podbay pause|unpause)."""
        self._call({"op": "pause", "namespace": namespace, "name": name, "paused": paused})

    def restart(self, namespace: str, name: str, container: str, grace: int | None = None) -> None:
        """Stop the container and start it again at once (podbay restart)."""
        self._call({"op": "restart", "namespace": namespace, "name": name, "container": container, "grace": grace})

    def delete_workload(self, kind: str, namespace: str, name: str, cascade: str = "background") -> None:
        """Delete a workload; ``background`` garbage-collects its ReplicaSets and pods, ``orphan`` keeps them."""
        self._call({"op": "delete-object", "kind": kind, "namespace": namespace, "name": name, "cascade": cascade})

    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> None:
        self._call({"op": "scale", "kind": kind, "namespace": namespace, "name": name, "replicas": replicas})

    def rollout_restart(self, namespace: str, name: str) -> None:
        """Replace a Deployment's pods by a rollout (kubectl rollout restart)."""
        from podbay.runtime.lifecycle.status import now_text  # noqa: PLC0415

        self._call({"op": "rollout-restart", "namespace": namespace, "name": name, "now": now_text()})

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return protocol.call(self.paths, request)
        except (protocol.RequestError, protocol.SupervisorError) as err:
            raise ApiError(str(err)) from err

    # --- the host ----------------------------------------------------------------------------

    @staticmethod
    def host_limits() -> list[str]:
        """What this host cannot do, in words (shown by UIs instead of failing later)."""
        return [f"{check.name}: {check.detail}" for check in run_checks() if check.level != "ok"]


def workload_counts(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    """READY, UP-TO-DATE, AVAILABLE and a one-word STATUS, alike for every workload kind."""
    from podbay.runtime.cli.workloads import job_state  # noqa: PLC0415

    kind, spec, status = obj["kind"], obj.get("spec") or {}, obj.get("status") or {}
    if kind == "Job":
        return f"{status.get('succeeded', 0)}/{spec.get('completions') or 1}", "-", "-", job_state(status)
    if kind == "DaemonSet":
        wanted, ready = status.get("desiredNumberScheduled", 1), status.get("numberReady", 0)
        updated, available = status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0)
    else:
        wanted, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
        updated = status.get("updatedReplicas", status.get("replicas", 0))
        available = status.get("availableReplicas", 0)
    stuck = next((c.get("reason", "") for c in status.get("conditions") or []
                  if c.get("type") == "Progressing" and c.get("status") == "False"), "")
    state = stuck or ("Ready" if ready == updated == available == wanted else "Progressing")
    return f"{ready}/{wanted}", "-" if kind == "ReplicaSet" else str(updated), str(available), state
