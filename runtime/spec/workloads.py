"""The workload resources (apps/v1 and batch/v1): modelled now, run by the node agent later."""

from __future__ import annotations

from dataclasses import dataclass

from podbay.runtime.spec.meta import LabelSelector, ObjectMeta
from podbay.runtime.spec.objects import PersistentVolumeClaim
from podbay.runtime.spec.pod import PodSpec
from podbay.runtime.spec.schema import Honour, IntOrString, Opaque, flag, many, num, opt, text

_STATUS = "podbay reports its own"


@dataclass(kw_only=True)
class PodTemplateSpec:
    metadata: ObjectMeta | None = opt("Labels and annotations of the pods made from this template.")
    spec: PodSpec | None = opt("The pod spec of every pod made from this template.")


@dataclass(kw_only=True)
class RollingUpdateDeployment:
    max_unavailable: IntOrString | None = opt("Pods that may be unavailable during the update "
                                              "(number or percent, default 25%).")
    max_surge: IntOrString | None = opt("Pods above replicas during the update (number or percent, default 25%).")


@dataclass(kw_only=True)
class DeploymentStrategy:
    type: str = text("RollingUpdate (default) or Recreate.")
    rolling_update: RollingUpdateDeployment | None = opt("Parameters of RollingUpdate.")


@dataclass(kw_only=True)
class DeploymentSpec:
    replicas: int | None = opt("Desired number of pods (default 1).")
    selector: LabelSelector | None = opt("Labels of the pods this Deployment owns; must match the template.")
    template: PodTemplateSpec | None = opt("The pods to run.")
    strategy: DeploymentStrategy | None = opt("How old pods are replaced by new ones.")
    min_ready_seconds: int = num("Seconds a new pod must be Ready to count as available (default 0).")
    revision_history_limit: int | None = opt("Old ReplicaSets kept for rollback (default 10).")
    paused: bool = flag("Stop rolling out template changes.")
    progress_deadline_seconds: int | None = opt("Seconds before a stalled rollout is reported (default 600).")


@dataclass(kw_only=True)
class Deployment:
    api_version: str = text("apps/v1")
    kind: str = text("Deployment")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    spec: DeploymentSpec | None = opt("Desired state.")
    status: Opaque | None = opt("Observed state.", honour=Honour.OUTPUT, why=_STATUS)


@dataclass(kw_only=True)
class ReplicaSetSpec:
    replicas: int | None = opt("Desired number of pods (default 1).")
    min_ready_seconds: int = num("Seconds a new pod must be Ready to count as available.")
    selector: LabelSelector | None = opt("Labels of the pods this ReplicaSet owns; must match the template.")
    template: PodTemplateSpec | None = opt("The pods to run.")


@dataclass(kw_only=True)
class ReplicaSet:
    api_version: str = text("apps/v1")
    kind: str = text("ReplicaSet")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    spec: ReplicaSetSpec | None = opt("Desired state.")
    status: Opaque | None = opt("Observed state.", honour=Honour.OUTPUT, why=_STATUS)


@dataclass(kw_only=True)
class RollingUpdateStatefulSetStrategy:
    partition: int | None = opt("Only pods with an ordinal >= partition are updated (default 0).")
    max_unavailable: IntOrString | None = opt("Pods that may be unavailable during the update (default 1).")


@dataclass(kw_only=True)
class StatefulSetUpdateStrategy:
    type: str = text("RollingUpdate (default) or OnDelete.")
    rolling_update: RollingUpdateStatefulSetStrategy | None = opt("Parameters of RollingUpdate.")


@dataclass(kw_only=True)
class StatefulSetPersistentVolumeClaimRetentionPolicy:
    when_deleted: str = text("Retain (default) or Delete the claims when the set is deleted.")
    when_scaled: str = text("Retain (default) or Delete the claims of pods removed by scaling down.")


@dataclass(kw_only=True)
class StatefulSetOrdinals:
    start: int = num("First ordinal (default 0).")


@dataclass(kw_only=True)
class StatefulSetSpec:
    replicas: int | None = opt("Desired number of pods (default 1).")
    selector: LabelSelector | None = opt("Labels of the pods this set owns; must match the template.")
    template: PodTemplateSpec | None = opt("The pods to run, named <set>-<ordinal>.")
    volume_claim_templates: list[PersistentVolumeClaim] = many("Claims made per pod; kept across pod replacement.")
    service_name: str = text("Governing service: the pods' subdomain.")
    pod_management_policy: str = text("OrderedReady (default) or Parallel.")
    update_strategy: StatefulSetUpdateStrategy | None = opt("How pods are replaced on a template change.")
    revision_history_limit: int | None = opt("Old revisions kept (default 10).")
    min_ready_seconds: int = num("Seconds a new pod must be Ready to count as available.")
    persistent_volume_claim_retention_policy: StatefulSetPersistentVolumeClaimRetentionPolicy | None = opt(
        "Whether claims are kept when pods go away.")
    ordinals: StatefulSetOrdinals | None = opt("Numbering of the pods.")


