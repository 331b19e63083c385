"""The actions probes and lifecycle hooks run against a container: exec, httpGet, tcpSocket, grpc, sleep.

Network actions connect from the pod's own network namespace (the socket is made there; see
``network/podsockets.py``), so they reach the pod's IP rootful and rootless alike, as the
kubelet's probes reach it from the node. Failure messages are the kubelet's (its Go HTTP
client's words for a refused or timed-out connection), because users grep events for them.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.process import execute
from podbay.runtime.process.launcher import LaunchError
from podbay.runtime.spec.pod import HTTPGetAction, LifecycleHandler, Probe

SocketFactory = Callable[[int, int], socket.socket]  # (family, type) -> a socket in the pod's netns
USER_AGENT = "kube-probe/1.31"


@dataclass
class Target:
    """A running container, as the actions see it."""

    name: str
    pid: int  # its main process, whose namespaces an exec joins
    process: dict[str, Any]  # its process settings (user, capabilities, seccomp, env ...)
    pod_ip: str
    ports: dict[str, int]  # named container ports
    sockets: SocketFactory
    stop: threading.Event = field(default_factory=threading.Event)  # a sleep action ends early when set


@dataclass
class Outcome:
    ok: bool
    message: str = ""


class ActionError(Exception):
    pass


def run(action: Probe | LifecycleHandler, target: Target, timeout: float) -> Outcome:
    if action.exec is not None:
        return _exec(action.exec.command, target, timeout)
    if action.http_get is not None:
        return _http_get(action.http_get, target, timeout)
    if action.tcp_socket is not None:
        try:
            port = _port(action.tcp_socket.port, target)
        except ActionError as err:
            return Outcome(False, str(err))
        return _tcp(action.tcp_socket.host or target.pod_ip, port, target, timeout)
    if isinstance(action, Probe) and action.grpc is not None:
        from podbay.runtime.lifecycle.grpc_health import check  # noqa: PLC0415 - only grpc probes pay for h2

        host = target.pod_ip or "127.0.0.1"
        return check(target.sockets, host, action.grpc.port, action.grpc.service or "", timeout)
    if isinstance(action, LifecycleHandler) and action.sleep is not None:
        target.stop.wait(action.sleep.seconds)
        return Outcome(True)
    return Outcome(False, "no action in this handler")


def _exec(command: list[str], target: Target, timeout: float) -> Outcome:
    try:
        result = execute.run(target.pid, target.process, command, timeout, f"container {target.name}: exec")
    except LaunchError as err:
        return Outcome(False, str(err))
    text = result.output.decode(errors="replace")
    if result.timed_out:
        return Outcome(False, f"command {_quoted(command)} timed out after {timeout:g}s")
    if result.code != 0:
        return Outcome(False, text or f"command {_quoted(command)} exited with {result.code}")
    return Outcome(True, text)


def _quoted(command: list[str]) -> str:
    return '"' + " ".join(command) + '"'


def _port(port: int | str | None, target: Target) -> int:
    if isinstance(port, int):
        return port
    if port is not None and port.isdigit():
        return int(port)
    if port in target.ports:
        return target.ports[port]
    raise ActionError(f"unable to find port {port!r} among the container's named ports")


def _connect(target: Target, host: str, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = target.sockets(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _dial_error(host: str, port: int, err: OSError) -> str:
    if isinstance(err, TimeoutError):
        return f"dial tcp {host}:{port}: i/o timeout"
    words = (err.strerror or str(err)).lower()
    return f"dial tcp {host}:{port}: connect: {words}"


def _tcp(host: str, port: int, target: Target, timeout: float) -> Outcome:
    try:
        _connect(target, host, port, timeout).close()
    except OSError as err:
        return Outcome(False, _dial_error(host, port, err))
    return Outcome(True)


def _http_get(action: HTTPGetAction, target: Target, timeout: float) -> Outcome:
    import http.client  # noqa: PLC0415 - with ssl, 4 MB the supervisor pays only when a pod has an httpGet

    class PodConnection(http.client.HTTPConnection):
        """An HTTP connection whose socket is made in the pod's network namespace."""

        def connect(self) -> None:
            sock = _connect(target, self.host, self.port, self.timeout or 1.0)
            if scheme == "https":  # the kubelet does not verify probe certificates either
                import ssl  # noqa: PLC0415

                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(sock, server_hostname=self.host)
            self.sock = sock

    try:
        port = _port(action.port, target)
    except ActionError as err:
        return Outcome(False, str(err))
    host = action.host or target.pod_ip or "127.0.0.1"
    scheme = (action.scheme or "HTTP").lower()
    path = action.path or "/"
    path = path if path.startswith("/") else "/" + path
    url = f"{scheme}://{host}:{port}{path}"
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    headers.update({header.name: header.value for header in action.http_headers})
    connection = PodConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read(10 * 1024)
    except TimeoutError:
        return Outcome(False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting '
                              "headers)")
    except OSError as err:
        return Outcome(False, f'Get "{url}": {_dial_error(host, port, err)}')
    except http.client.HTTPException as err:
        return Outcome(False, f'Get "{url}": {err}')
    finally:
        connection.close()
    if 200 <= response.status < 400:
        return Outcome(True, body.decode(errors="replace"))
    return Outcome(False, f"HTTP probe failed with statuscode: {response.status}")
