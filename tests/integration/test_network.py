"""Pod networking: IPs on podbay0, pod-to-pod traffic, hostPort, /etc/hosts (in the tests' own netns)."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from podbay.runtime.process.liveness import alive
from tests.podbay_harness import Podbay, shell

SERVE = ("echo $MYIP; echo pong > /tmp/i.html; httpd -f -p 8080 -h /tmp & sleep {seconds}; kill $!")
MY_IP = [{"name": "MYIP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]


def serving(podbay: Podbay, seconds: int = 6, **fields: object) -> tuple[subprocess.Popen[str], str]:
    runner = podbay.start(shell(SERVE.format(seconds=seconds), env=MY_IP, **fields))
    assert runner.stdout is not None
    return runner, runner.stdout.readline().strip()


def test_pods_reach_each_other_by_ip(podbay: Podbay) -> None:
    server, ip = serving(podbay)
    try:
        assert ip.startswith("10.88."), ip
        client = podbay.run(shell(f"wget -qO- http://{ip}:8080/i.html; echo $MYIP", env=MY_IP))
        answer, own_ip = client.stdout.split()
        assert answer == "pong" and own_ip != ip and own_ip.startswith("10.88."), client.stderr
    finally:
        server.communicate(timeout=30)


def in_test_netns(podbay: Podbay, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", podbay.netns, *command], capture_output=True, text=True,
                          timeout=30, check=False)


def test_host_port_is_reachable_on_the_hosts_loopback(podbay: Podbay) -> None:
    server, _ = serving(podbay, ports=[{"containerPort": 8080, "hostPort": 18080}])
    try:
        fetched = in_test_netns(podbay, "busybox", "wget", "-qO-", "http://127.0.0.1:18080/i.html")
        assert fetched.stdout == "pong\n", fetched.stderr
    finally:
        server.communicate(timeout=30)
    assert in_test_netns(podbay, "busybox", "wget", "-qO-", "http://127.0.0.1:18080/i.html").returncode != 0


def test_udp_host_port_is_forwarded(podbay: Podbay) -> None:
    udp = [{"containerPort": 5353, "hostPort": 15353, "protocol": "UDP"}]
    server = podbay.start(shell("timeout 20 /probe udp-echo 5353", ports=udp))
    assert server.stdout is not None and server.stdout.readline() == "ready\n"
    try:
        answer = in_test_netns(podbay, "python3", "-c", (
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10); "
            "s.sendto(b'hello\\n', ('127.0.0.1', 15353)); print(s.recv(100).decode(), end='')"))
        assert answer.stdout == "got:hello\n", answer.stderr
    finally:
        server.communicate(timeout=30)


@pytest.fixture
def outside(test_netns: str, tmp_path: Path) -> Iterator[str]:
    """A web server beyond the pod network: in a namespace of its own (192.0.2.2, TEST-NET-1), linked to the
    tests' netns (192.0.2.1) by a veth pair, with no route to the pods' subnet: only masqueraded traffic
    (rootful with PODBAY_MASQUERADE, or rootless through slirp4netns) gets an answer."""
    (tmp_path / "hello.txt").write_text("from outside\n")
    tmp_path.chmod(0o755)
    far = f"{test_netns}-outside"
    steps = [["ip", "netns", "add", far],
             ["ip", "-n", test_netns, "link", "add", "pbout", "type", "veth", "peer", "name", "eth0", "netns", far],
             ["ip", "-n", test_netns, "addr", "add", "192.0.2.1/24", "dev", "pbout"],
             ["ip", "-n", test_netns, "link", "set", "pbout", "up"],
             ["ip", "-n", far, "addr", "add", "192.0.2.2/24", "dev", "eth0"],
             ["ip", "-n", far, "link", "set", "eth0", "up"]]
    server = None
    try:
        for step in steps:
            subprocess.run(step, check=True)
        server = subprocess.Popen(["ip", "netns", "exec", far, "busybox", "httpd", "-f", "-p", "192.0.2.2:18090",
                                   "-h", str(tmp_path)])
        yield "http://192.0.2.2:18090/hello.txt"
    finally:
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["ip", "-n", test_netns, "link", "del", "pbout"], check=False)  # now, not when the
        subprocess.run(["ip", "netns", "del", far], check=False)  # kernel gets round to the namespace


FETCH_OUTSIDE = "timeout 5 wget -qO- {} || echo no way out"  # busybox 1.35's wget -T segfaults


def test_pods_reach_beyond_the_pod_network(podbay: Podbay, outside: str) -> None:
    """Rootful, with masquerading asked for; rootless, through slirp4netns (masqueraded in the rootless netns)."""
    asked = dataclasses.replace(podbay, extra_env={**podbay.extra_env, "PODBAY_MASQUERADE": "1"})
    try:
        done = (asked if podbay.uid == 0 else podbay).run(shell(FETCH_OUTSIDE.format(outside)))
        assert done.stdout == "from outside\n", done.stderr
    finally:
        if podbay.uid == 0:  # undo it in the tests' netns, for the next test
            in_test_netns(podbay, "nft", "delete", "table", "ip", "podbay")
            in_test_netns(podbay, "sysctl", "-qw", "net.ipv4.ip_forward=0")


@pytest.mark.root
@pytest.mark.images
def test_rootful_pods_are_not_masqueraded_unless_asked(root_podbay: Podbay, outside: str) -> None:
    done = root_podbay.run(shell(FETCH_OUTSIDE.format(outside)))
    assert done.stdout == "no way out\n", done.stderr
    assert "podbay" not in in_test_netns(root_podbay, "nft", "list", "tables").stdout
    assert in_test_netns(root_podbay, "sysctl", "-n", "net.ipv4.ip_forward").stdout == "0\n"


@pytest.mark.rootless
@pytest.mark.images
def test_rootless_pods_without_tun_say_they_cannot_reach_beyond(rootless_podbay: Podbay, outside: str) -> None:
    """This machine's own /dev/net/tun (mode 0600): pods still reach each other, and are told the rest."""
    podbay = dataclasses.replace(rootless_podbay, tun="")
    server, ip = serving(podbay)
    try:
        client = podbay.run(shell(f"wget -qO- http://{ip}:8080/i.html; " + FETCH_OUTSIDE.format(outside)))
        assert client.stdout == "pong\nno way out\n", client.stderr
    finally:
        _, warnings = server.communicate(timeout=30)
    assert "/dev/net/tun is not open to this user" in warnings


