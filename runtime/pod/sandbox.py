"""The pod sandbox: the namespaces every container of a pod joins, alive for the pod's whole life.

A short-lived init (``sandbox`` mode) creates the pod's user namespace (mapped as for any
container), and in it a mount namespace (where the pod's tmpfs volumes live), a network
namespace (loopback up), IPC and UTS (the pod's hostname) namespaces. The launcher opens
``/proc/PID/ns/*`` of that process and keeps the descriptors; then the process exits. The
open descriptors, not a process, keep the namespaces alive, so a pod costs no process of
its own (Kubernetes' pause container, podman's infra container and its conmon cost
one or two); containers enter them with ``setns`` and can restart without losing them.
``hostNetwork``/``hostIPC`` pods keep the host's namespace for that kind.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from podbay.runtime.idmap import IdMapping, default_mapping
from podbay.runtime.paths import Paths
from podbay.runtime.pod import volumes as pod_volumes
from podbay.runtime.pod.config import ConfigError, PodObjects
from podbay.runtime.process import launcher
from podbay.runtime.process.channel import ChildError, ProtocolError
from podbay.runtime.process.plan import etc_files, pod_hostname
from podbay.runtime.process.userns import UsernsError, remove_tree
from podbay.runtime.spec.pod import Pod, meta_of, spec_of


@dataclass
class Sandbox:
    pod: Pod
    directory: Path
    mapping: IdMapping
    fds: dict[str, int] = field(default_factory=dict)
    etc_files: dict[str, str] = field(default_factory=dict)
    volumes: pod_volumes.PodVolumes = field(default_factory=pod_volumes.PodVolumes)
    warnings: list[str] = field(default_factory=list)


def _namespaces(pod: Pod) -> list[str]:
    spec = spec_of(pod)
    names = ["mnt"]
    names += [] if spec.host_network else ["net", "uts"]
    names += [] if spec.host_ipc else ["ipc"]
    return names


def create(pod: Pod, paths: Paths, objects: PodObjects) -> Sandbox:
    """Make the pod's folder, volumes and namespaces; on any failure nothing is left behind."""
    meta = meta_of(pod)
    mapping = default_mapping(spec_of(pod).host_users)
    directory = paths.data_dir / "pods" / f"{meta.namespace or 'default'}_{meta.name}_{meta.uid}"
    sandbox = Sandbox(pod, directory, mapping)
    if mapping.warning:
        sandbox.warnings.append(mapping.warning)
    if spec_of(pod).host_users and os.geteuid() != 0:
        sandbox.warnings.append("hostUsers: true is ignored in a rootless pod: it always has its own user namespace")
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.parent.chmod(0o711)
        directory.mkdir(mode=0o711)
        (directory / "etc").mkdir(mode=0o755)
        hostname = pod_hostname(pod)
        for inside, text in etc_files(pod, hostname).items():
            path = directory / "etc" / inside.rsplit("/", 1)[1]
            path.write_text(text)
            path.chmod(0o644)
            sandbox.etc_files[inside] = str(path)
        sandbox.volumes = pod_volumes.prepare(pod, directory, paths.data_dir / "volumes", objects, mapping)
        _start(sandbox, hostname)
    except (pod_volumes.VolumeError, ConfigError) as err:
        destroy(sandbox)
        raise launcher.LaunchError(f"pod {meta.name}: {err}") from err
    except BaseException:
        destroy(sandbox)
        raise
    return sandbox


def _start(sandbox: Sandbox, hostname: str) -> None:
    namespaces = _namespaces(sandbox.pod)
    plan: dict[str, object] = {"sandbox": True, "userns": not sandbox.mapping.identity, "namespaces": namespaces,
                               "hostname": hostname, "tmpfs": sandbox.volumes.tmpfs}
    what = f"pod {meta_of(sandbox.pod).name}"
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        init, channel = launcher.spawn_init(plan, sandbox.mapping, what, stdio=(devnull, devnull, None))
    finally:
        os.close(devnull)
    try:
        channel.recv("sandbox", timeout=launcher.HANDSHAKE_TIMEOUT)
        kinds = (["user"] if plan["userns"] else []) + namespaces
        for kind in kinds:
            sandbox.fds[kind] = os.open(f"/proc/{init.pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
        channel.send("release")
        init.wait(timeout=launcher.HANDSHAKE_TIMEOUT)
    except ChildError as err:
        raise launcher.LaunchError(f"{what}: {err.stage}: {err}") from err
    except (ProtocolError, OSError) as err:
        raise launcher.LaunchError(f"{what}: {err}") from err
    finally:
        channel.close()
        if init.poll() is None:
            init.kill()
            init.wait()


def destroy(sandbox: Sandbox) -> None:
    """Idempotent: let go of the namespaces (their mounts go with them) and remove the pod's folder."""
    for fd in sandbox.fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    sandbox.fds.clear()
    try:
        remove_tree(str(sandbox.directory), sandbox.mapping)
    except (UsernsError, OSError) as err:
        raise launcher.LaunchError(f"pod {meta_of(sandbox.pod).name}: could not remove {sandbox.directory}: "
                                   f"{err}") from err
