"""Which Kubernetes kinds podbay models, which it knows but does not run, and their short names."""

from __future__ import annotations

from podbay.runtime.spec.objects import ConfigMap, PersistentVolumeClaim, Secret
from podbay.runtime.spec.pod import Pod
from podbay.runtime.spec.workloads import DaemonSet, Deployment, Job, ReplicaSet, StatefulSet

# (apiVersion, kind) -> model class.
KINDS: dict[tuple[str, str], type] = {
    ("v1", "Pod"): Pod,
    ("v1", "ConfigMap"): ConfigMap,
    ("v1", "Secret"): Secret,
    ("v1", "PersistentVolumeClaim"): PersistentVolumeClaim,
    ("apps/v1", "Deployment"): Deployment,
    ("apps/v1", "ReplicaSet"): ReplicaSet,
    ("apps/v1", "StatefulSet"): StatefulSet,
    ("apps/v1", "DaemonSet"): DaemonSet,
    ("batch/v1", "Job"): Job,
}

# Kubernetes kinds that are valid but that podbay does not run: kind -> API groups ("" is core).
SKIPPED_KINDS: dict[str, tuple[str, ...]] = {
    "Service": ("",), "Endpoints": ("",), "Namespace": ("",), "ServiceAccount": ("",), "Node": ("",),
    "PersistentVolume": ("",), "LimitRange": ("",), "ResourceQuota": ("",), "Event": ("", "events.k8s.io"),
    "ReplicationController": ("",), "PodTemplate": ("",), "Binding": ("",), "ComponentStatus": ("",),
    "ControllerRevision": ("apps",), "CronJob": ("batch",),
    "HorizontalPodAutoscaler": ("autoscaling",), "PodDisruptionBudget": ("policy",),
    "Ingress": ("networking.k8s.io",), "IngressClass": ("networking.k8s.io",),
    "NetworkPolicy": ("networking.k8s.io",), "EndpointSlice": ("discovery.k8s.io",),
    "Role": ("rbac.authorization.k8s.io",), "ClusterRole": ("rbac.authorization.k8s.io",),
    "RoleBinding": ("rbac.authorization.k8s.io",), "ClusterRoleBinding": ("rbac.authorization.k8s.io",),
    "StorageClass": ("storage.k8s.io",), "CSIDriver": ("storage.k8s.io",), "CSINode": ("storage.k8s.io",),
    "VolumeAttachment": ("storage.k8s.io",), "PriorityClass": ("scheduling.k8s.io",),
    "RuntimeClass": ("node.k8s.io",), "Lease": ("coordination.k8s.io",),
    "CustomResourceDefinition": ("apiextensions.k8s.io",),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io",),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io",),
    "ValidatingAdmissionPolicy": ("admissionregistration.k8s.io",),
    "ValidatingAdmissionPolicyBinding": ("admissionregistration.k8s.io",),
    "CertificateSigningRequest": ("certificates.k8s.io",),
    "APIService": ("apiregistration.k8s.io",), "FlowSchema": ("flowcontrol.apiserver.k8s.io",),
    "PriorityLevelConfiguration": ("flowcontrol.apiserver.k8s.io",),
    "Gateway": ("gateway.networking.k8s.io",), "HTTPRoute": ("gateway.networking.k8s.io",),
    "GatewayClass": ("gateway.networking.k8s.io",), "GRPCRoute": ("gateway.networking.k8s.io",),
}

# Names kubectl accepts for the kinds podbay models (singular, plural, short).
ALIASES: dict[str, str] = {}
for _kind, _names in {
    "Pod": ("pod", "pods", "po"),
    "ConfigMap": ("configmap", "configmaps", "cm"),
    "Secret": ("secret", "secrets"),
    "PersistentVolumeClaim": ("persistentvolumeclaim", "persistentvolumeclaims", "pvc"),
    "Deployment": ("deployment", "deployments", "deploy"),
    "ReplicaSet": ("replicaset", "replicasets", "rs"),
    "StatefulSet": ("statefulset", "statefulsets", "sts"),
    "DaemonSet": ("daemonset", "daemonsets", "ds"),
    "Job": ("job", "jobs"),
}.items():
    for _name in _names:
        ALIASES[_name] = _kind


def api_group(api_version: str) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` -> ``""`` (the core group)."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def model_for(kind: str) -> tuple[str, type] | None:
    """The apiVersion and model class of a kind name or alias (case-insensitive)."""
    canonical = ALIASES.get(kind.lower())
    for (api_version, name), cls in KINDS.items():
        if name == canonical:
            return api_version, cls
    return None
