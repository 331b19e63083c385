"""Turn a Pod's container and its image into the plan the container's init carries out.

Everything that can be decided before the fork is decided here, in the parent: the
command (Kubernetes' rules against the image's Entrypoint/Cmd), the environment with
``$(VAR)`` expansion, the capability set, the seccomp program (compiled to BPF here,
loaded by the init), the mounts and the /etc files. The plan is plain JSON.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podbay.runtime.idmap import IdMapping
from podbay.runtime.images.config import ImageConfig
from podbay.runtime.pod.config import ConfigError, PodObjects, field_value, resource_value
from podbay.runtime.process.expand import expand
from podbay.runtime.rootfs.defaults import DEFAULT_PATH, DEVICES, MASKED_PATHS, READONLY_PATHS
from podbay.runtime.security.capabilities import CAPABILITY_NUMBERS, container_capabilities
from podbay.runtime.spec.pod import Container, EnvVarSource, Pod, SeccompProfile, meta_of, spec_of

NOFILE_SOFT = 1024  # the soft limit systemd gives services (and so containerd's containers)


class PlanError(Exception):
    """The pod cannot run as written; the message says why, naming the container and field."""


@dataclass
class Plan:
    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@dataclass
class PodContext:
    """What a container takes from its pod: the sandbox's namespaces and files, volumes, objects."""

    mapping: IdMapping
    join: dict[str, int]  # namespace -> file descriptor held open by the launcher
    etc_files: dict[str, str]  # /etc/hosts, /etc/hostname, /etc/resolv.conf -> the pod's copies
    volumes: dict[str, str]  # volume name -> host path to bind
    objects: PodObjects = field(default_factory=PodObjects)
    pod_ip: str = ""


def resolve_command(container: Container, image: ImageConfig) -> list[str]:
    """Kubernetes: ``command`` replaces the ENTRYPOINT (and drops the image's CMD); ``args`` replaces CMD."""
    if container.command:
        return list(container.command) + list(container.args)
    return list(image.entrypoint) + (list(container.args) if container.args else list(image.cmd))


def _env_value(pod: Pod, container: Container, source: EnvVarSource, context: PodContext) -> str | None:
    objects = context.objects
    if source.config_map_key_ref is not None:
        ref = source.config_map_key_ref
        value = objects.key("ConfigMap", ref.name, ref.key, ref.optional)
    elif source.secret_key_ref is not None:
        ref2 = source.secret_key_ref
        value = objects.key("Secret", ref2.name, ref2.key, ref2.optional)
    elif source.field_ref is not None:
        return field_value(pod, source.field_ref, pod_ip=context.pod_ip)
    elif source.resource_field_ref is not None:
        return resource_value(pod, container, source.resource_field_ref)
    else:
        return None
    return None if value is None else value.decode("utf-8", "replace")


def own_env(pod: Pod, container: Container, context: PodContext) -> dict[str, str]:
    """The kubelet's makeEnvironmentVariables: envFrom (with prefixes), then env in order, each value
    expanded against the variables before it; a missing non-optional reference is a ConfigError."""
    own: dict[str, str] = {}
    for source in container.env_from:
        if source.config_map_ref is not None:
            values = context.objects.get("ConfigMap", source.config_map_ref.name, source.config_map_ref.optional)
        elif source.secret_ref is not None:
            values = context.objects.get("Secret", source.secret_ref.name, source.secret_ref.optional)
        else:
            continue
        for key, raw in (values or {}).items():
            own[source.prefix + key] = raw.decode("utf-8", "replace")
    for var in container.env:
        if var.value_from is not None:
            resolved = _env_value(pod, container, var.value_from, context)
            if resolved is not None:
                own[var.name] = resolved
        else:
            own[var.name] = expand(var.value, own)
    return own


def container_env(container: Container, image: ImageConfig, hostname: str,
                  own: dict[str, str]) -> list[str]:
    """The image's env overridden by the container's own (see own_env)."""
    merged: dict[str, str] = {}
    for entry in image.env:
        name, _, value = entry.partition("=")
        merged[name] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    merged["HOSTNAME"] = hostname
    if container.tty:
        merged["TERM"] = "xterm"  # as containerd gives a container with a terminal
    merged.update(own)
    return [f"{k}={v}" for k, v in merged.items()]


