"""Pod IP leases: unique while held, released on delete, freed when the holder is gone."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from podbay.runtime.network.ipam import Ipam, IpamError


def test_addresses_are_unique_and_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODBAY_SUBNET", "10.99.0.0/29")  # gateway .1, pods .2-.6
    ipam = Ipam(tmp_path)
    leases = [ipam.allocate(f"pod{i}") for i in range(5)]
    assert [lease.address for lease in leases] == [f"10.99.0.{n}" for n in range(2, 7)]
    assert {lease.gateway for lease in leases} == {"10.99.0.1"} and leases[0].prefix == 29
    with pytest.raises(IpamError, match=re.escape("no free address left in 10.99.0.0/29")):
        ipam.allocate("one-too-many")
    ipam.release("pod1")
    assert ipam.allocate("pod9").address == "10.99.0.3"


def test_a_lease_whose_holder_is_gone_is_free_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODBAY_SUBNET", "10.99.0.0/30")  # one pod address: .2
    ipam = Ipam(tmp_path)
    ended = subprocess.Popen(["true"])
    ended.wait()
    (tmp_path / "ipam.json").write_text(json.dumps({"10.99.0.2": {"pod": "old", "pid": ended.pid, "start": "1"}}))
    assert ipam.allocate("new").address == "10.99.0.2"
    assert json.loads((tmp_path / "ipam.json").read_text())["10.99.0.2"]["pod"] == "new"


def test_a_bad_subnet_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODBAY_SUBNET", "10.0.0.1/40")
    with pytest.raises(IpamError, match=re.escape("PODBAY_SUBNET '10.0.0.1/40' is not an IPv4 subnet")):
        Ipam(tmp_path).allocate("p")
