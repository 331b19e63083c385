"""Resource limits on a real cgroup v2 hierarchy, in the test VM: rootful (pass 1, marked cgroup2)
and rootless in the user's delegated subtree (pass 2, marked session). Each check is one function
run by both passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podbay.runtime.api import Runtime
from podbay.runtime.paths import Paths
from tests.podbay_harness import Podbay, pod

CGROUP = Path("/sys/fs/cgroup")
Check = Callable[[Podbay], None]


def _record(podbay: Podbay, name: str) -> Any:
    return Runtime(Paths(podbay.data_dir, podbay.run_dir)).record("default", name)


def _terminated(status: dict[str, Any]) -> dict[str, Any]:
    statuses = status.get("containerStatuses", [])
    return statuses[0].get("state", {}).get("terminated", {}) if statuses else {}


def _events(podbay: Podbay, name: str) -> str:
    return podbay.cli("describe", "pod", name).stdout


def oom_killed_at_its_limit(podbay: Podbay) -> None:
    # dd's 64 MiB block buffer is touched as it is filled: twice the limit, so the kernel's OOM killer ends it.
    podbay.create(pod("hog", command=["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=4"],
                      resources={"limits": {"memory": "32Mi"}}, spec={"restartPolicy": "Never"}))
    done = podbay.wait_pod("hog", lambda p: _terminated(p.get("status", {})), 120, "the hog's end")
    terminated = _terminated(done["status"])
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137), terminated
    assert done["status"]["phase"] == "Failed"
    events = _events(podbay, "hog")
    assert "OOMKilling" in events and "at its memory limit 32Mi" in events, events


def oom_killed_then_restarted_by_policy(podbay: Podbay) -> None:
    podbay.create(pod("again", command=["sh", "-c", "sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=2"],
                      resources={"limits": {"memory": "32Mi"}}, spec={"restartPolicy": "OnFailure"}))
    done = podbay.wait_pod("again", lambda p: p.get("status", {}).get("containerStatuses", [{}])[0].get(
        "restartCount", 0) >= 1, 120, "a restart after the OOM kill")
    last = done["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137), last


def cpu_limit_throttles(podbay: Podbay) -> None:
    podbay.create(pod("busy", command=["sh", "-c", "cat /proc/self/cgroup; while :; do :; done"],
                      resources={"limits": {"cpu": "100m"}}, spec={"terminationGracePeriodSeconds": 0}),
                  "--wait", "--timeout", "120")
    time.sleep(3)
    done = podbay.cli("exec", "busy", "--", "sh", "-c", "cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.stat")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "10000 100000"  # 100m: 10 ms of each 100 ms period
    stat = dict(line.split() for line in lines[1:])
    assert int(stat["nr_throttled"]) > 0 and int(stat["throttled_usec"]) > 0, stat
    # The container's cgroup namespace hides the host's hierarchy: its own group is its root.
    assert podbay.cli("logs", "busy").stdout.splitlines()[0] == "0::/"
    top = podbay.cli("top", "pod", "busy")
    assert top.returncode == 0, top.stderr
    row = top.stdout.splitlines()[1].split()
    cores, throttled = int(row[1].rstrip("m")), int(row[3].rstrip("%"))
    assert 50 <= cores <= 130 and throttled >= 50, top.stdout  # about 100m, throttled most periods


def pids_limit_stops_a_fork_bomb(podbay: Podbay) -> None:
    podbay.extra_env["PODBAY_POD_PIDS_LIMIT"] = "40"
    try:
        podbay.cli("supervisor", "stop")  # the next one reads the setting
        # The loop runs in a subshell, which ends with "can't fork" (ash gives up on a failed fork); then
        # builtins only: read, echo and exec need no new process.
        script = ("(i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i+1)); done) 2>/dev/null; "
                  "read n < /sys/fs/cgroup/pids.current; echo $n spawned; exec sleep 60")
        podbay.create(pod("bomb", command=["sh", "-c", script], spec={"terminationGracePeriodSeconds": 0}))
        podbay.wait_pod("bomb", lambda p: "spawned" in podbay.cli("logs", "bomb").stdout, 120, "the bomb's end")
        count = int(podbay.cli("logs", "bomb").stdout.split()[0])
        assert count <= 40, count  # the pod's pids.max held, with 200 asked for
        assert subprocess.run(["true"], check=False).returncode == 0  # the host can still fork
    finally:
        podbay.extra_env.pop("PODBAY_POD_PIDS_LIMIT")


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process, from /proc (fields 14 and 15)."""
    return sum(int(x) for x in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13])


def _cgroup_usec(group: Path) -> int:
    return int(next(line.split()[1] for line in (group / "cpu.stat").read_text().splitlines()
                    if line.startswith("usage_usec ")))


