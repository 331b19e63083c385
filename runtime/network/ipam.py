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


def _alive(pid: int, start: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[19] == start
    except (OSError, IndexError):
        return False


def _start_time(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()[19]  # field 22: start time, tells PID reuse apart


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
        hosts = network.hosts()
        gateway = str(next(hosts))
        with self._leases() as leases:
            for address, lease in list(leases.items()):
                if not _alive(int(str(lease["pid"])), str(lease["start"])):
                    del leases[address]  # its podbay is gone (crash or reboot): free again
            for candidate in hosts:
                address = str(candidate)
                if address not in leases:
                    leases[address] = {"pod": pod, "pid": os.getpid(), "start": _start_time(os.getpid())}
                    return Lease(address, network.prefixlen, gateway)
        raise IpamError(f"no free address left in {network}")

    def release(self, pod: str) -> None:
        with self._leases() as leases:
            for address in [a for a, lease in leases.items() if lease["pod"] == pod]:
                del leases[address]
