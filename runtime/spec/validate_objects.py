"""Validation of whole objects: Pods, ConfigMaps, Secrets, claims and the workload resources.

Pod specs are checked by :mod:`podbay.runtime.spec.validation`; this module adds
what each kind requires around them (pkg/apis/core/validation for ConfigMap,
Secret and PVC; pkg/apis/apps/validation and pkg/apis/batch/validation for the
workloads).
"""

from __future__ import annotations

import re
from typing import Any

from podbay.runtime.spec import names
from podbay.runtime.spec.defaults import JOB_CONTROLLER_UID_LABEL
from podbay.runtime.spec.errors import (
    ErrorType,
    FieldError,
    Key,
    Path,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    too_many,
)
from podbay.runtime.spec.meta import LabelSelector, ObjectMeta
from podbay.runtime.spec.objects import ConfigMap, PersistentVolumeClaim, Secret, decode_base64
from podbay.runtime.spec.pod import Pod, PodSpec
from podbay.runtime.spec.validation import (
    Report,
    non_negative,
    one_of,
    validate_labels,
    validate_metadata,
    validate_pod_spec,
    validate_selector,
)
from podbay.runtime.spec.workloads import (
    DaemonSet,
    Deployment,
    Job,
    PodFailurePolicy,
    PodFailurePolicyOnExitCodesRequirement,
    PodTemplateSpec,
    ReplicaSet,
    StatefulSet,
)

CONFIG_MAX_BYTES = 1024 * 1024
_PERCENT_RE = re.compile(r"^[0-9]+%$")

# Keys each typed Secret must hold (pkg/apis/core/validation ValidateSecret).
SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ["tls.crt", "tls.key"],
    "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
    "kubernetes.io/dockercfg": [".dockercfg"],
    "kubernetes.io/ssh-auth": ["ssh-privatekey"],
}


def validate(obj: Any) -> Report:
    """Validate one decoded and defaulted object."""
    report = Report()
    meta = obj.metadata or ObjectMeta()
    validate_metadata(meta, ("metadata",), report)
    if isinstance(obj, Pod):
        validate_pod_spec(obj.spec or PodSpec(), ("spec",), report)
    elif isinstance(obj, ConfigMap):
        _validate_config_map(obj, report)
    elif isinstance(obj, Secret):
        _validate_secret(obj, report)
    elif isinstance(obj, PersistentVolumeClaim):
        _validate_claim(obj, ("spec",), report)
    elif isinstance(obj, Deployment | ReplicaSet | StatefulSet | DaemonSet | Job):
        _validate_workload(obj, report)
    return report


def _validate_keys(keys: list[str], path: Path, report: Report) -> None:
    for key in keys:
        report.check(path, key, names.config_map_key(key))


def _validate_config_map(cm: ConfigMap, report: Report) -> None:
    _validate_keys(list(cm.data), ("data",), report)
    _validate_keys(list(cm.binary_data), ("binaryData",), report)
    for key in cm.binary_data:
        if key in cm.data:
            report.add(invalid(("binaryData", Key(key)), key, "duplicate of key present in data"))
    size = sum(len(v.encode()) for v in cm.data.values())
    for key, value in cm.binary_data.items():
        try:
            size += len(decode_base64(value))
        except ValueError as err:
            report.add(invalid(("binaryData", Key(key)), "<binary>", str(err)))
    if size > CONFIG_MAX_BYTES:
        report.add(FieldError((), ErrorType.TOO_LONG, detail=f"data: must have at most {CONFIG_MAX_BYTES} bytes"))


def _validate_secret(secret: Secret, report: Report) -> None:
    _validate_keys(list(secret.data), ("data",), report)
    _validate_keys(list(secret.string_data), ("stringData",), report)
    size = 0
    for key, value in secret.data.items():
        try:
            size += len(decode_base64(value))
        except ValueError as err:
            report.add(invalid(("data", Key(key)), "<secret contents redacted>", str(err)))
    size += sum(len(v.encode()) for v in secret.string_data.values())
    if size > CONFIG_MAX_BYTES:
        report.add(FieldError(("data",), ErrorType.TOO_LONG, detail=f"must have at most {CONFIG_MAX_BYTES} bytes"))
    present = set(secret.data) | set(secret.string_data)
    for key in SECRET_REQUIRED_KEYS.get(secret.type, []):
        if key not in present:
            report.add(required(("data", Key(key))))
    if secret.type == "kubernetes.io/basic-auth" and not present & {"username", "password"}:
        report.add(required(("data", Key("username")), "either username or password is required"))


