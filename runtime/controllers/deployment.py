"""The Deployment controller (pkg/controller/deployment): one ReplicaSet per pod template, named
``<deployment>-<pod-template-hash>``; a changed template is a rollout, carried out by scaling the
ReplicaSets:

- ``RollingUpdate``: the new ReplicaSet grows while all of them together stay within
  ``replicas + maxSurge`` pods (rounded up), and old ones shrink while at least
  ``replicas - maxUnavailable`` pods (rounded down) are available (Ready for ``minReadySeconds``);
  both default to 25%; both 0 means maxUnavailable 1. As upstream, one sync either scales up or down.
- ``Recreate``: every old pod ends before the new ReplicaSet gets any.

Revisions (``deployment.kubernetes.io/revision``) number the ReplicaSets; a template that matches an old
ReplicaSet brings it back with the next revision (a rollback); old ReplicaSets scaled to 0 beyond
``revisionHistoryLimit`` (10) are deleted. Status and the Available/Progressing conditions are upstream's,
``ProgressDeadlineExceeded`` after ``progressDeadlineSeconds`` (600) without progress.
"""

from __future__ import annotations

import calendar
import copy
import time
from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.controllers.common import TEMPLATE_HASH, int_or_percent, owner_reference, template_hash

REVISION = "deployment.kubernetes.io/revision"


@dataclass
class ReplicaSetView:
    manifest: dict[str, Any]
    active: int = 0
    ready: int = 0
    available: int = 0

    @property
    def name(self) -> str:
        return str(self.manifest["metadata"]["name"])

    @property
    def replicas(self) -> int:
        return int((self.manifest.get("spec") or {}).get("replicas") or 0)

    @property
    def hash(self) -> str:
        return str((self.manifest["metadata"].get("labels") or {}).get(TEMPLATE_HASH, ""))

    @property
    def revision(self) -> int:
        text = (self.manifest["metadata"].get("annotations") or {}).get(REVISION, "0")
        return int(text) if str(text).isdigit() else 0


@dataclass
class DeploymentPlan:
    create: dict[str, Any] | None = None  # a new ReplicaSet
    scale: dict[str, int] = field(default_factory=dict)  # ReplicaSet name -> replicas
    revise: dict[str, int] = field(default_factory=dict)  # ReplicaSet name -> its new revision (a rollback)
    delete: list[str] = field(default_factory=list)  # ReplicaSets beyond the history limit
    status: dict[str, Any] = field(default_factory=dict)
    revision: int = 0  # the Deployment's own revision annotation


def _limits(deployment: dict[str, Any], replicas: int) -> tuple[int, int]:
    rolling = ((deployment["spec"].get("strategy") or {}).get("rollingUpdate")) or {}
    surge = int_or_percent(rolling.get("maxSurge"), replicas, round_up=True, default="25%")
    unavailable = int_or_percent(rolling.get("maxUnavailable"), replicas, round_up=False, default="25%")
    return surge, (1 if surge == 0 and unavailable == 0 else unavailable)


def new_replicaset(deployment: dict[str, Any], pod_hash: str, revision: int, replicas: int) -> dict[str, Any]:
    meta, spec = deployment["metadata"], deployment["spec"]
    template = copy.deepcopy(spec.get("template") or {})
    template.setdefault("metadata", {}).setdefault("labels", {})[TEMPLATE_HASH] = pod_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[TEMPLATE_HASH] = pod_hash
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{meta['name']}-{pod_hash}", "namespace": meta.get("namespace") or "default",
                         "labels": dict(template["metadata"]["labels"]),
                         "annotations": {REVISION: str(revision)},
                         "ownerReferences": [owner_reference("Deployment", "apps/v1", meta["name"], meta["uid"])]},
            "spec": {"replicas": replicas, "minReadySeconds": spec.get("minReadySeconds") or 0,
                     "selector": selector, "template": template}}


def reconcile(deployment: dict[str, Any], sets: list[ReplicaSetView], now: float | None = None) -> DeploymentPlan:
    now = time.time() if now is None else now
    spec = deployment["spec"]
    replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])
    pod_hash = template_hash(spec.get("template") or {})
    plan = DeploymentPlan()
    new = next((s for s in sets if s.hash == pod_hash), None)
    old = sorted([s for s in sets if s is not new], key=lambda s: s.revision)
    top = max([s.revision for s in sets], default=0)
    strategy = (spec.get("strategy") or {}).get("type") or "RollingUpdate"
    surge, unavailable = _limits(deployment, replicas)
    if new is None and strategy == "Recreate" and any(s.replicas or s.active for s in old):
        _recreate(plan, None, old, replicas)  # the new ReplicaSet comes once every old pod has ended
        plan.revision = top
    elif new is None:
        start = _scale_up(replicas, 0, sum(s.replicas for s in old), surge) if strategy == "RollingUpdate" \
            else replicas
        plan.create = new_replicaset(deployment, pod_hash, top + 1, start)
        plan.revision = top + 1
    else:
        plan.revision = new.revision
        if new.revision < top:  # an old template again: a rollback brings that ReplicaSet back as the newest
            plan.revise[new.name] = plan.revision = top + 1
        if not spec.get("paused"):
            if strategy == "Recreate":
                _recreate(plan, new, old, replicas)
            else:
                _rolling(plan, new, old, replicas=replicas, surge=surge, unavailable=unavailable)
    _history(plan, old, int(spec.get("revisionHistoryLimit", 10)))
    plan.status = _status(deployment, new, old, plan, replicas=replicas, unavailable=unavailable, now=now)
    return plan


