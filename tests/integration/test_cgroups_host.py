"""On a host whose cgroups podbay cannot use (our development machines: a hybrid hierarchy), pods
still run, and podbay says what it does not enforce and why; `cgroups: required` refuses instead.
oom_score_adj needs no cgroup and is checked here too. Real cgroup v2 is tested in the VM
(tests/vm/test_cgroups.py)."""

from __future__ import annotations

import json

import pytest

from tests.podbay_harness import Podbay, pod

pytestmark = pytest.mark.nocgroup2

LIMITED = {"limits": {"memory": "64Mi", "cpu": "500m"}}


def test_a_limited_pod_runs_and_says_what_is_not_enforced(podbay: Podbay) -> None:
    done = podbay.run(pod("lim", command=["cat", "/proc/self/oom_score_adj"], resources=LIMITED))
    assert done.returncode == 0, done.stderr
    assert ("Warning: CPU limit of main, CPU request of main, memory limit of main not enforced: the cpu and memory "
            "controllers are not available") in done.stderr
    assert "(hybrid hierarchy" in done.stderr or "no cgroup v2 hierarchy" in done.stderr
    # Guaranteed: the kubelet's -997 needs CAP_SYS_RESOURCE to lower the score; without it podbay says so.
    adj = done.stdout.strip()
    assert adj == "-997" or ("oom_score_adj -997 not set" in done.stderr and adj == "0"), done.stdout + done.stderr


def test_the_status_records_the_limits_not_enforced(podbay: Podbay) -> None:
    path = podbay.manifest_file(pod("rec", command=["sleep", "30"], resources={"limits": {"memory": "64Mi"}},
                                    spec={"terminationGracePeriodSeconds": 0}))
    try:
        done = podbay.cli("run", "-f", path)
        assert done.returncode == 0 and "Warning: memory limit of main not enforced" in done.stderr, done.stderr
        status = podbay.pod("rec")["status"]
        condition = next(c for c in status["conditions"] if c["type"] == "podbay.io/ResourcesEnforced")
        assert condition["status"] == "False" and "memory limit of main not enforced" in condition["message"]
        assert status["qosClass"] == "Burstable"
        events = podbay.cli("describe", "pod", "rec").stdout
        assert "memory limit of main not enforced" in events
    finally:
        podbay.cleanup_pods()


@pytest.mark.parametrize(("resources", "expected"), [({}, "1000"), ({"requests": {"memory": "1Mi"}}, "999")])
def test_oom_score_adj_as_the_kubelet_sets_it(podbay: Podbay, resources: dict[str, object], expected: str) -> None:
    done = podbay.run(pod("adj", command=["cat", "/proc/self/oom_score_adj"], resources=resources))
    assert done.returncode == 0 and done.stdout.strip() == expected, done.stdout + done.stderr


def test_cgroups_required_refuses_the_pod_and_leaves_nothing(podbay: Podbay) -> None:
    podbay.extra_env["PODBAY_CGROUPS"] = "required"
    try:
        done = podbay.run(pod("req", command=["true"], resources=LIMITED))
        assert done.returncode == 125
        assert "memory limit of main not enforced" in done.stderr and "cgroups setting is `required`" in done.stderr
        assert "Traceback" not in done.stderr
        path = podbay.manifest_file(pod("req2", command=["true"], resources=LIMITED))
        created = podbay.cli("run", "-f", path)
        assert created.returncode != 0 and "cgroups setting is `required`" in created.stderr, created.stderr
        listed = podbay.cli("get", "pods", "-o", "json")
        assert json.loads(listed.stdout)["items"] == []
        assert podbay.containers_left() == []
        unlimited = podbay.run(pod("free", command=["true"]))  # asks for nothing: runs
        assert unlimited.returncode == 0, unlimited.stderr
    finally:
        podbay.extra_env.pop("PODBAY_CGROUPS")
        podbay.cleanup_pods()


def test_a_bad_setting_is_a_clear_error(podbay: Podbay) -> None:
    podbay.extra_env["PODBAY_CGROUPS"] = "sometimes"
    try:
        done = podbay.run(pod("bad", command=["true"]))
        assert done.returncode == 125 and "PODBAY_CGROUPS: cgroups: 'sometimes' is not one of" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        podbay.extra_env.pop("PODBAY_CGROUPS")


def test_pause_and_top_say_why_they_cannot_work_here(podbay: Podbay) -> None:
    path = podbay.manifest_file(pod("still", command=["sleep", "30"], spec={"terminationGracePeriodSeconds": 0}))
    try:
        assert podbay.cli("run", "-f", path, "--wait").returncode == 0
        paused = podbay.cli("pause", "still")
        assert paused.returncode == 1 and "Traceback" not in paused.stderr
        assert "pausing needs a cgroup of the pod's own, and it has none: cgroups are not available" in paused.stderr
        assert "Paused" not in podbay.cli("get", "pods", "still").stdout
        top = podbay.cli("top", "pod")
        assert top.returncode == 1 and "no usage figures: podbay's pods have no cgroups here" in top.stderr
        node = podbay.cli("top", "node")
        assert node.returncode == 0 and node.stdout.split()[:6] == [
            "NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%", "PSI(cpu/mem/io"]
    finally:
        podbay.cleanup_pods()
