"""Rootless pod networking: the user's own network namespace, its bridge and its way out.

An unprivileged user cannot add a bridge or a veth pair to the host. As podman does, podbay
keeps one user namespace and one network namespace per user (the rootless network), held by a
tiny process (``sleep infinity``, see rootless_worker.py). The ``podbay0`` bridge lives there;
every rootless pod with a network of its own is created in that user namespace, so the
namespaces at both ends of its veth pair belong to the same owner and one process may plug
them together. Pods get addresses from the same subnet as rootful pods (it is private to the
user) and reach each other by IP; the host reaches them only through hostPorts.

The way out is slirp4netns: a tap device in the rootless namespace whose traffic it turns into
ordinary socket calls of the user on the host; pods' traffic is masqueraded to the tap's address.
Without slirp4netns (or without access to /dev/net/tun) pods still reach each other, and every
pod start says they cannot reach further. pasta (podman 5's default) is not wired in: Debian 12's
pasta needs a host interface with a default route to copy, where slirp4netns needs nothing.

The holder starts with the first networked rootless pod and stops with the last: under one
lock, a pod takes its address after ``ensure`` and ``release`` reports how many pods remain.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from podbay.runtime.idmap import IdMapping
from podbay.runtime.process.channel import Channel, ChildError, ProtocolError
from podbay.runtime.process.liveness import alive, start_time
from podbay.runtime.process.userns import UsernsError, spawn_in_userns, spawn_python

WORKER = "podbay.runtime.network.rootless_worker"
STATE = "rootless.json"
LOG = "rootless.log"
TUN = "/dev/net/tun"
SLIRP_READY_SECONDS = 10.0


class RootlessNetworkError(Exception):
    pass


@dataclass
class RootlessNetwork:
    holder: int
    holder_start: str
    slirp: int = 0
    slirp_start: str = ""
    warnings: list[str] = field(default_factory=list)
    exit_fd: int = -1  # the holder's end of slirp4netns's --exit-fd pipe, to start a new slirp4netns on

    def open_namespace(self, kind: str) -> int:
        """A descriptor of the holder's ``user`` or ``net`` namespace."""
        return os.open(f"/proc/{self.holder}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Held while the holder is started or stopped and while addresses are taken or freed."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "rootless.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read(folder: Path) -> RootlessNetwork | None:
    try:
        return RootlessNetwork(**json.loads((folder / STATE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write(folder: Path, network: RootlessNetwork) -> None:
    temporary = folder / f"{STATE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(network.__dict__))
    os.replace(temporary, folder / STATE)


def current(folder: Path) -> RootlessNetwork | None:
    """The rootless network, if its holder is alive."""
    network = _read(folder)
    return network if network is not None and alive(network.holder, network.holder_start) else None


def ensure(folder: Path, mapping: IdMapping, gateway: str, prefix: int, subnet: str) -> RootlessNetwork:
    """The running rootless network, started if need be (call under ``locked``)."""
    network = _read(folder)
    if network is not None and alive(network.holder, network.holder_start):
        if network.slirp and not alive(network.slirp, network.slirp_start):
            _reconnect(folder, network)  # slirp4netns died (killed, crashed): the pods' way out comes back
        return network
    if network is not None:
        stop(folder)  # its holder died: whatever is left of it goes
    return _start(folder, mapping, gateway, prefix, subnet)


def _start(folder: Path, mapping: IdMapping, gateway: str, prefix: int, subnet: str) -> RootlessNetwork:
    keep_open, holder_end = os.pipe()  # slirp4netns exits when the holder's end closes (--exit-fd)
    with open(folder / LOG, "ab") as log:
        try:
            holder, channel = spawn_in_userns(mapping, WORKER, ["hold", gateway, str(prefix), subnet],
                                              packages=("pyroute2",), pass_fds=(holder_end,), detached=True,
                                              stderr=log.fileno())
        except (UsernsError, OSError) as err:
            os.close(keep_open)
            os.close(holder_end)
            raise RootlessNetworkError(f"cannot start the rootless network: {err}") from err
        os.close(holder_end)
        try:
            ready = channel.recv("ready", timeout=60)
            if ready is None:
                raise RootlessNetworkError(f"the rootless network's holder exited during set-up (see {folder / LOG})")
            network = RootlessNetwork(holder.pid, start_time(holder.pid), warnings=list(ready["warnings"]),
                                      exit_fd=holder_end)  # pass_fds keeps the number in the holder
            _connect_outward(network, keep_open, log)
        except (ChildError, ProtocolError, OSError) as err:
            _kill(holder.pid)
            raise RootlessNetworkError(f"cannot start the rootless network: {err}") from err
        except BaseException:
            _kill(holder.pid)
            raise
        finally:
            channel.close()
            os.close(keep_open)
    _write(folder, network)
    return network


def _reconnect(folder: Path, network: RootlessNetwork) -> None:
    """A new slirp4netns on the running holder; its --exit-fd is the holder's pipe, reopened through /proc."""
    network.slirp, network.slirp_start = 0, ""
    try:
        exit_fd = os.open(f"/proc/{network.holder}/fd/{network.exit_fd}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        network.warnings.append(f"slirp4netns stopped and cannot be restarted ({err.strerror}): rootless pods "
                                "reach each other but nothing beyond")
    else:
        with open(folder / LOG, "ab") as log:
            try:
                _connect_outward(network, exit_fd, log)
            finally:
                os.close(exit_fd)
    _write(folder, network)


def _connect_outward(network: RootlessNetwork, exit_fd: int, log: IO[bytes]) -> None:
    """slirp4netns on a tap device in the rootless namespace (10.0.2.100, gateway 10.0.2.2, DNS 10.0.2.3)."""
    slirp = shutil.which("slirp4netns", path=os.environ.get("PATH", "") + ":/usr/bin:/bin")
    if slirp is None:
        network.warnings.append("slirp4netns is not installed: rootless pods reach each other but nothing "
                                "beyond (install the slirp4netns package)")
        return
    if not os.access(TUN, os.R_OK | os.W_OK):
        network.warnings.append(f"{TUN} is not open to this user (distributions make it mode 0666; here it is "
                                f"{os.stat(TUN).st_mode & 0o777:04o} if present): rootless pods reach each other "
                                "but nothing beyond")
        return
    ready, ready_end = os.pipe()
    try:
        process = subprocess.Popen(
            [slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp",
             f"--exit-fd={exit_fd}", f"--ready-fd={ready_end}", str(network.holder), "tap0"],
            pass_fds=(exit_fd, ready_end), stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        os.close(ready_end)
        ready_end = -1
        answered, _, _ = select.select([ready], [], [], SLIRP_READY_SECONDS)
        if not answered or not os.read(ready, 1):
            _kill(process.pid)
            network.warnings.append(f"slirp4netns did not start (see {log.name}): rootless pods reach each "
                                    "other but nothing beyond")
            return
        network.slirp, network.slirp_start = process.pid, start_time(process.pid)
    finally:
        os.close(ready)
        if ready_end >= 0:
            os.close(ready_end)


def _kill(pid: int, start: str = "") -> None:
    """SIGKILL a process we started (checked by start time when known), and reap it if it is our child."""
    if start and not alive(pid, start):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def stop(folder: Path) -> None:
    """Stop the holder and slirp4netns (call under ``locked``, once no pod uses them)."""
    network = _read(folder)
    if network is None:
        return
    _kill(network.holder, network.holder_start)
    if network.slirp:
        _kill(network.slirp, network.slirp_start)
    with contextlib.suppress(FileNotFoundError):
        (folder / STATE).unlink()


def joined_worker(network: RootlessNetwork, job: str, args: tuple[str, ...] | list[str] = (),
                  pass_fds: tuple[int, ...] = ()) -> tuple[subprocess.Popen[bytes], Channel]:
    """A worker in the holder's user and network namespaces."""
    user, net = network.open_namespace("user"), network.open_namespace("net")
    try:
        return spawn_python(WORKER, [job, str(user), str(net), *args], packages=("pyroute2",),
                            pass_fds=(user, net, *pass_fds))
    finally:
        os.close(user)
        os.close(net)


def connect(network: RootlessNetwork, host_link: str, pod_netns: int) -> None:
    """A veth pair between the bridge and the pod's namespace (``eth0`` there, configured by the sandbox)."""
    worker, channel = joined_worker(network, "connect", [host_link, str(pod_netns)], (pod_netns,))
    try:
        if channel.recv("done", timeout=60) is None:
            raise RootlessNetworkError(f"veth {host_link}: the worker exited without an answer")
    except (ChildError, ProtocolError) as err:
        raise RootlessNetworkError(f"veth {host_link}: {err}") from err
    finally:
        channel.close()
        worker.wait()


@dataclass
class RootlessPorts:
    """The proxy process of one pod's host ports (see portproxy.py); ``close`` ends it."""

    worker: subprocess.Popen[bytes]
    channel: Channel

    def close(self) -> None:
        self.channel.close()  # end of file: the worker closes its sockets and exits
        try:
            self.worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()


def forward_ports(network: RootlessNetwork, forwards: list[tuple[socket.socket, str, int]]) -> RootlessPorts:
    """Serve these host-side listening sockets from inside the rootless network."""
    args = [f"{listener.fileno()}:{pod_ip}:{port}" for listener, pod_ip, port in forwards]
    worker, channel = joined_worker(network, "proxy", args, tuple(listener.fileno() for listener, _, _ in forwards))
    try:
        channel.recv("done", timeout=60)
    except (ChildError, ProtocolError) as err:
        channel.close()
        worker.kill()
        worker.wait()
        raise RootlessNetworkError(f"hostPort: {err}") from err
    return RootlessPorts(worker, channel)
