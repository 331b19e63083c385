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
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from podbay.runtime.idmap import IdMapping, default_mapping
from podbay.runtime.network import links, rootless
from podbay.runtime.network.ipam import Ipam, IpamError, Lease, gateway_of, subnet
from podbay.runtime.paths import Paths
from podbay.runtime.pod import volumes as pod_volumes
from podbay.runtime.pod.config import ConfigError, PodObjects
from podbay.runtime.process import launcher, spawn
from podbay.runtime.process.channel import Channel
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
    holder: int = 0  # PID 1 of the pod's shared pid namespace (shareProcessNamespace only)
    lease: Lease | None = None  # the pod's IP, when it has a network of its own
    host_link: str = ""  # the host end of its veth pair (rootful; a rootless one lives in the rootless network)
    ipam: Ipam | None = None
    rootless_net: rootless.RootlessNetwork | None = None  # the user's rootless network, for a rootless networked pod

    @property
    def pod_ip(self) -> str:
        return self.lease.address if self.lease else ""


def _namespaces(pod: Pod) -> list[str]:
    spec = spec_of(pod)
    names = ["mnt"]
    names += [] if spec.host_network else ["net", "uts"]
    names += [] if spec.host_ipc else ["ipc"]
    names += ["pid"] if spec.share_process_namespace and not spec.host_pid else []
    return names


def networked(pod: Pod) -> bool:
    """Every pod but a hostNetwork one gets an IP on podbay0 (a rootless one, on the user's rootless network)."""
    return not spec_of(pod).host_network


def create(pod: Pod, paths: Paths, objects: PodObjects, place: Callable[[int], None] | None = None) -> Sandbox:
    """Make the pod's folder, volumes and namespaces; on any failure nothing is left behind.
    ``place`` puts a pod's pause process (shareProcessNamespace) in its cgroup before it starts."""
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
        if networked(pod):
            _lease(sandbox, paths.run_dir / "network")
        for inside, text in etc_files(pod, hostname, sandbox.pod_ip).items():
            path = directory / "etc" / inside.rsplit("/", 1)[1]
            path.write_text(text)
            path.chmod(0o644)
            sandbox.etc_files[inside] = str(path)
        sandbox.volumes = pod_volumes.prepare(pod, directory, paths.data_dir / "volumes", objects, mapping)
        _start(sandbox, hostname, place if spec_of(pod).share_process_namespace else None)
    except (pod_volumes.VolumeError, ConfigError, IpamError, rootless.RootlessNetworkError) as err:
        destroy(sandbox)
        raise launcher.LaunchError(f"pod {meta.name}: {err}") from err
    except BaseException:
        destroy(sandbox)
        raise
    return sandbox


def _lease(sandbox: Sandbox, folder: Path) -> None:
    """The pod's address; a rootless pod's comes with the rootless network it lives in, started if need be."""
    sandbox.ipam = Ipam(folder)
    uid = meta_of(sandbox.pod).uid
    if os.geteuid() == 0:
        sandbox.lease = sandbox.ipam.allocate(uid)
        return
    network = subnet()
    with rootless.locked(folder):
        sandbox.rootless_net = rootless.ensure(folder, sandbox.mapping, gateway_of(network), network.prefixlen,
                                           str(network))
        sandbox.lease = sandbox.ipam.allocate(uid)
    sandbox.warnings += sandbox.rootless_net.warnings


