"""A pod's status as the kubelet reports it, and the summary kubectl prints from it.

Container statuses are plain dicts in the API's shape (``state``, ``lastState``, ``ready``,
``started``, ``restartCount`` ...), so ``get -o yaml`` shows exactly what the store holds.
The phase follows the kubelet's ``getPhase``; the STATUS column follows kubectl's pod printer
(``Init:1/2``, ``CrashLoopBackOff``, ``Completed``, ``Terminating``).
"""

from __future__ import annotations

import datetime
from typing import Any

from podbay.runtime.spec.pod import Container, PodSpec

Status = dict[str, Any]


def now_text(moment: float | None = None) -> str:
    """An API timestamp (RFC 3339, seconds, UTC)."""
    when = datetime.datetime.now(datetime.UTC) if moment is None else \
        datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> float:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC).timestamp()


# podbay's own condition types (Kubernetes allows extra ones): limits this host cannot enforce, and a
# pod frozen by `podbay pause`.
LIMITS_CONDITION = "podbay.io/ResourcesEnforced"
PAUSED_CONDITION = "podbay.io/Paused"


def is_sidecar(container: Container) -> bool:
    return container.restart_policy == "Always"


# --- QoS -------------------------------------------------------------------------------------


def qos_class(spec: PodSpec) -> str:
    """Kubernetes' GetPodQOS over cpu and memory: BestEffort with no requests or limits at all,
    Guaranteed when every container limits both and requests equal limits, else Burstable."""
    compute = ("cpu", "memory")
    own = spec.resources  # pod-level resources, where set, decide (the PodLevelResources rule)
    pod_level = own is not None and any(k in compute for k in (*own.limits, *own.requests))
    anything = False
    guaranteed = True
    for resources in [own] if pod_level else [c.resources for c in spec.init_containers + spec.containers]:
        limits = {k: v for k, v in (resources.limits if resources else {}).items() if k in compute and not v.is_zero()}
        requests = {k: v for k, v in (resources.requests if resources else {}).items()
                    if k in compute and not v.is_zero()}
        anything = anything or bool(limits) or bool(requests)
        if set(limits) != set(compute) or any(requests.get(k, limits[k]) != limits[k] for k in compute):
            guaranteed = False
    if not anything:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


# --- the phase -------------------------------------------------------------------------------


def _stopped(status: Status) -> bool:
    state = status.get("state", {})
    return "terminated" in state or ("waiting" in state and "terminated" in status.get("lastState", {}))


def _exit_code(status: Status) -> int | None:
    state = status.get("state", {})
    terminated = state.get("terminated") or status.get("lastState", {}).get("terminated")
    return None if terminated is None else int(terminated.get("exitCode", 0))


def phase(spec: PodSpec, init_statuses: list[Status], statuses: list[Status]) -> str:
    """The kubelet's getPhase, for a pod whose sandbox exists."""
    for container, status in zip(spec.init_containers, init_statuses, strict=False):
        if is_sidecar(container):
            continue
        state = status.get("state", {})
        if "terminated" in state and state["terminated"].get("exitCode") == 0:
            continue
        failed = _stopped(status) and _exit_code(status) not in (None, 0)
        if failed and spec.restart_policy == "Never":
            return "Failed"
        return "Pending"
    running = waiting = stopped = succeeded = 0
    for status in statuses:
        state = status.get("state", {})
        if "running" in state:
            running += 1
        elif _stopped(status):
            stopped += 1
            succeeded += _exit_code(status) == 0 and "terminated" in state
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped == len(statuses):
        if spec.restart_policy == "Always":
            return "Running"  # they will restart
        if succeeded == stopped:
            return "Succeeded"
        return "Running" if spec.restart_policy == "OnFailure" else "Failed"
    return "Pending"


# --- conditions ------------------------------------------------------------------------------