def _validate_claim(claim: PersistentVolumeClaim, path: Path, report: Report) -> None:
    spec = claim.spec
    if spec is None:
        report.add(required(path))
        return
    modes = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
    if not spec.access_modes:
        report.add(required(path + ("accessModes",), "at least 1 access mode is required"))
    for i, mode in enumerate(spec.access_modes):
        one_of(mode, modes, path + ("accessModes", i), report)
    storage = spec.resources.requests.get("storage") if spec.resources else None
    if storage is None:
        report.add(required(path + ("resources", Key("storage"))))
    elif storage.value <= 0:
        report.add(invalid(path + ("resources", "requests", Key("storage")), str(storage), "must be greater than zero"))
    if spec.volume_mode is not None:
        one_of(spec.volume_mode, ["Block", "Filesystem"], path + ("volumeMode",), report)


# --- workloads -------------------------------------------------------------------------


def _validate_workload(obj: Deployment | ReplicaSet | StatefulSet | DaemonSet | Job, report: Report) -> None:
    spec = obj.spec
    if spec is None:
        report.add(required(("spec",)))
        return
    path: Path = ("spec",)
    is_job = isinstance(obj, Job)
    selector = spec.selector
    if selector is None:
        report.add(required(path + ("selector",)))
    else:
        validate_selector(selector, path + ("selector",), report)
        if not selector.match_labels and not selector.match_expressions:
            report.add(invalid(path + ("selector",), {}, f"empty selector is invalid for {obj.kind.lower()}"))
    template = spec.template
    if template is None:
        report.add(required(path + ("template",)))
        return
    claims = [c.metadata.name for c in obj.spec.volume_claim_templates if c.metadata] \
        if isinstance(obj, StatefulSet) and obj.spec is not None else []
    _validate_template(template, selector, path + ("template",), report, is_job=is_job, claim_templates=claims)
    if isinstance(obj, Deployment | ReplicaSet | StatefulSet):
        replicas = obj.spec.replicas if obj.spec is not None else None
        non_negative(replicas, path + ("replicas",), report)
    non_negative(getattr(spec, "min_ready_seconds", 0), path + ("minReadySeconds",), report)
    non_negative(getattr(spec, "revision_history_limit", None), path + ("revisionHistoryLimit",), report)
    if isinstance(obj, Deployment):
        _validate_deployment(obj, path, report)
    elif isinstance(obj, StatefulSet):
        _validate_stateful_set(obj, path, report)
    elif isinstance(obj, DaemonSet):
        _validate_daemon_set(obj, path, report)
    elif isinstance(obj, Job):
        _validate_job(obj, path, report)


def _validate_template(template: PodTemplateSpec, selector: LabelSelector | None, path: Path, report: Report, *,
                       is_job: bool, claim_templates: list[str]) -> None:
    meta = template.metadata or ObjectMeta()
    validate_labels(meta.labels, path + ("metadata", "labels"), report)
    if selector is not None and (selector.match_labels or selector.match_expressions) \
            and not selector.matches(meta.labels):
        report.add(invalid(path + ("metadata", "labels"), meta.labels, "`selector` does not match template `labels`"))
    spec = template.spec or PodSpec()
    here = path + ("spec",)
    validate_pod_spec(spec, here, report, claim_templates)
    if is_job:
        if spec.restart_policy not in ("OnFailure", "Never"):
            report.add(FieldError(here + ("restartPolicy",), ErrorType.NOT_SUPPORTED, spec.restart_policy,
                                  'supported values: "OnFailure", "Never"'))
    else:
        one_of(spec.restart_policy, ["Always"], here + ("restartPolicy",), report)
        if spec.active_deadline_seconds is not None:
            report.add(forbidden(here + ("activeDeadlineSeconds",), "activeDeadlineSeconds in ReplicaSet is not "
                                                                    "Supported"))


