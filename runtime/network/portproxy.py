"""hostPort for rootful pods: a small userspace TCP proxy from the host's port to the pod's.

One listening socket per hostPort, one thread pair per connection. It lives as long as the
process that runs the pod (the foreground ``podbay run`` now, the supervisor later). UDP
host ports are refused with a clear error rather than half-done.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


class PortError(Exception):
    pass


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

    def add(self, host_ip: str, host_port: int, pod_ip: str, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host_ip or "0.0.0.0", host_port))
            listener.listen(64)
        except OSError as err:
            listener.close()
            raise PortError(f"hostPort {host_port}: {err.strerror}") from err
        self.listeners.append(listener)
        threading.Thread(target=self._accept, args=(listener, pod_ip, port), daemon=True,
                         name=f"hostPort {host_port}").start()

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

    def close(self) -> None:
        self.stopping.set()
        for listener in self.listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self.listeners.clear()