def test_addresses_are_unique_while_in_use_and_freed_after(podbay: Podbay) -> None:
    leases = podbay.run_dir / "network" / "ipam.json"
    first, ip_first = serving(podbay, seconds=4)
    second, ip_second = serving(podbay, seconds=4)
    try:
        assert ip_first != ip_second
        assert set(json.loads(leases.read_text())) == {ip_first, ip_second}
    finally:
        first.communicate(timeout=30)
        second.communicate(timeout=30)
    assert json.loads(leases.read_text()) == {}  # released on delete
    again = podbay.run(shell("echo $MYIP", env=MY_IP))
    assert again.stdout.strip() in (ip_first, ip_second)  # and given out again


@pytest.mark.rootless
@pytest.mark.images
def test_the_rootless_network_starts_with_the_first_pod_and_stops_with_the_last(rootless_podbay: Podbay) -> None:
    state = rootless_podbay.run_dir / "network" / "rootless.json"
    assert not state.exists()
    first, _ = serving(rootless_podbay, seconds=3)
    second, _ = serving(rootless_podbay, seconds=6)
    try:
        network = json.loads(state.read_text())
        holder, slirp = (network["holder"], network["holder_start"]), (network["slirp"], network["slirp_start"])
        assert Path(f"/proc/{holder[0]}/cmdline").read_bytes().startswith(b"podbay: rootless network\0")
        assert Path(f"/proc/{slirp[0]}/comm").read_text() == "slirp4netns\n"
        first.communicate(timeout=30)
        assert alive(*holder) and json.loads(state.read_text()) == network  # the second pod still uses it
    finally:
        first.communicate(timeout=30)
        second.communicate(timeout=30)
    assert not state.exists() and not alive(*holder) and not alive(*slirp)  # (a zombie, until init reaps it)


@pytest.mark.rootless
@pytest.mark.images
def test_a_dead_slirp4netns_is_replaced_by_the_next_pod(rootless_podbay: Podbay, outside: str) -> None:
    state = rootless_podbay.run_dir / "network" / "rootless.json"
    server, _ = serving(rootless_podbay, seconds=8)  # keeps the rootless network up
    try:
        network = json.loads(state.read_text())
        os.kill(network["slirp"], signal.SIGKILL)  # started for this test's pod, killed by its recorded pid
        done = rootless_podbay.run(shell(FETCH_OUTSIDE.format(outside)))
        assert done.stdout == "from outside\n", done.stderr
        again = json.loads(state.read_text())
        assert again["holder"] == network["holder"] and again["slirp"] != network["slirp"]
        assert alive(again["slirp"], again["slirp_start"])
    finally:
        server.communicate(timeout=30)


def test_etc_hosts_has_the_pod_ip_hostname_and_aliases(podbay: Podbay) -> None:
    done = podbay.run(shell("cat /etc/hosts; echo $MYIP; cat /etc/hostname", env=MY_IP, spec={
        "hostname": "web-1", "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db", "db.local"]}]}))
    *hosts, ip, hostname = done.stdout.splitlines()
    assert f"{ip}\tweb-1" in hosts and "10.1.2.3\tdb\tdb.local" in hosts and hostname == "web-1", done.stdout


def test_host_network_pods_use_the_hosts_interfaces(podbay: Podbay) -> None:
    done = podbay.run(shell("echo $(ls /sys/class/net | sort); hostname", spec={"hostNetwork": True}))
    interfaces, hostname = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    expected = subprocess.run(["ip", "netns", "exec", podbay.netns, "ls", "/sys/class/net"], capture_output=True,
                              text=True, check=True).stdout.split()
    assert interfaces.split() == sorted(expected)
    assert hostname == os.uname().nodename  # hostNetwork pods share the host's UTS namespace too
