"""The workload controllers' decisions, against a simulated node where pods become Ready a step after
they are created."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from podbay.runtime.controllers import deployment, job, replicaset, statefulset
from podbay.runtime.controllers.common import SUFFIX_ALPHABET, PodView, int_or_percent, matches, template_hash


def pod_view(name: str, *, ready: bool = True, phase: str = "Running", created: float = 0.0) -> PodView:
    return PodView(name, str(uuid.uuid4()), {}, phase, ready, created if ready else 0.0, created)


def rs_object(replicas: int = 3, min_ready: int = 0) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1", "generation": 2},
            "spec": {"replicas": replicas, "minReadySeconds": min_ready,
                     "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}}


def test_a_replicaset_creates_the_missing_pods_named_after_it() -> None:
    plan = replicaset.reconcile(rs_object(3), [pod_view("web-aaaaa")], now=100)
    assert len(plan.create) == 2 and not plan.delete
    for pod in plan.create:
        name = pod["metadata"]["name"]
        assert name.startswith("web-") and len(name) == 9 and set(name[4:]) <= set(SUFFIX_ALPHABET)
        assert pod["metadata"]["labels"] == {"app": "web"}
        assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                                       "uid": "u1", "controller": True, "blockOwnerDeletion": True}]
    assert plan.status["replicas"] == 1 and plan.status["observedGeneration"] == 2


def test_a_replicaset_replaces_finished_pods_and_deletes_the_least_useful_extra_ones() -> None:
    pods = [pod_view("old", created=1), pod_view("young", created=5), pod_view("waiting", ready=False, phase="Pending",
                                                                              created=3),
            pod_view("done", phase="Failed", created=0)]
    plan = replicaset.reconcile(rs_object(1), pods, now=10)
    assert plan.delete == ["waiting", "young"] and not plan.create
    plan = replicaset.reconcile(rs_object(4), pods, now=10)
    assert len(plan.create) == 1  # the Failed pod does not count


def test_min_ready_seconds_gates_availability() -> None:
    pods = [pod_view("a", created=0), pod_view("b", created=8)]
    assert replicaset.reconcile(rs_object(2, min_ready=5), pods, now=10).status["availableReplicas"] == 1


@pytest.mark.parametrize(("value", "total", "up", "want"), [
    ("25%", 4, True, 1), ("25%", 5, True, 2), ("25%", 5, False, 1), (2, 10, True, 2), (None, 3, False, 0)])
def test_int_or_percent(value: int | str | None, total: int, up: bool, want: int) -> None:
    assert int_or_percent(value, total, round_up=up, default="25%") == want


def test_selectors() -> None:
    selector = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In",
                                                                      "values": ["a", "b"]}]}
    assert matches(selector, {"app": "web", "tier": "a"}) and not matches(selector, {"app": "web", "tier": "c"})
    assert not matches({}, {"app": "web"})


class Node:
    """ReplicaSets and their pods: a pod created in one step is Ready in the next."""

    def __init__(self) -> None:
        self.sets: dict[str, dict[str, Any]] = {}
        self.pods: dict[str, list[tuple[str, bool]]] = {}  # rs -> [(template hash, ready)]

    def views(self) -> list[deployment.ReplicaSetView]:
        out = []
        for name, manifest in self.sets.items():
            pods = self.pods.get(name, [])
            ready = sum(r for _, r in pods)
            out.append(deployment.ReplicaSetView(manifest, len(pods), ready, ready))
        return out

    def apply(self, plan: deployment.DeploymentPlan) -> None:
        if plan.create is not None:
            self.sets[plan.create["metadata"]["name"]] = copy.deepcopy(plan.create)
        for name, replicas in plan.scale.items():
            self.sets[name]["spec"]["replicas"] = replicas
        for name, revision in plan.revise.items():
            self.sets[name]["metadata"]["annotations"][deployment.REVISION] = str(revision)
        for name in plan.delete:
            del self.sets[name]
            self.pods.pop(name, None)

    def tick(self) -> None:
        """Pods become Ready; each ReplicaSet gets (new, not ready) or loses pods to match its replicas."""
        for name, manifest in self.sets.items():
            pods = [(h, True) for h, _ in self.pods.get(name, [])]
            wanted = manifest["spec"]["replicas"]
            pods = pods[:wanted] + [("", False)] * max(wanted - len(pods), 0)
            self.pods[name] = pods


def deployment_object(image: str, replicas: int = 4, **strategy: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "c", "image": image}]}}}
    if strategy:
        spec["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "uid": "d1", "generation": 1}, "spec": spec}


def roll(node: Node, obj: dict[str, Any], steps: int = 30) -> list[tuple[int, int]]:
    """Sync and tick until nothing changes; returns (available, total pods) after each sync."""
    seen = []
    for _ in range(steps):
        plan = deployment.reconcile(obj, node.views(), now=0)
        obj["status"] = plan.status
        node.apply(plan)
        seen.append((sum(v.available for v in node.views()), sum(v.active for v in node.views())))
        if plan.create is None and not plan.scale and not plan.delete and plan.status["updatedReplicas"] == \
                obj["spec"]["replicas"] == plan.status["availableReplicas"]:
            break
        node.tick()
    return seen


def test_a_rolling_update_never_drops_below_replicas_minus_max_unavailable() -> None:
    node = Node()
    first = deployment_object("busybox:1")
    roll(node, first)
    assert [v.replicas for v in node.views()] == [4]
    (rs,) = node.views()
    assert rs.name == f"web-{template_hash(first['spec']['template'])}" and rs.revision == 1
    second = deployment_object("busybox:2")
    second["status"] = first["status"]
    steps = roll(node, second)
    # replicas 4, 25%: maxSurge 1, maxUnavailable 1: at least 3 available, at most 5 pods, at every step.
    assert all(available >= 3 for available, _ in steps), steps
    assert all(total <= 5 for _, total in steps), steps
    views = {v.hash: v for v in node.views()}
    new = views[template_hash(second["spec"]["template"])]
    assert new.replicas == 4 and new.revision == 2 and sum(v.replicas for v in views.values()) == 4
    conditions = {c["type"]: c for c in second["status"]["conditions"]}
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert conditions["Available"]["status"] == "True"


def test_recreate_ends_every_old_pod_first() -> None:
    node = Node()
    roll(node, deployment_object("busybox:1"))
    obj = deployment_object("busybox:2", type="Recreate")
    steps = roll(node, obj)
    assert (0, 0) in steps  # a moment with no pod at all, then only new ones
    assert sorted(v.replicas for v in node.views()) == [0, 4]


def test_going_back_to_an_old_template_is_a_rollback_with_the_next_revision() -> None:
    node = Node()
    roll(node, deployment_object("busybox:1"))
    roll(node, deployment_object("busybox:2"))
    back = deployment_object("busybox:1")
    roll(node, back)
    views = {v.hash: v for v in node.views()}
    assert views[template_hash(back["spec"]["template"])].revision == 3
    assert len(views) == 2


def test_history_beyond_the_limit_is_deleted() -> None:
    node = Node()
    for version in range(5):
        obj = deployment_object(f"busybox:{version}")
        obj["spec"]["revisionHistoryLimit"] = 2
        roll(node, obj)
    assert len(node.sets) == 3  # the current one and two old ones


# --- Job -------------------------------------------------------------------------------------------------


def job_object(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "work", "namespace": "default",
                                                                   "uid": "j1", "generation": 1},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "busybox:1.36"}]}}, **spec}}


def ended(name: str, phase: str, at: float = 0.0, index: int | None = None) -> PodView:
    view = pod_view(name, ready=False, phase=phase)
    view.finished = at
    if index is not None:
        view.annotations = {job.INDEX: str(index)}
    return view


def test_a_job_runs_parallelism_pods_until_completions_succeed() -> None:
    obj = job_object(completions=3, parallelism=2)
    plan = job.reconcile(obj, [], now=0)
    assert len(plan.create) == 2 and plan.create[0]["metadata"]["labels"]["job-name"] == "work"
    plan = job.reconcile(obj, [ended("a", "Succeeded"), ended("b", "Succeeded"), pod_view("c")], now=5)
    assert not plan.create  # one left to complete, and one runs
    obj["status"] = plan.status
    plan = job.reconcile(obj, [ended("a", "Succeeded"), ended("b", "Succeeded"), ended("c", "Succeeded")], now=9)
    assert [c["type"] for c in plan.status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert plan.status["succeeded"] == 3 and "completionTime" in plan.status


def test_a_job_fails_past_its_backoff_limit_with_backoff_between_pods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODBAY_BACKOFF_BASE", "10")
    obj = job_object(backoffLimit=1)
    plan = job.reconcile(obj, [ended("a", "Failed", at=100)], now=105)
    assert not plan.create  # the backoff: 10 s after the first failure
    assert len(job.reconcile(obj, [ended("a", "Failed", at=100)], now=111).create) == 1
    plan = job.reconcile(obj, [ended("a", "Failed", 100), ended("b", "Failed", 120), pod_view("c")], now=130)
    assert plan.status["conditions"][-1]["reason"] == "BackoffLimitExceeded" and plan.delete == ["c"]


def test_an_indexed_job_runs_each_index_once_with_its_env() -> None:
    obj = job_object(completions=3, parallelism=3, completionMode="Indexed")
    plan = job.reconcile(obj, [ended("work-0-x", "Succeeded", index=0)], now=0)
    indexes = sorted(p["metadata"]["annotations"][job.INDEX] for p in plan.create)
    assert indexes == ["1", "2"] and plan.create[0]["metadata"]["name"].startswith("work-1-")
    env = plan.create[0]["spec"]["containers"][0]["env"]
    assert env == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {
        "fieldRef": {"fieldPath": f"metadata.annotations['{job.INDEX}']"}}}]
    assert job.index_ranges({0, 1, 2, 4, 6, 7}) == "0-2,4,6-7"


def failed_with(name: str, at: float, **codes: int) -> PodView:
    view = ended(name, "Failed", at)
    view.exit_codes = list(codes.items())
    return view


def test_pod_failure_policy_fails_the_job_ignores_or_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODBAY_BACKOFF_BASE", "0")
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42]}},
                        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [137]}},
                        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
                        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1]}}]}
    obj = job_object(backoffLimit=1, podFailurePolicy=policy)
    # Ignored failures (an OOM kill, a disruption) count toward nothing and are replaced.
    disrupted = failed_with("b", 2, c=1, sidecar=0)
    disrupted.conditions = {"DisruptionTarget": "True"}
    plan = job.reconcile(obj, [failed_with("a", 1, c=137), disrupted], now=5)
    assert "conditions" not in plan.status or not plan.status["conditions"]
    assert plan.status["failed"] == 0 and len(plan.create) == 1
    # A counted failure (exit 1: no rule; the sidecar's 0 never matches NotIn) and another: past backoffLimit 1.
    counted = [failed_with("c", 3, c=1, sidecar=0), failed_with("d", 4, c=2)]
    plan = job.reconcile(obj, counted, now=5)
    assert plan.status["conditions"][-1]["reason"] == "BackoffLimitExceeded"
    assert job.policy_verdict(policy, counted[0], "default") == ("Count", "")
    # Exit code 42 of container c: the Job fails at once, with the controller's message, its running pods deleted.
    plan = job.reconcile(obj, [failed_with("e", 6, c=42), pod_view("f")], now=7)
    failed = plan.status["conditions"][-1]
    assert (failed["type"], failed["reason"]) == ("Failed", "PodFailurePolicy") and plan.delete == ["f"]
    assert failed["message"] == ("Container c for pod default/e failed with exit code 42 matching FailJob rule at "
                                 "index 0")
    assert ("Warning", "PodFailurePolicy", failed["message"]) in plan.events


def test_a_suspended_job_runs_nothing_until_resumed() -> None:
    obj = job_object(completions=2, parallelism=2, suspend=True)
    plan = job.reconcile(obj, [pod_view("a")], now=10)
    assert plan.delete == ["a"] and not plan.create and "startTime" not in plan.status
    assert [(c["type"], c["status"], c["reason"]) for c in plan.status["conditions"]] == [
        ("Suspended", "True", "JobSuspended")]
    assert plan.events == [("Normal", "Suspended", "Job suspended")]
    obj["status"] = plan.status
    assert job.reconcile(obj, [], now=11).events == []  # said once
    obj["spec"]["suspend"] = False
    plan = job.reconcile(obj, [], now=20)
    assert len(plan.create) == 2 and plan.status["startTime"] == "1970-01-01T00:00:20Z"
    resumed = plan.status["conditions"][-1]
    assert (resumed["type"], resumed["status"], resumed["reason"]) == ("Suspended", "False", "JobResumed")


def test_pod_replacement_policy_failed_waits_for_a_terminating_pod_to_end() -> None:
    terminating = pod_view("a")
    terminating.deleting = True
    assert len(job.reconcile(job_object(), [terminating], now=0).create) == 1  # TerminatingOrFailed
    assert job.reconcile(job_object(podReplacementPolicy="Failed"), [terminating], now=0).create == []


def test_active_deadline_and_ttl() -> None:
    obj = job_object(activeDeadlineSeconds=5, ttlSecondsAfterFinished=10)
    obj["status"] = {"startTime": "1970-01-01T00:00:00Z"}
    plan = job.reconcile(obj, [pod_view("a")], now=6)
    assert plan.status["conditions"][-1]["reason"] == "DeadlineExceeded" and plan.delete == ["a"]
    obj["status"] = plan.status
    assert not job.reconcile(obj, [], now=15).delete_job
    assert job.reconcile(obj, [], now=17).delete_job


# --- StatefulSet and DaemonSet ------------------------------------------------------------------------------


def sts_object(replicas: int = 3, **spec: Any) -> dict[str, Any]:
    obj = rs_object(replicas)
    obj["kind"], obj["metadata"]["uid"] = "StatefulSet", "s1"
    obj["spec"].update({"serviceName": "web", "volumeClaimTemplates": [{"metadata": {"name": "data"}}], **spec})
    return obj


def labelled(name: str, revision: str, ready: bool = True) -> PodView:
    view = pod_view(name, ready=ready, phase="Running" if ready else "Pending")
    view.labels = {statefulset.REVISION_HASH: revision}
    return view


def test_a_statefulset_creates_its_pods_in_order_with_stable_names_and_claims() -> None:
    obj = sts_object()
    revision = template_hash(obj["spec"]["template"])
    plan = statefulset.reconcile_statefulset(obj, [])
    assert [p["metadata"]["name"] for p in plan.create] == ["web-0"]
    pod = plan.create[0]
    assert pod["spec"]["hostname"] == "web-0" and pod["spec"]["subdomain"] == "web"
    assert pod["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}]
    assert not statefulset.reconcile_statefulset(obj, [labelled("web-0", revision, ready=False)]).create
    plan = statefulset.reconcile_statefulset(obj, [labelled("web-0", revision)])
    assert [p["metadata"]["name"] for p in plan.create] == ["web-1"]
    parallel = statefulset.reconcile_statefulset(sts_object(podManagementPolicy="Parallel"), [])
    assert [p["metadata"]["name"] for p in parallel.create] == ["web-0", "web-1", "web-2"]


def test_a_statefulset_scales_down_and_updates_from_the_highest_ordinal() -> None:
    obj = sts_object(1)
    revision = template_hash(obj["spec"]["template"])
    pods = [labelled(f"web-{i}", revision) for i in range(3)]
    assert statefulset.reconcile_statefulset(obj, pods).delete == ["web-2"]
    obj = sts_object(3, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}})
    old = [labelled(f"web-{i}", "old") for i in range(3)]
    assert statefulset.reconcile_statefulset(obj, old).delete == ["web-2"]
    assert statefulset.reconcile_statefulset(obj, old[:2] + [labelled("web-2", template_hash(
        obj["spec"]["template"]))]).delete == ["web-1"]
    assert statefulset.reconcile_statefulset(obj, [old[0]] + [labelled(f"web-{i}", template_hash(
        obj["spec"]["template"])) for i in (1, 2)]).delete == []  # below the partition: left alone


def test_a_daemonset_runs_one_pod_and_replaces_it_on_a_new_template() -> None:
    obj = rs_object()
    obj["kind"] = "DaemonSet"
    plan = statefulset.reconcile_daemonset(obj, [])
    assert len(plan.create) == 1 and plan.create[0]["metadata"]["name"].startswith("web-")
    current = labelled("web-abcde", template_hash(obj["spec"]["template"]))
    assert statefulset.reconcile_daemonset(obj, [current]).delete == []
    assert statefulset.reconcile_daemonset(obj, [labelled("web-old", "x")]).delete == ["web-old"]


def test_static_pod_files_become_named_hashed_pods(tmp_path: Any) -> None:
    from podbay.runtime.controllers import static  # noqa: PLC0415

    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
           "spec: {containers: [{name: c, image: busybox:1.36}]}\n---\n"
           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n")
    (tmp_path / "web.yaml").write_text(pod)
    (tmp_path / ".swap.yaml").write_text(pod.replace("web", "hidden"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {}\n")
    (tmp_path / "again.yaml").write_text(pod)
    pods, problems = static.desired(tmp_path, "node1")
    assert list(pods) == ["web-node1"]
    manifest = pods["web-node1"][0]
    annotations = manifest["metadata"]["annotations"]
    assert annotations[static.SOURCE] == "file" and annotations[static.FILE_PATH].endswith("again.yaml")
    assert any("bad.yaml: invalid" in p for p in problems)
    assert any("web.yaml: pod web-node1 is also defined in" in p for p in problems)
    uid = manifest["metadata"]["uid"]
    (tmp_path / "again.yaml").unlink()
    assert static.desired(tmp_path, "node1")[0]["web-node1"][0]["metadata"]["uid"] != uid  # another file
    same = static.desired(tmp_path, "node1")[0]["web-node1"][0]["metadata"]["uid"]
    assert static.desired(tmp_path, "node1")[0]["web-node1"][0]["metadata"]["uid"] == same  # stable
    (tmp_path / "web.yaml").write_text(pod.replace("busybox:1.36", "busybox:1.37"))
    assert static.desired(tmp_path, "node1")[0]["web-node1"][0]["metadata"]["uid"] != same  # edited
