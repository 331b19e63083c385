"""The Python API's workload rows and texts (what the TUI's workloads view shows), over real stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podbay.runtime.api import ApiError, Runtime, workload_counts
from podbay.runtime.cli.workloads import pods_selector
from podbay.runtime.controllers.objects import ObjectStore
from podbay.runtime.paths import Paths
from podbay.runtime.state.store import StateStore


def _object(kind: str, spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "x"}, "spec": spec, "status": status}


def test_counts_alike_for_every_kind() -> None:
    rolling = {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    assert workload_counts(_object("Deployment", {"replicas": 3}, rolling)) == ("2/3", "3", "2", "Progressing")
    done = {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3}
    assert workload_counts(_object("Deployment", {"replicas": 3}, done)) == ("3/3", "3", "3", "Ready")
    stuck = {**rolling, "conditions": [{"type": "Progressing", "status": "False",
                                        "reason": "ProgressDeadlineExceeded"}]}
    assert workload_counts(_object("Deployment", {"replicas": 3}, stuck))[3] == "ProgressDeadlineExceeded"
    assert workload_counts(_object("ReplicaSet", {"replicas": 1}, {"replicas": 1, "readyReplicas": 1,
                                                                   "availableReplicas": 1})) == ("1/1", "-", "1",
                                                                                                 "Ready")
    daemon = {"desiredNumberScheduled": 1, "numberReady": 0, "updatedNumberScheduled": 1, "numberAvailable": 0}
    assert workload_counts(_object("DaemonSet", {}, daemon)) == ("0/1", "1", "0", "Progressing")
    job = {"succeeded": 2, "conditions": [{"type": "Complete", "status": "True"}]}
    assert workload_counts(_object("Job", {"completions": 2}, job)) == ("2/2", "-", "-", "Complete")


def test_pods_selectors_in_the_filters_syntax() -> None:
    deployment = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"selector": {
        "matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}}}
    assert pods_selector(deployment) == "app=web,tier in (a,b)"
    assert pods_selector({"kind": "Job", "metadata": {"name": "batch"}, "spec": {}}) == "job-name=batch"


def test_rows_describe_and_yaml_from_the_stores(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "data", tmp_path / "run")
    paths.data_dir.mkdir()
    paths.run_dir.mkdir()
    runtime = Runtime(paths)
    assert runtime.workloads() == []  # no objects store yet: none, and reading does not create one
    assert not (paths.data_dir / "objects.db").exists()
    _, deployment = ObjectStore(paths.data_dir / "objects.db").apply(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}}})
    ObjectStore(paths.data_dir / "objects.db").apply({"apiVersion": "v1", "kind": "ConfigMap",
                                                      "metadata": {"name": "settings"}, "data": {"a": "1"}})
    StateStore(paths.run_dir / "state.db").record_event(deployment["metadata"]["uid"], "Normal",
                                                        "ScalingReplicaSet", "Scaled up replica set web-abc to 2")
    (row,) = runtime.workloads()  # the ConfigMap is not a workload
    assert (row.kind, row.namespace, row.name, row.ready, row.pods) == ("Deployment", "default", "web", "0/2",
                                                                        "app=web")
    assert row.created > 0
    described = runtime.describe_workload("Deployment", "default", "web")
    assert "Selector:" in described and "app=web" in described and "ScalingReplicaSet" in described
    assert "kind: Deployment" in runtime.workload_yaml("Deployment", "default", "web")
    with pytest.raises(ApiError, match='Deployment "gone" not found in namespace "default"'):
        runtime.describe_workload("Deployment", "default", "gone")
