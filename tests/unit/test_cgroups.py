"""The kubelet's mapping of requests and limits, and the cgroup manager on a fake tree (the cgroup
root is a parameter: here a temporary folder of plain files)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from podbay.runtime import settings
from podbay.runtime.cgroups import hierarchy, resources
from podbay.runtime.cgroups.manager import CgroupError, Cgroups
from podbay.runtime.cgroups.pod import PodCgroups
from podbay.runtime.cgroups.stats import cpu_cores, read_usage
from podbay.runtime.lifecycle.status import qos_class
from tests.unit.specutil import loaded as load_pod

GiB = 1 << 30


def pod(*containers: dict[str, Any], init: list[dict[str, Any]] | None = None, **spec: Any) -> Any:
    body = {"containers": list(containers), **({"initContainers": init} if init else {}), **spec}
    return load_pod({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "uid": "u1"}, "spec": body})


def ctr(name: str = "c", limits: dict[str, str] | None = None, requests: dict[str, str] | None = None,
        **extra: Any) -> dict[str, Any]:
    res = {k: v for k, v in (("limits", limits), ("requests", requests)) if v}
    return {"name": name, "image": "busybox", **({"resources": res} if res else {}), **extra}


# --- the numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("milli", "shares"), [(0, 2), (1, 2), (100, 102), (250, 256), (1000, 1024), (2500, 2560)])
def test_milli_cpu_to_shares(milli: int, shares: int) -> None:
    assert resources.milli_cpu_to_shares(milli) == shares


@pytest.mark.parametrize(("shares", "weight"), [(2, 1), (3, 2), (102, 17), (512, 59), (1024, 100), (2048, 174),
                                                (262144, 10000), (10**6, 10000)])
def test_shares_to_weight_is_the_current_runc_and_crun_formula(shares: int, weight: int) -> None:
    # Values computed with opencontainers/cgroups' ConvertCPUSharesToCgroupV2Value (runc 1.3.2+, crun 1.23+):
    # the default 1024 shares is weight 100, the kernel's own default.
    assert resources.shares_to_weight(shares) == weight


@pytest.mark.parametrize(("milli", "quota"), [(1, 1000), (5, 1000), (10, 1000), (250, 25000), (1500, 150000)])
def test_milli_cpu_to_quota_has_a_1ms_floor(milli: int, quota: int) -> None:
    assert resources.milli_cpu_to_quota(milli) == quota


def test_container_limits() -> None:
    c = pod(ctr(limits={"cpu": "500m", "memory": "64Mi"}, requests={"cpu": "250m"}))
    limits = resources.container_limits(c.spec.containers[0])
    assert limits.files() == {"cpu.weight": str(resources.shares_to_weight(256)), "cpu.max": "50000 100000",
                              "memory.max": str(64 << 20), "memory.swap.max": "0", "memory.oom.group": "1"}
    assert resources.container_limits(c.spec.containers[0], swap_max=None).files().get("memory.swap.max") is None


def test_pod_limits_only_when_every_container_declares_one() -> None:
    both = pod(ctr("a", limits={"cpu": "1", "memory": "1Gi"}), ctr("b", limits={"cpu": "500m", "memory": "1Gi"}))
    files = resources.pod_limits(both).files()
    assert files["cpu.max"] == "150000 100000" and files["memory.max"] == str(2 * GiB)
    assert files["cpu.weight"] == str(resources.shares_to_weight(1536))  # requests default to the limits
    one = pod(ctr("a", limits={"memory": "1Gi"}), ctr("b", requests={"cpu": "100m"}))
    files = resources.pod_limits(one).files()
    assert "memory.max" not in files and "cpu.max" not in files  # b may use the whole node
    assert files["cpu.weight"] == str(resources.shares_to_weight(102))
    assert resources.pod_limits(pod(ctr())).files() == {"cpu.weight": "1"}  # BestEffort: the minimum shares


def test_pod_requests_count_sidecars_and_the_biggest_init_container() -> None:
    spec = pod(ctr("app", requests={"cpu": "200m"}),
               init=[ctr("side", requests={"cpu": "100m"}, restartPolicy="Always"),
                     ctr("setup", requests={"cpu": "900m"})]).spec
    # the init container runs beside the sidecar: 100 + 900 > app 200 + sidecar 100
    assert resources.pod_total(spec, "requests", "cpu") == 1000


def test_pod_level_resources_win_and_decide_the_qos_class() -> None:
    p = pod(ctr(), resources={"limits": {"cpu": "2", "memory": "512Mi"}})
    assert qos_class(p.spec) == "Guaranteed"
    limits = resources.pod_limits(p, pids_limit=100)
    assert limits.files()["cpu.max"] == "200000 100000" and limits.files()["memory.max"] == str(512 << 20)
    assert limits.files()["pids.max"] == "100"
    assert limits.wanted == {"cpu": ["CPU limit of the pod"], "memory": ["memory limit of the pod"],
                             "pids": ["pids limit of the pod"]}


def test_oom_score_adj_as_the_kubelet() -> None:
    guaranteed = pod(ctr(limits={"cpu": "1", "memory": "1Gi"}))
    assert resources.oom_score_adj(guaranteed, guaranteed.spec.containers[0], 8 * GiB) == -997
    best = pod(ctr())
    assert resources.oom_score_adj(best, best.spec.containers[0], 8 * GiB) == 1000
    burst = pod(ctr("a", requests={"memory": "1Gi"}), ctr("b", requests={"memory": "8Gi"}),
                ctr("c", requests={"cpu": "1"}))
    a, b, c = burst.spec.containers
    assert resources.oom_score_adj(burst, a, 8 * GiB) == 875  # 1000 - 1000 * 1/8
    assert resources.oom_score_adj(burst, b, 8 * GiB) == 3  # never as low as Guaranteed
    assert resources.oom_score_adj(burst, c, 8 * GiB) == 999  # never as high as BestEffort
    critical = pod(ctr(), priorityClassName="system-node-critical")
    assert resources.oom_score_adj(critical, critical.spec.containers[0], 8 * GiB) == -997


def test_a_sidecar_is_no_likelier_to_be_killed_than_the_smallest_app_container() -> None:
    p = pod(ctr("app", requests={"memory": "2Gi"}), init=[ctr("side", restartPolicy="Always")])
    side = p.spec.init_containers[0]
    assert resources.oom_score_adj(p, side, 8 * GiB) == resources.oom_score_adj(p, p.spec.containers[0], 8 * GiB)


# --- where the cgroups go -------------------------------------------------------------------------


def fake_mount(tmp_path: Path, controllers: str = "cpuset cpu io memory pids", unified: bool = True) -> Path:
    mount = tmp_path / "cgroup"
    mount.mkdir()
    if unified:
        (mount / "cgroup.controllers").write_text(controllers + "\n")
        (mount / "cgroup.subtree_control").write_text(controllers + "\n")
    else:  # a hybrid host: v1 controllers, an empty cgroup2 at unified/
        (mount / "memory").mkdir()
        (mount / "unified").mkdir()
        (mount / "unified" / "cgroup.controllers").write_text("")
    return mount


def test_a_hybrid_host_has_no_root_and_says_why(tmp_path: Path) -> None:
    found = hierarchy.detect(settings.Settings(), mount=fake_mount(tmp_path, unified=False), euid=0)
    assert found.root is None
    wanted = {"memory": ["memory limit of web"], "cpu": ["CPU limit of web"]}
    assert hierarchy.unenforced(found, wanted) == [
        "CPU limit of web, memory limit of web not enforced: the cpu and memory controllers are not available in "
        "cgroup v2 on this host (hybrid hierarchy: the controllers are in cgroup v1)"]
    required = Cgroups(hierarchy.detect(settings.Settings(cgroups="required"), mount=tmp_path / "cgroup", euid=0))
    with pytest.raises(CgroupError, match="cgroups setting is `required`"):
        required.warnings({"memory": ["memory limit of web"]})
    disabled = Cgroups(hierarchy.detect(settings.Settings(cgroups="disabled"), euid=0))
    assert disabled.root is None and disabled.warnings(wanted) == []


def test_rootful_root_and_the_controllers_its_parent_hands_down(tmp_path: Path) -> None:
    mount = fake_mount(tmp_path, "cpu memory pids")
    found = hierarchy.detect(settings.Settings(), mount=mount, euid=0)
    assert found.root == mount / "podbay" and found.controllers == {"cpu", "memory", "pids"}
    assert hierarchy.unenforced(found, {"io": ["io weight of x"], "memory": ["memory limit of web"]}) == [
        f"io weight of x not enforced: the io controller is not available to podbay's cgroups: {mount}/"
        "cgroup.subtree_control does not enable it"]


@pytest.mark.root
def test_rootless_root_is_in_the_delegated_subtree(tmp_path: Path) -> None:
    mount = fake_mount(tmp_path)
    user = 4242  # the delegated folders are this user's (chown needs root), the slice above them is root's
    service = mount / "user.slice" / "user-4242.slice" / "user@4242.service"
    scope = service / "app.slice" / "run-1.scope"
    scope.mkdir(parents=True)
    for folder in (service.parent, service, service / "app.slice", scope):
        (folder / "cgroup.procs").write_text("")
        (folder / "cgroup.controllers").write_text("cpu memory pids\n")
    for folder in (service, service / "app.slice", scope):
        os.chown(folder / "cgroup.procs", user, user)
    proc = tmp_path / "self-cgroup"
    proc.write_text("0::/user.slice/user-4242.slice/user@4242.service/app.slice/run-1.scope\n")
    found = hierarchy.detect(settings.Settings(), mount=mount, proc_self=proc, euid=user)
    assert found.delegated == service and found.root == service / "podbay"
    assert found.controllers == {"cpu", "memory", "pids"}
    assert "Delegate=cpu cpuset io memory pids" in found.why_missing  # cpuset and io are not delegated
    nobody = hierarchy.detect(settings.Settings(), mount=mount, proc_self=proc, euid=user + 1)
    assert nobody.root is None and "is not delegated to it" in nobody.why_missing


def fake_cgroups(tmp_path: Path, controllers: str = "cpuset cpu io memory pids") -> Cgroups:
    mount = fake_mount(tmp_path, controllers)
    return Cgroups(hierarchy.detect(settings.Settings(), mount=mount, euid=0), rmdir=shutil.rmtree)


def test_a_pod_tree_is_made_limited_and_removed(tmp_path: Path) -> None:
    cgroups = fake_cgroups(tmp_path)
    p = pod(ctr("web", limits={"cpu": "250m", "memory": "32Mi"}), shareProcessNamespace=True)
    groups = PodCgroups(cgroups, p, settings.Settings(pod_pids_limit=50))
    assert groups.warnings() == []
    groups.create()
    assert groups.path == cgroups.root / "podu1"  # type: ignore[operator]
    assert (cgroups.root / "cgroup.subtree_control").read_text() == "+cpu +cpuset +io +memory +pids"  # type: ignore[operator]
    assert (groups.path / "cgroup.subtree_control").read_text() == "+cpu +cpuset +io +memory +pids"
    assert (groups.path / "pids.max").read_text() == "50"
    assert (groups.path / "memory.max").read_text() == str(32 << 20)
    web = groups.container(p.spec.containers[0])
    assert web == groups.path / "web"
    assert (web / "cpu.max").read_text() == "25000 100000" and (web / "memory.oom.group").read_text() == "1"
    assert not (web / "memory.swap.max").exists()  # no swap accounting in this kernel's tree: nothing written
    infra = groups.infra()
    assert infra == groups.path / "_pause" and infra.is_dir()
    (web / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert groups.oom_killed(web)
    (groups.path / "cgroup.kill").write_text("")
    removed: list[tuple[str, str]] = []

    def rmdir(folder: Path) -> None:  # what the kernel sees: leaves first, the pod killed before
        kill = folder / "cgroup.kill"
        removed.append((folder.name, kill.read_text() if kill.exists() else "-"))
        shutil.rmtree(folder)
    cgroups.rmdir = rmdir
    groups.remove_pod()
    assert sorted(removed[:2]) == [("_pause", "-"), ("web", "-")] and removed[2] == ("podu1", "1")
    assert not groups.path.exists() and cgroups.root.is_dir()  # type: ignore[union-attr]


def test_only_the_available_controllers_are_written(tmp_path: Path) -> None:
    cgroups = fake_cgroups(tmp_path, "cpu pids")
    p = pod(ctr("web", limits={"cpu": "1", "memory": "32Mi"}))
    groups = PodCgroups(cgroups, p, settings.Settings())
    assert groups.warnings() == [
        "memory limit of web not enforced: the memory controller is not available to podbay's cgroups: "
        f"{tmp_path}/cgroup/cgroup.subtree_control does not enable it"]
    groups.create()
    web = groups.container(p.spec.containers[0])
    assert web is not None and (web / "cpu.max").exists() and not (web / "memory.max").exists()


def test_nothing_is_written_outside_the_root(tmp_path: Path) -> None:
    cgroups = fake_cgroups(tmp_path)
    with pytest.raises(CgroupError, match="outside podbay's cgroup root"):
        cgroups.create(tmp_path / "cgroup" / "elsewhere", resources.Limits())
    with pytest.raises(CgroupError, match="outside podbay's cgroup root"):
        cgroups.remove(tmp_path / "cgroup")


def test_a_group_that_stays_populated_is_an_error_not_a_hang(tmp_path: Path) -> None:
    cgroups = fake_cgroups(tmp_path)
    path = cgroups.root / "stuck"  # type: ignore[operator]
    cgroups.create(path, resources.Limits())
    (path / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    with pytest.raises(CgroupError, match="still has processes"):
        cgroups.remove(path, timeout=0.1)


def test_usage_figures(tmp_path: Path) -> None:
    group = tmp_path / "g"
    group.mkdir()
    (group / "cpu.stat").write_text("usage_usec 2000000\nuser_usec 1\nsystem_usec 1\nnr_periods 10\n"
                                    "nr_throttled 4\nthrottled_usec 500\n")
    (group / "memory.current").write_text("10485760\n")
    (group / "memory.stat").write_text("anon 1\nfile 2\ninactive_file 4194304\n")
    (group / "memory.peak").write_text("20971520\n")
    (group / "memory.max").write_text("max\n")
    (group / "pids.current").write_text("3\n")
    (group / "io.stat").write_text("8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n")
    (group / "memory.pressure").write_text("some avg10=1.50 avg60=0.00 avg300=0.00 total=1\n"
                                           "full avg10=0.50 avg60=0.00 avg300=0.00 total=1\n")
    usage = read_usage(group)
    assert usage is not None
    assert (usage.cpu_usec, usage.nr_throttled, usage.working_set, usage.memory_peak, usage.memory_max) == (
        2000000, 4, 6 << 20, 20 << 20, None)
    assert (usage.pids, usage.io_read, usage.io_write, usage.pressure) == (3, 101, 202, {"memory": 1.5})
    later = read_usage(group)
    assert later is not None
    (group / "cpu.stat").write_text("usage_usec 2500000\n")
    after = read_usage(group)
    assert after is not None and after.at > usage.at
    assert cpu_cores(usage, after) > 0
    assert read_usage(tmp_path / "gone") is None


def test_settings_errors_name_the_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    monkeypatch.setenv("PODBAY_CONFIG", str(config))
    for variable in settings.KEYS.values():
        monkeypatch.delenv(variable, raising=False)
    assert settings.load() == settings.Settings()  # no file: the defaults
    config.write_text("cgroups: sometimes\n")
    with pytest.raises(settings.SettingsError, match=rf"{config}: cgroups: 'sometimes' is not one of required"):
        settings.load()
    config.write_text("cgroups: required\ncgroupRoot: /tmp/x\n")
    with pytest.raises(settings.SettingsError, match="cgroupRoot: '/tmp/x' must be a folder under /sys/fs/cgroup/"):
        settings.load()
    config.write_text("cgroup: required\n")
    with pytest.raises(settings.SettingsError, match="unknown setting 'cgroup'"):
        settings.load()
    config.write_text("cgroups: required\npodPidsLimit: 1024\nmemorySwap: unlimited\n")
    assert settings.load() == settings.Settings(cgroups="required", pod_pids_limit=1024, memory_swap="unlimited")
    monkeypatch.setenv("PODBAY_CGROUPS", "disabled")
    assert settings.load().cgroups == "disabled"


def test_the_pods_table_rows_carry_cpu_and_memory_from_the_pods_cgroup(tmp_path: Path) -> None:
    from podbay.runtime.api import Runtime  # noqa: PLC0415
    from podbay.runtime.paths import Paths  # noqa: PLC0415
    from podbay.runtime.state.store import PodRecord  # noqa: PLC0415

    group = tmp_path / "podu1"
    group.mkdir()
    (group / "cpu.stat").write_text("usage_usec 1000000\n")
    (group / "memory.current").write_text(str(48 << 20))
    (group / "memory.stat").write_text(f"anon 1\ninactive_file {16 << 20}\n")
    record = PodRecord("u1", "default", "web", {"spec": {"containers": [{"name": "c"}]}}, {"phase": "Running"},
                       runtime={"cgroup": str(group)})
    runtime = Runtime(Paths(tmp_path / "d", tmp_path / "r"))
    first = runtime._row(record)
    assert (first.cpu, first.memory) == ("0m", "32Mi")  # no earlier sample: no rate yet
    (group / "cpu.stat").write_text("usage_usec 1500000\n")
    second = runtime._row(record)
    assert second.cpu.endswith("m") and int(second.cpu[:-1]) > 0  # 0.5 s of CPU since the first row
    bare = runtime._row(PodRecord("u2", "default", "db", {"spec": {}}, {}, runtime={}))
    assert (bare.cpu, bare.memory) == ("-", "-")  # no cgroup (this host cannot, or the pod ended)


def test_a_login_outside_its_delegation_asks_for_a_user_scope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = fake_mount(tmp_path)
    uid = os.getuid()
    session = mount / "user.slice" / f"user-{uid}.slice" / "session-5.scope"
    service = mount / "user.slice" / f"user-{uid}.slice" / f"user@{uid}.service"
    for folder in (session, service):
        folder.mkdir(parents=True)
        (folder / "cgroup.procs").write_text("")
    (mount / "user.slice" / f"user-{uid}.slice" / "cgroup.procs").write_text("")
    runtime_dir = tmp_path / "run-user"
    runtime_dir.mkdir()
    (runtime_dir / "bus").write_text("")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    monkeypatch.setattr(hierarchy.os, "geteuid", lambda: uid + 1 if uid == 0 else uid)  # a user, not root
    monkeypatch.setattr(hierarchy, "own_cgroup", lambda mount: session)
    monkeypatch.setattr(hierarchy, "delegated_top", lambda here, mount, user: None)  # the session is root's
    monkeypatch.setattr(hierarchy.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(hierarchy.os, "getuid", lambda: uid)
    assert hierarchy.user_manager_subtree(mount, uid) == service
    assert hierarchy.needs_user_scope(settings.Settings(), mount)
    assert not hierarchy.needs_user_scope(settings.Settings(cgroups="disabled"), mount)
    assert not hierarchy.needs_user_scope(settings.Settings(cgroup_root="/sys/fs/cgroup/mine"), mount)
    monkeypatch.setattr(hierarchy, "delegated_top", lambda here, mount, user: here)  # already delegated
    assert not hierarchy.needs_user_scope(settings.Settings(), mount)
