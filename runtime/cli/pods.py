"""``podbay get pods``, ``describe pod``, ``delete pod`` and ``logs``, as kubectl prints and behaves.

Reads come straight from the state store and the log files (the supervisor need not run);
deletions go through the supervisor, which owns the pods' processes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from podbay.runtime.cli.records import chosen_container, container_names, open_store
from podbay.runtime.cli.table import human_duration, parse_duration, parse_selector, selects, table
from podbay.runtime.lifecycle.status import parse_time, summary
from podbay.runtime.logs.tail import LogTail
from podbay.runtime.paths import Paths
from podbay.runtime.state.store import PodRecord, StateStore
from podbay.runtime.supervisor import protocol


def _err(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def pod_object(record: PodRecord) -> dict[str, Any]:
    """The whole Pod as the API would return it: the stored manifest, its timestamps and status."""
    pod: dict[str, Any] = json.loads(json.dumps(record.manifest))
    meta = pod.setdefault("metadata", {})
    meta["namespace"] = record.namespace
    meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
    if record.runtime.get("deleting"):
        meta["deletionTimestamp"] = record.runtime["deleting"]
    pod.setdefault("apiVersion", "v1")
    pod.setdefault("kind", "Pod")
    pod.setdefault("spec", {}).setdefault("nodeName", os.uname().nodename)
    pod["status"] = record.status
    return pod


def _select(store: StateStore, names: list[str], namespace: str | None, selector: str) -> list[PodRecord]:
    records = store.pods(namespace)
    if selector:
        requirements = parse_selector(selector)
        records = [r for r in records if selects(requirements, r.manifest.get("metadata", {}).get("labels", {}))]
    if names:
        records = [r for r in records if r.name in names]
    return records


# --- get -------------------------------------------------------------------------------------


def _row(record: PodRecord, wide: bool, all_namespaces: bool) -> list[str]:
    ready, reason, restarts, last = summary(record.manifest.get("spec", {}), record.status,
                                            bool(record.runtime.get("deleting")))
    restart_text = str(restarts)
    if restarts and last:
        restart_text += f" ({human_duration(time.time() - parse_time(last))} ago)"
    row = [record.namespace] if all_namespaces else []
    row += [record.name, ready, reason, restart_text, human_duration(time.time() - record.created)]
    if wide:
        row += [record.status.get("podIP") or "<none>", os.uname().nodename, "<none>", "<none>"]
    return row


def _header(wide: bool, all_namespaces: bool) -> list[str]:
    header = ["NAMESPACE"] if all_namespaces else []
    header += ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    return header + (["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] if wide else [])


def get_pods(paths: Paths, names: list[str], namespace: str, *, all_namespaces: bool, output: str | None,
             selector: str, watch: bool) -> int:
    store = open_store(paths)
    scope = None if all_namespaces else namespace
    try:
        records = _select(store, names, scope, selector)
    except ValueError as err:
        return _err(str(err))
    missing = [n for n in names if n not in {r.name for r in records}]
    for name in missing:
        print(f'Error from server (NotFound): pods "{name}" not found', file=sys.stderr)
    if output in ("yaml", "json"):
        print_objects([pod_object(r) for r in records], output, single=len(names) == 1)
    elif output == "name":
        for record in records:
            print(f"pod/{record.name}")
    elif records or not names:
        if not records and not missing:
            where = "" if all_namespaces else f" in {namespace} namespace"
            print(f"No resources found{where}.", file=sys.stderr)
        else:
            wide = output == "wide"
            print(table([_header(wide, all_namespaces)] + [_row(r, wide, all_namespaces) for r in records]))
    if watch:
        return _watch(store, names, scope, selector, wide=output == "wide", all_namespaces=all_namespaces,
                      shown=records)
    return 1 if missing else 0


def print_objects(objects: list[dict[str, Any]], output: str, single: bool) -> None:
    payload: Any = objects[0] if single and len(objects) == 1 else {"apiVersion": "v1", "kind": "List",
                                                                     "items": objects}
    if output == "json":
        print(json.dumps(payload, indent=4))
        return
    import yaml  # noqa: PLC0415 - only for -o yaml

    sys.stdout.write(yaml.safe_dump(payload, sort_keys=False, default_flow_style=False))


def _watch(store: StateStore, names: list[str], namespace: str | None, selector: str, *, wide: bool,
           all_namespaces: bool, shown: list[PodRecord]) -> int:
    """``-w``: a new line whenever a pod's READY, STATUS, RESTARTS or IP changes, as kubectl prints
    each change of the object."""
    def key(record: PodRecord) -> tuple[object, ...]:
        ready, reason, restarts, _ = summary(record.manifest.get("spec", {}), record.status,
                                             bool(record.runtime.get("deleting")))
        return ready, reason, restarts, record.status.get("podIP")

    last = {r.uid: key(r) for r in shown}
    while True:
        time.sleep(0.5)
        for record in _select(store, names, namespace, selector):
            if last.get(record.uid) != key(record):
                row = _row(record, wide, all_namespaces)
                print(table([_header(wide, all_namespaces), row]).splitlines()[1], flush=True)
                last[record.uid] = key(record)


# --- delete ----------------------------------------------------------------------------------


def delete_pods(paths: Paths, names: list[str], namespace: str | None, *, everything: bool, grace: int | None,
                now: bool, selector: str) -> int:
    """``namespace`` None: every namespace (``--all -A``)."""
    if now:
        grace = 1
    targets = [(namespace or "default", name) for name in names]
    if everything or selector:
        try:
            records = _select(open_store(paths), [], namespace, selector)
        except ValueError as err:
            return _err(str(err))
        targets = [(r.namespace, r.name) for r in records]
        if not targets:
            print(f"No resources found in {namespace or 'any'} namespace.", file=sys.stderr)
            return 0
    if not targets:
        return _err("resource(s) were provided, but no name was specified")
    code = 0
    for target_namespace, name in targets:
        try:
            protocol.call(paths, {"op": "delete", "namespace": target_namespace, "name": name, "grace": grace})
        except protocol.RequestError as err:
            code = 1
            print(f"Error from server ({err.code}): {err}", file=sys.stderr)
            continue
        except protocol.SupervisorError as err:
            return _err(str(err))
        print(f'pod "{name}" deleted')
    return code


def restart_container(paths: Paths, pod: str, namespace: str, container: str | None, grace: int | None) -> int:
    """``podbay restart POD [-c C]``: the container stopped (preStop, stop signal, grace) and started again."""
    record = open_store(paths).pod(namespace, pod)
    if record is None:
        return _err(f'pods "{pod}" not found')
    try:
        container = chosen_container(record.manifest, container)
        protocol.call(paths, {"op": "restart", "namespace": namespace, "name": pod, "container": container,
                              "grace": grace})
    except (ValueError, protocol.RequestError, protocol.SupervisorError) as err:
        return _err(str(err))
    print(f'container "{container}" of pod "{pod}" restarted')
    return 0


def pause_pod(paths: Paths, pod: str, namespace: str, paused: bool) -> int:
    """``podbay pause|unpause POD``: the pod's cgroup frozen or thawed (cgroup.freeze)."""
    if open_store(paths).pod(namespace, pod) is None:
        return _err(f'pods "{pod}" not found')
    try:
        protocol.call(paths, {"op": "pause", "namespace": namespace, "name": pod, "paused": paused})
    except (protocol.RequestError, protocol.SupervisorError) as err:
        return _err(str(err))
    print(f"pod/{pod} {'paused' if paused else 'unpaused'}")
    return 0


