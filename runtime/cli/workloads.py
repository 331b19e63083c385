"""``podbay apply -f``, and ``get``, ``delete`` and ``scale`` of the workload kinds, as kubectl prints them."""

from __future__ import annotations

import calendar
import json
import sys
import time
from typing import Any

from podbay.runtime.cli.table import human_duration, table
from podbay.runtime.paths import Paths

# kubectl's names and short names -> (kind, plural, API group for "kind.group/name" output)
KINDS: dict[str, tuple[str, str, str]] = {}
for _kind, _plural, _group, _aliases in (
        ("Deployment", "deployments", "apps", ("deploy", "deployment")),
        ("ReplicaSet", "replicasets", "apps", ("rs", "replicaset")),
        ("Job", "jobs", "batch", ("job",)),
        ("StatefulSet", "statefulsets", "apps", ("sts", "statefulset")),
        ("DaemonSet", "daemonsets", "apps", ("ds", "daemonset")),
        ("ConfigMap", "configmaps", "", ("cm", "configmap")),
        ("Secret", "secrets", "", ("secret",))):
    for _alias in (_plural, f"{_plural}.{_group}" if _group else _plural, *_aliases):
        KINDS[_alias] = (_kind, _plural, _group)


def group_of(kind: str) -> str:
    """The API group of a kind podbay knows ("apps" for Deployment, "" for the core kinds)."""
    return next((group for known, _, group in KINDS.values() if known == kind), "")


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def split_kind(text: str, names: list[str]) -> tuple[str, list[str]]:
    """``deploy/web`` or ``deploy web`` -> ("deploy", ["web"])."""
    kind, _, name = text.partition("/")
    return kind, ([name] if name else []) + names


def _store(paths: Paths) -> Any:
    from podbay.runtime.controllers.manager import WORKLOADS  # noqa: PLC0415
    from podbay.runtime.controllers.objects import ObjectStore  # noqa: PLC0415
    from podbay.runtime.supervisor import protocol  # noqa: PLC0415

    store = ObjectStore(paths.objects_db)
    # Workloads with no supervisor (after a reboot, or it was killed): one is started, so that the
    # controllers bring their pods back and what is shown is current.
    if any(store.select(kind) for kind in WORKLOADS) and not protocol.running(paths):
        try:
            protocol.call(paths, {"op": "ping"})
        except (protocol.SupervisorError, protocol.RequestError) as err:
            print(f"Warning: {err}", file=sys.stderr)
    return store


# --- apply ----------------------------------------------------------------------------------------------


def apply_command(paths: Paths, files: list[str], namespace: str | None) -> int:
    from podbay.runtime.spec.loader import load_paths  # noqa: PLC0415
    from podbay.runtime.spec.schema import encode  # noqa: PLC0415
    from podbay.runtime.supervisor import protocol  # noqa: PLC0415

    result = load_paths(files)
    problems = [f"{doc.source}: {error}" for doc in result.documents for error in doc.errors]
    for document in result.documents:
        for warning in document.warnings:
            print(f"Warning: {document.source}: {warning}", file=sys.stderr)
    if problems:
        return _err("nothing was applied; the objects are invalid:\n  " + "\n  ".join(problems))
    objects = [encode(doc.obj) for doc in result.documents if doc.obj is not None]
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if namespace and meta.get("namespace", namespace) != namespace:
            return _err(f"{obj['kind']} {meta.get('name')}: its namespace {meta['namespace']} is not the one "
                        f"given with -n ({namespace})")
        meta["namespace"] = meta.get("namespace") or namespace or "default"
    if not objects:
        return _err(f"no objects in {', '.join(files)}")
    try:
        answer = protocol.call(paths, {"op": "apply", "objects": objects})
    except (protocol.RequestError, protocol.SupervisorError) as err:
        return _err(str(err))
    for outcome in answer["results"]:
        kind = outcome["kind"]
        group = group_of(kind)
        print(f"{kind.lower()}{'.' + group if group else ''}/{outcome['name']} {outcome['result']}")
    return 0


# --- get ------------------------------------------------------------------------------------------------


def _seconds(stamp: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))
    except (ValueError, TypeError):
        return None


def _age(obj: dict[str, Any]) -> str:
    created = _seconds((obj.get("metadata") or {}).get("creationTimestamp", ""))
    return "<unknown>" if created is None else human_duration(time.time() - created)


def _duration(status: dict[str, Any]) -> str:
    """A Job's: start to completion, or to now while it runs."""
    start = _seconds(status.get("startTime", ""))
    end = _seconds(status.get("completionTime", "")) or time.time()
    return "" if start is None else human_duration(end - start)


