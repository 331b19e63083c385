"""The Job controller (pkg/controller/job): run pods until ``completions`` of them succeed, at most
``parallelism`` at a time.

- ``completions`` unset: 1, or with ``parallelism`` set a work queue (done when one pod succeeded and none runs).
- ``completionMode: Indexed``: each index 0..completions-1 must succeed once; a pod is named
  ``<job>-<index>-<suffix>``, annotated ``batch.kubernetes.io/job-completion-index`` and given
  ``JOB_COMPLETION_INDEX`` from it (the downward API, as the Job controller adds it).
- Failures: ``restartPolicy: Never`` counts failed pods, ``OnFailure`` the restarts of its containers; past
  ``backoffLimit`` (6) the Job fails (``BackoffLimitExceeded``) and its running pods are deleted. A failed
  pod is replaced after the Job's backoff: 10 s doubling to 6 minutes (``PODBAY_BACKOFF_BASE``/``_CAP`` scale
  it down for tests, as the crash-loop backoff's).
- ``podFailurePolicy``: each failed pod is checked against the rules in order (its containers' exit codes,
  ``In``/``NotIn``, exit code 0 never matching; or its conditions); the first match decides: ``FailJob``
  fails the Job at once (``PodFailurePolicy``, the controller's message), ``Ignore`` does not count the
  failure toward ``backoffLimit`` (nor in ``status.failed``), ``Count`` (and no match) counts it.
- ``activeDeadlineSeconds``: past it the Job fails (``DeadlineExceeded``) and its pods are deleted.
- ``suspend: true``: its running pods are deleted and none made (condition ``Suspended``, event
  ``Suspended``); set back to false, it resumes (``JobResumed``) with a fresh start time, as upstream.
- ``podReplacementPolicy: Failed`` (the default with a podFailurePolicy): a pod being deleted is replaced
  only once it has ended; ``TerminatingOrFailed`` (otherwise) replaces it as soon as it is terminating.
- ``ttlSecondsAfterFinished``: the finished Job (and its pods) are deleted that long after it ended.
"""

from __future__ import annotations

import calendar
import os
import time
from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.controllers.common import PodView, owner_reference, pod_from_template, random_suffix

INDEX = "batch.kubernetes.io/job-completion-index"
MAX_BACKOFF = 360.0


@dataclass
class JobPlan:
    create: list[dict[str, Any]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    delete_job: bool = False  # its time to live ran out
    events: list[tuple[str, str, str]] = field(default_factory=list)


def _stamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def _seconds(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))) if text else 0.0


def _backoff_base() -> tuple[float, float]:
    base = float(os.environ.get("PODBAY_BACKOFF_BASE", "10"))
    return base, min(float(os.environ.get("PODBAY_BACKOFF_CAP", str(MAX_BACKOFF))), MAX_BACKOFF)