def check_run_as_non_root(pod: Pod, container: Container, image: ImageConfig) -> None:
    """The kubelet's verifyRunAsNonRoot, with its messages."""
    sc, psc = container.security_context, spec_of(pod).security_context
    non_root = sc.run_as_non_root if sc and sc.run_as_non_root is not None else (
        psc.run_as_non_root if psc else None)
    if not non_root:
        return
    run_as = sc.run_as_user if sc and sc.run_as_user is not None else (psc.run_as_user if psc else None)
    # format.Pod: name_namespace(uid), quoted as Go's %q does.
    uid = f"({meta_of(pod).uid})" if meta_of(pod).uid else ""
    where = f'(pod: "{meta_of(pod).name}_{meta_of(pod).namespace or "default"}{uid}", container: {container.name})'
    if run_as is not None:
        if run_as == 0:
            raise PlanError(f"container's runAsUser breaks non-root policy {where}")
        return
    user = image.user.partition(":")[0]
    if user and not user.isdigit():
        raise PlanError(f"container has runAsNonRoot and image has non-numeric user ({user}), "
                        f"cannot verify user is non-root {where}")
    if not user or int(user) == 0:
        raise PlanError(f"container has runAsNonRoot and image will run as root {where}")


def _seccomp(pod: Pod, container: Container, privileged: bool, caps: list[str], *,
             profiles_dir: Path, cache_dir: Path) -> str | None:
    """The seccomp program as hex, or None for no filter."""
    sc, psc = container.security_context, spec_of(pod).security_context
    profile: SeccompProfile | None = (sc.seccomp_profile if sc and sc.seccomp_profile else
                                      psc.seccomp_profile if psc and psc.seccomp_profile else None)
    kind = profile.type if profile else "RuntimeDefault"
    if privileged or kind == "Unconfined":
        return None
    from podbay.runtime.security import seccomp  # noqa: PLC0415

    try:
        if kind == "Localhost":
            relative = (profile.localhost_profile if profile else None) or ""
            if not relative or relative.startswith("/") or ".." in relative.split("/"):
                raise PlanError(f"container {container.name}: seccompProfile.localhostProfile must be a "
                                f"relative path inside {profiles_dir}, got {relative!r}")
            built = seccomp.load_profile(profiles_dir / relative, caps)
            return seccomp.compile_bpf(built).hex()
        return seccomp.cached_runtime_default(caps, cache_dir).hex()
    except seccomp.SeccompError as err:
        raise PlanError(f"container {container.name}: {err}") from err


def _rlimits() -> list[list[int]]:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    # Never above the hard limit we have (raising it needs CAP_SYS_RESOURCE, which root lacks on some hosts).
    return [[resource.RLIMIT_NOFILE, min(NOFILE_SOFT, hard) if hard != resource.RLIM_INFINITY else NOFILE_SOFT,
             hard]]


def pod_hostname(pod: Pod) -> str:
    """spec.hostname, else the pod's name (at most 63 characters, as the kubelet truncates it)."""
    return (spec_of(pod).hostname or meta_of(pod).name)[:63].rstrip("-.")


def etc_files(pod: Pod, hostname: str, pod_ip: str = "") -> dict[str, str]:
    """Contents of the pod's /etc/hosts (with the pod's IP, as the kubelet writes it), /etc/hostname and
    /etc/resolv.conf."""
    names = hostname
    if spec_of(pod).subdomain:  # the kubelet's "<ip> <hostname>.<subdomain>.<ns>.svc.<domain> <hostname>"
        namespace = meta_of(pod).namespace or "default"
        names = f"{hostname}.{spec_of(pod).subdomain}.{namespace}.svc.cluster.local\t{hostname}"
    hosts = ["# Kubernetes-managed hosts file (podbay).", "127.0.0.1\tlocalhost",
             "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "fe00::0\tip6-mcastprefix",
             f"{pod_ip or '127.0.1.1'}\t{names}"]
    if spec_of(pod).host_aliases:
        hosts.append("\n# Entries added by HostAliases.")
        hosts += [f"{alias.ip}\t{chr(9).join(alias.hostnames)}" for alias in spec_of(pod).host_aliases]
    return {"/etc/hosts": "\n".join(hosts) + "\n", "/etc/hostname": hostname + "\n",
            "/etc/resolv.conf": resolv_conf(pod)}