def job_state(status: dict[str, Any]) -> str:
    """kubectl's STATUS of a Job."""
    conditions = {c["type"] for c in status.get("conditions") or [] if c.get("status") == "True"}
    for state in ("Complete", "Failed", "Suspended"):
        if state in conditions:
            return state
    return "Running"


def _row(kind: str, obj: dict[str, Any]) -> list[str]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    name = obj["metadata"]["name"]
    replicas = spec.get("replicas", 1)
    if kind == "Deployment":
        return [name, f"{status.get('readyReplicas', 0)}/{replicas}", str(status.get("updatedReplicas", 0)),
                str(status.get("availableReplicas", 0)), _age(obj)]
    if kind == "ReplicaSet":
        return [name, str(replicas), str(status.get("replicas", 0)), str(status.get("readyReplicas", 0)), _age(obj)]
    if kind == "Job":
        completions = spec.get("completions") or 1
        return [name, job_state(status), f"{status.get('succeeded', 0)}/{completions}", _duration(status), _age(obj)]
    if kind == "StatefulSet":
        return [name, f"{status.get('readyReplicas', 0)}/{replicas}", _age(obj)]
    if kind == "DaemonSet":
        return [name] + [str(status.get(key, 0)) for key in (
            "desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled",
            "numberAvailable")] + ["<none>", _age(obj)]
    if kind == "ConfigMap":
        return [name, str(len(obj.get("data") or {}) + len(obj.get("binaryData") or {})), _age(obj)]
    if kind == "Secret":
        return [name, str(obj.get("type") or "Opaque"),
                str(len(obj.get("data") or {}) + len(obj.get("stringData") or {})), _age(obj)]
    return [name, _age(obj)]


HEADERS = {"Deployment": ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
           "Job": ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], "StatefulSet": ["NAME", "READY", "AGE"],
           "DaemonSet": ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
           "ReplicaSet": ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
           "ConfigMap": ["NAME", "DATA", "AGE"], "Secret": ["NAME", "TYPE", "DATA", "AGE"]}


def get_objects(paths: Paths, alias: str, names: list[str], namespace: str, *, all_namespaces: bool,
                output: str | None) -> int:
    kind, plural, group = KINDS[alias]
    store = _store(paths)
    found = [o for o in store.select(kind, None if all_namespaces else namespace)
             if not names or o["metadata"]["name"] in names]
    missing = [n for n in names if n not in {o["metadata"]["name"] for o in found}]
    for name in missing:
        print(f'Error from server (NotFound): {plural}{"." + group if group else ""} "{name}" not found',
              file=sys.stderr)
    if output in ("yaml", "json"):
        payload: Any = found[0] if len(names) == 1 and len(found) == 1 else {"apiVersion": "v1", "kind": "List",
                                                                            "items": found}
        if output == "json":
            print(json.dumps(payload, indent=4))
        else:
            import yaml  # noqa: PLC0415

            print(yaml.safe_dump(payload, sort_keys=False), end="")
    elif output == "name":
        for obj in found:
            print(f"{kind.lower()}{'.' + group if group else ''}/{obj['metadata']['name']}")
    elif found:
        header = (["NAMESPACE"] if all_namespaces else []) + HEADERS.get(kind, ["NAME", "AGE"])
        rows = [([o["metadata"]["namespace"]] if all_namespaces else []) + _row(kind, o) for o in found]
        print(table([header] + rows))
    elif not missing:
        print(f"No resources found{'' if all_namespaces else f' in {namespace} namespace'}.", file=sys.stderr)
    return 1 if missing else 0


# --- delete and scale -----------------------------------------------------------------------------------


def delete_objects(paths: Paths, alias: str, names: list[str], namespace: str | None, cascade: str, *,
                   everything: bool = False) -> int:
    """``namespace`` None: every namespace (with ``everything``)."""
    from podbay.runtime.supervisor import protocol  # noqa: PLC0415

    kind, _, group = KINDS[alias]
    targets = [(namespace or "default", name) for name in names]
    if everything:
        targets = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in _store(paths).select(kind, namespace)]
    elif not names:
        return _err(f"delete {alias}: name at least one, or --all")
    failed = 0
    for where, name in targets:
        try:
            protocol.call(paths, {"op": "delete-object", "kind": kind, "namespace": where, "name": name,
                                  "cascade": cascade})
        except (protocol.RequestError, protocol.SupervisorError) as err:
            print(f"Error from server (NotFound): {err}" if getattr(err, "code", "") == "NotFound" else
                  f"error: {err}", file=sys.stderr)
            failed = 1
            continue
        print(f'{kind.lower()}{"." + group if group else ""} "{name}" deleted'
              + (" (its dependents orphaned)" if cascade == "orphan" else ""))
    return failed