def index_ranges(indexes: set[int]) -> str:
    """``{0, 1, 2, 4}`` -> ``0-2,4`` (status.completedIndexes)."""
    out: list[str] = []
    for index in sorted(indexes):
        if out and out[-1].split("-")[-1] == str(index - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{index}"
        else:
            out.append(str(index))
    return ",".join(out)


def reconcile(job: dict[str, Any], pods: list[PodView], now: float) -> JobPlan:
    meta, spec = job["metadata"], job.get("spec") or {}
    previous = job.get("status") or {}
    plan = JobPlan()
    status: dict[str, Any] = {"startTime": previous.get("startTime") or _stamp(now)}
    conditions = list(previous.get("conditions") or [])
    finished = next((c for c in conditions if c["type"] in ("Complete", "Failed") and c["status"] == "True"), None)
    indexed = spec.get("completionMode") == "Indexed"
    parallelism = 1 if spec.get("parallelism") is None else int(spec["parallelism"])
    completions = spec.get("completions")
    if completions is None and spec.get("parallelism") is None:
        completions = 1
    never = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") == "Never"
    active = [p for p in pods if p.active]
    succeeded = [p for p in pods if p.phase == "Succeeded"]
    failed_pods = [p for p in pods if p.phase == "Failed"]
    policy_failure = ""
    if spec.get("podFailurePolicy"):
        verdicts = [(pod, policy_verdict(spec["podFailurePolicy"], pod, meta.get("namespace") or "default"))
                    for pod in sorted(failed_pods, key=lambda p: p.finished)]
        policy_failure = next((why for _, (action, why) in verdicts if action == "FailJob"), "")
        failed_pods = [pod for pod, (action, _) in verdicts if action != "Ignore"]
    failures = len(failed_pods) + (0 if never else sum(p.restarts for p in pods))
    done_indexes = {int(p.annotations.get(INDEX, "-1")) for p in succeeded} - {-1}
    status.update({"active": len(active), "succeeded": len(done_indexes) if indexed else len(succeeded),
                   "failed": len(failed_pods), "ready": sum(p.ready for p in active)})
    if indexed:
        status["completedIndexes"] = index_ranges(done_indexes)
    if finished is not None:
        status.update({k: previous[k] for k in ("completionTime",) if k in previous})
        status["conditions"] = conditions
        plan.delete = [p.name for p in active]  # a finished Job's pods do not run on
        ttl = spec.get("ttlSecondsAfterFinished")
        plan.delete_job = ttl is not None and now - _seconds(finished["lastTransitionTime"]) >= int(ttl)
        plan.status = status
        return plan
    suspended = next((c for c in conditions if c["type"] == "Suspended"), None)
    if spec.get("suspend"):
        if suspended is None or suspended["status"] != "True":
            conditions = [c for c in conditions if c["type"] != "Suspended"]
            conditions.append(_condition("Suspended", "JobSuspended", "Job suspended", now))
            plan.events.append(("Normal", "Suspended", "Job suspended"))
        status.pop("startTime", None)
        status["conditions"] = conditions
        plan.delete = [p.name for p in active]
        plan.status = status
        return plan
    if suspended is not None and suspended["status"] == "True":
        conditions = [c for c in conditions if c["type"] != "Suspended"]
        conditions.append({**_condition("Suspended", "JobResumed", "Job resumed", now), "status": "False"})
        plan.events.append(("Normal", "Resumed", "Job resumed"))
        status["startTime"] = _stamp(now)
    deadline = spec.get("activeDeadlineSeconds")
    backoff_limit = 6 if spec.get("backoffLimit") is None else int(spec["backoffLimit"])
    failure = None
    if policy_failure:
        failure = ("PodFailurePolicy", policy_failure)
    elif deadline is not None and now - _seconds(status["startTime"]) >= int(deadline):
        failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
    elif failures > backoff_limit:
        failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    if failure is not None:
        conditions.append(_condition("Failed", failure[0], failure[1], now))
        plan.events.append(("Warning", failure[0], failure[1]))
        plan.delete = [p.name for p in active]
        status["conditions"] = conditions
        plan.status = status
        return plan
    complete = (len(done_indexes) >= int(completions) if indexed and completions is not None else
                len(succeeded) >= int(completions) if completions is not None else bool(succeeded) and not active)
    if complete:
        conditions += [_condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of "
                                  "succeeded pods", now), _condition("Complete", "CompletionsReached",
                                                                     "Reached expected number of succeeded pods", now)]
        status.update({"conditions": conditions, "completionTime": _stamp(now)})
        plan.events.append(("Normal", "Completed", "Job completed"))
        plan.delete = [p.name for p in active]
        plan.status = status
        return plan
    status["conditions"] = conditions
    plan.status = status
    ended_badly = [p for p in pods if p.phase == "Failed"]  # ignored failures too: no tight loop of new pods
    if ended_badly and never:  # the Job's backoff before another pod after a failure
        base, cap = _backoff_base()
        delay = min(base * 2 ** (len(ended_badly) - 1), cap)
        if now < max(p.finished for p in ended_badly) + delay:
            return plan
    # Pods being deleted hold their place until they end under podReplacementPolicy Failed.
    replacement = spec.get("podReplacementPolicy") or ("Failed" if spec.get("podFailurePolicy") else "")
    holding = active + ([p for p in pods if p.deleting and p.phase not in ("Succeeded", "Failed")]
                        if replacement == "Failed" else [])
    if completions is None:  # a work queue: once one succeeded, no new pods
        wanted = 0 if succeeded else parallelism - len(holding)
    else:
        remaining = int(completions) - (len(done_indexes) if indexed else len(succeeded))
        wanted = min(parallelism, remaining) - len(holding)
    owner = owner_reference("Job", "batch/v1", meta["name"], meta["uid"])
    busy = {int(p.annotations.get(INDEX, "-1")) for p in holding}
    free = [i for i in range(int(completions or 0)) if i not in done_indexes and i not in busy] if indexed else []
    for n in range(max(wanted, 0)):
        if indexed and n >= len(free):
            break
        plan.create.append(_pod(job, owner, free[n] if indexed else None))
    return plan


def policy_verdict(policy: dict[str, Any], pod: PodView, namespace: str) -> tuple[str, str]:
    """The action of the first rule a failed pod matches ("Count" when none does) and, for FailJob, the
    Job controller's message."""
    for index, rule in enumerate(policy.get("rules") or []):
        action = str(rule.get("action") or "")
        codes = rule.get("onExitCodes")
        if codes:
            wanted = set(codes.get("values") or [])
            for container, code in pod.exit_codes:
                if code == 0 or codes.get("containerName") not in (None, container):
                    continue
                if (code in wanted) == (codes.get("operator") == "In"):
                    return action, (f"Container {container} for pod {namespace}/{pod.name} failed with exit code "
                                    f"{code} matching {action} rule at index {index}")
        for pattern in rule.get("onPodConditions") or []:
            if pod.conditions.get(pattern.get("type")) == (pattern.get("status") or "True"):
                return action, (f"Pod {namespace}/{pod.name} has condition {pattern['type']} matching {action} "
                                f"rule at index {index}")
    return "Count", ""


def _condition(kind: str, reason: str, message: str, now: float) -> dict[str, Any]:
    stamp = _stamp(now)
    return {"type": kind, "status": "True", "reason": reason, "message": message, "lastProbeTime": stamp,
            "lastTransitionTime": stamp}


def _pod(job: dict[str, Any], owner: dict[str, Any], index: int | None) -> dict[str, Any]:
    meta = job["metadata"]
    labels = {"batch.kubernetes.io/controller-uid": meta["uid"], "batch.kubernetes.io/job-name": meta["name"],
              "controller-uid": meta["uid"], "job-name": meta["name"]}
    name = f"{meta['name']}-{index}-{random_suffix()}" if index is not None else f"{meta['name']}-{random_suffix()}"
    pod = pod_from_template(job["spec"].get("template") or {}, name=name, namespace=meta.get("namespace") or "default",
                            owner=owner, extra_labels=labels)
    if index is not None:
        pod["metadata"].setdefault("annotations", {})[INDEX] = str(index)
        pod["metadata"]["labels"][INDEX] = str(index)
        source = {"fieldRef": {"fieldPath": f"metadata.annotations['{INDEX}']"}}
        for container in pod["spec"].get("containers", []) + pod["spec"].get("initContainers", []):
            env = container.setdefault("env", [])
            if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
                env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": source})
    return pod
