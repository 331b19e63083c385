"""Requests and limits to cgroup v2 values, as the kubelet computes them (pure: no file is touched).

Sources (learned from, not copied): kubernetes ``pkg/kubelet/cm/helpers_linux.go`` (MilliCPUToShares,
MilliCPUToQuota, ResourceConfigForPod), ``pkg/kubelet/kuberuntime/kuberuntime_container_linux.go``
(a container's limits, ``memory.oom.group``), ``pkg/kubelet/qos/policy.go`` (oom_score_adj),
``k8s.io/component-helpers/resource`` (a pod's requests with init containers and sidecars), and
opencontainers/cgroups ``ConvertCPUSharesToCgroupV2Value`` (runc >= 1.3.2, crun >= 1.23: shares to
``cpu.weight`` by a quadratic in log2(shares) that keeps 2 -> 1, 1024 -> 100 and 262144 -> 10000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from podbay.runtime.lifecycle.status import is_sidecar, qos_class
from podbay.runtime.spec.pod import Container, Pod, PodSpec, ResourceRequirements, spec_of
from podbay.runtime.spec.quantity import Quantity

MIN_SHARES, SHARES_PER_CPU = 2, 1024
QUOTA_PERIOD, MIN_QUOTA = 100_000, 1_000  # microseconds
MAX_SHARES, MAX_WEIGHT = 262_144, 10_000
GUARANTEED_OOM_SCORE_ADJ, BESTEFFORT_OOM_SCORE_ADJ = -997, 1000
NODE_CRITICAL = "system-node-critical"


def milli_cpu_to_shares(milli: int) -> int:
    """cgroup v1 shares for a CPU request: 1024 per core, at least 2 (zero too: the kernel's minimum)."""
    return max(milli * SHARES_PER_CPU // 1000, MIN_SHARES)


def shares_to_weight(shares: int) -> int:
    """``cpu.weight`` for cgroup v1 shares, by the conversion current runc and crun use."""
    if shares <= 2:
        return 1
    if shares >= MAX_SHARES:
        return MAX_WEIGHT
    exponent = math.log2(shares)
    return math.ceil(10 ** ((exponent * exponent + 125 * exponent) / 612.0 - 7.0 / 34.0))


def milli_cpu_to_quota(milli: int) -> int:
    """The CFS quota in microseconds per 100 ms period for a CPU limit, at least 1 ms."""
    return max(milli * QUOTA_PERIOD // 1000, MIN_QUOTA)


@dataclass(frozen=True)
class Limits:
    """What one cgroup gets; None leaves the kernel's default (unlimited, weight 100)."""

    cpu_weight: int | None = None
    cpu_quota: int | None = None  # microseconds per QUOTA_PERIOD
    memory_max: int | None = None  # bytes
    swap_max: int | None = None  # bytes; 0 = no swap
    pids_max: int | None = None
    oom_group: bool = False
    wanted: dict[str, list[str]] = field(default_factory=dict)  # controller -> what needs it, for warnings

    def files(self) -> dict[str, str]:
        """Interface file -> value, in the order they are written."""
        out: dict[str, str] = {}
        if self.cpu_weight is not None:
            out["cpu.weight"] = str(self.cpu_weight)
        if self.cpu_quota is not None:
            out["cpu.max"] = f"{self.cpu_quota} {QUOTA_PERIOD}"
        if self.memory_max is not None:
            out["memory.max"] = str(self.memory_max)
        if self.swap_max is not None:
            out["memory.swap.max"] = str(self.swap_max)
        if self.oom_group:
            out["memory.oom.group"] = "1"
        if self.pids_max is not None:
            out["pids.max"] = str(self.pids_max)
        return out


def _amount(resources: ResourceRequirements | None, kind: str, name: str) -> Quantity | None:
    if resources is None:
        return None
    value = (resources.limits if kind == "limits" else resources.requests).get(name)
    return None if value is None or value.is_zero() else value


def _milli(quantity: Quantity | None) -> int:
    return quantity.milli_value() if quantity is not None else 0


def _bytes(quantity: Quantity | None) -> int:
    return quantity.int_value() if quantity is not None else 0


def pod_total(spec: PodSpec, kind: str, name: str, unit: str = "milli") -> int:
    """A pod's request or limit of one resource from its containers (component-helpers' PodRequests):
    app containers and sidecars add up; an init container needs its own amount plus the sidecars
    started before it; the pod needs the larger of the two."""
    value = _milli if unit == "milli" else _bytes
    apps = sum(value(_amount(c.resources, kind, name)) for c in spec.containers)
    sidecars = 0
    init_peak = 0
    for container in spec.init_containers:
        own = value(_amount(container.resources, kind, name))
        if is_sidecar(container):
            sidecars += own
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + own)
    return max(apps + sidecars, init_peak)


def _all_declare(spec: PodSpec, name: str) -> bool:
    return all(_amount(c.resources, "limits", name) is not None for c in spec.init_containers + spec.containers)


def pod_limits(pod: Pod, *, pids_limit: int | None = None) -> Limits:
    """The pod cgroup (ResourceConfigForPod): the weight of the summed CPU requests; the summed CPU and
    memory limits only when every container declares one (a container without a limit may use it
    all); pod-level ``spec.resources`` wins where it is set; the pods limit from the setting."""
    spec = spec_of(pod)
    qos = qos_class(spec)
    own = spec.resources
    cpu_request = _milli(_amount(own, "requests", "cpu")) or pod_total(spec, "requests", "cpu")
    cpu_limit = _milli(_amount(own, "limits", "cpu")) or (
        pod_total(spec, "limits", "cpu") if qos == "Guaranteed" or _all_declare(spec, "cpu") else 0)
    memory_limit = _bytes(_amount(own, "limits", "memory")) or (
        pod_total(spec, "limits", "memory", "bytes") if qos == "Guaranteed" or _all_declare(spec, "memory") else 0)
    weight = shares_to_weight(MIN_SHARES if qos == "BestEffort" else milli_cpu_to_shares(cpu_request))
    wanted: dict[str, list[str]] = {}  # the pod's own limits (the containers' are named with them)
    if _amount(own, "limits", "cpu") is not None:
        wanted.setdefault("cpu", []).append("CPU limit of the pod")
    if _amount(own, "limits", "memory") is not None:
        wanted.setdefault("memory", []).append("memory limit of the pod")
    if pids_limit is not None and pids_limit > 0:
        wanted.setdefault("pids", []).append("pids limit of the pod")
    return Limits(cpu_weight=weight, cpu_quota=milli_cpu_to_quota(cpu_limit) if cpu_limit else None,
                  memory_max=memory_limit or None,
                  pids_max=pids_limit if pids_limit is not None and pids_limit > 0 else None, wanted=wanted)


def container_limits(container: Container, *, swap_max: int | None = 0) -> Limits:
    """A container's cgroup (the kubelet's LinuxContainerResources on cgroup v2): weight from its CPU
    request, ``cpu.max`` from its CPU limit, ``memory.max`` from its memory limit, no swap (the kubelet's
    NoSwap) unless configured, and ``memory.oom.group`` so an OOM kill takes the whole container."""
    resources = container.resources
    cpu_limit = _milli(_amount(resources, "limits", "cpu"))
    memory_limit = _bytes(_amount(resources, "limits", "memory"))
    wanted: dict[str, list[str]] = {}
    if cpu_limit:
        wanted.setdefault("cpu", []).append(f"CPU limit of {container.name}")
    if _amount(resources, "requests", "cpu") is not None:
        wanted.setdefault("cpu", []).append(f"CPU request of {container.name}")
    if memory_limit:
        wanted.setdefault("memory", []).append(f"memory limit of {container.name}")
    return Limits(cpu_weight=shares_to_weight(milli_cpu_to_shares(_milli(_amount(resources, "requests", "cpu")))),
                  cpu_quota=milli_cpu_to_quota(cpu_limit) if cpu_limit else None,
                  memory_max=memory_limit or None, swap_max=swap_max, oom_group=True, wanted=wanted)


def oom_score_adj(pod: Pod, container: Container, memory_capacity: int) -> int:
    """The kubelet's GetContainerOOMScoreAdjust: node-critical and Guaranteed -997, BestEffort 1000,
    Burstable 1000 - 1000 * request / capacity kept within 3..999, a sidecar no higher than the
    regular container with the smallest request. Pod-level requests left over are shared out
    equally among the containers (the PodLevelResources rule)."""
    spec = spec_of(pod)
    if spec.priority_class_name == NODE_CRITICAL:
        return GUARANTEED_OOM_SCORE_ADJ
    qos = qos_class(spec)
    if qos == "Guaranteed":
        return GUARANTEED_OOM_SCORE_ADJ
    if qos == "BestEffort":
        return BESTEFFORT_OOM_SCORE_ADJ
    capacity = max(memory_capacity, 1)
    share = 0
    pod_request = _bytes(_amount(spec.resources, "requests", "memory"))
    if pod_request and spec.containers:
        share = max(pod_request - pod_total(spec, "requests", "memory", "bytes"), 0) // len(spec.containers)
    request = _bytes(_amount(container.resources, "requests", "memory")) + share
    adjust = 1000 - 1000 * request // capacity
    if is_sidecar(container) and container in spec.init_containers and spec.containers:
        smallest = min(_bytes(_amount(c.resources, "requests", "memory")) for c in spec.containers) + share
        adjust = min(adjust, 1000 - 1000 * smallest // capacity)
    if adjust < 1000 + GUARANTEED_OOM_SCORE_ADJ:
        return 1000 + GUARANTEED_OOM_SCORE_ADJ
    return adjust - 1 if adjust == BESTEFFORT_OOM_SCORE_ADJ else adjust