SYSTEMD_RESOLVED_UPSTREAM = "/run/systemd/resolve/resolv.conf"


def _read_resolv_conf(path: str) -> tuple[list[str], list[str], list[str]]:
    """Nameservers, search domains and options of a resolv.conf (nothing when it is missing)."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        words = line.split()
        if not words or words[0].startswith(("#", ";")):
            continue
        if words[0] == "nameserver" and len(words) > 1:
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            searches += words[1:]
        elif words[0] == "options":
            options += words[1:]
    return servers, searches, options


def _loopback(server: str) -> bool:
    return server.startswith("127.") or server == "::1"


def resolv_conf(pod: Pod, host_file: str = "/etc/resolv.conf", upstream_file: str = SYSTEMD_RESOLVED_UPSTREAM) -> str:
    """dnsPolicy: Default and ClusterFirst (there is no cluster DNS) use the host's resolvers;
    None starts empty; dnsConfig adds nameservers, searches and options, as the kubelet merges them.

    A pod with its own network cannot reach the host's loopback: a local stub (systemd-resolved's
    127.0.0.53) is replaced by the servers it forwards to, and loopback servers are dropped, as
    docker and podman do."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    if spec_of(pod).dns_policy != "None":
        servers, searches, options = _read_resolv_conf(host_file)
        if not spec_of(pod).host_network and servers and all(_loopback(s) for s in servers):
            servers = _read_resolv_conf(upstream_file)[0]
        if not spec_of(pod).host_network:
            servers = [s for s in servers if not _loopback(s)]
    dns = spec_of(pod).dns_config
    if dns is not None:
        servers += [s for s in dns.nameservers if s not in servers]
        searches += [s for s in dns.searches if s not in searches]
        for option in dns.options:
            text = option.name + (f":{option.value}" if option.value else "")
            options = [o for o in options if o.split(":")[0] != option.name] + [text]
    out = [f"nameserver {s}" for s in servers[:3]]
    if searches:
        out.append("search " + " ".join(searches[:32]))
    if options:
        out.append("options " + " ".join(options))
    return "\n".join(out) + "\n"


def unified_cgroup() -> bool:
    try:
        with open("/proc/self/mountinfo") as mountinfo:
            return any(line.split(" - ")[1].startswith("cgroup2 ") and line.split()[4] == "/sys/fs/cgroup"
                       for line in mountinfo if " - " in line)
    except OSError:
        return False


def volume_mounts(container: Container, context: PodContext, env: dict[str, str]) -> list[dict[str, Any]]:
    """The container's volumeMounts, as bind mounts the init makes (subPath resolved there, safely)."""
    mounts = []
    for mount in container.volume_mounts:
        if mount.name not in context.volumes:
            raise PlanError(f"container {container.name}: volumeMount {mount.mount_path}: no volume {mount.name!r}")
        sub_path = expand(mount.sub_path_expr, env) if mount.sub_path_expr else mount.sub_path
        if sub_path.startswith("/") or ".." in sub_path.split("/"):
            raise PlanError(f"container {container.name}: volumeMount {mount.mount_path}: subPath {sub_path!r} "
                            "must be a relative path inside the volume")
        if mount.mount_propagation == "Bidirectional":
            raise PlanError(f"container {container.name}: volumeMount {mount.mount_path}: mountPropagation "
                            "Bidirectional is not supported")
        mounts.append({"source": context.volumes[mount.name], "sub_path": sub_path, "target": mount.mount_path,
                       "readonly": mount.read_only,
                       "propagation": "rslave" if mount.mount_propagation == "HostToContainer" else "private"})
    return mounts


TERMINATION_LOG = "termination-log"


