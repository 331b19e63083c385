"""hostPort: a small userspace proxy from the host's port to the pod's, TCP and UDP.

The listening socket is made in the host's network namespace; the connections to the pod are
made from wherever the proxy runs: the host for rootful pods, the user's rootless network
namespace for rootless ones (a socket keeps the namespace it was made in, as podman's
rootlessport uses). TCP: one thread pair per connection. UDP: one upstream socket per client
address, forgotten after a minute of silence, as conntrack forgets a UDP flow.
It lives as long as the process that runs the pod (the foreground ``podbay run`` now, the
supervisor later).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

UDP_IDLE_SECONDS = 60.0


class PortError(Exception):
    pass


def listen(host_ip: str, host_port: int, protocol: str = "TCP") -> socket.socket:
    """The host's end of a hostPort, bound now so that a port in use fails the pod at once."""
    if protocol not in ("TCP", "UDP"):
        raise PortError(f"hostPort {host_port}/{protocol}: only TCP and UDP host ports are forwarded")
    kind = socket.SOCK_STREAM if protocol == "TCP" else socket.SOCK_DGRAM
    listener = socket.socket(socket.AF_INET, kind)
    try:
        if protocol == "TCP":
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host_ip or "0.0.0.0", host_port))
        if protocol == "TCP":
            listener.listen(64)
    except OSError as err:
        listener.close()
        raise PortError(f"hostPort {host_port}/{protocol}: {err.strerror}") from err
    return listener


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@dataclass
class PortProxy:
    listeners: list[socket.socket] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def add(self, host_ip: str, host_port: int, pod_ip: str, port: int, protocol: str = "TCP") -> None:
        self.serve(listen(host_ip, host_port, protocol), pod_ip, port)

    def serve(self, listener: socket.socket, pod_ip: str, port: int) -> None:
        self.listeners.append(listener)
        target = self._accept if listener.type == socket.SOCK_STREAM else self._relay
        threading.Thread(target=target, args=(listener, pod_ip, port), daemon=True,
                         name=f"hostPort {listener.getsockname()[1]}").start()

    def _accept(self, listener: socket.socket, pod_ip: str, port: int) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((pod_ip, port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _serve(client: socket.socket, upstream: socket.socket) -> None:
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join()
        client.close()
        upstream.close()

    def _relay(self, listener: socket.socket, pod_ip: str, port: int) -> None:
        flows: dict[tuple[str, int], socket.socket] = {}
        lock = threading.Lock()
        while not self.stopping.is_set():
            try:
                data, client = listener.recvfrom(65536)
            except OSError:
                return
            if self.stopping.is_set():
                return  # woken by close()
            with lock:
                upstream = flows.get(client)
                if upstream is None:
                    upstream = flows[client] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    upstream.connect((pod_ip, port))
                    threading.Thread(target=self._answer, args=(listener, upstream, client, flows, lock),
                                     daemon=True).start()
            with contextlib.suppress(OSError):
                upstream.send(data)

    @staticmethod
    def _answer(listener: socket.socket, upstream: socket.socket, client: tuple[str, int],
                flows: dict[tuple[str, int], socket.socket], lock: threading.Lock) -> None:
        """Replies from the pod go back to the client from the host port, until the flow is idle."""
        upstream.settimeout(UDP_IDLE_SECONDS)
        with contextlib.suppress(OSError):
            while True:
                listener.sendto(upstream.recv(65536), client)
        with lock:
            flows.pop(client, None)
        upstream.close()

    def close(self) -> None:
        self.stopping.set()
        for listener in self.listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self.listeners.clear()