def _start(sandbox: Sandbox, hostname: str, place: Callable[[int], None] | None) -> None:
    namespaces = _namespaces(sandbox.pod)
    plan: dict[str, object] = {"sandbox": True, "userns": not sandbox.mapping.identity, "namespaces": namespaces,
                               "hostname": hostname, "tmpfs": sandbox.volumes.tmpfs}
    what = f"pod {meta_of(sandbox.pod).name}"
    join = {"user": sandbox.rootless_net.open_namespace("user")} if sandbox.rootless_net else {}
    if join:
        plan["join"] = join  # the rootless network's user namespace, rather than one of its own
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        init, channel = spawn.spawn_init(plan, sandbox.mapping, what, stdio=(devnull, devnull, None),
                                            pass_fds=tuple(join.values()), place=place)
    finally:
        os.close(devnull)
        for fd in join.values():
            os.close(fd)
    try:
        message = channel.recv("holder", "sandbox", timeout=spawn.HANDSHAKE_TIMEOUT)
        if message is not None and message["kind"] == "holder":
            sandbox.holder = int(message["pid"])
            message = channel.recv("sandbox", timeout=spawn.HANDSHAKE_TIMEOUT)
        if message is None:
            raise launcher.LaunchError(f"{what}: the sandbox exited before the pod's namespaces were ready")
        kinds = (["user"] if plan["userns"] else []) + namespaces
        for kind in kinds:
            owner = sandbox.holder if kind == "pid" else init.pid  # the init's own pid namespace is the host's
            sandbox.fds[kind] = os.open(f"/proc/{owner}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
        if sandbox.lease is not None:
            _connect(sandbox, channel)
        channel.send("release")
        init.wait(timeout=spawn.HANDSHAKE_TIMEOUT)
    except spawn.HANDSHAKE_FAILURES as err:
        raise spawn.launch_error(what, err) from err
    finally:
        channel.close()
        if init.poll() is None:
            init.kill()
            init.wait()


def _connect(sandbox: Sandbox, channel: Channel) -> None:
    """podbay0 and the pod's veth pair (pyroute2, on the host or in the rootless network); the init
    configures eth0 inside."""
    assert sandbox.lease is not None
    link = "pb" + meta_of(sandbox.pod).uid.replace("-", "")[:12]
    try:
        if sandbox.rootless_net is not None:
            rootless.connect(sandbox.rootless_net, link, sandbox.fds["net"])  # goes with the pod's namespace
        else:
            sandbox.host_link = link
            masquerade = str(subnet()) if links.masquerade_wanted() else ""
            sandbox.warnings += links.connect(sandbox.lease.gateway, sandbox.lease.prefix, link, sandbox.fds["net"],
                                              masquerade)
    except (links.LinkError, rootless.RootlessNetworkError) as err:
        raise launcher.LaunchError(f"pod {meta_of(sandbox.pod).name}: network: {err}") from err
    channel.send("configure", address=sandbox.lease.address, prefix=sandbox.lease.prefix,
                 gateway=sandbox.lease.gateway)
    channel.recv("configured", timeout=spawn.HANDSHAKE_TIMEOUT)


def _release(sandbox: Sandbox) -> None:
    """Free the pod's address; the rootless network stops with its last pod (or after a failed start)."""
    if sandbox.ipam is None:
        return
    uid = meta_of(sandbox.pod).uid
    if sandbox.rootless_net is None:
        sandbox.ipam.release(uid)
    else:
        with rootless.locked(sandbox.ipam.path.parent):
            if sandbox.ipam.release(uid) == 0:
                rootless.stop(sandbox.ipam.path.parent)
    sandbox.ipam, sandbox.lease, sandbox.rootless_net = None, None, None


def destroy(sandbox: Sandbox) -> None:
    """Idempotent: let go of the namespaces (their mounts go with them) and remove the pod's folder."""
    if sandbox.holder:
        with contextlib.suppress(ProcessLookupError):
            os.kill(sandbox.holder, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(sandbox.holder, 0)  # ours to reap: podbay is the subreaper of everything it starts
        sandbox.holder = 0
    if sandbox.host_link:
        with contextlib.suppress(links.LinkError):  # the pair goes with the pod's namespace anyway
            links.remove(sandbox.host_link)
        sandbox.host_link = ""
    _release(sandbox)
    for fd in sandbox.fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    sandbox.fds.clear()
    try:
        remove_tree(str(sandbox.directory), sandbox.mapping)
    except (UsernsError, OSError) as err:
        raise launcher.LaunchError(f"pod {meta_of(sandbox.pod).name}: could not remove {sandbox.directory}: "
                                   f"{err}") from err
