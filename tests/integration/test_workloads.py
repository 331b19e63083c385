"""Deployments and ReplicaSets for real: applied, run by the supervisor's controllers, healed, rolled out,
scaled and deleted, with real pods."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.podbay_harness import Podbay

pytestmark = [pytest.mark.root, pytest.mark.images]
IMAGE = "localhost/probe:latest"


def template(script: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                "name": "main", "image": IMAGE, "imagePullPolicy": "Never", "command": ["sh", "-c", script],
                "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1}}]}}


def workload(kind: str, replicas: int, script: str = "sleep 3600", **spec: Any) -> dict[str, Any]:
    counted = {} if kind == "DaemonSet" else {"replicas": replicas}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web"},
            "spec": {**counted, "selector": {"matchLabels": {"app": "web"}}, "template": template(script), **spec}}


def apply(podbay: Podbay, obj: dict[str, Any]) -> str:
    path = podbay.manifest_file(obj)
    try:
        done = podbay.cli("apply", "-f", path)
    finally:
        os.unlink(path)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def pods(podbay: Podbay) -> list[dict[str, Any]]:
    done = podbay.cli("get", "pods", "-o", "json")
    return list(json.loads(done.stdout)["items"]) if done.returncode == 0 and done.stdout.strip() else []


def get(podbay: Podbay, kind: str, name: str = "web") -> dict[str, Any]:
    done = podbay.cli("get", kind, name, "-o", "json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def wait(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g}s"
        time.sleep(0.25)


def running_ready(podbay: Podbay) -> list[dict[str, Any]]:
    return [p for p in pods(podbay) if ready(p)]


def test_a_replicaset_keeps_its_replicas_and_replaces_what_dies(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    assert apply(podbay, workload("ReplicaSet", 2)) == "replicaset.apps/web created"
    wait("2 ready pods", lambda: len(running_ready(podbay)) == 2)
    first = {p["metadata"]["name"] for p in pods(podbay)}
    assert all(name.startswith("web-") and len(name) == 9 for name in first)
    owner = pods(podbay)[0]["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "ReplicaSet" and owner["name"] == "web" and owner["controller"] is True
    victim = sorted(first)[0]
    assert podbay.cli("delete", "pod", victim, "--grace-period", "0").returncode == 0
    wait("a replacement", lambda: len(running_ready(podbay)) == 2 and victim not in
         {p["metadata"]["name"] for p in pods(podbay)})
    wait("the status caught up", lambda: podbay.cli("get", "rs").stdout.splitlines()[1].split()[:4] ==
         ["web", "2", "2", "2"])
    assert podbay.cli("get", "rs").stdout.splitlines()[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert podbay.cli("delete", "rs", "web").returncode == 0
    wait("its pods deleted with it", lambda: pods(podbay) == [])


def test_apply_twice_changes_nothing_and_scale_changes_replicas(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    obj = workload("Deployment", 1)
    assert apply(podbay, obj) == "deployment.apps/web created"
    assert apply(podbay, obj) == "deployment.apps/web unchanged"
    wait("1 ready", lambda: len(running_ready(podbay)) == 1)
    assert podbay.cli("scale", "deploy/web", "--replicas", "3").returncode == 0
    wait("3 ready", lambda: len(running_ready(podbay)) == 3)
    deployment = get(podbay, "deploy")
    assert deployment["metadata"]["generation"] == 2
    wait("status caught up", lambda: get(podbay, "deploy")["status"].get("availableReplicas") == 3)
    line = podbay.cli("get", "deploy").stdout.splitlines()[1].split()
    assert line[:4] == ["web", "3/3", "3", "3"]


def test_a_rolling_update_never_has_fewer_than_replicas_minus_max_unavailable_ready(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, workload("Deployment", 4, "echo v1; sleep 3600"))
    wait("4 ready", lambda: len(running_ready(podbay)) == 4)
    first_rs = set(podbay.cli("get", "rs", "-o", "name").stdout.split())
    apply(podbay, workload("Deployment", 4, "echo v2; sleep 3600"))
    lowest, highest = 4, 0
    deadline = time.monotonic() + 90
    while True:
        current = [p for p in pods(podbay) if p.get("status", {}).get("phase") in ("Pending", "Running")]
        lowest = min(lowest, sum(ready(p) for p in current))
        highest = max(highest, len(current))
        done = get(podbay, "deploy")["status"]
        if done.get("updatedReplicas") == 4 and done.get("availableReplicas") == 4 and done.get("replicas") == 4:
            break
        assert time.monotonic() < deadline, f"the rollout did not finish: {done}"
        time.sleep(0.2)
    # 4 replicas, 25%: maxUnavailable 1 (never fewer than 3 ready), maxSurge 1 (never more than 5 pods).
    assert lowest >= 3, f"only {lowest} ready pods during the rollout"
    assert highest <= 5 + 1, f"{highest} pods during the rollout"  # +1: a terminating pod in its grace second
    sets = podbay.cli("get", "rs").stdout.splitlines()[1:]
    assert len(sets) == 2 and sorted(line.split()[1] for line in sets) == ["0", "4"]
    assert set(podbay.cli("get", "rs", "-o", "name").stdout.split()) > first_rs
    deployment = get(podbay, "deploy")
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    conditions = {c["type"]: c["reason"] for c in deployment["status"]["conditions"]}
    assert conditions == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}
    logs = {podbay.cli("logs", p["metadata"]["name"]).stdout.strip() for p in running_ready(podbay)}
    assert logs == {"v2"}


def test_delete_cascades_or_orphans(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, workload("Deployment", 2))
    wait("2 ready", lambda: len(running_ready(podbay)) == 2)
    done = podbay.cli("delete", "deploy", "web", "--cascade=orphan")
    assert done.returncode == 0 and "orphaned" in done.stdout
    time.sleep(2)
    kept = {p["metadata"]["name"] for p in running_ready(podbay)}
    assert len(kept) == 2  # the pods stay, owned by their ReplicaSet, which stays too
    assert len(podbay.cli("get", "rs", "-o", "name").stdout.split()) == 1
    # The same Deployment again adopts its orphaned ReplicaSet (its selector matches): no new pods.
    apply(podbay, workload("Deployment", 2))
    uid = get(podbay, "deploy")["metadata"]["uid"]
    wait("adopted", lambda: [r["metadata"].get("ownerReferences", [{}])[0].get("uid")
                             for r in json.loads(podbay.cli("get", "rs", "-o", "json").stdout)["items"]] == [uid])
    time.sleep(2)
    assert {p["metadata"]["name"] for p in pods(podbay)} == kept
    assert podbay.cli("delete", "deploy", "web").returncode == 0
    wait("the pods deleted with their Deployment", lambda: pods(podbay) == [])


def test_the_supervisor_killed_mid_rollout_finishes_it_when_it_comes_back(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, workload("Deployment", 3, "echo v1; sleep 3600"))
    wait("3 ready", lambda: len(running_ready(podbay)) == 3)
    apply(podbay, workload("Deployment", 3, "echo v2; sleep 3600"))
    supervisor = int((podbay.run_dir / "supervisor" / "supervisor.pid").read_text())
    os.kill(supervisor, signal.SIGKILL)  # our own store's supervisor, by its pid
    # The next command finds workloads and no supervisor: it starts one, which adopts the pods and goes on.
    wait("the rollout finished", lambda: get(podbay, "deploy")["status"].get("updatedReplicas") == 3 and
         get(podbay, "deploy")["status"].get("availableReplicas") == 3, timeout=90)
    assert int((podbay.run_dir / "supervisor" / "supervisor.pid").read_text()) != supervisor
    wait("only new pods", lambda: {podbay.cli("logs", p["metadata"]["name"]).stdout.strip()
                                   for p in pods(podbay)} == {"v2"}, timeout=30)


# --- the node agent and static pods ---------------------------------------------------------------------


def static_pod(name: str, script: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                           {"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                            "command": ["sh", "-c", script]}]}})


def test_static_pods_follow_their_files_and_survive_the_agent(root_only_podbay: Podbay, tmp_path: Any) -> None:
    import subprocess  # noqa: PLC0415

    from podbay.runtime.controllers.static import node_name  # noqa: PLC0415

    podbay = root_only_podbay
    folder = podbay.home / "manifests"
    folder.mkdir(exist_ok=True)
    node = node_name()
    podbay.extra_env["PODBAY_FILE_CHECK_FREQUENCY"] = "2"
    argv, kwargs = podbay.argv("kubelet", "--manifests", str(folder))
    log = open(tmp_path / "kubelet.log", "w")  # noqa: SIM115 - closed below
    agent = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=podbay.env(), cwd=str(podbay.home),
                             **kwargs)
    try:
        (folder / "web.yaml").write_text(static_pod("web", "echo first; sleep 3600"))
        (folder / ".hidden.yaml").write_text(static_pod("hidden", "sleep 3600"))
        (folder / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: broken}\nspec: {}\n")
        name = f"web-{node}"
        pod = podbay.wait_pod(name, lambda p: p.get("status", {}).get("phase") == "Running", what="Running")
        annotations = pod["metadata"]["annotations"]
        assert annotations["kubernetes.io/config.source"] == "file" and "kubernetes.io/config.hash" in annotations
        assert [p["metadata"]["name"] for p in pods(podbay)] == [name]  # dotfiles skipped, broken file not run
        wait("the broken file reported", lambda: "broken.yaml: invalid" in (tmp_path / "kubelet.log").read_text())
        uid = pod["metadata"]["uid"]
        assert podbay.cli("delete", "pod", name, "--grace-period", "0").returncode == 0  # a static pod comes back
        wait("recreated", lambda: podbay.pod(name).get("status", {}).get("phase") == "Running")
        os.kill(agent.pid, signal.SIGKILL)  # the agent dies; its pods do not
        agent.wait()
        assert podbay.pod(name)["status"]["phase"] == "Running"
        agent = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=podbay.env(),
                                 cwd=str(podbay.home), **kwargs)
        (folder / "web.yaml").write_text(static_pod("web", "echo second; sleep 3600"))
        wait("replaced after the change", lambda: podbay.pod(name).get("metadata", {}).get("uid") not in ("", uid)
             and podbay.pod(name)["status"].get("phase") == "Running")
        wait("the new one's output", lambda: podbay.cli("logs", name).stdout.strip() == "second")
        (folder / "web.yaml").unlink()
        wait("deleted with its file", lambda: pods(podbay) == [])
    finally:
        for path in folder.iterdir():
            path.unlink()
        del podbay.extra_env["PODBAY_FILE_CHECK_FREQUENCY"]
        if agent.poll() is None:
            wait("static pods gone", lambda: pods(podbay) == [], timeout=30)
            agent.terminate()
            agent.wait(timeout=30)
        log.close()


# --- Jobs, StatefulSets, DaemonSets -------------------------------------------------------------------------


def job(name: str, script: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                                                           "command": ["sh", "-c", script]}]}}, **spec}}


def job_condition(podbay: Podbay, name: str) -> str:
    conditions = get(podbay, "job", name).get("status", {}).get("conditions") or []
    return next((c["reason"] for c in conditions if c["type"] in ("Complete", "Failed")), "")


def test_an_indexed_job_completes_each_index(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, job("indexed", "echo index $JOB_COMPLETION_INDEX", completions=3, parallelism=2,
                      completionMode="Indexed"))
    wait("complete", lambda: job_condition(podbay, "indexed") == "CompletionsReached", timeout=90)
    outputs = sorted(podbay.cli("logs", p["metadata"]["name"]).stdout.strip() for p in pods(podbay))
    assert outputs == ["index 0", "index 1", "index 2"]
    status = get(podbay, "job", "indexed")["status"]
    assert status["succeeded"] == 3 and status["completedIndexes"] == "0-2"
    line = podbay.cli("get", "jobs").stdout.splitlines()[1].split()
    assert line[:3] == ["indexed", "Complete", "3/3"]


def test_a_failing_job_stops_at_its_backoff_limit(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, job("failing", "exit 3", backoffLimit=2))
    wait("failed", lambda: job_condition(podbay, "failing") == "BackoffLimitExceeded", timeout=90)
    assert len(pods(podbay)) == 3  # the first try and two retries, after the Job's backoff
    described = podbay.cli("describe", "job", "failing").stdout
    assert "BackoffLimitExceeded" in described and "SuccessfulCreate" in described
    everything = podbay.cli("events").stdout  # the job's and its pods' events in one list
    assert "job/failing" in everything and "SuccessfulCreate" in everything and "pod/failing-" in everything
    warnings = podbay.cli("events", "--types", "Warning").stdout.splitlines()
    assert any("job/failing" in line and "BackoffLimitExceeded" in line for line in warnings)
    assert all(" Normal " not in line for line in warnings)


def test_a_pod_failure_policy_fails_the_job_at_once_or_ignores_the_failure(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    rules = [{"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
             {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [7]}}]
    # Exit 7 the first time (a marker file in a hostPath says so), 42 the second: the first failure is ignored
    # (backoffLimit 0 would have failed the Job), the second fails it by the policy, not by backoffLimit.
    folder = podbay.home / "policy"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o777)  # the pods' root is an unprivileged id on the host
    (folder / "once").unlink(missing_ok=True)
    obj = job("policy", "if [ -e /h/once ]; then exit 42; fi; touch /h/once; exit 7", backoffLimit=0,
              podFailurePolicy={"rules": rules})
    obj["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "h", "mountPath": "/h"}]
    obj["spec"]["template"]["spec"]["volumes"] = [{"name": "h", "hostPath": {"path": str(folder)}}]
    apply(podbay, obj)
    wait("failed by the policy", lambda: job_condition(podbay, "policy") == "PodFailurePolicy", timeout=90)
    status = get(podbay, "job", "policy")["status"]
    assert status["failed"] == 1 and len(pods(podbay)) == 2  # the ignored failure is not counted
    message = next(c["message"] for c in status["conditions"] if c["type"] == "Failed")
    assert message.startswith("Container main for pod default/policy-") and message.endswith(
        "failed with exit code 42 matching FailJob rule at index 0"), message


def test_a_statefulset_starts_in_order_and_keeps_its_storage(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    sts = workload("StatefulSet", 3, "echo $(hostname) >> /data/boots; sleep 3600", serviceName="web",
                   volumeClaimTemplates=[{"metadata": {"name": "data"},
                                          "spec": {"accessModes": ["ReadWriteOnce"],
                                                   "resources": {"requests": {"storage": "1Mi"}}}}])
    sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    apply(podbay, sts)
    wait("3 ready", lambda: len(running_ready(podbay)) == 3, timeout=90)
    started = sorted((p["status"]["startTime"], p["metadata"]["name"]) for p in pods(podbay))
    assert [name for _, name in started] == ["web-0", "web-1", "web-2"]
    assert podbay.cli("exec", "web-1", "--", "hostname").stdout.strip() == "web-1"
    assert podbay.cli("delete", "pod", "web-1", "--grace-period", "0").returncode == 0
    wait("web-1 back", lambda: len(running_ready(podbay)) == 3 and
         podbay.cli("exec", "web-1", "--", "cat", "/data/boots").stdout.split() == ["web-1", "web-1"])
    assert podbay.cli("scale", "sts/web", "--replicas", "1").returncode == 0
    wait("scaled down from the top", lambda: [p["metadata"]["name"] for p in pods(podbay)] == ["web-0"], timeout=60)


def test_a_daemonset_runs_one_pod_and_replaces_it_on_change(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, workload("DaemonSet", 1, "echo v1; sleep 3600"))
    wait("one ready", lambda: len(running_ready(podbay)) == 1)
    first = pods(podbay)[0]["metadata"]["name"]
    apply(podbay, workload("DaemonSet", 1, "echo v2; sleep 3600"))
    wait("replaced", lambda: [p["metadata"]["name"] for p in running_ready(podbay)] not in ([], [first]) and
         len(pods(podbay)) == 1)
    assert podbay.cli("logs", pods(podbay)[0]["metadata"]["name"]).stdout.strip() == "v2"


def test_rollout_status_history_undo_and_restart(root_only_podbay: Podbay) -> None:
    podbay = root_only_podbay
    apply(podbay, workload("Deployment", 2, "echo v1; sleep 3600"))
    status = podbay.cli("rollout", "status", "deploy/web", "--timeout", "90")
    assert status.returncode == 0 and status.stdout.splitlines()[-1] == 'deployment "web" successfully rolled out'
    apply(podbay, workload("Deployment", 2, "echo v2; sleep 3600"))
    status = podbay.cli("rollout", "status", "deploy/web", "--timeout", "90")
    assert status.returncode == 0 and "Waiting for deployment" in status.stdout, status.stdout
    history = podbay.cli("rollout", "history", "deploy/web").stdout.split()
    assert history[:3] == ["deployment.apps/web", "REVISION", "CHANGE-CAUSE"] and history[3::2] == ["1", "2"]
    undone = podbay.cli("rollout", "undo", "deploy/web")
    assert undone.returncode == 0 and "rolled back" in undone.stdout
    assert podbay.cli("rollout", "status", "deploy/web", "--timeout", "90").returncode == 0
    assert get(podbay, "deploy")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    wait("v1 again", lambda: {podbay.cli("logs", p["metadata"]["name"]).stdout.strip()
                              for p in pods(podbay)} == {"v1"})
    before = {p["metadata"]["name"] for p in pods(podbay)}
    assert podbay.cli("rollout", "restart", "deploy/web").returncode == 0
    assert podbay.cli("rollout", "status", "deploy/web", "--timeout", "90").returncode == 0
    wait("every pod replaced", lambda: not before & {p["metadata"]["name"] for p in pods(podbay)})
    described = podbay.cli("describe", "deploy", "web").stdout
    assert "ScalingReplicaSet" in described and "2 desired | 2 updated | 2 total | 2 available" in described
    wait("logs of deploy/web", lambda: podbay.cli("logs", "deploy/web").stdout.strip() == "v1")  # one of its pods
    assert "Found 2 pods, using pod/web-" in podbay.cli("logs", "deploy/web").stderr
    missing = podbay.cli("logs", "deploy/nope")
    assert missing.returncode == 1 and 'deployments.apps "nope" not found' in missing.stderr
