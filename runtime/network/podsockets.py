"""Sockets made in a pod's network namespace, for the probes and hooks that connect to the pod.

A socket keeps the namespace it was made in. Rootful, the supervisor's probe thread enters the
pod's network namespace for the one ``socket()`` call (a thread may change its own network
namespace) and comes back. Rootless, the pods' namespaces belong to the rootless network's user
namespace, which a process with threads cannot join: one helper joined to it (see
rootless_worker.py) makes the sockets and passes them back over a Unix socket.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from podbay.runtime.network import rootless
from podbay.runtime.process.channel import Channel, ChildError, ProtocolError
from podbay.runtime.syscalls import CLONE_NEWNET, SyscallError, setns


class PodSocketError(OSError):
    pass


def host_socket(family: int, kind: int) -> socket.socket:
    """A hostNetwork pod's network is the host's own."""
    return socket.socket(family, kind)


def rootful_socket(net_fd: int, family: int, kind: int) -> socket.socket:
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(net_fd, CLONE_NEWNET)
        try:
            return socket.socket(family, kind)
        finally:
            setns(own, CLONE_NEWNET)
    except SyscallError as err:
        raise PodSocketError(err.errno, f"cannot enter the pod's network namespace: {err}") from err
    finally:
        os.close(own)


@dataclass
class RootlessSockets:
    """The helper that makes sockets in rootless pods' namespaces; started on first use, and again
    whenever the rootless network it joined was replaced by a new one."""

    folder: Path  # the rootless network's state folder
    lock: threading.Lock = field(default_factory=threading.Lock)
    worker: subprocess.Popen[bytes] | None = None
    channel: Channel | None = None
    holder: int = 0

    def make(self, net_fd: int, family: int, kind: int) -> socket.socket:
        with self.lock:
            channel = self._helper()
            try:
                socket.send_fds(channel.sock, [json.dumps({"family": family, "type": kind}).encode()], [net_fd])
                data, fds, _, _ = socket.recv_fds(channel.sock, 1024, 1)
            except OSError as err:
                self._stop()
                raise PodSocketError(err.errno, f"the rootless socket helper failed: {err}") from err
            if not data:
                self._stop()
                raise PodSocketError(0, "the rootless socket helper exited")
            message = json.loads(data)
            if message.get("kind") == "error":
                raise PodSocketError(message.get("errno", 0), message.get("message", "no socket"))
            return socket.socket(fileno=fds[0])

    def _helper(self) -> Channel:
        network = rootless.current(self.folder)
        if network is None:
            raise PodSocketError(0, "the rootless network is not running")
        if self.channel is not None and self.holder == network.holder and self.worker is not None \
                and self.worker.poll() is None:
            return self.channel
        self._stop()
        try:
            self.worker, self.channel = rootless.joined_worker(network, "sockets")
            self.channel.recv("done", timeout=60)
        except (ChildError, ProtocolError, rootless.RootlessNetworkError) as err:
            self._stop()
            raise PodSocketError(0, f"cannot start the rootless socket helper: {err}") from err
        self.holder = network.holder
        return self.channel

    def _stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.worker is not None:
            self.worker.kill()
            self.worker.wait()
            self.worker = None

    def close(self) -> None:
        with self.lock:
            self._stop()