@dataclass(kw_only=True)
class StatefulSet:
    api_version: str = text("apps/v1")
    kind: str = text("StatefulSet")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    spec: StatefulSetSpec | None = opt("Desired state.")
    status: Opaque | None = opt("Observed state.", honour=Honour.OUTPUT, why=_STATUS)


@dataclass(kw_only=True)
class RollingUpdateDaemonSet:
    max_unavailable: IntOrString | None = opt("Pods that may be unavailable during the update (default 1).")
    max_surge: IntOrString | None = opt("Pods started before old ones stop (default 0).")


@dataclass(kw_only=True)
class DaemonSetUpdateStrategy:
    type: str = text("RollingUpdate (default) or OnDelete.")
    rolling_update: RollingUpdateDaemonSet | None = opt("Parameters of RollingUpdate.")


@dataclass(kw_only=True)
class DaemonSetSpec:
    selector: LabelSelector | None = opt("Labels of the pods this DaemonSet owns; must match the template.")
    template: PodTemplateSpec | None = opt("The pod to run on the node.")
    update_strategy: DaemonSetUpdateStrategy | None = opt("How the pod is replaced on a template change.")
    min_ready_seconds: int = num("Seconds a new pod must be Ready to count as available.")
    revision_history_limit: int | None = opt("Old revisions kept (default 10).")


@dataclass(kw_only=True)
class DaemonSet:
    api_version: str = text("apps/v1")
    kind: str = text("DaemonSet")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    spec: DaemonSetSpec | None = opt("Desired state.")
    status: Opaque | None = opt("Observed state.", honour=Honour.OUTPUT, why=_STATUS)


_ALPHA_JOB = "podbay's Job controller does not implement it"


@dataclass(kw_only=True)
class PodFailurePolicyOnExitCodesRequirement:
    container_name: str | None = opt("Only this container's exit code (default: every container's).")
    operator: str = text("In or NotIn: a failed container's exit code is (not) one of values.")
    values: list[int] = many("Exit codes, in increasing order (0 is never a failure: not with In).")


@dataclass(kw_only=True)
class PodFailurePolicyOnPodConditionsPattern:
    type: str = text("A pod condition type, e.g. DisruptionTarget.")
    status: str = text("True (default), False or Unknown.")


@dataclass(kw_only=True)
class PodFailurePolicyRule:
    action: str = text("FailJob (the Job fails at once), Ignore (not counted toward backoffLimit) or Count.")
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = opt("Match on containers' exit codes.")
    on_pod_conditions: list[PodFailurePolicyOnPodConditionsPattern] = many("Match on the pod's conditions.")


@dataclass(kw_only=True)
class PodFailurePolicy:
    rules: list[PodFailurePolicyRule] = many("Checked in order for each failed pod; the first match decides.")


@dataclass(kw_only=True)
class JobSpec:
    parallelism: int | None = opt("Pods running at once (default 1).")
    completions: int | None = opt("Successful pods needed (default 1).")
    active_deadline_seconds: int | None = opt("Seconds the Job may run before it is failed.")
    pod_failure_policy: PodFailurePolicy | None = opt("Rules on pod failures (template restartPolicy: Never).")
    success_policy: Opaque | None = opt("Rules for early success.", honour=Honour.UNSUPPORTED, why=_ALPHA_JOB)
    backoff_limit: int | None = opt("Retries before the Job is failed (default 6).")
    backoff_limit_per_index: int | None = opt("Retries per index.", honour=Honour.UNSUPPORTED, why=_ALPHA_JOB)
    max_failed_indexes: int | None = opt("Failed indexes tolerated.", honour=Honour.UNSUPPORTED, why=_ALPHA_JOB)
    selector: LabelSelector | None = opt("Labels of the Job's pods (generated unless manualSelector).")
    manual_selector: bool | None = opt("Use the given selector instead of a generated one.")
    template: PodTemplateSpec | None = opt("The pods to run; restartPolicy must be OnFailure or Never.")
    ttl_seconds_after_finished: int | None = opt("Delete the Job this long after it finishes.")
    completion_mode: str | None = opt("NonIndexed (default) or Indexed (JOB_COMPLETION_INDEX per pod).")
    suspend: bool | None = opt("Create no pods while true.")
    pod_replacement_policy: str | None = opt("TerminatingOrFailed (default) or Failed.")
    managed_by: str | None = opt("Controller that manages the Job.", honour=Honour.IGNORED,
                                 why="podbay's controller manages every Job")


@dataclass(kw_only=True)
class Job:
    api_version: str = text("batch/v1")
    kind: str = text("Job")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    spec: JobSpec | None = opt("Desired state.")
    status: Opaque | None = opt("Observed state.", honour=Honour.OUTPUT, why=_STATUS)

