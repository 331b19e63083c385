"""IP addresses for pods, from one subnet (default 10.88.0.0/16), leased in a file under the run dir.

A lease names the pod and the podbay process that holds it; a lease whose process is gone (a
crash, a reboot) is free again, so addresses are never reused while in use and never leak.
Writers hold an exclusive ``flock``; the file is replaced by rename.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from podbay.runtime.process.liveness import alive, start_time

DEFAULT_SUBNET = "10.88.0.0/16"


class IpamError(Exception):
    pass


@dataclass(frozen=True)
class Lease:
    address: str
    prefix: int
    gateway: str


def subnet() -> ipaddress.IPv4Network:
    text = os.environ.get("PODBAY_SUBNET", DEFAULT_SUBNET)
    try:
        network = ipaddress.IPv4Network(text)
    except ValueError as err:
        raise IpamError(f"PODBAY_SUBNET {text!r} is not an IPv4 subnet: {err}") from err
    if network.num_addresses < 4:
        raise IpamError(f"PODBAY_SUBNET {text} is too small for a gateway and pods")
    return network


def gateway_of(network: ipaddress.IPv4Network) -> str:
    """The bridge's address: the subnet's first."""
    return str(next(network.hosts()))


class Ipam:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "ipam.json"

    @contextlib.contextmanager
    def _leases(self) -> Iterator[dict[str, dict[str, object]]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                leases: dict[str, dict[str, object]] = json.loads(self.path.read_text())
            except (OSError, ValueError):
                leases = {}
            yield leases
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(leases, indent=1))
            os.replace(temporary, self.path)

    def allocate(self, pod: str) -> Lease:
        network = subnet()
        gateway = gateway_of(network)
        hosts = (address for address in network.hosts() if str(address) != gateway)
        with self._leases() as leases:
            for address, lease in list(leases.items()):
                if not alive(int(str(lease["pid"])), str(lease["start"])):
                    del leases[address]  # its podbay is gone (crash or reboot): free again
            for candidate in hosts:
                address = str(candidate)
                if address not in leases:
                    leases[address] = {"pod": pod, "pid": os.getpid(), "start": start_time(os.getpid())}
                    return Lease(address, network.prefixlen, gateway)
        raise IpamError(f"no free address left in {network}")

    def adopt(self, pod: str, address: str) -> bool:
        """A restarted supervisor takes over the lease of a pod it re-adopts (its old holder is dead);
        False when the address went to another pod meanwhile."""
        with self._leases() as leases:
            lease = leases.get(address)
            if lease is not None and lease["pod"] != pod and alive(int(str(lease["pid"])), str(lease["start"])):
                return False
            leases[address] = {"pod": pod, "pid": os.getpid(), "start": start_time(os.getpid())}
            return True

    def release(self, pod: str) -> int:
        """Free the pod's address; returns how many leases other pods still hold."""
        with self._leases() as leases:
            for address in [a for a, lease in leases.items() if lease["pod"] == pod]:
                del leases[address]
            return sum(alive(int(str(lease["pid"])), str(lease["start"])) for lease in leases.values())
