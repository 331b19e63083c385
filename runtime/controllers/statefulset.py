"""The StatefulSet and DaemonSet controllers (pkg/controller/statefulset, pkg/controller/daemon) on one node.

StatefulSet: pods ``<name>-0`` .. ``<name>-(N-1)``, each with hostname = its name and subdomain =
``serviceName``; ``volumeClaimTemplates`` become claims ``<template>-<name>-<ordinal>`` (podbay's named
local volumes, which outlive the pod, so a replaced pod finds its data). ``OrderedReady`` (default):
ordinal i is created only when every lower one is Running and Ready, and scaling down removes the highest
ordinal first, one at a time; ``Parallel``: all at once. ``RollingUpdate`` replaces pods whose
``controller-revision-hash`` is not the template's, highest ordinal first, one at a time, leaving ordinals
below ``partition`` alone; ``OnDelete`` replaces only pods that were deleted.

DaemonSet: exactly one pod on this node, replaced when the template changes (``RollingUpdate``, at most
``maxUnavailable`` (1) down: the old pod goes, then the new one comes) or only when deleted (``OnDelete``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.controllers.common import PodView, owner_reference, pod_from_template, random_suffix, template_hash

REVISION_HASH = "controller-revision-hash"


@dataclass
class SetPlan:
    create: list[dict[str, Any]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)


def _ordinal(name: str, owner: str) -> int:
    tail = name[len(owner) + 1:]
    return int(tail) if name.startswith(owner + "-") and tail.isdigit() else -1


def _stateful_pod(sts: dict[str, Any], ordinal: int, revision: str) -> dict[str, Any]:
    meta, spec = sts["metadata"], sts["spec"]
    name = f"{meta['name']}-{ordinal}"
    pod = pod_from_template(spec.get("template") or {}, name=name, namespace=meta.get("namespace") or "default",
                            owner=owner_reference("StatefulSet", "apps/v1", meta["name"], meta["uid"]),
                            extra_labels={REVISION_HASH: revision, "statefulset.kubernetes.io/pod-name": name,
                                          "apps.kubernetes.io/pod-index": str(ordinal)})
    pod["spec"]["hostname"] = name
    if spec.get("serviceName"):
        pod["spec"]["subdomain"] = spec["serviceName"]
    volumes = pod["spec"].setdefault("volumes", [])
    for claim in spec.get("volumeClaimTemplates") or []:
        claim_name = claim["metadata"]["name"]
        volumes[:] = [v for v in volumes if v.get("name") != claim_name]
        volumes.append({"name": claim_name,
                        "persistentVolumeClaim": {"claimName": f"{claim_name}-{meta['name']}-{ordinal}"}})
    return pod


def reconcile_statefulset(sts: dict[str, Any], pods: list[PodView]) -> SetPlan:
    meta, spec = sts["metadata"], sts.get("spec") or {}
    replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])
    revision = template_hash(spec.get("template") or {})
    ordered = (spec.get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
    strategy = spec.get("updateStrategy") or {}
    partition = int(((strategy.get("rollingUpdate") or {}).get("partition")) or 0)
    by_ordinal = {_ordinal(p.name, meta["name"]): p for p in pods if p.active}
    # A name still taken (a pod being deleted, or one that ended) cannot be made again yet; an ended one goes.
    taken = {_ordinal(p.name, meta["name"]) for p in pods if not p.active}
    plan = SetPlan(delete=[p.name for p in pods if not p.active and not p.deleting])
    healthy = True
    for ordinal in range(replicas):  # creation, in order
        pod = by_ordinal.get(ordinal)
        if pod is None and ordinal in taken:
            healthy = False
            if ordered:
                break
            continue
        if pod is None:
            if healthy or not ordered:
                plan.create.append(_stateful_pod(sts, ordinal, revision))
            healthy = False
            if ordered:
                break
            continue
        if not (pod.phase == "Running" and pod.ready):
            healthy = False
    extra = sorted((o for o in by_ordinal if o >= replicas or o < 0), reverse=True)
    if extra and not plan.create:  # scale down: the highest ordinal first (one at a time when ordered)
        if not ordered:
            plan.delete += [by_ordinal[o].name for o in extra]
        elif all(p.ready for o, p in by_ordinal.items() if 0 <= o < replicas):
            plan.delete.append(by_ordinal[extra[0]].name)
    elif not plan.create and healthy and (strategy.get("type") or "RollingUpdate") == "RollingUpdate":
        stale = sorted((o for o, p in by_ordinal.items() if 0 <= o < replicas and o >= partition
                        and p.labels.get(REVISION_HASH) != revision), reverse=True)
        if stale:
            plan.delete.append(by_ordinal[stale[0]].name)  # its replacement comes once it is gone
    current = [p for o, p in by_ordinal.items() if 0 <= o < replicas]
    plan.status = {"observedGeneration": meta.get("generation", 1), "replicas": len(by_ordinal),
                   "readyReplicas": sum(p.ready for p in current), "availableReplicas": sum(p.ready for p in current),
                   "currentReplicas": sum(p.labels.get(REVISION_HASH) == revision for p in current),
                   "updatedReplicas": sum(p.labels.get(REVISION_HASH) == revision for p in current),
                   "currentRevision": f"{meta['name']}-{revision}", "updateRevision": f"{meta['name']}-{revision}",
                   "collisionCount": 0}
    return plan


def reconcile_daemonset(ds: dict[str, Any], pods: list[PodView]) -> SetPlan:
    meta, spec = ds["metadata"], ds.get("spec") or {}
    revision = template_hash(spec.get("template") or {})
    active = sorted((p for p in pods if p.active), key=lambda p: p.created)
    plan = SetPlan(delete=[p.name for p in pods if p.phase in ("Succeeded", "Failed") and not p.deleting])
    if not active:
        template = copy.deepcopy(spec.get("template") or {})
        plan.create.append(pod_from_template(
            template, name=f"{meta['name']}-{random_suffix()}", namespace=meta.get("namespace") or "default",
            owner=owner_reference("DaemonSet", "apps/v1", meta["name"], meta["uid"]),
            extra_labels={REVISION_HASH: revision}))
    else:
        plan.delete += [p.name for p in active[1:]]  # one per node
        rolling = ((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"
        if rolling and active[0].labels.get(REVISION_HASH) != revision:
            plan.delete.append(active[0].name)
    current = active[:1]
    updated = sum(p.labels.get(REVISION_HASH) == revision for p in current)
    plan.status = {"observedGeneration": meta.get("generation", 1), "desiredNumberScheduled": 1,
                   "currentNumberScheduled": len(current), "numberMisscheduled": 0,
                   "numberReady": sum(p.ready for p in current), "updatedNumberScheduled": updated,
                   "numberAvailable": sum(p.ready for p in current),
                   "numberUnavailable": 1 - sum(p.ready for p in current)}
    return plan
