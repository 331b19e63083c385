"""The ReplicaSet controller (pkg/controller/replicaset): keep ``replicas`` active pods that match the
selector; a pod that ends or is deleted is replaced; extra pods go, the least useful first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.controllers.common import PodView, deletion_order, owner_reference, pod_from_template, random_suffix


@dataclass
class Plan:
    create: list[dict[str, Any]] = field(default_factory=list)  # pod manifests
    delete: list[str] = field(default_factory=list)  # pod names
    status: dict[str, Any] = field(default_factory=dict)


def replicas_of(obj: dict[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def reconcile(rs: dict[str, Any], pods: list[PodView], now: float) -> Plan:
    meta, spec = rs["metadata"], rs.get("spec") or {}
    wanted = replicas_of(rs)
    active = [p for p in pods if p.active]
    plan = Plan()
    if len(active) < wanted:
        owner = owner_reference("ReplicaSet", "apps/v1", meta["name"], meta["uid"])
        taken = {p.name for p in pods}
        for _ in range(wanted - len(active)):
            name = f"{meta['name']}-{random_suffix()}"
            while name in taken:
                name = f"{meta['name']}-{random_suffix()}"
            taken.add(name)
            plan.create.append(pod_from_template(spec.get("template") or {}, name=name,
                                                 namespace=meta.get("namespace") or "default", owner=owner))
    elif len(active) > wanted:
        plan.delete = [p.name for p in deletion_order(active)[:len(active) - wanted]]
    min_ready = int(spec.get("minReadySeconds") or 0)
    plan.status = {"replicas": len(active), "fullyLabeledReplicas": len(active),
                   "readyReplicas": sum(p.ready for p in active),
                   "availableReplicas": sum(p.available(min_ready, now) for p in active),
                   "observedGeneration": meta.get("generation", 1)}
    return plan
