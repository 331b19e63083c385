"""The kubelet's phase and QoS rules, kubectl's STATUS column and table helpers, the gRPC health messages."""

from __future__ import annotations

from typing import Any

import pytest

from podbay.runtime.cli.table import human_duration, parse_duration, parse_selector, selects
from podbay.runtime.lifecycle import grpc_health
from podbay.runtime.lifecycle.status import phase, qos_class, summary
from tests.unit.specutil import loaded


def spec_of(yaml_text: str) -> Any:
    return loaded(yaml_text).spec


POD = """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  restartPolicy: %s
  initContainers: [{name: init, image: busybox}]
  containers: [{name: a, image: busybox}, {name: b, image: busybox}]
"""


def running() -> dict[str, Any]:
    return {"state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}, "ready": True}


def exited(code: int) -> dict[str, Any]:
    return {"state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}}


def crash_looping() -> dict[str, Any]:
    return {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": exited(1)["state"]}


@pytest.mark.parametrize(("policy", "a", "b", "expected"), [
    ("Always", running(), exited(0), "Running"),
    ("Always", exited(0), exited(0), "Running"),  # they will restart
    ("OnFailure", exited(0), exited(0), "Succeeded"),
    ("OnFailure", exited(0), exited(1), "Running"),
    ("Never", exited(0), exited(1), "Failed"),
    ("Never", exited(0), exited(0), "Succeeded"),
    ("Always", crash_looping(), running(), "Running"),
    ("Always", {"state": {"waiting": {"reason": "ContainerCreating"}}}, running(), "Pending"),
])
def test_phase_follows_the_kubelet(policy: str, a: dict[str, Any], b: dict[str, Any], expected: str) -> None:
    spec = spec_of(POD % policy)
    assert phase(spec, [exited(0)], [a, b]) == expected


def test_init_containers_keep_the_pod_pending_or_fail_it() -> None:
    assert phase(spec_of(POD % "Always"), [running()], [{}, {}]) == "Pending"
    assert phase(spec_of(POD % "Always"), [exited(1)], [{}, {}]) == "Pending"  # retried
    assert phase(spec_of(POD % "Never"), [exited(1)], [{}, {}]) == "Failed"


@pytest.mark.parametrize(("resources", "expected"), [
    ("{}", "BestEffort"),
    ("{limits: {cpu: 500m, memory: 64Mi}}", "Guaranteed"),  # requests default to limits
    ("{limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: 250m}}", "Burstable"),
    ("{requests: {memory: 64Mi}}", "Burstable"),
    ("{limits: {cpu: '1'}}", "Burstable"),
])
def test_qos_class(resources: str, expected: str) -> None:
    spec = spec_of(f"""
apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec:
  containers: [{{name: a, image: busybox, resources: {resources}}}]
""")
    assert qos_class(spec) == expected


def test_status_column_as_kubectl_prints_it() -> None:
    spec = {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]}
    initializing = {"waiting": {"reason": "PodInitializing"}}
    assert summary(spec, {"phase": "Pending", "initContainerStatuses": [exited(0), running()],
                          "containerStatuses": [{"state": initializing}]})[1] == "Init:1/2"
    assert summary(spec, {"phase": "Failed", "initContainerStatuses": [exited(2)]})[1] == "Init:Error"
    crashing = {**crash_looping(), "restartCount": 3,
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:00:05Z"}}}
    ready, status, restarts, last = summary(spec, {"phase": "Running", "initContainerStatuses": [exited(0), exited(0)],
                                                   "containerStatuses": [crashing]})
    assert (ready, status, restarts, last) == ("0/1", "CrashLoopBackOff", 3, "2026-01-01T00:00:05Z")
    assert summary(spec, {"phase": "Succeeded", "initContainerStatuses": [exited(0), exited(0)],
                          "containerStatuses": [exited(0)]})[1] == "Completed"
    assert summary(spec, {"phase": "Running", "containerStatuses": [running()]}, deleting=True)[1] == "Terminating"
    sidecar = {"initContainers": [{"name": "s", "restartPolicy": "Always"}], "containers": [{"name": "a"}]}
    started = {**running(), "started": True}
    assert summary(sidecar, {"phase": "Running", "initContainerStatuses": [started],
                             "containerStatuses": [running()]})[:2] == ("2/2", "Running")
    assert summary(spec, {"phase": "Failed", "reason": "DeadlineExceeded"})[1] == "DeadlineExceeded"


def test_human_duration_as_kubectl() -> None:
    cases = {0: "0s", 59: "59s", 119: "119s", 125: "2m5s", 600: "10m", 3 * 3600 + 60: "3h1m",
             10 * 3600: "10h", 50 * 3600: "2d2h", 10 * 86400: "10d", 3 * 365 * 86400: "3y"}
    assert {seconds: human_duration(seconds) for seconds in cases} == cases


def test_durations_and_selectors() -> None:
    assert parse_duration("1h30m") == 5400 and parse_duration("250ms") == 0.25
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration("5 minutes")
    requirements = parse_selector("app=web,tier in (a, b),!legacy,env!=prod")
    assert selects(requirements, {"app": "web", "tier": "b"})
    assert not selects(requirements, {"app": "web", "tier": "c"})
    assert not selects(requirements, {"app": "web", "tier": "a", "legacy": "1"})
    assert not selects(requirements, {"app": "web", "tier": "a", "env": "prod"})
    with pytest.raises(ValueError, match="unable to parse"):
        parse_selector("app=(")


def test_grpc_health_messages() -> None:
    assert grpc_health.request_message("") == b"\x00\x00\x00\x00\x00"
    assert grpc_health.request_message("db") == b"\x00\x00\x00\x00\x04\x0a\x02db"
    assert grpc_health.response_status(b"\x00\x00\x00\x00\x02\x08\x01") == 1
    assert grpc_health.response_status(b"\x00\x00\x00\x00\x02\x08\x02") == 2
    assert grpc_health.response_status(b"\x00\x00\x00\x00\x00") == 0
