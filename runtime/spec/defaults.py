"""Defaulting exactly as the API server does it, applied after decoding and before validation.

Each default below names its source in kubernetes/kubernetes:

========================================  ===========================  =============================================
field                                     default                      source
========================================  ===========================  =============================================
spec.restartPolicy                        Always                       pkg/apis/core/v1/defaults.go SetDefaults_PodSpec
spec.dnsPolicy                            ClusterFirst                 SetDefaults_PodSpec
spec.securityContext                      {}                           SetDefaults_PodSpec
spec.terminationGracePeriodSeconds        30                           SetDefaults_PodSpec
spec.schedulerName                        default-scheduler            SetDefaults_PodSpec
spec.enableServiceLinks (Pod only)        true                         SetDefaults_Pod
ports[].hostPort with hostNetwork         = containerPort              SetDefaults_Pod (defaultHostNetworkPorts)
containers[].resources.requests           = limits where unset         SetDefaults_Pod
spec.resources.requests (pod level)       = limits where unset         SetDefaults_Pod (defaultPodRequests)
resources quantities                      rounded up to milli          SetDefaults_ResourceList
imagePullPolicy                           Always if :latest or no      SetDefaults_Container
                                          tag, else IfNotPresent
terminationMessagePath                    /dev/termination-log         SetDefaults_Container
terminationMessagePolicy                  File                         SetDefaults_Container
resources                                 {}                           Container.Resources is a struct, not a pointer
ports[].protocol                          TCP                          k8s.io/api/core/v1 +default="TCP"
probe timeout/period/success/failure      1 / 10 / 1 / 3               SetDefaults_Probe
httpGet path / scheme                     / and HTTP                   SetDefaults_HTTPGetAction
grpc.service                              ""                           k8s.io/api/core/v1 GRPCAction +default=""
fieldRef.apiVersion                       v1                           SetDefaults_ObjectFieldSelector
volume with no source                     emptyDir: {}                 SetDefaults_Volume
image volume pullPolicy                   as imagePullPolicy           SetDefaults_Volume
hostPath.type                             "" (no check)                SetDefaults_HostPathVolumeSource
secret/configMap/downwardAPI/projected    defaultMode 0644 (420)       SetDefaults_*VolumeSource
  volumes
serviceAccountToken.expirationSeconds     3600                         SetDefaults_ServiceAccountTokenProjection
Secret type                               Opaque                       SetDefaults_Secret
PVC spec.volumeMode                       Filesystem                   SetDefaults_PersistentVolumeClaimSpec
metadata.namespace                        default                      kubectl (clients fill it in)
metadata.uid                              a random UUID                the API server on create
Deployment replicas / strategy /          1 / RollingUpdate 25% 25%    pkg/apis/apps/v1/defaults.go
  revisionHistoryLimit / progress...      / 10 / 600                     SetDefaults_Deployment
ReplicaSet replicas                       1                            SetDefaults_ReplicaSet
StatefulSet replicas / podManagement /    1 / OrderedReady /           SetDefaults_StatefulSet
  updateStrategy / revisionHistoryLimit   RollingUpdate partition 0
  / PVC retention                         / 10 / Retain, Retain
DaemonSet updateStrategy /                RollingUpdate maxUnavailable SetDefaults_DaemonSet
  revisionHistoryLimit                    1 maxSurge 0 / 10
Job parallelism / completions /           1 / 1 (when both unset) /    pkg/apis/batch/v1/defaults.go SetDefaults_Job
  backoffLimit / completionMode /         6 / NonIndexed / false /
  suspend / podReplacementPolicy /        TerminatingOrFailed
  manualSelector                          / false
Job selector and pod labels               controller-uid and job-name  pkg/registry/batch/job/strategy.go
                                                                         generateSelector
========================================  ===========================  =============================================
"""

from __future__ import annotations

import uuid
from typing import Any

