"""The host side of rootful pod networking, through pyroute2: the ``podbay0`` bridge and one veth
pair per pod, its pod end created directly inside the pod's network namespace as ``eth0``.

pyroute2 costs about 200 ms to import, so this module is imported only when a pod gets a network.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from typing import Any

BRIDGE = "podbay0"
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"


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


def masquerade(subnet: str) -> str:
    """Forwarding on, and the pods' traffic that leaves by another interface than the bridge takes
    that interface's address (nft; the ``ip podbay`` table is replaced whole, so this is idempotent).
    Returns what went wrong, or "" when it is done."""
    nft = shutil.which("nft", path=SBIN_PATH)
    if nft is None:
        return "nft (package nftables) is not installed: pods' traffic cannot be masqueraded"
    rules = ("table ip podbay {}\ndelete table ip podbay\ntable ip podbay {\n chain postrouting {\n"
             "  type nat hook postrouting priority srcnat; policy accept;\n"
             f'  ip saddr {subnet} oifname != "{BRIDGE}" masquerade\n }}\n}}\n')
    done = subprocess.run([nft, "-f", "-"], input=rules, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"nft could not masquerade the pods' traffic: {done.stderr.strip()}"
    try:
        with open("/proc/sys/net/ipv4/ip_forward", "w") as file:  # of the caller's network namespace
            file.write("1")
    except OSError as err:
        return f"cannot turn on IPv4 forwarding: {err.strerror}"
    return ""