def usage_matches_proc(podbay: Podbay) -> None:
    # ~24 MiB held in a shell variable, then the shell spins (at most half a core: its limit).
    script = "x=$(head -c 25000000 /dev/zero | tr '\\0' a); echo filled; while :; do :; done"
    podbay.create(pod("use", command=["sh", "-c", script], resources={"limits": {"cpu": "500m"}},
                      spec={"terminationGracePeriodSeconds": 0}), "--wait", "--timeout", "120")
    podbay.wait_pod("use", lambda p: "filled" in podbay.cli("logs", "use").stdout, 300, "the variable filled")
    info = _record(podbay, "use").runtime["containers"]["main"]
    pid, group = int(info["pid"]), Path(info["cgroup"])
    # The cgroup's counter and the kernel's per-process accounting over one window: the same CPU time.
    started, ticks, usec = time.monotonic(), _cpu_ticks(pid), _cgroup_usec(group)
    time.sleep(3)
    elapsed = time.monotonic() - started
    proc_cores = (_cpu_ticks(pid) - ticks) / os.sysconf("SC_CLK_TCK") / elapsed
    group_cores = (_cgroup_usec(group) - usec) / 1e6 / elapsed
    assert abs(group_cores - proc_cores) <= 0.05 + 0.15 * proc_cores, (group_cores, proc_cores)
    rss = next(int(line.split()[1]) * 1024 for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    top = podbay.cli("top", "pod", "use", "--containers")
    assert top.returncode == 0, top.stderr
    row = top.stdout.splitlines()[1].split()
    cores, memory = int(row[2].rstrip("m")) / 1000, row[3]
    assert 0.2 <= cores <= 0.65, top.stdout  # its limit, give or take an emulated CPU's steal
    megabytes = int(memory[:-2]) * (1 if memory.endswith("Mi") else 1024) if memory[-2:] in ("Mi", "Gi") else 0
    assert rss / 2**20 * 0.8 <= megabytes <= rss / 2**20 * 2 + 16, (top.stdout, rss)


def pause_and_unpause(podbay: Podbay) -> None:
    podbay.create(pod("tick", command=["sh", "-c", "i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done"],
                      spec={"terminationGracePeriodSeconds": 0}), "--wait", "--timeout", "120")
    paused = podbay.cli("pause", "tick")
    assert paused.returncode == 0, paused.stderr
    assert podbay.cli("get", "pods", "tick").stdout.split()[7] == "Paused"
    count = len(podbay.cli("logs", "tick").stdout.splitlines())
    time.sleep(2)
    assert len(podbay.cli("logs", "tick").stdout.splitlines()) == count  # frozen: nothing written
    again = podbay.cli("pause", "tick")
    assert again.returncode != 0 and "already paused" in again.stderr
    refused = podbay.cli("exec", "tick", "--", "true")
    assert refused.returncode != 0 and "it is paused" in refused.stderr
    assert podbay.cli("unpause", "tick").returncode == 0
    podbay.wait_pod("tick", lambda p: len(podbay.cli("logs", "tick").stdout.splitlines()) > count + 3, 30,
                    "output after unpause")
    assert podbay.cli("get", "pods", "tick").stdout.split()[7] == "Running"


def root_of(podbay: Podbay) -> Path:
    done = podbay.cli("info", "-o", "json")
    return Path(json.loads(done.stdout)["cgroups"]["root"])


CHECKS: list[Check] = [oom_killed_at_its_limit, oom_killed_then_restarted_by_policy, cpu_limit_throttles,
                       pids_limit_stops_a_fork_bomb, usage_matches_proc, pause_and_unpause]


def run_check(podbay: Podbay, check: Check) -> None:
    root = root_of(podbay)
    assert root.is_dir() or not root.exists()
    try:
        check(podbay)
    finally:
        podbay.cleanup_pods()
    left = sorted(p.name for p in root.glob("pod*")) if root.is_dir() else []
    assert left == [], f"cgroups left under {root}: {left}"
    assert podbay.containers_left() == []


@pytest.mark.vm
@pytest.mark.cgroup2
@pytest.mark.root
@pytest.mark.images
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_rootful(root_podbay: Podbay, check: Check) -> None:
    assert root_of(root_podbay) == CGROUP / "podbay"
    run_check(root_podbay, check)


@pytest.fixture(scope="module")
def session_podbay(tmp_path_factory: pytest.TempPathFactory, probe_image: Path) -> Iterator[Podbay]:
    home = tmp_path_factory.mktemp("session")
    podbay = Podbay(home, os.getuid(), os.getgid(), command=[sys.executable, "-m", "podbay.runtime.cli.main"])
    loaded = podbay.cli("image", "load", str(probe_image))
    assert loaded.returncode == 0, loaded.stderr
    yield podbay
    podbay.cleanup_pods()


@pytest.mark.session
@pytest.mark.images
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_rootless_in_the_delegated_subtree(session_podbay: Podbay, check: Check) -> None:
    root = root_of(session_podbay)
    assert f"user@{os.getuid()}.service" in root.parts and root.name == "podbay", root
    run_check(session_podbay, check)