from podbay.runtime.spec.meta import LabelSelector, ObjectMeta
from podbay.runtime.spec.objects import PersistentVolumeClaim, Secret
from podbay.runtime.spec.pod import (
    VOLUME_SOURCES,
    Container,
    EmptyDirVolumeSource,
    HTTPGetAction,
    ObjectFieldSelector,
    Pod,
    PodSecurityContext,
    PodSpec,
    Probe,
    ResourceRequirements,
    Volume,
)
from podbay.runtime.spec.quantity import Quantity
from podbay.runtime.spec.schema import fields_of
from podbay.runtime.spec.workloads import (
    DaemonSet,
    DaemonSetUpdateStrategy,
    Deployment,
    DeploymentStrategy,
    Job,
    PodTemplateSpec,
    ReplicaSet,
    RollingUpdateDaemonSet,
    RollingUpdateDeployment,
    RollingUpdateStatefulSetStrategy,
    StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetUpdateStrategy,
)

DEFAULT_NAMESPACE = "default"
DEFAULT_FILE_MODE = 0o644
JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def default_object(obj: Any) -> None:
    """Fill in every default of a decoded object, in place."""
    meta = obj.metadata = obj.metadata or ObjectMeta()
    meta.namespace = meta.namespace or DEFAULT_NAMESPACE
    meta.uid = meta.uid or str(uuid.uuid4())
    if isinstance(obj, Pod):
        obj.spec = obj.spec or PodSpec()
        default_pod_spec(obj.spec)
        _default_pod_only(obj.spec)
    elif isinstance(obj, Secret):
        obj.type = obj.type or "Opaque"
    elif isinstance(obj, PersistentVolumeClaim):
        if obj.spec is not None and obj.spec.volume_mode is None:
            obj.spec.volume_mode = "Filesystem"
    elif isinstance(obj, Deployment | ReplicaSet | StatefulSet | DaemonSet | Job):
        _default_workload(obj)