def scale_command(paths: Paths, alias: str, names: list[str], namespace: str, replicas: int) -> int:
    from podbay.runtime.supervisor import protocol  # noqa: PLC0415

    if alias not in KINDS:
        return _err(f'the server doesn\'t have a resource type "{alias}"')
    kind, _, group = KINDS[alias]
    for name in names or [""]:
        if not name:
            return _err("scale: name the object (deploy/NAME)")
        try:
            protocol.call(paths, {"op": "scale", "kind": kind, "namespace": namespace, "name": name,
                                  "replicas": replicas})
        except (protocol.RequestError, protocol.SupervisorError) as err:
            return _err(str(err))
        print(f"{kind.lower()}{'.' + group if group else ''}/{name} scaled")
    return 0


# --- rollout --------------------------------------------------------------------------------------------


def rollout_message(obj: dict[str, Any]) -> tuple[bool, str]:
    """kubectl rollout status's words for a Deployment: (done, message); an error raises ValueError."""
    name, spec, status = obj["metadata"]["name"], obj.get("spec") or {}, obj.get("status") or {}
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 1):
        return False, "Waiting for deployment spec update to be observed..."
    progressing: dict[str, Any] = next((c for c in status.get("conditions") or [] if c["type"] == "Progressing"), {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        raise ValueError(f'deployment "{name}" exceeded its progress deadline')
    replicas, updated = spec.get("replicas", 1), status.get("updatedReplicas", 0)
    total, available = status.get("replicas", 0), status.get("availableReplicas", 0)
    if updated < replicas:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} new replicas '
                       "have been updated...")
    if total > updated:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {total - updated} old replicas are '
                       "pending termination...")
    if available < updated:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated '
                       "replicas are available...")
    return True, f'deployment "{name}" successfully rolled out'


def rollout_command(paths: Paths, action: str, alias: str, names: list[str], namespace: str, *,
                    revision: int = 0, timeout: float = 0) -> int:
    from podbay.runtime.supervisor import protocol  # noqa: PLC0415

    if KINDS.get(alias, ("",))[0] != "Deployment" or len(names) != 1:
        return _err("rollout works on one Deployment: podbay rollout ACTION deploy/NAME")
    name = names[0]
    store = _store(paths)
    if store.get("Deployment", namespace, name) is None:
        print(f'Error from server (NotFound): deployments.apps "{name}" not found', file=sys.stderr)
        return 1
    try:
        if action == "undo":
            answer = protocol.call(paths, {"op": "rollout-undo", "namespace": namespace, "name": name,
                                           "revision": revision})
            print(f"deployment.apps/{name} " + (f"skipped rollback (current template already matches revision "
                                                f"{answer['revision']})" if answer["skipped"] else "rolled back"))
            return 0
        if action == "restart":
            from podbay.runtime.lifecycle.status import now_text  # noqa: PLC0415

            protocol.call(paths, {"op": "rollout-restart", "namespace": namespace, "name": name, "now": now_text()})
            print(f"deployment.apps/{name} restarted")
            return 0
    except (protocol.RequestError, protocol.SupervisorError) as err:
        return _err(str(err))
    if action == "history":
        return _history(store, namespace, name)
    return _status(store, namespace, name, timeout)


def _history(store: Any, namespace: str, name: str) -> int:
    from podbay.runtime.controllers.deployment import REVISION  # noqa: PLC0415

    obj = store.get("Deployment", namespace, name)
    rows = []
    for rs in store.owned_by(obj["metadata"]["uid"], "ReplicaSet"):
        annotations = rs["metadata"].get("annotations") or {}
        rows.append((int(annotations.get(REVISION, "0")), annotations.get("kubernetes.io/change-cause", "<none>")))
    print(f"deployment.apps/{name} ")
    print(table([["REVISION", "CHANGE-CAUSE"]] + [[str(r), cause] for r, cause in sorted(rows)]))
    return 0