# --- logs ------------------------------------------------------------------------------------


def _status_of(record: PodRecord, name: str) -> dict[str, Any]:
    for entry in record.status.get("initContainerStatuses", []) + record.status.get("containerStatuses", []) + \
            record.status.get("ephemeralContainerStatuses", []):
        if entry.get("name") == name:
            return dict(entry)
    return {}


def run_log(paths: Paths, record: PodRecord, name: str, *, previous: bool = False) -> tuple[Path, int] | None:
    """The CRI file of a container's current run, or of its last terminated one with ``previous`` (None
    when there is none), and that run's number."""
    entry = _status_of(record, name)
    runs = int(entry.get("restartCount", 0))
    if previous:
        if "terminated" not in entry.get("lastState", {}) and "terminated" not in entry.get("state", {}):
            return None
        runs = runs - 1 if "terminated" in entry.get("lastState", {}) else runs
    return log_folder(paths, record) / name / f"{runs}.log", runs


def log_folder(paths: Paths, record: PodRecord) -> Path:
    return paths.data_dir / "logs" / f"{record.namespace}_{record.name}_{record.uid}"


def pod_of(paths: Paths, store: StateStore, target: str, namespace: str) -> str:
    """``pod/NAME`` or a workload's ``deploy/NAME``, ``job/NAME`` ...: the pod kubectl would choose (running
    and ready first, then the oldest); "Found N pods" said on stderr as kubectl says it. ValueError if none."""
    from podbay.runtime.cli.main import POD_KINDS  # noqa: PLC0415
    from podbay.runtime.cli.workloads import KINDS, group_of, pods_selector  # noqa: PLC0415
    from podbay.runtime.controllers.objects import existing_store  # noqa: PLC0415

    alias, _, name = target.partition("/")
    if alias in POD_KINDS:
        return name
    if alias not in KINDS or KINDS[alias][0] in ("ConfigMap", "Secret"):
        raise ValueError(f'cannot get logs of "{alias}": name a pod or a workload (deploy/NAME, job/NAME ...)')
    kind, plural, _ = KINDS[alias]
    objects = existing_store(paths.objects_db)
    obj = objects.get(kind, namespace, name) if objects is not None else None
    if obj is None:
        group = group_of(kind)
        raise ValueError(f'{plural}{"." + group if group else ""} "{name}" not found')
    selector = pods_selector(obj)
    pods = _select(store, [], namespace, selector) if selector else []
    if not pods:
        raise ValueError(f"{kind.lower()}/{name} has no pods")
    pods.sort(key=lambda r: (r.status.get("phase") != "Running", not any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in r.status.get("conditions") or []),
        r.created))
    if len(pods) > 1:
        print(f"Found {len(pods)} pods, using pod/{pods[0].name}", file=sys.stderr)
    return pods[0].name


