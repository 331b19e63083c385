"""The applied-objects store: apply's created / unchanged / configured, generations, owners."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from podbay.runtime.controllers.objects import LAST_APPLIED, ObjectError, ObjectStore, controller_uid


def deploy(image: str = "busybox:1", replicas: int = 2) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "b"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}}


def test_apply_is_idempotent_and_keeps_what_controllers_added(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects.db")
    outcome, obj = store.apply(deploy())
    assert outcome == "created" and obj["metadata"]["generation"] == 1 and obj["metadata"]["namespace"] == "default"
    assert LAST_APPLIED in obj["metadata"]["annotations"]
    obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"  # as the controller does
    store.update(obj)
    store.set_status(obj["metadata"]["uid"], {"replicas": 2})
    assert store.apply(deploy())[0] == "unchanged"
    outcome, changed = store.apply(deploy("busybox:2"))
    assert outcome == "configured" and changed["metadata"]["generation"] == 2
    assert changed["metadata"]["uid"] == obj["metadata"]["uid"]
    assert changed["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert changed["status"] == {"replicas": 2}
    relabelled = deploy("busybox:2")
    relabelled["metadata"]["labels"] = {"a": "c"}
    outcome, again = store.apply(relabelled)
    assert outcome == "configured" and again["metadata"]["generation"] == 2  # metadata only: no new generation


def test_owned_objects_and_names(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects.db")
    _, owner = store.apply(deploy())
    child = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
        "name": "web-abc", "ownerReferences": [{"uid": owner["metadata"]["uid"], "controller": True}]}, "spec": {}}
    made = store.create(copy.deepcopy(child))
    assert controller_uid(made) == owner["metadata"]["uid"]
    assert [o["metadata"]["name"] for o in store.owned_by(owner["metadata"]["uid"], "ReplicaSet")] == ["web-abc"]
    with pytest.raises(ObjectError, match='replicasets "web-abc" already exists'):
        store.create(child)
    store.delete(made["metadata"]["uid"])
    assert store.select("ReplicaSet") == []
