"""``podbay events`` / ``get events`` over real stores: pods', workloads' and the node's events."""

from __future__ import annotations

import json
from pathlib import Path

from podbay.runtime.controllers.objects import ObjectStore
from podbay.runtime.controllers.static import NODE_EVENTS, node_name
from podbay.runtime.state.store import PodRecord, StateStore
from tests.unit.test_cli import podbay


def _stores(tmp_path: Path) -> list[str]:
    data, run = tmp_path / "data", tmp_path / "run"
    data.mkdir()
    run.mkdir()
    state = StateStore(run / "state.db")
    for namespace, name in (("default", "web"), ("team", "db")):
        state.add_pod(PodRecord(f"uid-{name}", namespace, name, {"kind": "Pod", "metadata": {"name": name}}, {}))
    state.record_event("uid-web", "Normal", "Pulled", 'Container image "busybox" already present on machine',
                       "spec.containers{main}")
    state.record_event("uid-web", "Warning", "BackOff", "Back-off restarting failed container main",
                       "spec.containers{main}")
    state.record_event("uid-web", "Warning", "BackOff", "Back-off restarting failed container main",
                       "spec.containers{main}")
    state.record_event("uid-db", "Normal", "Started", "Started container: db", "spec.containers{db}")
    state.record_event(NODE_EVENTS, "Warning", "FailedToLoadStaticPod", "bad.yaml: not a pod")
    state.record_event("uid-gone", "Normal", "Started", "an object that no longer exists")
    _, deployment = ObjectStore(data / "objects.db").apply(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
         "spec": {"selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}}})
    state.record_event(deployment["metadata"]["uid"], "Normal", "ScalingReplicaSet",
                       "Scaled up replica set web-abc to 1")
    return ["--root", str(data), "--runroot", str(run)]


def test_events_of_a_namespace_oldest_first_with_their_objects(tmp_path: Path) -> None:
    stores = _stores(tmp_path)
    listed = podbay(*stores, "get", "events")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    reasons = [line.split()[2] for line in lines[1:]]
    assert reasons == ["Pulled", "BackOff", "FailedToLoadStaticPod", "ScalingReplicaSet"]  # team's and gone's not
    assert "pod/web" in lines[2] and f"node/{node_name()}" in lines[3] and "deployment/web" in lines[4]
    everywhere = podbay(*stores, "events", "-A").stdout.splitlines()
    assert everywhere[0].split()[0] == "NAMESPACE" and any(line.startswith("team ") for line in everywhere)


def test_events_for_one_object_and_of_one_type(tmp_path: Path) -> None:
    stores = _stores(tmp_path)
    warnings = podbay(*stores, "events", "--types", "warning", "--for", "pod/web")
    assert warnings.returncode == 0, warnings.stderr
    assert [line.split()[2] for line in warnings.stdout.splitlines()[1:]] == ["BackOff"]
    as_json = json.loads(podbay(*stores, "events", "--for", "deploy/web", "-o", "json").stdout)
    (event,) = as_json["items"]
    assert event["involvedObject"]["kind"] == "Deployment" and event["involvedObject"]["apiVersion"] == "apps/v1"
    assert event["source"]["component"] == "deployment-controller" and event["count"] == 1
    backoff = json.loads(podbay(*stores, "get", "events", "-o", "json").stdout)["items"][1]
    assert backoff["count"] == 2 and backoff["involvedObject"]["fieldPath"] == "spec.containers{main}"


def test_bad_event_filters_are_clear_errors(tmp_path: Path) -> None:
    stores = _stores(tmp_path)
    for args, said in ((("events", "--for", "web"), "--for"), (("events", "--for", "widget/x"), "--for"),
                       (("events", "--types", "Fatal"), "only Normal and Warning"),
                       (("get", "events", "some-name"), "podbay events --for")):
        done = podbay(*stores, *args)
        assert done.returncode == 1 and said in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