def logs(paths: Paths, pod: str, namespace: str, container: str | None, *, follow: bool, previous: bool,
         tail: int, since: str | None, timestamps: bool, all_containers: bool, prefix: bool) -> int:
    from podbay.runtime.logs import cri  # noqa: PLC0415

    store = open_store(paths)
    if "/" in pod:  # kubectl's logs TYPE/NAME: a workload's first pod
        try:
            pod = pod_of(paths, store, pod, namespace)
        except ValueError as err:
            return _err(str(err), 1)
    record = store.pod(namespace, pod)
    if record is None:
        return _err(f'pods "{pod}" not found', 1)
    apps, inits, ephemeral = container_names(record.manifest)
    if all_containers:
        chosen = inits + apps + ephemeral
    else:
        try:
            chosen = [chosen_container(record.manifest, container)]
        except ValueError as err:
            return _err(str(err))
    try:
        cutoff = time.time() - parse_duration(since) if since else None
    except ValueError as err:
        return _err(f"--since: {err}")
    for name in chosen:
        entry = _status_of(record, name)
        found = run_log(paths, record, name, previous=previous)
        if found is None:
            return _err(f'previous terminated container "{name}" in pod "{pod}" not found', 1)
        path, runs = found
        if not cri.files_of(path):
            if not entry.get("state") or ("waiting" in entry.get("state", {}) and not previous):
                reason = entry.get("state", {}).get("waiting", {}).get("reason", "ContainerCreating")
                return _err(f'container "{name}" in pod "{pod}" is waiting to start: {reason}', 1)
            continue
        lines = [line for line in cri.read_lines(path) if cutoff is None or _after(line.time, cutoff)]
        if tail >= 0:
            lines = lines[-tail:] if tail else []
        label = f"[pod/{pod}/{name}] " if prefix else ""
        for line in lines:
            _write(line, timestamps, label)
        if follow and not previous:
            follower = LogTail(path, label, timestamps=timestamps)
            follower.skip_existing()
            _follow(store, record, name, follower, runs)
    return 0


def _after(stamp: str, cutoff: float) -> bool:
    try:
        return parse_time(stamp[:19] + "Z") >= int(cutoff)
    except ValueError:
        return True


def _write(line: Any, timestamps: bool, label: str) -> None:
    out = sys.stdout.buffer
    out.write(label.encode() + ((line.time + " ").encode() if timestamps else b"") + line.text + b"\n")
    out.flush()


def _follow(store: StateStore, record: PodRecord, name: str, tail: LogTail, runs: int) -> None:
    """New lines of this run's file as they come, until the run has ended."""
    while True:
        ended = _run_ended(store, record, name, runs)
        if not tail.pump(sys.stdout.buffer) and ended:
            return
        time.sleep(0.1)


def _run_ended(store: StateStore, record: PodRecord, name: str, runs: int) -> bool:
    current = store.pod(record.namespace, record.name)
    if current is None or current.uid != record.uid:
        return True
    entry = _status_of(current, name)
    return entry.get("restartCount", 0) != runs or "running" not in entry.get("state", {})


def follow_pod(paths: Paths, namespace: str, name: str) -> Iterator[PodRecord]:
    """The pod's record every so often until it is gone (for ``run --attach`` and ``--wait``)."""
    store = open_store(paths)
    while (record := store.pod(namespace, name)) is not None:
        yield record
        time.sleep(0.1)
