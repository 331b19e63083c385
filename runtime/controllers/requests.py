"""The supervisor's answers to ``apply``, ``delete-object`` and ``scale`` (what the API server does in a
cluster): objects checked again, stored, and the controllers woken."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from podbay.runtime.controllers.objects import ObjectError, owner_uids
from podbay.runtime.supervisor import protocol

if TYPE_CHECKING:
    from podbay.runtime.controllers.manager import ControllerManager

STORED = ("Deployment", "ReplicaSet", "Job", "StatefulSet", "DaemonSet", "ConfigMap", "Secret")
SCALABLE = ("Deployment", "ReplicaSet", "StatefulSet")


def _check(objects: list[dict[str, Any]]) -> None:
    """Decoded and validated again, as the API server would: a client's check is not trusted."""
    from podbay.runtime.spec.loader import load_text  # noqa: PLC0415

    documents = load_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), "<apply>")
    problems = [str(error) for doc in documents for error in doc.errors]
    if problems:
        raise protocol.RequestError("the objects are invalid: " + "; ".join(problems))


def apply(manager: ControllerManager, objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    _check(objects)
    results = []
    configs = [o for o in objects if o.get("kind") in ("ConfigMap", "Secret")]
    for obj in sorted(objects, key=lambda o: o.get("kind") not in ("ConfigMap", "Secret")):  # config first
        meta = obj.get("metadata") or {}
        kind, name, namespace = obj.get("kind", ""), meta.get("name", ""), meta.get("namespace") or "default"
        if kind == "Pod":
            results.append({"kind": kind, "name": name, "result": _apply_pod(manager, obj, configs)})
            continue
        if kind not in STORED:
            raise protocol.RequestError(f"{kind} {namespace}/{name}: podbay does not run this kind")
        outcome, _ = manager.objects.apply(obj)
        results.append({"kind": kind, "name": name, "result": outcome})
    manager.wake.set()
    return results


def _apply_pod(manager: ControllerManager, pod: dict[str, Any], configs: list[dict[str, Any]]) -> str:
    meta = pod["metadata"]
    namespace = meta.get("namespace") or "default"
    existing = manager.supervisor.store.pod(namespace, meta["name"])
    if existing is not None:
        if existing.manifest.get("spec") == pod.get("spec"):
            return "unchanged"
        raise protocol.RequestError(f'pods "{meta["name"]}": a pod\'s spec cannot change once created (Kubernetes '
                                    "allows only image and a few fields): delete it, or `podbay run --replace`")
    manager.supervisor.handle({"op": "run", "objects": [pod] + configs + manager.config_objects(namespace)})
    return "created"


def _find(manager: ControllerManager, kind: str, namespace: str, name: str) -> dict[str, Any]:
    obj = manager.objects.get(kind, namespace, name)
    if obj is None:
        raise protocol.RequestError(f'{kind.lower()}s "{name}" not found in namespace "{namespace}"',
                                    code="NotFound")
    return obj


def delete(manager: ControllerManager, kind: str, namespace: str, name: str, cascade: str) -> dict[str, Any]:
    """``background`` (default): the object goes now, its dependents with the garbage collector;
    ``orphan``: its dependents lose their ownerReference and stay."""
    obj = _find(manager, kind, namespace, name)
    uid = obj["metadata"]["uid"]
    if cascade == "orphan":
        for dependent in manager.objects.select():
            if uid in owner_uids(dependent):
                _drop_owner(dependent, uid)
                manager.objects.update(dependent)
        for record in manager.supervisor.store.pods():
            if uid in owner_uids(record.manifest):
                _drop_owner(record.manifest, uid)
                manager.supervisor.store.update(record.uid, manifest=record.manifest)
    manager.objects.delete(uid)
    manager.wake.set()
    return {"uid": uid}


def _drop_owner(obj: dict[str, Any], uid: str) -> None:
    meta = obj["metadata"]
    meta["ownerReferences"] = [ref for ref in meta.get("ownerReferences") or [] if ref.get("uid") != uid]
    if not meta["ownerReferences"]:
        del meta["ownerReferences"]


def scale(manager: ControllerManager, kind: str, namespace: str, name: str, replicas: int) -> dict[str, Any]:
    if kind not in SCALABLE:
        raise protocol.RequestError(f"{kind} cannot be scaled")
    if replicas < 0:
        raise protocol.RequestError(f"--replicas must be 0 or more, not {replicas}")
    obj = _find(manager, kind, namespace, name)
    before = obj["spec"].get("replicas", 1)
    if before != replicas:
        obj["spec"]["replicas"] = replicas
        manager.objects.update(obj, bump=True)
        manager.wake.set()
    return {"before": before}


def rollout_undo(manager: ControllerManager, namespace: str, name: str, revision: int) -> dict[str, Any]:
    """The Deployment's template set back to a revision's (default: the one before the current)."""
    from podbay.runtime.controllers.common import TEMPLATE_HASH  # noqa: PLC0415
    from podbay.runtime.controllers.deployment import REVISION  # noqa: PLC0415

    obj = _find(manager, "Deployment", namespace, name)
    sets = {int((rs["metadata"].get("annotations") or {}).get(REVISION, "0")): rs
            for rs in manager.objects.owned_by(obj["metadata"]["uid"], "ReplicaSet")}
    current = max(sets, default=0)
    wanted = revision or max((r for r in sets if r < current), default=0)
    if wanted not in sets:
        raise protocol.RequestError(f"unable to find specified revision {wanted} in history" if revision else
                                    "no rollout history found for deployment \"" + name + "\"")
    template = json.loads(json.dumps(sets[wanted]["spec"]["template"]))
    template["metadata"]["labels"].pop(TEMPLATE_HASH, None)
    if template == obj["spec"]["template"]:
        return {"skipped": True, "revision": wanted}
    obj["spec"]["template"] = template
    manager.objects.update(obj, bump=True)
    manager.wake.set()
    return {"skipped": False, "revision": wanted}


def rollout_restart(manager: ControllerManager, namespace: str, name: str, now: str) -> dict[str, Any]:
    """kubectl's restart: a new annotation on the pod template, so every pod is replaced by a rollout."""
    obj = _find(manager, "Deployment", namespace, name)
    metadata = obj["spec"]["template"].setdefault("metadata", {})
    metadata.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = now
    manager.objects.update(obj, bump=True)
    manager.wake.set()
    return {}


def handle(manager: ControllerManager, request: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to an object request, or None when ``request`` is not one."""
    op = request.get("op")
    try:
        if op == "apply":
            return {"results": apply(manager, list(request["objects"]))}
        if op == "delete-object":
            return delete(manager, str(request["kind"]), str(request.get("namespace") or "default"),
                          str(request["name"]), str(request.get("cascade") or "background"))
        if op == "rollout-undo":
            return rollout_undo(manager, str(request.get("namespace") or "default"), str(request["name"]),
                                int(request.get("revision") or 0))
        if op == "rollout-restart":
            return rollout_restart(manager, str(request.get("namespace") or "default"), str(request["name"]),
                                   str(request["now"]))
        if op == "scale":
            return scale(manager, str(request["kind"]), str(request.get("namespace") or "default"),
                         str(request["name"]), int(request["replicas"]))
    except ObjectError as err:
        raise protocol.RequestError(str(err)) from err
    return None
