"""The controller manager: one thread in the supervisor that syncs every applied workload once a second
(and at once when woken by an apply, a scale or a delete), carrying out what the pure controllers decide:
ReplicaSets and pods are created and deleted, statuses written, events recorded on the workload.

Garbage collection is the cluster's background cascade: an object or pod whose controlling owner is gone
is deleted in the next sync. Pods are deleted on threads of their own (their grace periods run in
parallel); a pod being deleted no longer counts, so its replacement starts at once, as upstream.
"""

from __future__ import annotations

import calendar
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from podbay.runtime.controllers import deployment, job, replicaset, statefulset
from podbay.runtime.controllers.common import PodView, matches, owner_reference
from podbay.runtime.controllers.objects import ObjectStore, controller_uid
from podbay.runtime.state.store import PodRecord

if TYPE_CHECKING:
    from podbay.runtime.supervisor.daemon import Supervisor

WORKLOADS = ("Deployment", "ReplicaSet", "Job", "StatefulSet", "DaemonSet")
SYNC_PERIOD = 1.0


def _timestamp(text: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except (ValueError, TypeError):
        return 0.0


def pod_view(record: PodRecord, deleting: set[str]) -> PodView:
    ready: dict[str, Any] = next((c for c in record.status.get("conditions") or [] if c.get("type") == "Ready"), {})
    meta = record.manifest.get("metadata") or {}
    statuses = list(record.status.get("containerStatuses") or []) + list(record.status.get("initContainerStatuses")
                                                                         or [])
    ends = [_timestamp(str((s.get("state") or {}).get("terminated", {}).get("finishedAt") or "")) for s in statuses]
    return PodView(record.name, record.uid, dict(meta.get("labels") or {}), str(record.status.get("phase") or
                                                                                "Pending"),
                   ready.get("status") == "True", _timestamp(str(ready.get("lastTransitionTime") or "")),
                   record.created, bool(record.runtime.get("deleting")) or record.uid in deleting,
                   dict(meta.get("annotations") or {}), sum(int(s.get("restartCount") or 0) for s in statuses),
                   max(ends, default=0.0),
                   [(str(s.get("name")), int(s["state"]["terminated"].get("exitCode") or 0)) for s in statuses
                    if "terminated" in (s.get("state") or {})],
                   {str(c.get("type")): str(c.get("status")) for c in record.status.get("conditions") or []})


class ControllerManager:
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.objects = ObjectStore(supervisor.paths.objects_db)
        self.wake = threading.Event()
        self.deleting: set[str] = set()  # uids of pods we are deleting
        self.had_workloads = True  # (a first sync collects what a killed supervisor left)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, name="controllers", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def busy(self) -> bool:
        """Workloads to keep: the supervisor stays up for them even with no pod."""
        return any(self.objects.select(kind) for kind in WORKLOADS)

    def run(self) -> None:
        while not self.supervisor.stopping.is_set():
            try:
                self.sync_all()
            except Exception:  # a bug in one sync must not end every controller
                self.supervisor.log("controllers: " + traceback.format_exc())
            self.wake.wait(SYNC_PERIOD)
            self.wake.clear()

    def sync_all(self) -> None:
        busy = self.busy()
        if not busy and not self.had_workloads:  # nothing to do: no reading every pod each second
            return
        for obj in self.objects.select("Deployment"):
            self.sync_deployment(obj, self.supervisor.store.pods())
        pods = self.supervisor.store.pods()
        now = time.time()
        for obj in self.objects.select("ReplicaSet"):
            self.carry_out(obj, replicaset.reconcile(obj, self.owned_pods(obj, pods), now), pods)
        for obj in self.objects.select("StatefulSet"):
            self.carry_out(obj, statefulset.reconcile_statefulset(obj, self.owned_pods(obj, pods)), pods)
        for obj in self.objects.select("DaemonSet"):
            self.carry_out(obj, statefulset.reconcile_daemonset(obj, self.owned_pods(obj, pods)), pods)
        for obj in self.objects.select("Job"):
            plan = job.reconcile(obj, self.owned_pods(obj, pods), now)
            for type_, reason, message in plan.events:
                self.event(obj, type_, reason, message)
            self.carry_out(obj, plan, pods)
            if plan.delete_job:
                self.objects.delete(obj["metadata"]["uid"])  # its pods: the garbage collector's
                self.event(obj, "Normal", "Deleted", "Job deleted: its ttlSecondsAfterFinished ran out")
        collected = self.collect_garbage(self.supervisor.store.pods())
        self.had_workloads = busy or collected  # rounds go on while the last one's garbage is collected

    # --- pods ---------------------------------------------------------------------------------------

    def owned_pods(self, owner: dict[str, Any], pods: list[PodRecord]) -> list[PodView]:
        uid = owner["metadata"]["uid"]
        self.adopt(owner, pods)
        return [pod_view(r, self.deleting) for r in pods if controller_uid(r.manifest) == uid]

    def adopt(self, owner: dict[str, Any], pods: list[PodRecord]) -> None:
        """Pods without a controller that the owner's selector matches become its own, as upstream's
        ControllerRefManager adopts them (a StatefulSet only its own ordinals' names; Jobs select by their
        uid, so nothing is theirs to adopt; static pods belong to the node)."""
        meta, kind = owner["metadata"], owner["kind"]
        if kind == "Job":
            return
        selector = (owner.get("spec") or {}).get("selector")
        reference = owner_reference(kind, owner.get("apiVersion", "apps/v1"), meta["name"], meta["uid"])
        for record in pods:
            pod_meta = record.manifest.get("metadata") or {}
            if record.namespace != meta["namespace"] or controller_uid(record.manifest) or \
                    record.runtime.get("deleting") or record.status.get("phase") in ("Succeeded", "Failed") or \
                    (pod_meta.get("annotations") or {}).get("kubernetes.io/config.source") == "file" or \
                    not matches(selector, dict(pod_meta.get("labels") or {})):
                continue
            if kind == "StatefulSet" and not (record.name.startswith(meta["name"] + "-") and
                                              record.name[len(meta["name"]) + 1:].isdigit()):
                continue
            pod_meta.setdefault("ownerReferences", []).append(reference)
            record.manifest["metadata"] = pod_meta
            self.supervisor.store.update(record.uid, manifest=record.manifest)

    def adopt_replicasets(self, deployment: dict[str, Any]) -> None:
        """ReplicaSets without a controller (orphaned earlier) that a Deployment's selector matches."""
        meta = deployment["metadata"]
        reference = owner_reference("Deployment", "apps/v1", meta["name"], meta["uid"])
        for rs in self.objects.select("ReplicaSet", meta["namespace"]):
            if not controller_uid(rs) and matches((deployment.get("spec") or {}).get("selector"),
                                                  dict(rs["metadata"].get("labels") or {})):
                rs["metadata"].setdefault("ownerReferences", []).append(reference)
                self.objects.update(rs)

    def config_objects(self, namespace: str) -> list[dict[str, Any]]:
        """The ConfigMaps and Secrets applied in this namespace: what pods made from templates read."""
        return [{k: v for k, v in obj.items() if k != "status"}
                for kind in ("ConfigMap", "Secret") for obj in self.objects.select(kind, namespace)]

    def create_pod(self, owner: dict[str, Any], manifest: dict[str, Any]) -> None:
        from podbay.runtime.supervisor import protocol  # noqa: PLC0415

        namespace = manifest["metadata"]["namespace"]
        try:
            self.supervisor.handle({"op": "run", "objects": [manifest] + self.config_objects(namespace)})
        except protocol.RequestError as err:
            self.event(owner, "Warning", "FailedCreate", f"Error creating: {err}")
            return
        self.event(owner, "Normal", "SuccessfulCreate", f"Created pod: {manifest['metadata']['name']}")

    def delete_pod(self, owner: dict[str, Any] | None, namespace: str, name: str, uid: str) -> None:
        with self.lock:
            if uid in self.deleting:
                return
            self.deleting.add(uid)

        def delete() -> None:
            from podbay.runtime.supervisor import protocol  # noqa: PLC0415

            try:
                self.supervisor.handle({"op": "delete", "namespace": namespace, "name": name})
                if owner is not None:
                    self.event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")
            except protocol.RequestError:
                pass  # already gone
            finally:
                with self.lock:
                    self.deleting.discard(uid)
                self.wake.set()

        threading.Thread(target=delete, name=f"delete {namespace}/{name}", daemon=True).start()

    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        self.supervisor.store.record_event(obj["metadata"]["uid"], type_, reason, message)

    # --- controllers ----------------------------------------------------------------------------

    def carry_out(self, owner: dict[str, Any], plan: replicaset.Plan | statefulset.SetPlan | job.JobPlan,
                  pods: list[PodRecord]) -> None:
        """A pod controller's decision: pods made and deleted, the status written when it changed."""
        for manifest in plan.create:
            self.create_pod(owner, manifest)
        by_name = {view.name: view for view in self.owned_pods(owner, pods)}
        for name in plan.delete:
            self.delete_pod(owner, owner["metadata"]["namespace"], name, by_name[name].uid)
        if plan.status != owner.get("status"):
            self.objects.set_status(owner["metadata"]["uid"], plan.status)

    def sync_deployment(self, obj: dict[str, Any], pods: list[PodRecord]) -> None:
        self.adopt_replicasets(obj)
        views = []
        for rs in self.objects.owned_by(obj["metadata"]["uid"], "ReplicaSet"):
            owned = [p for p in self.owned_pods(rs, pods) if p.active]
            min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
            views.append(deployment.ReplicaSetView(rs, len(owned), sum(p.ready for p in owned),
                                                   sum(p.available(min_ready, time.time()) for p in owned)))
        plan = deployment.reconcile(obj, views)
        by_name = {view.name: view for view in views}
        if plan.create is not None:
            created = self.objects.create(plan.create)
            self.event(obj, "Normal", "ScalingReplicaSet", f"Scaled up replica set {created['metadata']['name']} "
                                                           f"to {created['spec']['replicas']}")
        for name, replicas in plan.scale.items():
            rs = by_name[name].manifest
            before = by_name[name].replicas
            rs["spec"]["replicas"] = replicas
            self.objects.update(rs, bump=True)
            self.event(obj, "Normal", "ScalingReplicaSet", f"Scaled {'up' if replicas > before else 'down'} "
                                                           f"replica set {name} from {before} to {replicas}")
        for name, revision in plan.revise.items():
            rs = by_name[name].manifest
            rs["metadata"].setdefault("annotations", {})[deployment.REVISION] = str(revision)
            self.objects.update(rs)
        for name in plan.delete:
            self.objects.delete(by_name[name].manifest["metadata"]["uid"])  # its pods: the garbage collector's
        annotations = obj["metadata"].setdefault("annotations", {})
        if annotations.get(deployment.REVISION) != str(plan.revision) and plan.revision:
            annotations[deployment.REVISION] = str(plan.revision)
            self.objects.update(obj)
        if plan.status != obj.get("status"):
            self.objects.set_status(obj["metadata"]["uid"], plan.status)

    # --- garbage collection ------------------------------------------------------------------------

    def collect_garbage(self, pods: list[PodRecord]) -> bool:
        """Objects and pods whose controller is gone are deleted; True when there was any."""
        everything = self.objects.select()
        alive = {obj["metadata"]["uid"] for obj in everything}
        found = False
        for obj in everything:
            owner = controller_uid(obj)
            if owner and owner not in alive:
                self.objects.delete(obj["metadata"]["uid"])
                self.wake.set()
                found = True
        for record in pods:
            owner = controller_uid(record.manifest)
            if owner and owner not in alive and \
                    (record.manifest.get("metadata") or {}).get("ownerReferences", [{}])[0].get("kind") in WORKLOADS:
                found = True
                if not record.runtime.get("deleting"):
                    self.delete_pod(None, record.namespace, record.name, record.uid)
        return found
