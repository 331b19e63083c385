"""Pod validation as the API server does it (pkg/apis/core/validation/validation.go).

Every rule reports into a :class:`Report`, so all errors of a document come out
at once, each as ``field.path: Type: value: detail`` in the API server's words.
Warnings are for valid Kubernetes that a single node will not honour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from podbay.runtime.spec import names
from podbay.runtime.spec.defaults import volume_sources
from podbay.runtime.spec.errors import (
    ErrorType,
    FieldError,
    FieldWarning,
    Key,
    Path,
    duplicate,
    forbidden,
    invalid,
    not_found,
    not_supported,
    render_path,
    required,
)
from podbay.runtime.spec.meta import LabelSelector, ObjectMeta
from podbay.runtime.spec.pod import (
    Container,
    ContainerPort,
    DownwardAPIVolumeFile,
    EnvVar,
    KeyToPath,
    LifecycleHandler,
    Pod,
    PodDNSConfig,
    PodSecurityContext,
    PodSpec,
    Probe,
    ResourceRequirements,
    SeccompProfile,
    SecurityContext,
    Volume,
    VolumeMount,
    meta_of,
    spec_of,
)
from podbay.runtime.spec.schema import fields_of

MAX_INT32 = 2**31 - 1
ANNOTATIONS_MAX_BYTES = 256 * 1024
FILE_MODE_MAX = 0o777

# Linux capabilities (include/uapi/linux/capability.h), without the CAP_ prefix.
LINUX_CAPABILITIES = frozenset("""
CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE
NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN
SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE
MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE
""".split())

SIGNALS = frozenset("""
SIGABRT SIGALRM SIGBUS SIGCHLD SIGCLD SIGCONT SIGFPE SIGHUP SIGILL SIGINT SIGIO SIGIOT SIGKILL SIGPIPE SIGPOLL
SIGPROF SIGPWR SIGQUIT SIGSEGV SIGSTKFLT SIGSTOP SIGSYS SIGTERM SIGTRAP SIGTSTP SIGTTIN SIGTTOU SIGURG SIGUSR1
SIGUSR2 SIGVTALRM SIGWINCH SIGXCPU SIGXFSZ SIGRTMIN SIGRTMAX
""".split()) | {f"SIGRTMIN+{n}" for n in range(1, 16)} | {f"SIGRTMAX-{n}" for n in range(1, 15)}

ENV_FIELD_PATHS = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                   "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"]
VOLUME_FIELD_PATHS = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                      "metadata.uid"]
RESOURCE_FIELD_REFS = ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                       "requests.ephemeral-storage", "requests.memory"]
STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
POD_LEVEL_RESOURCES = ("cpu", "memory", "pids")


class Report:
    """Errors and warnings of one document."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.warnings: list[FieldWarning] = []

    def add(self, error: FieldError) -> None:
        self.errors.append(error)

    def check(self, path: Path, value: Any, messages: Iterable[str]) -> None:
        """Turn a names.* checker's messages into Invalid value errors."""
        for message in messages:
            self.errors.append(invalid(path, value, message))

    def warn(self, path: Path, message: str) -> None:
        self.warnings.append(FieldWarning(path, message))


# --- shared pieces ---------------------------------------------------------------------


def validate_metadata(meta: ObjectMeta, path: Path, report: Report,
                      name_rule: Callable[[str], list[str]] = names.dns1123_subdomain,
                      require_name: bool = True) -> None:
    if require_name and not meta.name and not meta.generate_name:
        report.add(required(path + ("name",), "name or generateName is required"))
    if meta.name:
        report.check(path + ("name",), meta.name, name_rule(meta.name))
    if meta.generate_name:
        # generateName gets 5 characters appended, so validate a stand-in full name.
        report.check(path + ("generateName",), meta.generate_name, name_rule(meta.generate_name + "x"))
    if meta.namespace:
        report.check(path + ("namespace",), meta.namespace, names.dns1123_label(meta.namespace))
    validate_labels(meta.labels, path + ("labels",), report)
    for key in meta.annotations:
        report.check(path + ("annotations",), key, names.qualified_name(key.lower()))
    size = sum(len(k) + len(v) for k, v in meta.annotations.items())
    if size > ANNOTATIONS_MAX_BYTES:
        report.add(FieldError(path + ("annotations",), ErrorType.TOO_LONG,
                              detail=f"must have at most {ANNOTATIONS_MAX_BYTES} bytes"))


def validate_labels(labels: dict[str, str], path: Path, report: Report) -> None:
    for key, value in labels.items():
        report.check(path, key, names.qualified_name(key))
        report.check(path, value, names.label_value(value))


