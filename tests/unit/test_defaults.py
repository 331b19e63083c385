"""Defaulting as the API server does it (see the table in podbay.runtime.spec.defaults)."""

import uuid

import pytest

from podbay.runtime.spec.defaults import image_pull_policy
from tests.unit.specutil import container, loaded, pod


def test_pod_spec_defaults() -> None:
    p = loaded(pod())
    spec = p.spec
    assert spec.restart_policy == "Always"
    assert spec.dns_policy == "ClusterFirst"
    assert spec.termination_grace_period_seconds == 30
    assert spec.scheduler_name == "default-scheduler"
    assert spec.enable_service_links is True
    assert spec.security_context is not None
    assert p.metadata.namespace == "default"
    uuid.UUID(p.metadata.uid)


def test_container_defaults() -> None:
    c = loaded(pod()).spec.containers[0]
    assert c.image_pull_policy == "IfNotPresent"
    assert c.termination_message_path == "/dev/termination-log"
    assert c.termination_message_policy == "File"
    assert c.resources is not None and not c.resources.limits


@pytest.mark.parametrize(("image", "policy"), [
    ("busybox", "Always"), ("busybox:latest", "Always"), ("busybox:1.36", "IfNotPresent"),
    ("localhost:5000/busybox", "Always"), ("localhost:5000/busybox:1", "IfNotPresent"),
    ("busybox@sha256:" + "a" * 64, "IfNotPresent"), ("busybox:latest@sha256:" + "a" * 64, "Always"),
])
def test_image_pull_policy(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_explicit_values_are_kept() -> None:
    p = loaded(pod(restartPolicy="Never", terminationGracePeriodSeconds=0,
                   containers=[container(image="busybox", imagePullPolicy="Never")]))
    assert p.spec.restart_policy == "Never"
    assert p.spec.termination_grace_period_seconds == 0
    assert p.spec.containers[0].image_pull_policy == "Never"


def test_probe_and_handler_defaults() -> None:
    c = loaded(pod(containers=[container(
        livenessProbe={"httpGet": {"port": 80}},
        readinessProbe={"grpc": {"port": 9000}},
        startupProbe={"exec": {"command": ["true"]}, "periodSeconds": 2},
        lifecycle={"preStop": {"httpGet": {"port": 80}}})])).spec.containers[0]
    live = c.liveness_probe
    assert (live.timeout_seconds, live.period_seconds, live.success_threshold, live.failure_threshold,
            live.initial_delay_seconds) == (1, 10, 1, 3, 0)
    assert (live.http_get.path, live.http_get.scheme) == ("/", "HTTP")
    assert c.readiness_probe.grpc.service == ""
    assert c.startup_probe.period_seconds == 2
    assert (c.lifecycle.pre_stop.http_get.path, c.lifecycle.pre_stop.http_get.scheme) == ("/", "HTTP")


def test_port_and_env_defaults() -> None:
    c = loaded(pod(containers=[container(
        ports=[{"containerPort": 80}],
        env=[{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])])).spec.containers[0]
    assert c.ports[0].protocol == "TCP"
    assert c.ports[0].host_port == 0
    assert c.env[0].value_from.field_ref.api_version == "v1"


def test_host_network_defaults_host_ports() -> None:
    c = loaded(pod(hostNetwork=True, containers=[container(ports=[{"containerPort": 8080}])])).spec.containers[0]
    assert c.ports[0].host_port == 8080


def test_requests_default_to_limits_and_round_up_to_milli() -> None:
    c = loaded(pod(containers=[container(resources={
        "limits": {"cpu": "0.0001", "memory": "128Mi"}, "requests": {"memory": "64Mi"}})])).spec.containers[0]
    assert str(c.resources.limits["cpu"]) == "1m"
    assert str(c.resources.requests["cpu"]) == "1m"
    assert str(c.resources.requests["memory"]) == "64Mi"


def test_pod_level_requests_default_from_containers_then_limits() -> None:
    spec = loaded(pod(resources={"limits": {"cpu": "2", "memory": "1Gi"}}, containers=[
        container(name="a", resources={"requests": {"cpu": "250m"}}),
        container(name="b", resources={"requests": {"cpu": "500m"}})])).spec
    assert str(spec.resources.requests["cpu"]) == "750m"
    assert str(spec.resources.requests["memory"]) == "1Gi"


def test_volume_defaults() -> None:
    volumes = loaded(pod(volumes=[
        {"name": "bare"},
        {"name": "hp", "hostPath": {"path": "/tmp"}},
        {"name": "s", "secret": {"secretName": "x"}},
        {"name": "cm", "configMap": {"name": "x"}},
        {"name": "d", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}},
        {"name": "pr", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        {"name": "img", "image": {"reference": "busybox:1.36"}},
    ])).spec.volumes
    assert volumes[0].empty_dir is not None
    assert volumes[1].host_path.type == ""
    assert [v.default_mode for v in (volumes[2].secret, volumes[3].config_map, volumes[4].downward_api,
                                     volumes[5].projected)] == [0o644] * 4
    assert volumes[4].downward_api.items[0].field_ref.api_version == "v1"
    assert volumes[5].projected.sources[0].service_account_token["expirationSeconds"] == 3600
    assert volumes[6].image.pull_policy == "IfNotPresent"


def test_claim_defaults() -> None:
    claim = loaded({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    assert claim.spec.volume_mode == "Filesystem"


def _template(restart: str = "Always") -> dict:
    return {"metadata": {"labels": {"app": "x"}},
            "spec": {"restartPolicy": restart, "containers": [{"name": "c", "image": "busybox:1.36"}]}}


def test_workload_defaults() -> None:
    selector = {"matchLabels": {"app": "x"}}
    deploy = loaded({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                     "spec": {"selector": selector, "template": _template()}}).spec
    assert (deploy.replicas, deploy.strategy.type, deploy.strategy.rolling_update.max_unavailable,
            deploy.strategy.rolling_update.max_surge, deploy.revision_history_limit,
            deploy.progress_deadline_seconds) == (1, "RollingUpdate", "25%", "25%", 10, 600)
    assert deploy.template.spec.dns_policy == "ClusterFirst"
    assert deploy.template.spec.enable_service_links is None  # a Pod-only default, as upstream
    sts = loaded({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
                  "spec": {"selector": selector, "template": _template()}}).spec
    assert (sts.replicas, sts.pod_management_policy, sts.update_strategy.type,
            sts.update_strategy.rolling_update.partition, sts.revision_history_limit,
            sts.persistent_volume_claim_retention_policy.when_deleted) == (1, "OrderedReady", "RollingUpdate",
                                                                            0, 10, "Retain")
    ds = loaded({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
                 "spec": {"selector": selector, "template": _template()}}).spec
    assert (ds.update_strategy.type, ds.update_strategy.rolling_update.max_unavailable,
            ds.update_strategy.rolling_update.max_surge) == ("RollingUpdate", 1, 0)
    rs = loaded({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
                 "spec": {"selector": selector, "template": _template()}}).spec
    assert rs.replicas == 1


def test_job_defaults_and_generated_selector() -> None:
    job = loaded({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
                  "spec": {"template": _template("Never")}})
    spec = job.spec
    assert (spec.completions, spec.parallelism, spec.backoff_limit, spec.completion_mode, spec.suspend,
            spec.manual_selector, spec.pod_replacement_policy) == (1, 1, 6, "NonIndexed", False, False,
                                                                   "TerminatingOrFailed")
    uid = job.metadata.uid
    assert spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert spec.template.metadata.labels["job-name"] == "j"
    assert spec.template.metadata.labels["batch.kubernetes.io/job-name"] == "j"
