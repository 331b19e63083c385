"""Pod networking: IPs on podbay0, pod-to-pod traffic, hostPort, /etc/hosts (in the tests' own netns)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.podbay_harness import Podbay, shell

SERVE = ("echo $MYIP; echo pong > /tmp/i.html; httpd -f -p 8080 -h /tmp & sleep {seconds}; kill $!")
MY_IP = [{"name": "MYIP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]


def serving(podbay: Podbay, seconds: int = 6, **fields: object) -> tuple[subprocess.Popen[str], str]:
    runner = podbay.start(shell(SERVE.format(seconds=seconds), env=MY_IP, **fields))
    assert runner.stdout is not None
    return runner, runner.stdout.readline().strip()


@pytest.mark.root
@pytest.mark.images
def test_pods_reach_each_other_by_ip(root_podbay: Podbay) -> None:
    server, ip = serving(root_podbay)
    try:
        assert ip.startswith("10.88."), ip
        client = root_podbay.run(shell(f"wget -qO- http://{ip}:8080/i.html; echo $MYIP", env=MY_IP))
        answer, own_ip = client.stdout.split()
        assert answer == "pong" and own_ip != ip and own_ip.startswith("10.88."), client.stderr
    finally:
        server.communicate(timeout=30)


@pytest.mark.root
@pytest.mark.images
def test_host_port_is_reachable_on_the_hosts_loopback(root_podbay: Podbay) -> None:
    server, _ = serving(root_podbay, ports=[{"containerPort": 8080, "hostPort": 18080}])
    try:
        fetched = subprocess.run(["ip", "netns", "exec", root_podbay.netns, "busybox", "wget", "-qO-",
                                  "http://127.0.0.1:18080/i.html"], capture_output=True, text=True, timeout=30,
                                 check=False)
        assert fetched.stdout == "pong\n", fetched.stderr
    finally:
        server.communicate(timeout=30)


@pytest.mark.root
@pytest.mark.images
def test_addresses_are_unique_while_in_use_and_freed_after(root_podbay: Podbay) -> None:
    leases = root_podbay.run_dir / "network" / "ipam.json"
    first, ip_first = serving(root_podbay, seconds=4)
    second, ip_second = serving(root_podbay, seconds=4)
    try:
        assert ip_first != ip_second
        assert set(json.loads(leases.read_text())) == {ip_first, ip_second}
    finally:
        first.communicate(timeout=30)
        second.communicate(timeout=30)
    assert json.loads(leases.read_text()) == {}  # released on delete
    again = root_podbay.run(shell("echo $MYIP", env=MY_IP))
    assert again.stdout.strip() in (ip_first, ip_second)  # and given out again


@pytest.mark.root
@pytest.mark.images
def test_etc_hosts_has_the_pod_ip_hostname_and_aliases(root_podbay: Podbay) -> None:
    done = root_podbay.run(shell("cat /etc/hosts; echo $MYIP; cat /etc/hostname", env=MY_IP, spec={
        "hostname": "web-1", "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db", "db.local"]}]}))
    *hosts, ip, hostname = done.stdout.splitlines()
    assert f"{ip}\tweb-1" in hosts and "10.1.2.3\tdb\tdb.local" in hosts and hostname == "web-1", done.stdout


@pytest.mark.rootless
@pytest.mark.images
def test_rootless_pods_say_host_ports_need_a_pod_ip(rootless_podbay: Podbay) -> None:
    done = rootless_podbay.run(shell("true", ports=[{"containerPort": 80, "hostPort": 18081}]))
    assert done.returncode == 0
    assert "hostPort needs a pod IP, which this pod has not" in done.stderr


def test_host_network_pods_use_the_hosts_interfaces(podbay: Podbay) -> None:
    done = podbay.run(shell("echo $(ls /sys/class/net | sort); hostname", spec={"hostNetwork": True}))
    interfaces, hostname = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    expected = subprocess.run(["ip", "netns", "exec", podbay.netns, "ls", "/sys/class/net"], capture_output=True,
                              text=True, check=True).stdout.split()
    assert interfaces.split() == sorted(expected)
    assert hostname == os.uname().nodename  # hostNetwork pods share the host's UTS namespace too