def _scale_up(replicas: int, current_new: int, others: int, surge: int) -> int:
    """NewRSNewReplicas: as many as the surge allows, never above replicas."""
    if current_new > replicas:
        return replicas
    if current_new + others >= replicas + surge:
        return current_new
    return current_new + min(replicas + surge - current_new - others, replicas - current_new)


def _recreate(plan: DeploymentPlan, new: ReplicaSetView | None, old: list[ReplicaSetView], replicas: int) -> None:
    for s in old:
        if s.replicas:
            plan.scale[s.name] = 0
    if new is not None and not any(s.active for s in old) and not plan.scale and new.replicas != replicas:
        plan.scale[new.name] = replicas


def _rolling(plan: DeploymentPlan, new: ReplicaSetView, old: list[ReplicaSetView], *, replicas: int, surge: int,
             unavailable: int) -> None:
    wanted = _scale_up(replicas, new.replicas, sum(s.replicas for s in old), surge)
    if wanted != new.replicas:
        plan.scale[new.name] = wanted
        return  # one direction per sync, as upstream
    total = new.replicas + sum(s.replicas for s in old)
    min_available = replicas - unavailable
    new_unavailable = new.replicas - new.available
    budget = total - min_available - new_unavailable
    if budget <= 0:
        return
    for s in old:  # cleanupUnhealthyReplicas: unavailable old pods go first, oldest ReplicaSet first
        cut = min(budget, s.replicas - s.available)
        if cut > 0:
            plan.scale[s.name] = s.replicas - cut
            budget -= cut
    available = new.available + sum(s.available for s in old)
    room = available - min_available
    for s in old:  # then available ones, while enough stay available
        current = plan.scale.get(s.name, s.replicas)
        cut = min(room, current)
        if cut > 0:
            plan.scale[s.name] = current - cut
            room -= cut


def _history(plan: DeploymentPlan, old: list[ReplicaSetView], limit: int) -> None:
    idle = [s for s in old if plan.scale.get(s.name, s.replicas) == 0 and s.active == 0]
    plan.delete = [s.name for s in idle[:max(len(idle) - limit, 0)]]


def _condition(kind: str, status: str, reason: str, message: str, *, now: float,
               previous: dict[str, Any] | None) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    same = previous is not None and previous.get("status") == status and previous.get("reason") == reason
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastUpdateTime": previous["lastUpdateTime"] if same and previous else stamp,
            "lastTransitionTime": previous["lastTransitionTime"] if previous and previous.get("status") == status
            else stamp}


def _status(deployment: dict[str, Any], new: ReplicaSetView | None, old: list[ReplicaSetView], plan: DeploymentPlan,
            *, replicas: int, unavailable: int, now: float) -> dict[str, Any]:
    meta, spec = deployment["metadata"], deployment["spec"]
    previous = {c["type"]: c for c in (deployment.get("status") or {}).get("conditions") or []}
    every = ([new] if new else []) + old
    total = sum(s.active for s in every)
    updated = new.active if new else 0
    available = sum(s.available for s in every)
    name = f'ReplicaSet "{meta["name"]}-{template_hash(spec.get("template") or {})}"'
    conditions = [_condition("Available", "True" if available >= replicas - unavailable else "False",
                             "MinimumReplicasAvailable" if available >= replicas - unavailable
                             else "MinimumReplicasUnavailable",
                             "Deployment has minimum availability." if available >= replicas - unavailable
                             else "Deployment does not have minimum availability.", now=now,
                             previous=previous.get("Available"))]
    complete = new is not None and updated == replicas == total and new.available == replicas and not plan.scale
    progressing = previous.get("Progressing")
    changed = plan.create is not None or bool(plan.scale) or \
        (deployment.get("status") or {}).get("updatedReplicas") != updated or \
        (deployment.get("status") or {}).get("availableReplicas") != available
    deadline = spec.get("progressDeadlineSeconds", 600)
    if complete:
        conditions.append(_condition("Progressing", "True", "NewReplicaSetAvailable",
                                     f"{name} has successfully progressed.", now=now, previous=progressing))
    elif changed or progressing is None or progressing.get("reason") == "NewReplicaSetAvailable":
        reason = "NewReplicaSetCreated" if plan.create is not None else "ReplicaSetUpdated"
        conditions.append(_condition("Progressing", "True", reason, f"{name} is progressing.", now=now,
                                     previous=None))
    else:
        last = calendar.timegm(time.strptime(progressing["lastUpdateTime"], "%Y-%m-%dT%H:%M:%SZ"))
        if spec.get("paused") or now - last <= deadline or progressing.get("reason") == "ProgressDeadlineExceeded":
            conditions.append(progressing)
        else:
            conditions.append(_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                         f"{name} has timed out progressing.", now=now, previous=progressing))
    return {"observedGeneration": meta.get("generation", 1), "replicas": total, "updatedReplicas": updated,
            "readyReplicas": sum(s.ready for s in every), "availableReplicas": available,
            "unavailableReplicas": max(replicas - available, 0), "conditions": conditions}
