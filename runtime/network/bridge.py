"""The host side of rootful pod networking, through pyroute2: the ``podbay0`` bridge and one veth
pair per pod, its pod end created directly inside the pod's network namespace as ``eth0``.

pyroute2 costs about 200 ms to import, so this module is imported only when a pod gets a network.
"""

from __future__ import annotations

import contextlib
from typing import Any

BRIDGE = "podbay0"


class NetworkError(Exception):
    pass


def _iproute() -> Any:
    from pyroute2 import IPRoute  # noqa: PLC0415 - heavy: only when a pod is networked

    return IPRoute()


def ensure_bridge(gateway: str, prefix: int) -> None:
    """podbay0 up with the gateway address (idempotent; the bridge stays for the next pods)."""
    from pyroute2 import NetlinkError  # noqa: PLC0415

    with _iproute() as ip:
        try:
            links = ip.link_lookup(ifname=BRIDGE)
            if not links:
                ip.link("add", ifname=BRIDGE, kind="bridge")
                links = ip.link_lookup(ifname=BRIDGE)
            index = links[0]
            addresses = {a.get_attr("IFA_ADDRESS") for a in ip.get_addr(index=index, family=2)}
            if gateway not in addresses:
                ip.addr("add", index=index, address=gateway, prefixlen=prefix)
            ip.link("set", index=index, state="up")
        except NetlinkError as err:
            raise NetworkError(f"bridge {BRIDGE}: {err}") from err


def add_pod_link(host_name: str, netns_fd: int) -> None:
    """A veth pair: ``host_name`` on podbay0 here, ``eth0`` in the pod's namespace (configured there)."""
    from pyroute2 import NetlinkError  # noqa: PLC0415

    with _iproute() as ip:
        try:
            ip.link("add", ifname=host_name, kind="veth", peer={"ifname": "eth0", "net_ns_fd": netns_fd})
            index = ip.link_lookup(ifname=host_name)[0]
            ip.link("set", index=index, master=ip.link_lookup(ifname=BRIDGE)[0], state="up")
        except NetlinkError as err:
            with contextlib.suppress(NetlinkError, IndexError):
                ip.link("del", index=ip.link_lookup(ifname=host_name)[0])
            raise NetworkError(f"veth {host_name}: {err}") from err


def remove_pod_link(host_name: str) -> None:
    """Idempotent: the pair goes with its host end (and with the pod's namespace anyway)."""
    from pyroute2 import NetlinkError  # noqa: PLC0415

    with _iproute() as ip, contextlib.suppress(NetlinkError):
        for index in ip.link_lookup(ifname=host_name):
            ip.link("del", index=index)