def _termination_log(container: Container, container_dir: Path) -> dict[str, str]:
    """terminationMessagePath: a file of the container's folder bound there, which the supervisor reads
    when the container ends (made by the launcher, writable by any user of the container, as the kubelet's)."""
    path = container.termination_message_path
    return {path: str(container_dir / TERMINATION_LOG)} if path else {}


def build(pod: Pod, container: Container, image: ImageConfig, *, layers_dir: Path, lower: list[str],
          container_dir: Path, context: PodContext, profiles_dir: Path, cache_dir: Path,
          rootfs_mode: str = "overlay") -> Plan:
    warnings: list[str] = []
    sc, psc = container.security_context, spec_of(pod).security_context
    privileged = bool(sc and sc.privileged)
    rootless = os.geteuid() != 0
    if privileged and rootless:
        warnings.append(f"container {container.name}: privileged in a rootless pod gives every capability "
                        "inside the user namespace only; /sys stays read-only and no host devices are added")
    caps_spec = sc.capabilities if sc else None
    try:
        caps = container_capabilities(caps_spec.add if caps_spec else [], caps_spec.drop if caps_spec else [],
                                      privileged)
    except ValueError as err:
        raise PlanError(f"container {container.name}: securityContext.capabilities: {err}") from err
    check_run_as_non_root(pod, container, image)
    hostname = pod_hostname(pod)
    try:
        own = own_env(pod, container, context)
    except ConfigError as err:
        raise PlanError(f"container {container.name}: CreateContainerConfigError: {err}") from err
    env = container_env(container, image, hostname, own)
    args = [expand(arg, own) for arg in resolve_command(container, image)]
    if not args:
        raise PlanError(f"container {container.name}: no command: the image has no Entrypoint or Cmd and the "
                        "container sets no command")
    seccomp_hex = _seccomp(pod, container, privileged, caps, profiles_dir=profiles_dir,
                                          cache_dir=cache_dir)
    allow_escalation = sc.allow_privilege_escalation if sc else None
    mapping = context.mapping
    # Net, IPC and UTS are the pod's (joined); the mount and pid namespaces are the container's own.
    shared_pid = "pid" in context.join
    namespaces = ["mnt"] + ([] if spec_of(pod).host_pid or shared_pid else ["pid"])
    cgroup2 = unified_cgroup()
    namespaces += ["cgroup"] if cgroup2 else []
    unmasked = bool(sc and sc.proc_mount == "Unmasked") or privileged
    run_as_user = sc.run_as_user if sc and sc.run_as_user is not None else (psc.run_as_user if psc else None)
    run_as_group = sc.run_as_group if sc and sc.run_as_group is not None else (psc.run_as_group if psc else None)
    data = {
        "userns": not mapping.identity,
        "join": context.join,
        "namespaces": namespaces,
        "hostname": hostname,
        "rootfs": {"mode": rootfs_mode, "layers_dir": str(layers_dir), "lower": lower,
                   "upper": str(container_dir / "upper"), "work": str(container_dir / "work"),
                   "target": str(container_dir / "rootfs"), "copy_dir": str(container_dir / "copy"),
                   "userxattr": not mapping.identity,
                   "readonly": bool(sc and sc.read_only_root_filesystem)},
        "devices": list(DEVICES),
        "sys_writable": privileged and not rootless,
        "cgroup2": cgroup2,
        "etc_files": {**context.etc_files, **_termination_log(container, container_dir)},
        "mounts": volume_mounts(container, context, own),
        "masked": [] if unmasked else list(MASKED_PATHS),
        "readonly": [] if unmasked else list(READONLY_PATHS),
        "process": {
            "args": args, "env": env, "cwd": container.working_dir or image.working_dir or "/",
            "user": image.user, "run_as_user": run_as_user, "run_as_group": run_as_group,
            "supplemental_groups": list(psc.supplemental_groups) if psc else [],
            "fs_group": psc.fs_group if psc else None,
            "rlimits": _rlimits(),
            "capabilities": sorted(CAPABILITY_NUMBERS[c] for c in caps),
            "no_new_privs": not privileged and allow_escalation is not True,
            "seccomp": seccomp_hex,
            "terminal": [24, 80] if container.tty else None,  # attach resizes it
        },
    }
    return Plan(data, warnings)