def conditions(spec: PodSpec, pod_phase: str, init_statuses: list[Status], statuses: list[Status], *,
               sandbox_ready: bool, previous: list[Status]) -> list[Status]:
    """PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady and Ready, each keeping its
    lastTransitionTime while its status does not change."""
    incomplete = [c.name for c, s in zip(spec.init_containers, init_statuses, strict=False)
                  if not (s.get("started") and s.get("ready") if is_sidecar(c)
                          else s.get("state", {}).get("terminated", {}).get("exitCode") == 0)]
    if len(init_statuses) < len(spec.init_containers):
        incomplete += [c.name for c in spec.init_containers[len(init_statuses):]]
    unready = [s["name"] for s in statuses if not s.get("ready")]
    unready += [c.name for c, s in zip(spec.init_containers, init_statuses, strict=False)
                if is_sidecar(c) and not s.get("ready")]
    completed = pod_phase in ("Succeeded", "Failed")
    found: list[tuple[str, bool, str, str]] = [
        ("PodReadyToStartContainers", sandbox_ready, "", ""),
        ("Initialized", not incomplete or (completed and pod_phase == "Succeeded"),
         "PodCompleted" if completed else "ContainersNotInitialized",
         "" if completed else f"containers with incomplete status: [{' '.join(incomplete)}]"),
    ]
    ready = not unready and not completed and bool(statuses)
    reason = "PodCompleted" if completed else "ContainersNotReady"
    message = "" if completed else f"containers with unready status: [{' '.join(unready)}]"
    found += [("ContainersReady", ready, reason, message), ("Ready", ready, reason, message),
              ("PodScheduled", True, "", "")]
    old = {c["type"]: c for c in previous}
    result = []
    for kind, value, why, text in found:
        entry: Status = {"type": kind, "status": "True" if value else "False"}
        if not value and why:
            entry["reason"] = why
            if text:
                entry["message"] = text
        earlier = old.get(kind)
        same = earlier is not None and earlier.get("status") == entry["status"]
        entry["lastTransitionTime"] = earlier["lastTransitionTime"] if same and earlier else now_text()
        entry["lastProbeTime"] = None
        result.append(entry)
    return result


def is_ready(status: Status) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


# --- what kubectl prints ---------------------------------------------------------------------


def summary(spec: dict[str, Any], status: Status, deleting: bool = False) -> tuple[str, str, int, str]:
    """READY (n/m), STATUS, RESTARTS and the last restart's time, as ``kubectl get pods`` prints them
    (from the manifest's spec, as stored)."""
    init_containers = spec.get("initContainers", [])
    sidecar = [c.get("restartPolicy") == "Always" for c in init_containers]
    reason = status.get("reason") or status.get("phase", "Pending")
    restarts, last_restart = 0, ""
    total = len(spec.get("containers", [])) + sum(sidecar)
    ready_count = 0
    initializing = False
    init_statuses = status.get("initContainerStatuses", [])
    for index in range(len(init_containers)):
        entry = init_statuses[index] if index < len(init_statuses) else {}
        restarts += entry.get("restartCount", 0)
        last_restart = max(last_restart, entry.get("lastState", {}).get("terminated", {}).get("finishedAt", ""))
        state = entry.get("state", {})
        if sidecar[index] and entry.get("started"):
            ready_count += bool(entry.get("ready"))
            continue
        if initializing or status.get("reason"):
            continue
        if "terminated" in state and state["terminated"].get("exitCode") == 0:
            continue
        if "terminated" in state:
            reason = "Init:" + _terminated_text(state["terminated"])
        elif state.get("waiting", {}).get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{index}/{len(init_containers)}"
        initializing = True
    running = False
    for entry in reversed(status.get("containerStatuses", [])):
        restarts += entry.get("restartCount", 0)
        last_restart = max(last_restart, entry.get("lastState", {}).get("terminated", {}).get("finishedAt", ""))
        ready_count += bool(entry.get("ready"))
        if initializing or status.get("reason"):
            continue
        state = entry.get("state", {})
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            reason = _terminated_text(state["terminated"])
        elif "running" in state and entry.get("ready"):
            running = True
    if reason == "Completed" and running:
        reason = "Running" if is_ready(status) else "NotReady"
    if is_paused(status):
        reason = "Paused"  # podman's word for a frozen pod
    if deleting:
        reason = "Terminating"
    return f"{ready_count}/{total}", reason, restarts, last_restart


def is_paused(status: Status) -> bool:
    return any(c["type"] == PAUSED_CONDITION and c["status"] == "True" for c in status.get("conditions", []))


def _terminated_text(terminated: Status) -> str:
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode', 0)}"