def validate_selector(selector: LabelSelector, path: Path, report: Report) -> None:
    validate_labels(selector.match_labels, path + ("matchLabels",), report)
    for i, req in enumerate(selector.match_expressions):
        here = path + ("matchExpressions", i)
        report.check(here + ("key",), req.key, names.qualified_name(req.key))
        if req.operator in ("In", "NotIn"):
            if not req.values:
                report.add(required(here + ("values",), "must be specified when `operator` is 'In' or 'NotIn'"))
        elif req.operator in ("Exists", "DoesNotExist"):
            if req.values:
                report.add(forbidden(here + ("values",),
                                     "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            report.add(not_supported(here + ("operator",), req.operator, ["In", "NotIn", "Exists", "DoesNotExist"]))


def non_negative(value: int | None, path: Path, report: Report) -> None:
    if value is not None and value < 0:
        report.add(invalid(path, value, "must be greater than or equal to 0"))


def _in_range(value: int | None, low: int, high: int, path: Path, report: Report) -> None:
    if value is not None and not low <= value <= high:
        report.add(invalid(path, value, f"must be between {low} and {high}, inclusive"))


def one_of(value: str, choices: list[str], path: Path, report: Report, allow_empty: bool = False) -> None:
    if (value or not allow_empty) and value not in choices:
        report.add(not_supported(path, value, choices))


def _file_mode(mode: int | None, path: Path, report: Report) -> None:
    if mode is not None and not 0 <= mode <= FILE_MODE_MAX:
        report.add(invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive"))


def _port_number_or_name(port: int | str | None, path: Path, report: Report) -> None:
    if port in (None, "", 0):
        report.add(required(path))
    elif isinstance(port, int):
        _in_range(port, 1, 65535, path, report)
    else:
        report.check(path, port, names.iana_svc_name(port))


def _set_fields(obj: Any, keys: Iterable[str]) -> list[str]:
    """JSON names, among ``keys``, of the fields of ``obj`` that are set."""
    info = fields_of(type(obj))
    return [k for k in keys if getattr(obj, info[k].name) is not None]


# --- the pod spec ----------------------------------------------------------------------


def validate_pod_spec(spec: PodSpec, path: Path, report: Report, claim_templates: Iterable[str] = ()) -> None:
    """Validate a pod spec; ``claim_templates`` are volume names a StatefulSet adds per pod."""
    volumes = _validate_volumes(spec.volumes, path + ("volumes",), report)
    for name in claim_templates:
        volumes.setdefault(name, Volume(name=name))
    if not spec.containers:
        report.add(required(path + ("containers",)))
    seen: set[str] = set()
    for list_key, index, container in spec.all_containers():
        here = path + (list_key, index)
        if container.name and container.name in seen:
            report.add(duplicate(here + ("name",), container.name))
        seen.add(container.name)
        _validate_container(container, list_key, here, spec, volumes=volumes, report=report)
    regular = {c.name for c in spec.containers + spec.init_containers}
    for index, debug in enumerate(spec.ephemeral_containers):
        target = debug.target_container_name
        if target and target not in regular:
            report.add(not_found(path + ("ephemeralContainers", index, "targetContainerName"), target))
    _validate_ports(spec, path, report)
    one_of(spec.restart_policy, ["Always", "OnFailure", "Never"], path + ("restartPolicy",), report)
    one_of(spec.dns_policy, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
            path + ("dnsPolicy",), report)
    _validate_dns(spec, path, report)
    non_negative(spec.termination_grace_period_seconds, path + ("terminationGracePeriodSeconds",), report)
    _in_range(spec.active_deadline_seconds, 1, MAX_INT32, path + ("activeDeadlineSeconds",), report)
    if spec.hostname:
        report.check(path + ("hostname",), spec.hostname, names.dns1123_label(spec.hostname))
    if spec.subdomain:
        report.check(path + ("subdomain",), spec.subdomain, names.dns1123_label(spec.subdomain))
    if spec.hostname_override:
        override = spec.hostname_override
        report.check(path + ("hostnameOverride",), override, names.dns1123_subdomain(override))
        if len(override) > 64:
            report.add(invalid(path + ("hostnameOverride",), override, "must be no more than 64 characters"))
    for i, alias in enumerate(spec.host_aliases):
        report.check(path + ("hostAliases", i, "ip"), alias.ip, names.ip_address(alias.ip))
        for j, hostname in enumerate(alias.hostnames):
            report.check(path + ("hostAliases", i, "hostnames", j), hostname, names.dns1123_subdomain(hostname))
    if spec.host_users is False:
        for key, on in (("hostNetwork", spec.host_network), ("hostPID", spec.host_pid), ("hostIPC", spec.host_ipc)):
            if on:
                report.add(forbidden(path + (key,), "when `pod.Spec.HostUsers` is false"))
    if spec.share_process_namespace and spec.host_pid:
        report.add(invalid(path + ("shareProcessNamespace",), True,
                           "ShareProcessNamespace and HostPID cannot both be enabled"))
    if spec.security_context is not None:
        _validate_pod_security(spec.security_context, path + ("securityContext",), report)
    if spec.os is not None:
        one_of(spec.os.name, ["linux", "windows"], path + ("os", "name"), report)
        if spec.os.name == "windows":
            report.warn(path + ("os", "name"), "podbay runs Linux containers only: a windows pod cannot start")
    if spec.resources is not None:
        _validate_pod_resources(spec, path, report)


def _validate_dns(spec: PodSpec, path: Path, report: Report) -> None:
    config = spec.dns_config
    if spec.dns_policy == "None":
        if config is None:
            report.add(required(path + ("dnsConfig",), "must provide `dnsConfig` when `dnsPolicy` is None"))
        elif not config.nameservers:
            report.add(required(path + ("dnsConfig", "nameservers"),
                                "must provide at least one DNS nameserver when `dnsPolicy` is None"))
    if config is not None:
        _validate_dns_config(config, path + ("dnsConfig",), report)


def _validate_dns_config(config: PodDNSConfig, path: Path, report: Report) -> None:
    if len(config.nameservers) > 3:
        report.add(invalid(path + ("nameservers",), config.nameservers, "must not have more than 3 nameservers"))
    for i, server in enumerate(config.nameservers):
        report.check(path + ("nameservers", i), server, names.ip_address(server))
    if len(config.searches) > 32:
        report.add(invalid(path + ("searches",), config.searches, "must not have more than 32 search paths"))
    for i, search in enumerate(config.searches):
        if search != ".":
            report.check(path + ("searches", i), search, names.dns1123_subdomain(search.rstrip(".")))
    for i, option in enumerate(config.options):
        if not option.name:
            report.add(required(path + ("options", i), "must not be empty"))


def _validate_pod_security(ctx: PodSecurityContext, path: Path, report: Report) -> None:
    for key, value in (("runAsUser", ctx.run_as_user), ("runAsGroup", ctx.run_as_group),
                       ("fsGroup", ctx.fs_group)):
        _in_range(value, 0, MAX_INT32, path + (key,), report)
    for i, gid in enumerate(ctx.supplemental_groups):
        _in_range(gid, 0, MAX_INT32, path + ("supplementalGroups", i), report)
    if ctx.supplemental_groups_policy is not None:
        one_of(ctx.supplemental_groups_policy, ["Merge", "Strict"], path + ("supplementalGroupsPolicy",), report)
    if ctx.fs_group_change_policy is not None:
        one_of(ctx.fs_group_change_policy, ["OnRootMismatch", "Always"], path + ("fsGroupChangePolicy",), report)
    seen: set[str] = set()
    for i, sysctl in enumerate(ctx.sysctls):
        here = path + ("sysctls", i, "name")
        if not sysctl.name:
            report.add(required(here))
            continue
        report.check(here, sysctl.name, names.sysctl_name(sysctl.name))
        if sysctl.name in seen:
            report.add(duplicate(here, sysctl.name))
        seen.add(sysctl.name)
    if ctx.seccomp_profile is not None:
        _validate_seccomp(ctx.seccomp_profile, path + ("seccompProfile",), report)


def _validate_seccomp(profile: SeccompProfile, path: Path, report: Report) -> None:
    if not profile.type:
        report.add(required(path + ("type",)))
        return
    one_of(profile.type, ["Localhost", "RuntimeDefault", "Unconfined"], path + ("type",), report)
    if profile.type == "Localhost":
        if not profile.localhost_profile:
            report.add(required(path + ("localhostProfile",), "must be set when seccomp type is Localhost"))
        else:
            for message in names.relative_path(profile.localhost_profile):
                report.add(invalid(path + ("localhostProfile",), profile.localhost_profile, message))
    elif profile.localhost_profile is not None:
        report.add(invalid(path + ("localhostProfile",), profile.localhost_profile,
                           "can only be set when seccomp type is Localhost"))


# --- volumes ---------------------------------------------------------------------------


def _validate_volumes(volumes: list[Volume], path: Path, report: Report) -> dict[str, Volume]:
    by_name: dict[str, Volume] = {}
    for i, volume in enumerate(volumes):
        here = path + (i,)
        if not volume.name:
            report.add(required(here + ("name",)))
        else:
            report.check(here + ("name",), volume.name, names.dns1123_label(volume.name))
            if volume.name in by_name:
                report.add(duplicate(here + ("name",), volume.name))
            by_name[volume.name] = volume
        sources = volume_sources(volume)
        for extra in sources[1:]:
            report.add(forbidden(here + (extra,), "may not specify more than 1 volume type"))
        _validate_volume_source(volume, here, report)
    return by_name


def _validate_volume_source(volume: Volume, path: Path, report: Report) -> None:
    if volume.host_path is not None:
        here = path + ("hostPath",)
        if not volume.host_path.path:
            report.add(required(here + ("path",)))
        one_of(volume.host_path.type or "", ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File",
                                              "Socket", "CharDevice", "BlockDevice"], here + ("type",), report)
    if volume.empty_dir is not None:
        here = path + ("emptyDir",)
        medium = volume.empty_dir.medium
        if medium not in ("", "Memory", "HugePages") and not medium.startswith("HugePages-"):
            report.add(not_supported(here + ("medium",), medium, ["", "Memory", "HugePages"]))
        mode = volume.empty_dir.mode
        if mode is not None and not 0 <= mode <= 0o7777:
            report.add(invalid(here + ("mode",), mode, "must be a number between 0 and 07777 (octal), both inclusive"))
        limit = volume.empty_dir.size_limit
        if limit is not None and limit.value < 0:
            report.add(invalid(here + ("sizeLimit",), str(limit), "must be greater than or equal to 0"))
    if volume.secret is not None:
        _validate_keyed_source(volume.secret.secret_name, "secretName", volume.secret.items,
                               volume.secret.default_mode, path=path + ("secret",), report=report)
    if volume.config_map is not None:
        _validate_keyed_source(volume.config_map.name, "name", volume.config_map.items,
                               volume.config_map.default_mode, path=path + ("configMap",), report=report)
    if volume.downward_api is not None:
        here = path + ("downwardAPI",)
        _validate_downward_files(volume.downward_api.items, here + ("items",), report)
        _file_mode(volume.downward_api.default_mode, here + ("defaultMode",), report)
    if volume.projected is not None:
        _validate_projected(volume, path + ("projected",), report)
    if volume.persistent_volume_claim is not None and not volume.persistent_volume_claim.claim_name:
        report.add(required(path + ("persistentVolumeClaim", "claimName")))
    if volume.image is not None:
        here = path + ("image",)
        if not volume.image.reference:
            report.add(required(here + ("reference",)))
        one_of(volume.image.pull_policy, ["Always", "IfNotPresent", "Never"], here + ("pullPolicy",), report)


def _validate_keyed_source(name: str, name_key: str, items: list[KeyToPath], default_mode: int | None, *,
                           path: Path, report: Report) -> None:
    """A secret or configMap volume: the object's name, the projected items and the file mode."""
    if not name:
        report.add(required(path + (name_key,)))
    _validate_items(items, path + ("items",), report)
    _file_mode(default_mode, path + ("defaultMode",), report)


def _validate_items(items: list[KeyToPath], path: Path, report: Report) -> None:
    for i, item in enumerate(items):
        if not item.key:
            report.add(required(path + (i, "key")))
        _validate_file_path(item.path, path + (i, "path"), report)
        _file_mode(item.mode, path + (i, "mode"), report)


def _validate_file_path(value: str, path: Path, report: Report) -> None:
    if not value:
        report.add(required(path))
        return
    report.check(path, value, names.relative_path(value))


def _validate_downward_files(items: list[DownwardAPIVolumeFile], path: Path, report: Report) -> None:
    for i, item in enumerate(items):
        here = path + (i,)
        _validate_file_path(item.path, here + ("path",), report)
        _file_mode(item.mode, here + ("mode",), report)
        if (item.field_ref is None) == (item.resource_field_ref is None):
            report.add(invalid(here, "", "fieldRef and resourceFieldRef can not be specified simultaneously"
                               if item.field_ref else "must specify one of fieldRef or resourceFieldRef"))
        if item.field_ref is not None:
            _validate_field_path(item.field_ref.field_path, item.field_ref.api_version, VOLUME_FIELD_PATHS,
                                 here + ("fieldRef",), report)
        if item.resource_field_ref is not None:
            if not item.resource_field_ref.container_name:
                report.add(required(here + ("resourceFieldRef", "containerName")))
            one_of(item.resource_field_ref.resource, RESOURCE_FIELD_REFS,
                    here + ("resourceFieldRef", "resource"), report)


def _validate_projected(volume: Volume, path: Path, report: Report) -> None:
    assert volume.projected is not None
    _file_mode(volume.projected.default_mode, path + ("defaultMode",), report)
    paths: set[str] = set()
    for i, source in enumerate(volume.projected.sources):
        here = path + ("sources", i)
        kinds = _set_fields(source, ("secret", "configMap", "downwardAPI", "serviceAccountToken",
                                     "clusterTrustBundle", "podCertificate"))
        if not kinds:
            report.add(required(here, "must specify exactly 1 of: secret, configMap, downwardAPI, "
                                      "serviceAccountToken, clusterTrustBundle, podCertificate"))
        for extra in kinds[1:]:
            report.add(forbidden(here + (extra,), "may not specify more than 1 volume type per source"))
        files: list[tuple[Path, str]] = []
        if source.secret is not None:
            _validate_items(source.secret.items, here + ("secret", "items"), report)
            files += [(here + ("secret", "items", j, "path"), it.path) for j, it in enumerate(source.secret.items)]
        if source.config_map is not None:
            _validate_items(source.config_map.items, here + ("configMap", "items"), report)
            files += [(here + ("configMap", "items", j, "path"), it.path)
                      for j, it in enumerate(source.config_map.items)]
        if source.downward_api is not None:
            _validate_downward_files(source.downward_api.items, here + ("downwardAPI", "items"), report)
            files += [(here + ("downwardAPI", "items", j, "path"), it.path)
                      for j, it in enumerate(source.downward_api.items)]
        for file_path, name in files:
            if name in paths:
                report.add(invalid(file_path, name, "conflicting duplicate paths"))
            paths.add(name)


def _validate_field_path(field_path: str, api_version: str, supported: list[str], path: Path,
                         report: Report) -> None:
    if not field_path:
        report.add(required(path + ("fieldPath",)))
        return
    if api_version and api_version != "v1":
        report.add(invalid(path + ("apiVersion",), api_version, "unsupported API version"))
    base = field_path.split("[", 1)[0]
    if "[" in field_path:
        if base not in ("metadata.labels", "metadata.annotations") or not field_path.endswith("']"):
            report.add(invalid(path + ("fieldPath",), field_path, "unsupported subscript"))
        return
    if field_path not in supported:
        report.add(not_supported(path + ("fieldPath",), field_path, supported))


# --- containers ------------------------------------------------------------------------


def _validate_container(c: Container, list_key: str, path: Path, spec: PodSpec, *, volumes: dict[str, Volume],
                        report: Report) -> None:
    ephemeral = list_key == "ephemeralContainers"
    sidecar = list_key == "initContainers" and c.restart_policy == "Always"
    plain_init = list_key == "initContainers" and not sidecar
    if not c.name:
        report.add(required(path + ("name",)))
    else:
        report.check(path + ("name",), c.name, names.dns1123_label(c.name))
    if not c.image:
        report.add(required(path + ("image",)))
    elif c.image != c.image.strip():
        report.add(invalid(path + ("image",), c.image, "must not have leading or trailing whitespace"))
    one_of(c.image_pull_policy, ["Always", "IfNotPresent", "Never"], path + ("imagePullPolicy",), report)
    one_of(c.termination_message_policy, ["File", "FallbackToLogsOnError"],
            path + ("terminationMessagePolicy",), report)
    if ephemeral:
        for key, present in (("ports", c.ports), ("resources", _has_resources(c.resources)),
                             ("lifecycle", c.lifecycle), ("livenessProbe", c.liveness_probe),
                             ("readinessProbe", c.readiness_probe), ("startupProbe", c.startup_probe),
                             ("restartPolicy", c.restart_policy)):
            if present:
                report.add(forbidden(path + (key,), "cannot be set for an Ephemeral Container"))
    elif plain_init:
        for key, present in (("lifecycle", c.lifecycle), ("livenessProbe", c.liveness_probe),
                             ("readinessProbe", c.readiness_probe), ("startupProbe", c.startup_probe)):
            if present:
                report.add(forbidden(path + (key,), "may not be set for init containers without "
                                                    "restartPolicy=Always"))
    if c.restart_policy is not None and not ephemeral:
        if list_key == "initContainers":
            one_of(c.restart_policy, ["Always"], path + ("restartPolicy",), report)
        else:
            report.add(forbidden(path + ("restartPolicy",), "may not be set for non-init containers"))
    port_names = _validate_container_ports(c.ports, path + ("ports",), spec.host_network, report)
    _validate_env(c, path, report)
    _validate_mounts(c, path, volumes, ephemeral, report)
    if c.resources is not None and not ephemeral:
        _validate_resources(c.resources, path + ("resources",), report)
    for key, probe in (("livenessProbe", c.liveness_probe), ("readinessProbe", c.readiness_probe),
                       ("startupProbe", c.startup_probe)):
        if probe is not None and not ephemeral and not plain_init:
            _validate_probe(probe, key, path + (key,), port_names, report)
    if c.lifecycle is not None and not ephemeral and not plain_init:
        for key, hook in (("postStart", c.lifecycle.post_start), ("preStop", c.lifecycle.pre_stop)):
            if hook is not None:
                _validate_handler(hook, path + ("lifecycle", key), spec, port_names, report)
        if c.lifecycle.stop_signal:
            here = path + ("lifecycle", "stopSignal")
            if spec.os is None or not spec.os.name:
                report.add(forbidden(here, "may not be set for containers with empty `spec.os.name`"))
            elif c.lifecycle.stop_signal not in SIGNALS:
                report.add(not_supported(here, c.lifecycle.stop_signal, sorted(SIGNALS)))
    if c.security_context is not None:
        _validate_security(c.security_context, path + ("securityContext",), spec, report)
    if c.stdin_once and not c.stdin:
        report.warn(path + ("stdinOnce",), "has no effect without stdin: true")


def _has_resources(resources: ResourceRequirements | None) -> bool:
    return resources is not None and bool(resources.limits or resources.requests or resources.claims)


def _validate_container_ports(ports: list[ContainerPort], path: Path, host_network: bool,
                              report: Report) -> set[str]:
    port_names: set[str] = set()
    for i, port in enumerate(ports):
        here = path + (i,)
        if port.name:
            report.check(here + ("name",), port.name, names.iana_svc_name(port.name))
            if port.name in port_names:
                report.add(duplicate(here + ("name",), port.name))
            port_names.add(port.name)
        if port.container_port == 0:
            report.add(required(here + ("containerPort",)))
        else:
            _in_range(port.container_port, 1, 65535, here + ("containerPort",), report)
        if port.host_port:
            _in_range(port.host_port, 1, 65535, here + ("hostPort",), report)
            if host_network and port.host_port != port.container_port:
                report.add(invalid(here + ("hostPort",), port.host_port,
                                   "must match `containerPort` when `hostNetwork` is true"))
        one_of(port.protocol, ["SCTP", "TCP", "UDP"], here + ("protocol",), report)
        if port.host_ip:
            report.check(here + ("hostIP",), port.host_ip, names.ip_address(port.host_ip))
    return port_names


def _validate_ports(spec: PodSpec, path: Path, report: Report) -> None:
    """Host ports must be unique in the pod; a repeated container port is only a warning (as upstream)."""
    host_ports: set[str] = set()
    container_ports: dict[tuple[int, str], Path] = {}
    for list_key, index, c in spec.all_containers():
        for j, port in enumerate(c.ports):
            here = path + (list_key, index, "ports", j)
            if port.host_port:
                key = f"{port.host_ip + ':' if port.host_ip else ''}{port.host_port}/{port.protocol}"
                if key in host_ports:
                    report.add(duplicate(here + ("hostPort",), key))
                host_ports.add(key)
            if port.container_port:
                earlier = container_ports.get((port.container_port, port.protocol))
                if earlier is not None:
                    report.warn(here, f"duplicate port definition with {render_path(earlier)}")
                else:
                    container_ports[(port.container_port, port.protocol)] = here


def _validate_env(c: Container, path: Path, report: Report) -> None:
    for i, env in enumerate(c.env):
        _validate_env_var(env, path + ("env", i), report)
    for i, source in enumerate(c.env_from):
        here = path + ("envFrom", i)
        if source.prefix:
            report.check(here + ("prefix",), source.prefix, names.env_var_name(source.prefix))
        refs = _set_fields(source, ("configMapRef", "secretRef"))
        if not refs:
            report.add(invalid(here, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(refs) > 1:
            report.add(invalid(here, "", "may not have more than one field specified at a time"))
        for ref in (source.config_map_ref, source.secret_ref):
            if ref is not None and not ref.name:
                key = "configMapRef" if ref is source.config_map_ref else "secretRef"
                report.add(required(here + (key, "name")))


def _validate_env_var(env: EnvVar, path: Path, report: Report) -> None:
    if not env.name:
        report.add(required(path + ("name",)))
    else:
        report.check(path + ("name",), env.name, names.env_var_name(env.name))
    source = env.value_from
    if source is None:
        return
    here = path + ("valueFrom",)
    if env.value:
        report.add(invalid(here, "", "may not be specified when `value` is not empty"))
    refs = _set_fields(source, ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"))
    if not refs:
        report.add(invalid(here, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` "
                                     "or `secretKeyRef`"))
    elif len(refs) > 1:
        report.add(invalid(here, "", "may not have more than one field specified at a time"))
    if source.field_ref is not None:
        _validate_field_path(source.field_ref.field_path, source.field_ref.api_version, ENV_FIELD_PATHS,
                             here + ("fieldRef",), report)
    if source.resource_field_ref is not None:
        one_of(source.resource_field_ref.resource, RESOURCE_FIELD_REFS, here + ("resourceFieldRef", "resource"),
                report)
    for key, ref in (("configMapKeyRef", source.config_map_key_ref), ("secretKeyRef", source.secret_key_ref)):
        if ref is None:
            continue
        if not ref.name:
            report.add(required(here + (key, "name")))
        if not ref.key:
            report.add(required(here + (key, "key")))
        else:
            report.check(here + (key, "key"), ref.key, names.config_map_key(ref.key))


def _validate_mounts(c: Container, path: Path, volumes: dict[str, Volume], ephemeral: bool,
                     report: Report) -> None:
    mount_paths: set[str] = set()
    privileged = bool(c.security_context and c.security_context.privileged)
    for i, mount in enumerate(c.volume_mounts):
        here = path + ("volumeMounts", i)
        if not mount.name:
            report.add(required(here + ("name",)))
        elif mount.name not in volumes:
            report.add(not_found(here + ("name",), mount.name))
        if not mount.mount_path:
            report.add(required(here + ("mountPath",)))
        elif mount.mount_path in mount_paths:
            report.add(invalid(here + ("mountPath",), mount.mount_path, "must be unique"))
        mount_paths.add(mount.mount_path)
        _validate_subpaths(mount, here, ephemeral, report)
        if mount.mount_propagation is not None:
            one_of(mount.mount_propagation, ["Bidirectional", "HostToContainer", "None"],
                    here + ("mountPropagation",), report)
            if mount.mount_propagation == "Bidirectional" and not privileged:
                report.add(forbidden(here + ("mountPropagation",),
                                     "Bidirectional mount propagation is available only to privileged containers"))
        if mount.recursive_read_only is not None:
            one_of(mount.recursive_read_only, ["Disabled", "IfPossible", "Enabled"],
                    here + ("recursiveReadOnly",), report)
            if mount.recursive_read_only != "Disabled" and not mount.read_only:
                report.add(forbidden(here + ("recursiveReadOnly",), "may only be specified when readOnly is true"))


def _validate_subpaths(mount: VolumeMount, path: Path, ephemeral: bool, report: Report) -> None:
    if mount.sub_path:
        if ephemeral:
            report.add(forbidden(path + ("subPath",), "cannot be set for an Ephemeral Container"))
        report.check(path + ("subPath",), mount.sub_path, names.relative_path(mount.sub_path))
    if mount.sub_path_expr:
        if mount.sub_path:
            report.add(invalid(path + ("subPathExpr",), mount.sub_path_expr,
                               "subPathExpr and subPath are mutually exclusive"))
        report.check(path + ("subPathExpr",), mount.sub_path_expr, names.relative_path(mount.sub_path_expr))


def _is_extended_resource(name: str) -> bool:
    return "/" in name and not name.split("/", 1)[0].endswith("kubernetes.io")


def _validate_resources(res: ResourceRequirements, path: Path, report: Report,
                        allowed: tuple[str, ...] = STANDARD_CONTAINER_RESOURCES) -> None:
    for table_key, table in (("limits", res.limits), ("requests", res.requests)):
        for name, quantity in table.items():
            here = path + (table_key, Key(name))
            if name not in allowed and not name.startswith("hugepages-") and not _is_extended_resource(name):
                if allowed is STANDARD_CONTAINER_RESOURCES:  # pod-level names were reported by the caller
                    report.add(invalid(here, name, "must be a standard resource for containers"))
                continue
            if name == "pids" and not quantity.is_integer():
                report.add(invalid(here, str(quantity), "must be an integer"))
            if quantity.value < 0:
                report.add(invalid(here, str(quantity), "must be greater than or equal to 0"))
            if _is_extended_resource(name):
                if not quantity.is_integer():
                    report.add(invalid(here, str(quantity), "must be an integer"))
                if table_key == "limits":
                    report.warn(here, "extended resources are ignored on a single node: no device plugin "
                                      "allocates them")
    for name, request in res.requests.items():
        limit = res.limits.get(name)
        here = path + ("requests", Key(name))
        if _is_extended_resource(name) or name.startswith("hugepages-"):
            if limit is None:
                report.add(required(path + ("limits", Key(name)),
                                    "Limit must be set for non overcommitable resources"))
            elif request != limit:
                report.add(invalid(here, str(request), f"must be equal to {name} limit of {limit}"))
        elif limit is not None and request > limit:
            report.add(invalid(here, str(request), f"must be less than or equal to {name} limit of {limit}"))


def _validate_pod_resources(spec: PodSpec, path: Path, report: Report) -> None:
    assert spec.resources is not None
    here = path + ("resources",)
    for table_key, table in (("limits", spec.resources.limits), ("requests", spec.resources.requests)):
        for name in table:
            if name not in POD_LEVEL_RESOURCES and not name.startswith("hugepages-"):
                report.add(not_supported(here + (table_key, Key(name)), name, list(POD_LEVEL_RESOURCES)))
    _validate_resources(spec.resources, here, report, allowed=POD_LEVEL_RESOURCES)
    for list_key, index, c in spec.all_containers():
        if c.resources is None:
            continue
        for name, limit in c.resources.limits.items():
            pod_limit = spec.resources.limits.get(name)
            if pod_limit is not None and limit > pod_limit:
                report.add(invalid(path + (list_key, index, "resources", "limits", Key(name)), str(limit),
                                   "must be less than or equal to pod limits"))


def _validate_probe(probe: Probe, kind: str, path: Path, port_names: set[str], report: Report) -> None:
    handlers = _set_fields(probe, ("exec", "httpGet", "tcpSocket", "grpc"))
    if not handlers:
        report.add(required(path, "must specify a handler type"))
    for extra in handlers[1:]:
        report.add(forbidden(path + (extra,), "may not specify more than 1 handler type"))
    _validate_action(probe, path, port_names, report)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        non_negative(getattr(probe, fields_of(Probe)[key].name), path + (key,), report)
    if kind in ("livenessProbe", "startupProbe") and probe.success_threshold != 1:
        report.add(invalid(path + ("successThreshold",), probe.success_threshold, "must be 1"))
    grace = probe.termination_grace_period_seconds
    if grace is not None:
        if kind == "readinessProbe":
            report.add(invalid(path + ("terminationGracePeriodSeconds",), grace,
                               "must not be set for readinessProbes"))
        elif grace <= 0:
            report.add(invalid(path + ("terminationGracePeriodSeconds",), grace, "must be greater than 0"))


def _validate_action(action: Probe | LifecycleHandler, path: Path, port_names: set[str], report: Report) -> None:
    """The handler parts probes and lifecycle hooks share: exec, httpGet, tcpSocket."""
    if action.exec is not None and not action.exec.command:
        report.add(required(path + ("exec", "command")))
    if action.http_get is not None:
        here = path + ("httpGet",)
        _port_number_or_name(action.http_get.port, here + ("port",), report)
        _named_port_exists(action.http_get.port, here + ("port",), port_names, report)
        one_of(action.http_get.scheme, ["HTTP", "HTTPS"], here + ("scheme",), report)
        for i, header in enumerate(action.http_get.http_headers):
            if not header.name or any(ch in header.name for ch in ' \t:()<>@,;\\"/[]?={}'):
                report.add(invalid(here + ("httpHeaders", i, "name"), header.name,
                                   "a valid HTTP header must consist of alphanumeric characters or '-'"))
    if action.tcp_socket is not None:
        here = path + ("tcpSocket", "port")
        _port_number_or_name(action.tcp_socket.port, here, report)
        _named_port_exists(action.tcp_socket.port, here, port_names, report)
    if isinstance(action, Probe) and action.grpc is not None:
        _in_range(action.grpc.port, 1, 65535, path + ("grpc", "port"), report)


def _named_port_exists(port: int | str | None, path: Path, port_names: set[str], report: Report) -> None:
    if isinstance(port, str) and port and port not in port_names:
        report.warn(path, f"no port of this container is named {port!r}: the probe will fail")


def _validate_handler(hook: LifecycleHandler, path: Path, spec: PodSpec, port_names: set[str],
                      report: Report) -> None:
    handlers = _set_fields(hook, ("exec", "httpGet", "tcpSocket", "sleep"))
    if not handlers:
        report.add(required(path, "must specify a handler type"))
    for extra in handlers[1:]:
        report.add(forbidden(path + (extra,), "may not specify more than 1 handler type"))
    _validate_action(hook, path, port_names, report)
    if hook.tcp_socket is not None:
        report.warn(path + ("tcpSocket",), "deprecated: a lifecycle tcpSocket handler only opens a connection")
    if hook.sleep is not None:
        grace = spec.termination_grace_period_seconds or 30
        if not 0 <= hook.sleep.seconds <= grace:
            report.add(invalid(path + ("sleep", "seconds"), hook.sleep.seconds,
                               f"must be non-negative and less than terminationGracePeriodSeconds ({grace})"))


def normalise_capability(name: str) -> str:
    """``cap_net_admin``, ``CAP_NET_ADMIN`` and ``NET_ADMIN`` all name NET_ADMIN."""
    upper = name.upper()
    return upper[4:] if upper.startswith("CAP_") else upper


def _validate_security(ctx: SecurityContext, path: Path, spec: PodSpec, report: Report) -> None:
    _in_range(ctx.run_as_user, 0, MAX_INT32, path + ("runAsUser",), report)
    _in_range(ctx.run_as_group, 0, MAX_INT32, path + ("runAsGroup",), report)
    added = [normalise_capability(c) for c in (ctx.capabilities.add if ctx.capabilities else [])]
    if ctx.allow_privilege_escalation is False:
        if ctx.privileged:
            report.add(invalid(path, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
        if "SYS_ADMIN" in added:
            report.add(invalid(path, "", "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                                         "CAP_SYS_ADMIN"))
    if ctx.capabilities is not None:
        for key, caps in (("add", ctx.capabilities.add), ("drop", ctx.capabilities.drop)):
            for i, cap in enumerate(caps):
                if normalise_capability(cap) not in LINUX_CAPABILITIES and not (key == "drop" and cap == "ALL") \
                        and not (key == "add" and cap == "ALL"):
                    report.warn(path + ("capabilities", key, i), f"unknown capability {cap!r}: the container "
                                                                 "will fail to start")
    if ctx.proc_mount is not None:
        one_of(ctx.proc_mount, ["Default", "Unmasked"], path + ("procMount",), report)
        if ctx.proc_mount == "Unmasked" and spec.host_users is not False:
            report.add(invalid(path + ("procMount",), ctx.proc_mount,
                               "`hostUsers` must be false to use `Unmasked`"))
    if ctx.seccomp_profile is not None:
        _validate_seccomp(ctx.seccomp_profile, path + ("seccompProfile",), report)
    non_root = ctx.run_as_non_root
    if non_root is None and spec.security_context is not None:
        non_root = spec.security_context.run_as_non_root
    if non_root and ctx.run_as_user == 0:
        report.warn(path + ("runAsUser",), "runAsUser 0 with runAsNonRoot: the container will be refused at "
                                           "start (container's runAsUser breaks non-root policy)")



def refused_on_create(pod: Pod) -> str:
    """What the API server refuses in a new Pod that a valid pod may later have ("" if nothing)."""
    if spec_of(pod).ephemeral_containers:  # only the ephemeralcontainers subresource (podbay debug) adds them
        return f'Pod "{meta_of(pod).name}" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create'
    return ""
