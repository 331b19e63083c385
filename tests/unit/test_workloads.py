"""Validation of ConfigMaps, Secrets, claims and the workload resources."""

from typing import Any

import pytest

from tests.unit.specutil import errors, warnings


def workload(kind: str, api: str = "apps/v1", restart: str = "Always", labels: dict | None = None,
             **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "x"}},
        "template": {"metadata": {"labels": labels if labels is not None else {"app": "x"}},
                     "spec": {"restartPolicy": restart, "containers": [{"name": "c", "image": "busybox:1.36"}]}},
    }
    body.update(spec)
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "w"}, "spec": body}


def job(**spec: Any) -> dict[str, Any]:
    manifest = workload("Job", "batch/v1", restart="Never", **spec)
    del manifest["spec"]["selector"]
    return manifest


CASES = [
    ("selector mismatch", workload("Deployment", labels={"app": "y"}),
     'spec.template.metadata.labels: Invalid value: {"app": "y"}: `selector` does not match template `labels`'),
    ("selector required", {**workload("ReplicaSet"), "spec": {"template": workload("ReplicaSet")["spec"]["template"]}},
     "spec.selector: Required value"),
    ("empty selector", workload("DaemonSet", selector={}),
     "spec.selector: Invalid value: {}: empty selector is invalid for daemonset"),
    ("selector operator", workload("ReplicaSet", selector={"matchExpressions": [{"key": "app", "operator": "Is"}]}),
     'spec.selector.matchExpressions[0].operator: Unsupported value: "Is"'),
    ("template restart policy", workload("Deployment", restart="Never"),
     'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'),
    ("negative replicas", workload("Deployment", replicas=-1),
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    ("template deadline", workload("ReplicaSet", template={
        "metadata": {"labels": {"app": "x"}},
        "spec": {"activeDeadlineSeconds": 5, "containers": [{"name": "c", "image": "busybox"}]}}),
     "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"),
    ("template pod spec", workload("Deployment", template={
        "metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c"}]}}),
     "spec.template.spec.containers[0].image: Required value"),
    ("strategy type", workload("Deployment", strategy={"type": "BlueGreen"}),
     'spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"'),
    ("recreate rolling", workload("Deployment", strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
     "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"),
    ("surge and unavailable zero", workload("Deployment", strategy={"rollingUpdate": {"maxSurge": 0,
                                                                                       "maxUnavailable": "0%"}}),
     'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'),
    ("percent format", workload("Deployment", strategy={"rollingUpdate": {"maxSurge": "ten"}}),
     'spec.strategy.rollingUpdate.maxSurge: Invalid value: "ten": a valid percent string must be'),
    ("percent range", workload("Deployment", strategy={"rollingUpdate": {"maxSurge": "150%"}}),
     'spec.strategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%'),
    ("progress deadline", workload("Deployment", minReadySeconds=700),
     "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"),
    ("pod management", workload("StatefulSet", podManagementPolicy="Random"),
     'spec.podManagementPolicy: Unsupported value: "Random"'),
    ("sts claim", workload("StatefulSet", volumeClaimTemplates=[{"metadata": {"name": "d"}, "spec": {}}]),
     "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required"),
    ("ds strategy", workload("DaemonSet", updateStrategy={"type": "Rolling"}),
     'spec.updateStrategy.type: Unsupported value: "Rolling"'),
    ("job restart policy", job(template={"spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
     'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'),
    ("job completions", job(completions=-1), "spec.completions: Invalid value: -1: must be greater than or equal"),
    ("job indexed", job(completionMode="Indexed", parallelism=2),
     "spec.completions: Required value: when completion mode is Indexed"),
    ("job mode", job(completionMode="Sorted"), 'spec.completionMode: Unsupported value: "Sorted"'),
    ("job selector", {**job(), "spec": {**job()["spec"], "selector": {"matchLabels": {"app": "x"}}}},
     'spec.selector: Invalid value: {"app": "x"}: `selector` not auto-generated'),
    ("failure policy restart", job(template={"spec": {"restartPolicy": "OnFailure", "containers": [
        {"name": "c", "image": "busybox"}]}}, podFailurePolicy={"rules": [
            {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [1]}}]}),
     'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when '
     "podFailurePolicy is specified"),
    ("failure policy action", job(podFailurePolicy={"rules": [
        {"action": "Retry", "onExitCodes": {"operator": "In", "values": [1]}}]}),
     'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry"'),
    ("failure policy neither", job(podFailurePolicy={"rules": [{"action": "Count"}]}),
     "spec.podFailurePolicy.rules[0]: Invalid value: null: specifying one of OnExitCodes and OnPodConditions is "
     "required"),
    ("failure policy zero", job(podFailurePolicy={"rules": [
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [0, 3]}}]}),
     "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator"),
    ("failure policy order", job(podFailurePolicy={"rules": [
        {"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [5, 3]}}]}),
     "spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 3: must be ordered"),
    ("failure policy container", job(podFailurePolicy={"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "nope", "operator": "In", "values": [3]}}]}),
     'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the '
     "container or initContainer names in the pod template"),
    ("failure policy status", job(podFailurePolicy={"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "Maybe"}]}]}),
     'spec.podFailurePolicy.rules[0].onPodConditions[0].status: Unsupported value: "Maybe"'),
    ("configmap key", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a b": "x"}},
     'data: Invalid value: "a b": a valid config key must consist of alphanumeric characters'),
    ("configmap duplicate", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                             "data": {"a": "x"}, "binaryData": {"a": "eA=="}},
     'binaryData[a]: Invalid value: "a": duplicate of key present in data'),
    ("configmap value type", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                              "data": {"enabled": True}},
     "data[enabled]: Invalid type: true: expected a string, got a boolean"),
    ("tls secret", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "kubernetes.io/tls",
                    "stringData": {"tls.crt": "x"}},
     "data[tls.key]: Required value"),
    ("claim size", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
                    "spec": {"accessModes": ["ReadWriteOnce"]}},
     "spec.resources[storage]: Required value"),
    ("claim mode", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
                    "spec": {"accessModes": ["WriteMany"], "resources": {"requests": {"storage": "1Gi"}}}},
     'spec.accessModes[0]: Unsupported value: "WriteMany"'),
]


@pytest.mark.parametrize(("manifest", "expected"), [(m, e) for _, m, e in CASES], ids=[n for n, _, _ in CASES])
def test_rule(manifest: dict[str, Any], expected: str) -> None:
    found = errors(manifest)
    assert any(expected in message for message in found), found


@pytest.mark.parametrize("manifest", [
    workload("Deployment"), workload("ReplicaSet"), workload("DaemonSet"), workload("StatefulSet"), job(),
    job(completionMode="Indexed", completions=3, parallelism=2),
    workload("Deployment", strategy={"type": "Recreate"}),
    workload("StatefulSet", volumeClaimTemplates=[{"metadata": {"name": "d"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]),
    {**job(), "spec": {**job()["spec"], "manualSelector": True, "selector": {"matchLabels": {"app": "x"}}}},
    job(podFailurePolicy={"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42, 43]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [0, 1]}}]}),
])
def test_valid_workloads(manifest: dict[str, Any]) -> None:
    assert errors(manifest) == []


def test_statefulset_settings_podbay_does_not_carry_out_are_warned_of() -> None:
    manifest = workload("StatefulSet", ordinals={"start": 5},
                        persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete", "whenScaled": "Retain"})
    assert errors(manifest) == []
    said = warnings(manifest)
    assert any("persistentVolumeClaimRetentionPolicy.whenDeleted" in w and "podbay volume rm" in w for w in said)
    assert not any("whenScaled" in w for w in said)
    assert any("ordinals.start" in w and "from 0" in w for w in said)