def _validate_int_or_percent(value: int | str | None, path: Path, report: Report) -> None:
    if isinstance(value, int):
        non_negative(value, path, report)
    elif isinstance(value, str):
        if not _PERCENT_RE.match(value):
            report.add(invalid(path, value, "a valid percent string must be a numeric string followed by an ending "
                                            "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
        elif int(value[:-1]) > 100:
            report.add(invalid(path, value, "must not be greater than 100%"))


def _is_zero(value: int | str | None) -> bool:
    return value in (0, "0%")


def _validate_surge_pair(max_unavailable: int | str | None, max_surge: int | str | None, path: Path,
                         report: Report) -> None:
    _validate_int_or_percent(max_unavailable, path + ("maxUnavailable",), report)
    _validate_int_or_percent(max_surge, path + ("maxSurge",), report)
    if _is_zero(max_unavailable) and _is_zero(max_surge):
        report.add(invalid(path + ("maxUnavailable",), max_unavailable, "may not be 0 when `maxSurge` is 0"))


def _validate_deployment(obj: Deployment, path: Path, report: Report) -> None:
    spec = obj.spec
    assert spec is not None
    strategy = spec.strategy
    if strategy is not None:
        here = path + ("strategy",)
        one_of(strategy.type, ["Recreate", "RollingUpdate"], here + ("type",), report)
        rolling = strategy.rolling_update
        if strategy.type == "Recreate" and rolling is not None:
            report.add(forbidden(here + ("rollingUpdate",),
                                 "may not be specified when strategy `type` is 'Recreate'"))
        elif rolling is not None:
            _validate_surge_pair(rolling.max_unavailable, rolling.max_surge, here + ("rollingUpdate",), report)
    if spec.progress_deadline_seconds is not None and spec.progress_deadline_seconds <= spec.min_ready_seconds:
        report.add(invalid(path + ("progressDeadlineSeconds",), spec.progress_deadline_seconds,
                           "must be greater than minReadySeconds"))


def _validate_stateful_set(obj: StatefulSet, path: Path, report: Report) -> None:
    spec = obj.spec
    assert spec is not None
    one_of(spec.pod_management_policy, ["OrderedReady", "Parallel"], path + ("podManagementPolicy",), report)
    if spec.service_name:
        report.check(path + ("serviceName",), spec.service_name, names.dns1123_label(spec.service_name))
    strategy = spec.update_strategy
    if strategy is not None:
        here = path + ("updateStrategy",)
        one_of(strategy.type, ["OnDelete", "RollingUpdate"], here + ("type",), report)
        if strategy.type == "OnDelete" and strategy.rolling_update is not None:
            report.add(invalid(here + ("rollingUpdate",), "", "only allowed for updateStrategy 'RollingUpdate'"))
        elif strategy.rolling_update is not None:
            non_negative(strategy.rolling_update.partition, here + ("rollingUpdate", "partition"), report)
            _validate_int_or_percent(strategy.rolling_update.max_unavailable,
                                     here + ("rollingUpdate", "maxUnavailable"), report)
    policy = spec.persistent_volume_claim_retention_policy
    if policy is not None:
        here = path + ("persistentVolumeClaimRetentionPolicy",)
        one_of(policy.when_deleted, ["Retain", "Delete"], here + ("whenDeleted",), report)
        one_of(policy.when_scaled, ["Retain", "Delete"], here + ("whenScaled",), report)
        for key, value in (("whenDeleted", policy.when_deleted), ("whenScaled", policy.when_scaled)):
            if value == "Delete":
                report.warn(here + (key,), "podbay keeps every claim's volume (Retain); remove them with "
                                           "podbay volume rm")
    if spec.ordinals is not None:
        non_negative(spec.ordinals.start, path + ("ordinals", "start"), report)
        if spec.ordinals.start:
            report.warn(path + ("ordinals", "start"), "podbay numbers a StatefulSet's pods from 0")
    for i, claim in enumerate(spec.volume_claim_templates):
        here = path + ("volumeClaimTemplates", i)
        validate_metadata(claim.metadata or ObjectMeta(), here + ("metadata",), report)
        _validate_claim(claim, here + ("spec",), report)


def _validate_daemon_set(obj: DaemonSet, path: Path, report: Report) -> None:
    spec = obj.spec
    assert spec is not None
    strategy = spec.update_strategy
    if strategy is not None:
        here = path + ("updateStrategy",)
        one_of(strategy.type, ["OnDelete", "RollingUpdate"], here + ("type",), report)
        if strategy.rolling_update is not None:
            _validate_surge_pair(strategy.rolling_update.max_unavailable, strategy.rolling_update.max_surge,
                                 here + ("rollingUpdate",), report)


POD_FAILURE_ACTIONS = ["FailJob", "FailIndex", "Ignore", "Count"]


def _validate_pod_failure_policy(policy: PodFailurePolicy, template: PodTemplateSpec | None, path: Path,
                                 report: Report) -> None:
    """As the API server's validatePodFailurePolicy (batch/v1)."""
    pod = template.spec if template is not None else None
    if pod is not None and pod.restart_policy != "Never":
        report.add(invalid(path + ("template", "spec", "restartPolicy"), pod.restart_policy,
                           'only "Never" is supported when podFailurePolicy is specified'))
    here = path + ("podFailurePolicy", "rules")
    if len(policy.rules) > 20:
        report.add(too_many(here, f"{len(policy.rules)}: must have at most 20 items"))
    names = {c.name for c in (pod.containers + pod.init_containers if pod is not None else [])}
    for index, rule in enumerate(policy.rules):
        at = here + (index,)
        if rule.action not in POD_FAILURE_ACTIONS:
            report.add(not_supported(at + ("action",), rule.action, POD_FAILURE_ACTIONS))
        elif rule.action == "FailIndex":
            report.add(invalid(at + ("action",), rule.action, "can only be used when backoffLimitPerIndex is set, "
                               "which podbay's Job controller does not implement"))
        codes, patterns = rule.on_exit_codes, rule.on_pod_conditions
        if codes is None and not patterns:
            report.add(invalid(at, None, "specifying one of OnExitCodes and OnPodConditions is required"))
        elif codes is not None and patterns:
            report.add(invalid(at, None, "specifying both OnExitCodes and OnPodConditions is not supported"))
        if codes is not None:
            _validate_exit_codes(codes, names, at + ("onExitCodes",), report)
        if len(patterns) > 20:
            report.add(too_many(at + ("onPodConditions",), f"{len(patterns)}: must have at most 20 items"))
        for number, pattern in enumerate(patterns):
            where = at + ("onPodConditions", number)
            if not pattern.type:
                report.add(required(where + ("type",)))
            one_of(pattern.status, ["True", "False", "Unknown"], where + ("status",), report)


def _validate_exit_codes(codes: PodFailurePolicyOnExitCodesRequirement, names: set[str], path: Path,
                         report: Report) -> None:
    container, operator, values = codes.container_name, codes.operator, codes.values
    if container is not None and container not in names:
        report.add(invalid(path + ("containerName",), container,
                           "must be one of the container or initContainer names in the pod template"))
    if operator not in ("In", "NotIn"):
        report.add(not_supported(path + ("operator",), operator, ["In", "NotIn"]))
    if not values:
        report.add(required(path + ("values",)))
    elif len(values) > 255:
        report.add(too_many(path + ("values",), f"{len(values)}: must have at most 255 items"))
    for index, value in enumerate(values):
        if value in values[:index]:
            report.add(duplicate(path + ("values", index), value))
        elif index and value < values[index - 1]:
            report.add(invalid(path + ("values", index), value, "must be ordered"))
        if operator == "In" and value == 0:
            report.add(invalid(path + ("values", index), value, "must not be 0 for the In operator"))


def _validate_job(job: Job, path: Path, report: Report) -> None:
    spec = job.spec
    assert spec is not None and job.metadata is not None
    for key, value in (("parallelism", spec.parallelism), ("completions", spec.completions),
                       ("backoffLimit", spec.backoff_limit), ("ttlSecondsAfterFinished",
                                                              spec.ttl_seconds_after_finished)):
        non_negative(value, path + (key,), report)
    if spec.active_deadline_seconds is not None and spec.active_deadline_seconds <= 0:
        report.add(invalid(path + ("activeDeadlineSeconds",), spec.active_deadline_seconds,
                           "must be greater than 0"))
    one_of(spec.completion_mode or "", ["NonIndexed", "Indexed"], path + ("completionMode",), report)
    if spec.completion_mode == "Indexed" and spec.completions is None:
        report.add(required(path + ("completions",), "when completion mode is Indexed"))
    one_of(spec.pod_replacement_policy or "", ["TerminatingOrFailed", "Failed"],
            path + ("podReplacementPolicy",), report)
    if spec.pod_failure_policy is not None:
        _validate_pod_failure_policy(spec.pod_failure_policy, spec.template, path, report)
    if not spec.manual_selector and spec.selector is not None:
        generated = spec.selector.match_labels == {JOB_CONTROLLER_UID_LABEL: job.metadata.uid}
        if not generated or spec.selector.match_expressions:
            report.add(invalid(path + ("selector",), spec.selector.match_labels,
                               "`selector` not auto-generated (set manualSelector: true to use your own)"))