def image_pull_policy(image: str) -> str:
    """Always for ``:latest`` or no tag, else IfNotPresent (a bare digest pins, as in parsers.ParseImageName)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if "@" in image and not tag:
        return "IfNotPresent"
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def default_pod_spec(spec: PodSpec) -> None:
    """SetDefaults_PodSpec and everything nested in it (also for pod templates)."""
    spec.dns_policy = spec.dns_policy or "ClusterFirst"
    spec.restart_policy = spec.restart_policy or "Always"
    spec.security_context = spec.security_context or PodSecurityContext()
    if spec.termination_grace_period_seconds is None:
        spec.termination_grace_period_seconds = 30
    spec.scheduler_name = spec.scheduler_name or "default-scheduler"
    for _, _, container in spec.all_containers():
        _default_container(container)
    for volume in spec.volumes:
        _default_volume(volume)
    for resources in _all_resources(spec):
        for table in (resources.limits, resources.requests):
            for key, value in table.items():
                table[key] = value.round_up(-3)


def _all_resources(spec: PodSpec) -> list[ResourceRequirements]:
    found = [c.resources for _, _, c in spec.all_containers() if c.resources is not None]
    return found + ([spec.resources] if spec.resources is not None else [])


def _default_pod_only(spec: PodSpec) -> None:
    """SetDefaults_Pod: defaults that apply to Pods but not to templates."""
    if spec.enable_service_links is None:
        spec.enable_service_links = True
    for container in spec.init_containers + spec.containers:
        resources = container.resources
        if resources is not None:
            for key, value in resources.limits.items():
                resources.requests.setdefault(key, value)
        if spec.host_network:
            for port in container.ports:
                port.host_port = port.host_port or port.container_port
    pod = spec.resources
    if pod is not None and pod.limits:
        # defaultPodRequests: the containers' effective requests where they set any, else the pod limit.
        for key, value in effective_requests(spec).items():
            pod.requests.setdefault(key, value)
        for key, value in pod.limits.items():
            pod.requests.setdefault(key, value)


def effective_requests(spec: PodSpec) -> dict[str, Quantity]:
    """The pod's effective cpu/memory requests (resourcehelper.AggregateContainerRequests).

    App containers and sidecars run together, so their requests add up; a plain init
    container runs alone beside the sidecars started before it, so the larger wins.
    """
    def requests(container: Container) -> dict[str, Quantity]:
        found = container.resources.requests if container.resources else {}
        return {k: v for k, v in found.items() if k in ("cpu", "memory")}

    total: dict[str, Quantity] = {}
    peak: dict[str, Quantity] = {}
    sidecars: dict[str, Quantity] = {}
    for init in spec.init_containers:
        if init.restart_policy == "Always":
            for key, value in requests(init).items():
                sidecars[key] = sidecars[key] + value if key in sidecars else value
                total[key] = total[key] + value if key in total else value
        else:
            for key, value in requests(init).items():
                running = value + sidecars[key] if key in sidecars else value
                peak[key] = max(peak.get(key, running), running)
    for container in spec.containers:
        for key, value in requests(container).items():
            total[key] = total[key] + value if key in total else value
    for key, value in peak.items():
        total[key] = max(total.get(key, value), value)
    return total


def _default_container(container: Container) -> None:
    if not container.image_pull_policy:
        container.image_pull_policy = image_pull_policy(container.image)
    container.termination_message_path = container.termination_message_path or "/dev/termination-log"
    container.termination_message_policy = container.termination_message_policy or "File"
    container.resources = container.resources or ResourceRequirements()
    for port in container.ports:
        port.protocol = port.protocol or "TCP"
    for probe in (container.liveness_probe, container.readiness_probe, container.startup_probe):
        if probe is not None:
            _default_probe(probe)
    if container.lifecycle is not None:
        for hook in (container.lifecycle.post_start, container.lifecycle.pre_stop):
            if hook is not None and hook.http_get is not None:
                _default_http_get(hook.http_get)
    for env in container.env:
        if env.value_from is not None and env.value_from.field_ref is not None:
            _default_field_ref(env.value_from.field_ref)


def _default_probe(probe: Probe) -> None:
    probe.timeout_seconds = probe.timeout_seconds or 1
    probe.period_seconds = probe.period_seconds or 10
    probe.success_threshold = probe.success_threshold or 1
    probe.failure_threshold = probe.failure_threshold or 3
    if probe.http_get is not None:
        _default_http_get(probe.http_get)
    if probe.grpc is not None and probe.grpc.service is None:
        probe.grpc.service = ""


def _default_http_get(action: HTTPGetAction) -> None:
    action.path = action.path or "/"
    action.scheme = action.scheme or "HTTP"


def _default_field_ref(ref: ObjectFieldSelector) -> None:
    ref.api_version = ref.api_version or "v1"


def _default_volume(volume: Volume) -> None:
    if not volume_sources(volume):
        volume.empty_dir = EmptyDirVolumeSource()
    if volume.host_path is not None and volume.host_path.type is None:
        volume.host_path.type = ""
    for source in (volume.secret, volume.config_map, volume.downward_api, volume.projected):
        if source is not None and source.default_mode is None:
            source.default_mode = DEFAULT_FILE_MODE
    if volume.image is not None and not volume.image.pull_policy:
        volume.image.pull_policy = image_pull_policy(volume.image.reference)
    if volume.downward_api is not None:
        for item in volume.downward_api.items:
            if item.field_ref is not None:
                _default_field_ref(item.field_ref)
    if volume.projected is not None:
        for projection in volume.projected.sources:
            if isinstance(projection.service_account_token, dict):
                projection.service_account_token.setdefault("expirationSeconds", 3600)
            if projection.downward_api is not None:
                for item in projection.downward_api.items:
                    if item.field_ref is not None:
                        _default_field_ref(item.field_ref)


def volume_sources(volume: Volume) -> list[str]:
    """The JSON names of the sources a volume sets."""
    info = fields_of(Volume)
    return [key for key in VOLUME_SOURCES if getattr(volume, info[key].name) is not None]


def _default_template(template: PodTemplateSpec | None) -> None:
    if template is not None:
        template.spec = template.spec or PodSpec()
        default_pod_spec(template.spec)


def _default_workload(obj: Deployment | ReplicaSet | StatefulSet | DaemonSet | Job) -> None:
    spec = obj.spec
    if spec is None:
        return
    _default_template(spec.template)
    if isinstance(obj, Deployment):
        d = obj.spec
        assert d is not None
        d.replicas = 1 if d.replicas is None else d.replicas
        d.strategy = d.strategy or DeploymentStrategy()
        d.strategy.type = d.strategy.type or "RollingUpdate"
        if d.strategy.type == "RollingUpdate":
            rolling = d.strategy.rolling_update = d.strategy.rolling_update or RollingUpdateDeployment()
            rolling.max_unavailable = "25%" if rolling.max_unavailable is None else rolling.max_unavailable
            rolling.max_surge = "25%" if rolling.max_surge is None else rolling.max_surge
        d.revision_history_limit = 10 if d.revision_history_limit is None else d.revision_history_limit
        if d.progress_deadline_seconds is None:
            d.progress_deadline_seconds = 600
    elif isinstance(obj, ReplicaSet):
        r = obj.spec
        assert r is not None
        r.replicas = 1 if r.replicas is None else r.replicas
    elif isinstance(obj, StatefulSet):
        s = obj.spec
        assert s is not None
        s.replicas = 1 if s.replicas is None else s.replicas
        s.pod_management_policy = s.pod_management_policy or "OrderedReady"
        s.update_strategy = s.update_strategy or StatefulSetUpdateStrategy()
        s.update_strategy.type = s.update_strategy.type or "RollingUpdate"
        if s.update_strategy.type == "RollingUpdate":
            rolling_set = s.update_strategy.rolling_update or RollingUpdateStatefulSetStrategy()
            rolling_set.partition = 0 if rolling_set.partition is None else rolling_set.partition
            s.update_strategy.rolling_update = rolling_set
        s.revision_history_limit = 10 if s.revision_history_limit is None else s.revision_history_limit
        policy = s.persistent_volume_claim_retention_policy or StatefulSetPersistentVolumeClaimRetentionPolicy()
        policy.when_deleted = policy.when_deleted or "Retain"
        policy.when_scaled = policy.when_scaled or "Retain"
        s.persistent_volume_claim_retention_policy = policy
        for claim in s.volume_claim_templates:
            if claim.spec is not None and claim.spec.volume_mode is None:
                claim.spec.volume_mode = "Filesystem"
    elif isinstance(obj, DaemonSet):
        ds = obj.spec
        assert ds is not None
        ds.update_strategy = ds.update_strategy or DaemonSetUpdateStrategy()
        ds.update_strategy.type = ds.update_strategy.type or "RollingUpdate"
        if ds.update_strategy.type == "RollingUpdate":
            rolling_ds = ds.update_strategy.rolling_update or RollingUpdateDaemonSet()
            rolling_ds.max_unavailable = 1 if rolling_ds.max_unavailable is None else rolling_ds.max_unavailable
            rolling_ds.max_surge = 0 if rolling_ds.max_surge is None else rolling_ds.max_surge
            ds.update_strategy.rolling_update = rolling_ds
        ds.revision_history_limit = 10 if ds.revision_history_limit is None else ds.revision_history_limit
    elif isinstance(obj, Job):
        _default_job(obj)


def _default_job(job: Job) -> None:
    spec = job.spec
    assert spec is not None and job.metadata is not None
    if spec.completions is None and spec.parallelism is None:
        spec.completions = 1
    if spec.parallelism is None:
        spec.parallelism = 1
    if spec.backoff_limit is None:
        spec.backoff_limit = 6
    spec.completion_mode = spec.completion_mode or "NonIndexed"
    spec.suspend = bool(spec.suspend)
    spec.manual_selector = bool(spec.manual_selector)
    spec.pod_replacement_policy = spec.pod_replacement_policy or (
        "Failed" if spec.pod_failure_policy else "TerminatingOrFailed")
    for rule in spec.pod_failure_policy.rules if spec.pod_failure_policy else []:
        for pattern in rule.on_pod_conditions:
            pattern.status = pattern.status or "True"
    if not spec.manual_selector and spec.selector is None and spec.template is not None:
        uid, name = job.metadata.uid, job.metadata.name
        labels = {JOB_CONTROLLER_UID_LABEL: uid, JOB_NAME_LABEL: name, "controller-uid": uid, "job-name": name}
        template_meta = spec.template.metadata = spec.template.metadata or ObjectMeta()
        template_meta.labels = {**template_meta.labels, **labels}
        spec.selector = LabelSelector(match_labels={JOB_CONTROLLER_UID_LABEL: uid})
