"""A pod's hostPorts: bound on the host before its containers start (a port in use fails the pod at
once), then forwarded to the pod's IP: from the calling process for a rootful pod, from a proxy
inside the rootless network for a rootless one (see network/portproxy.py)."""

from __future__ import annotations

from typing import Protocol

from podbay.runtime.pod.sandbox import Sandbox
from podbay.runtime.process.launcher import LaunchError
from podbay.runtime.spec.pod import meta_of, spec_of


class Forwarding(Protocol):
    def close(self) -> None: ...


def forward(sandbox: Sandbox, warn: list[str]) -> Forwarding | None:
    """Forward every hostPort of the pod; None when it has none. Raises LaunchError naming the port."""
    ports = [(c.name, p) for c in spec_of(sandbox.pod).containers for p in c.ports if p.host_port]
    if not ports:
        return None
    if not sandbox.pod_ip:
        warn.append("hostPort needs a pod IP, which a hostNetwork pod has not: its ports are the host's already")
        return None
    from podbay.runtime.network import portproxy, rootless  # noqa: PLC0415

    forwards = []
    try:
        for name, port in ports:
            try:
                listener = portproxy.listen(port.host_ip, port.host_port, port.protocol or "TCP")
            except portproxy.PortError as err:
                raise LaunchError(f"container {name}: {err}") from err
            forwards.append((listener, sandbox.pod_ip, port.container_port))
        if sandbox.rootless_net is None:
            proxy = portproxy.PortProxy()
            for listener, pod_ip, port_number in forwards:
                proxy.serve(listener, pod_ip, port_number)
            forwards.clear()  # the proxy owns them now
            return proxy
        try:
            return rootless.forward_ports(sandbox.rootless_net, forwards)
        except rootless.RootlessNetworkError as err:
            raise LaunchError(f"pod {meta_of(sandbox.pod).name}: {err}") from err
    finally:
        for listener, _, _ in forwards:
            listener.close()  # ours; the rootless proxy has its own copies
