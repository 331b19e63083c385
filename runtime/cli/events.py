"""``podbay get events`` and ``podbay events``: the recorded events of pods, workloads and the node,
as kubectl lists them (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; the oldest first, as ``kubectl events``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from podbay.runtime.cli.table import human_duration, table
from podbay.runtime.paths import Paths
from podbay.runtime.state.store import Event, StateStore


@dataclass(frozen=True)
class Involved:
    """What an event is about (the API's involvedObject) and who reported it."""

    kind: str
    namespace: str
    name: str
    uid: str
    source: str  # kubelet, replicaset-controller ...


def involved_objects(paths: Paths, store: StateStore) -> dict[str, Involved]:
    """Every object events may name, by uid: pods, applied objects, and the node."""
    from podbay.runtime.controllers.objects import existing_store  # noqa: PLC0415
    from podbay.runtime.controllers.static import NODE_EVENTS, node_name  # noqa: PLC0415

    found = {record.uid: Involved("Pod", record.namespace, record.name, record.uid, "kubelet")
             for record in store.pods()}
    objects = existing_store(paths.objects_db)
    for obj in objects.select() if objects is not None else []:
        meta = obj["metadata"]
        found[meta["uid"]] = Involved(obj["kind"], meta.get("namespace", ""), meta["name"], meta["uid"],
                                      f"{obj['kind'].lower()}-controller")
    found[NODE_EVENTS] = Involved("Node", "", node_name(), NODE_EVENTS, "kubelet")
    return found


def _kind_of(alias: str) -> str:
    """The kind kubectl's name or short name stands for ("" when podbay knows none)."""
    from podbay.runtime.cli.main import POD_KINDS  # noqa: PLC0415
    from podbay.runtime.cli.workloads import KINDS  # noqa: PLC0415

    if alias in KINDS:
        return KINDS[alias][0]
    return "Pod" if alias in POD_KINDS else "Node" if alias in ("node", "nodes", "no") else ""


def get_events(paths: Paths, namespace: str, *, all_namespaces: bool, output: str | None, for_object: str,
               types: str) -> int:
    from podbay.runtime.cli.records import open_store  # noqa: PLC0415

    wanted_kind, wanted_name = "", ""
    if for_object:
        alias, _, wanted_name = for_object.partition("/")
        wanted_kind = _kind_of(alias.lower())
        if not wanted_kind or not wanted_name:
            print(f'error: --for: "{for_object}" is not KIND/NAME of a kind podbay knows (pod/web, deploy/web ...)',
                  file=sys.stderr)
            return 1
    wanted_types = {t.strip().capitalize() for t in types.split(",") if t.strip()}
    if wanted_types - {"Normal", "Warning"}:
        print(f"error: --types: {', '.join(sorted(wanted_types - {'Normal', 'Warning'}))}: "
              "only Normal and Warning exist", file=sys.stderr)
        return 1
    store = open_store(paths)
    objects = involved_objects(paths, store)
    shown: list[tuple[Event, Involved]] = []
    for event in store.events():
        about = objects.get(event.pod_uid)
        if about is None:
            continue
        if not all_namespaces and about.namespace not in (namespace, ""):
            continue
        if wanted_kind and (about.kind, about.name) != (wanted_kind, wanted_name):
            continue
        if wanted_types and event.type not in wanted_types:
            continue
        shown.append((event, about))
    if output in ("yaml", "json"):
        from podbay.runtime.cli.pods import print_objects  # noqa: PLC0415

        print_objects([event_object(event, about, number) for number, (event, about) in enumerate(shown)], output,
                      single=False)
        return 0
    if not shown:
        where = "" if all_namespaces else f" in {namespace} namespace"
        print(f"No events found{where}.", file=sys.stderr)
        return 0
    now = time.time()
    header = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = [[human_duration(now - event.last), event.type, event.reason, f"{about.kind.lower()}/{about.name}",
             event.message] for event, about in shown]
    if all_namespaces:
        header = ["NAMESPACE", *header]
        rows = [[about.namespace, *row] for row, (_, about) in zip(rows, shown, strict=True)]
    print(table([header, *rows]))
    return 0


def event_object(event: Event, about: Involved, number: int) -> dict[str, Any]:
    """The core/v1 Event as the API serves it."""
    from podbay.runtime.controllers.static import node_name  # noqa: PLC0415
    from podbay.runtime.lifecycle.status import now_text  # noqa: PLC0415

    involved: dict[str, Any] = {"kind": about.kind, "name": about.name, "uid": about.uid,
                                "apiVersion": _api_version(about.kind)}
    if about.namespace:
        involved["namespace"] = about.namespace
    if event.field_path:
        involved["fieldPath"] = event.field_path
    metadata: dict[str, Any] = {"name": f"{about.name}.{int(event.first * 1e9) + number:x}"}
    if about.namespace:
        metadata["namespace"] = about.namespace
    return {"apiVersion": "v1", "kind": "Event", "metadata": metadata, "involvedObject": involved,
            "reason": event.reason, "message": event.message, "type": event.type, "count": event.count,
            "firstTimestamp": now_text(event.first), "lastTimestamp": now_text(event.last),
            "source": {"component": about.source, "host": node_name()}}


def _api_version(kind: str) -> str:
    from podbay.runtime.cli.workloads import group_of  # noqa: PLC0415

    group = group_of(kind)
    return f"{group}/v1" if group else "v1"