def _status(store: Any, namespace: str, name: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout if timeout else float("inf")
    said = ""
    while True:
        obj = store.get("Deployment", namespace, name)
        if obj is None:
            return _err(f'deployment "{name}" was deleted')
        try:
            done, message = rollout_message(obj)
        except ValueError as err:
            return _err(str(err))
        if message != said:
            print(message, flush=True)
            said = message
        if done:
            return 0
        if time.monotonic() > deadline:
            return _err("timed out waiting for the condition")
        time.sleep(0.5)


# --- describe -------------------------------------------------------------------------------------------


def selector_text(spec: dict[str, Any]) -> str:
    """The spec's label selector as kubectl writes it (``app=web,tier in (a,b)``), or ``<none>``."""
    selector = spec.get("selector") or {}
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    parts += [f"{e['key']} {e['operator'].lower()} ({','.join(e.get('values') or [])})"
              for e in selector.get("matchExpressions") or []]
    return ",".join(parts) or "<none>"


def describe_text(obj: dict[str, Any], events: list[Any]) -> str:
    """``kubectl describe`` of a workload, ConfigMap or Secret, with the controller's events."""
    from podbay.runtime.cli.describe import event_lines  # noqa: PLC0415
    from podbay.runtime.controllers.objects import LAST_APPLIED  # noqa: PLC0415

    kind, meta, spec, status = obj["kind"], obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    fields = [("Name", meta["name"]), ("Namespace", meta["namespace"]),
              ("CreationTimestamp", meta.get("creationTimestamp", "")),
              ("Labels", ",".join(f"{k}={v}" for k, v in (meta.get("labels") or {}).items()) or "<none>"),
              ("Annotations", ",".join(f"{k}: {v}" for k, v in annotations.items()) or "<none>"),
              ("Selector", selector_text(spec))] + _counts(kind, spec, status)
    width = max(len(label) for label, _ in fields) + 2
    out = [f"{label + ':':<{width}}{value}" for label, value in fields]
    conditions = status.get("conditions") or []
    if conditions:
        out.append("Conditions:")
        out.append(table([["  Type", "Status", "Reason"], ["  ----", "------", "------"]] +
                         [[f"  {c['type']}", c["status"], c.get("reason", "")] for c in conditions]))
    event_lines(out, events, source=f"{kind.lower()}-controller")
    return "\n".join(out)


def pods_selector(obj: dict[str, Any]) -> str:
    """A selector for a workload's pods, in ``-l``'s syntax ("" when it has none)."""
    if obj["kind"] == "Job":
        return f"job-name={obj['metadata']['name']}"
    text = selector_text(obj.get("spec") or {})
    return "" if text == "<none>" else text


def _counts(kind: str, spec: dict[str, Any], status: dict[str, Any]) -> list[tuple[str, str]]:
    if kind == "Deployment":
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        return [("Replicas", f"{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
                             f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
                             f"{status.get('unavailableReplicas', 0)} unavailable"),
                ("StrategyType", (spec.get("strategy") or {}).get("type", "RollingUpdate")),
                ("MinReadySeconds", str(spec.get("minReadySeconds", 0))),
                ("RollingUpdateStrategy", f"{rolling.get('maxUnavailable', '25%')} max unavailable, "
                                          f"{rolling.get('maxSurge', '25%')} max surge")]
    if kind == "Job":
        return [("Parallelism", str(spec.get("parallelism", 1))), ("Completions", str(spec.get("completions", 1))),
                ("Completion Mode", spec.get("completionMode", "NonIndexed")),
                ("Start Time", status.get("startTime", "")),
                ("Pods Statuses", f"{status.get('active', 0)} Active ({status.get('ready', 0)} Ready) / "
                                  f"{status.get('succeeded', 0)} Succeeded / {status.get('failed', 0)} Failed")]
    if kind == "DaemonSet":
        return [("Desired Number of Nodes Scheduled", str(status.get("desiredNumberScheduled", 1))),
                ("Number of Nodes Scheduled with Up-to-date Pods", str(status.get("updatedNumberScheduled", 0))),
                ("Number of Nodes Scheduled with Available Pods", str(status.get("numberAvailable", 0)))]
    return [("Replicas", f"{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired"),
            ("Pods Status", f"{status.get('readyReplicas', 0)} Ready")]


def describe_objects(paths: Paths, alias: str, names: list[str], namespace: str) -> int:
    from podbay.runtime.state.store import StateStore  # noqa: PLC0415

    kind, plural, group = KINDS[alias]
    store = _store(paths)
    found = [o for o in store.select(kind, namespace) if not names or o["metadata"]["name"] in names]
    for name in set(names) - {o["metadata"]["name"] for o in found}:
        print(f'Error from server (NotFound): {plural}{"." + group if group else ""} "{name}" not found',
              file=sys.stderr)
    state = StateStore(paths.run_dir / "state.db")
    for obj in found:
        print(describe_text(obj, state.events(obj["metadata"]["uid"])))
        print()
    return 0 if len(found) >= len(set(names)) else 1
