"""The test VM itself, and podbay in it as users run it (vagrant/run-tests.sh runs these inside the
VM: the root pass, then the ``session`` pass as the unprivileged user in a delegated scope of its
own systemd user manager). Elsewhere they are skipped, with the reason."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from podbay.runtime.api import Runtime
from podbay.runtime.paths import Paths
from tests.podbay_harness import Podbay, pod

pytestmark = pytest.mark.vm

CONTROLLERS = {"cpu", "cpuset", "io", "memory", "pids"}  # what vagrant/provision.sh delegates
USER = os.environ.get("PODBAY_VM_USER", "podbay-user")
CGROUP = Path("/sys/fs/cgroup")


def own_cgroup(pid: str = "self") -> Path:
    """The cgroup v2 folder of a process (its ``0::/path`` line)."""
    line = next(line for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines() if line.startswith("0::"))
    return CGROUP / line[3:].lstrip("/")


def controllers(folder: Path) -> set[str]:
    return set((folder / "cgroup.controllers").read_text().split())


def test_one_cgroup2_hierarchy_with_every_controller() -> None:
    mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
    assert [m[2] for m in mounts if m[1] == "/sys/fs/cgroup"] == ["cgroup2"]
    assert not [m for m in mounts if m[2] == "cgroup"], "a cgroup v1 hierarchy is mounted"
    assert controllers(CGROUP) >= CONTROLLERS
    assert Runtime.host_limits() == []  # podbay doctor's warnings, which the TUI shows: none here


def test_user_sessions_get_the_controllers_delegated_and_a_manager_from_boot() -> None:
    uid = pwd.getpwnam(USER).pw_uid
    shown = subprocess.run(["systemctl", "show", f"user@{uid}.service", "-p", "ActiveState", "-p", "Delegate",
                            "-p", "DelegateControllers"], capture_output=True, text=True, check=True).stdout
    settings = dict(line.split("=", 1) for line in shown.splitlines())
    assert settings["ActiveState"] == "active", "no user manager: lingering is not on"
    assert settings["Delegate"] == "yes" and set(settings["DelegateControllers"].split()) >= CONTROLLERS
    subtree = CGROUP / "user.slice" / f"user-{uid}.slice" / f"user@{uid}.service"
    assert controllers(subtree) >= CONTROLLERS  # without the drop-in: cpu memory pids only
    assert subtree.stat().st_uid == uid and (subtree / "cgroup.subtree_control").stat().st_uid == uid
    assert Path(f"/run/user/{uid}/bus").is_socket()


@pytest.mark.root
@pytest.mark.images
def test_a_root_pod_runs_in_the_vm(root_podbay: Podbay) -> None:
    done = root_podbay.run(pod("hello", command=["sh", "-c", "echo hello from $(hostname)"]))
    assert done.returncode == 0 and done.stdout == "hello from hello\n", done.stderr


@pytest.mark.session
@pytest.mark.images
def test_a_rootless_pod_in_a_delegated_user_scope(tmp_path: Path, probe_image: Path) -> None:
    """As a user runs it: no root anywhere, in the scope systemd made for this session, whose
    controllers are the user's to manage."""
    scope = own_cgroup()
    assert scope.name.endswith(".scope") and f"user@{os.getuid()}.service" in scope.parts
    assert controllers(scope) >= CONTROLLERS
    assert os.access(scope / "cgroup.procs", os.W_OK) and os.access(scope / "cgroup.subtree_control", os.W_OK)
    podbay = Podbay(tmp_path, os.getuid(), os.getgid(), command=[sys.executable, "-m", "podbay.runtime.cli.main"])
    doctor = podbay.cli("doctor")
    assert doctor.returncode == 0 and "ok    cgroups" in doctor.stdout and "warn" not in doctor.stdout, doctor.stdout
    try:
        loaded = podbay.cli("image", "load", str(probe_image))
        assert loaded.returncode == 0, loaded.stderr
        podbay.create(pod("session", command=["sleep", "300"], spec={"terminationGracePeriodSeconds": 1}),
                      "--wait", "--timeout", "120")
        done = podbay.cli("exec", "session", "--", "sh", "-c", "id -u; cat /proc/self/uid_map")
        assert done.returncode == 0 and done.stdout.split()[:2] == ["0", "0"], done.stdout + done.stderr
        # The supervisor and the container live under this user's delegated subtree (the supervisor was
        # started from this session), never in a cgroup of another user or of the system.
        record = Runtime(Paths(podbay.data_dir, podbay.run_dir)).record("default", "session")
        container = str(record.runtime["containers"]["main"]["pid"])
        supervisor = (podbay.run_dir / "supervisor" / "supervisor.pid").read_text().split()[0]
        for pid in (container, supervisor):
            assert f"user@{os.getuid()}.service" in own_cgroup(pid).parts, own_cgroup(pid)
    finally:
        podbay.cleanup_pods()
    assert podbay.containers_left() == []


@pytest.mark.root
@pytest.mark.images
def test_a_user_outside_any_delegated_cgroup_gets_a_systemd_user_scope(probe_image: Path) -> None:
    """A login whose cgroup is root's (ssh, a console, or here root's own service): podbay's supervisor
    asks the user's systemd manager for a delegated scope (systemd-run --user), so pods get limits."""
    user = pwd.getpwnam(USER)
    home = Path(tempfile.mkdtemp(prefix="podbay-outside-"))
    os.chown(home, user.pw_uid, user.pw_gid)
    runtime_dir = f"/run/user/{user.pw_uid}"
    podbay = Podbay(home, user.pw_uid, user.pw_gid, command=[sys.executable, "-m", "podbay.runtime.cli.main"],
                    extra_env={"XDG_RUNTIME_DIR": runtime_dir,
                               "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime_dir}/bus"})
    assert f"user@{user.pw_uid}.service" not in own_cgroup().parts  # root's cgroup, not the user's
    try:
        doctor = podbay.cli("doctor")
        assert "ok    cgroups" in doctor.stdout and "delegated systemd user scope" in doctor.stdout, doctor.stdout
        assert podbay.cli("image", "load", str(podbay.give(probe_image))).returncode == 0
        path = podbay.manifest_file(pod("scoped", command=["sleep", "300"], resources={"limits": {"memory": "64Mi"}},
                                        spec={"terminationGracePeriodSeconds": 0}))
        created = podbay.cli("run", "-f", path, "--wait", "--timeout", "120")
        assert created.returncode == 0 and "not enforced" not in created.stderr, created.stderr
        supervisor = (podbay.run_dir / "supervisor" / "supervisor.pid").read_text().split()[0]
        scope = own_cgroup(supervisor)
        assert scope.name.startswith("podbay-supervisor-") and f"user@{user.pw_uid}.service" in scope.parts, scope
        group = Path(Runtime(Paths(podbay.data_dir, podbay.run_dir)).record("default", "scoped").runtime["cgroup"])
        assert group.parent.name == "podbay" and group.parent.parent.name == f"user@{user.pw_uid}.service"
        assert (group / "main" / "memory.max").read_text().strip() == str(64 << 20)
    finally:
        podbay.cleanup_pods()
        shutil.rmtree(home, ignore_errors=True)
    assert not group.exists()


@pytest.mark.root
@pytest.mark.images
def test_the_kubelet_as_a_systemd_service_keeps_its_pods_across_restarts(workdir: Path, probe_image: Path) -> None:
    """contrib/systemd/podbay-kubelet.service for real: a static pod from its manifest folder, still the same
    processes after `systemctl restart` (KillMode=process), deleted with its file."""
    from podbay.runtime.controllers.static import node_name  # noqa: PLC0415

    repo = Path(__file__).resolve().parents[2]
    home = workdir / "agent"  # (not tmp_path: pytest's is 0700, and layers unpack in a user namespace)
    manifests = home / "manifests"
    manifests.mkdir(parents=True)
    podbay = Podbay(home, command=[sys.executable, "-m", "podbay.runtime.cli.main"])
    unit = Path("/etc/systemd/system/podbay-kubelet-test.service")
    text = (repo / "contrib" / "systemd" / "podbay-kubelet.service").read_text()
    text = text.replace("ExecStart=podbay kubelet --manifests /etc/podbay/manifests",
                        f"Environment=PODBAY_DATA_DIR={podbay.data_dir} PODBAY_RUN_DIR={podbay.run_dir} "
                        f"PODBAY_FILE_CHECK_FREQUENCY=2 PYTHONPATH={os.environ.get('PYTHONPATH', '')}\n"
                        f"ExecStart={sys.executable} -m podbay.runtime.cli.main kubelet --manifests {manifests}")
    assert "ExecStart=" + sys.executable in text, "the unit's ExecStart line changed: update this test"
    unit.write_text(text)
    name = f"static-{node_name()}"
    try:
        assert podbay.cli("image", "load", str(probe_image)).returncode == 0
        subprocess.run(["systemctl", "daemon-reload"], check=True)
        subprocess.run(["systemctl", "start", unit.name], check=True)
        (manifests / "static.yaml").write_text(
            '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "static"}, "spec": {'
            '"terminationGracePeriodSeconds": 1, "containers": [{"name": "main", "image": "localhost/probe:latest",'
            ' "imagePullPolicy": "Never", "command": ["sleep", "3600"]}]}}')
        first = podbay.wait_pod(name, lambda p: p.get("status", {}).get("phase") == "Running", timeout=120,
                                what="Running")
        started = first["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
        subprocess.run(["systemctl", "restart", unit.name], check=True)
        active = subprocess.run(["systemctl", "is-active", unit.name], capture_output=True, text=True,
                                check=False).stdout
        assert active.strip() == "active"
        again = podbay.wait_pod(name, lambda p: p.get("status", {}).get("phase") == "Running", what="Running")
        assert again["metadata"]["uid"] == first["metadata"]["uid"]
        assert again["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] == started
        assert again["status"]["containerStatuses"][0]["restartCount"] == 0
        (manifests / "static.yaml").unlink()
        podbay.wait_pod(name, lambda p: p == {}, timeout=60, what="deleted with its file")
    finally:
        for path in manifests.iterdir():
            path.unlink()
        subprocess.run(["systemctl", "stop", unit.name], check=False)
        unit.unlink()
        subprocess.run(["systemctl", "daemon-reload"], check=False)
        podbay.cleanup_pods()
    assert podbay.containers_left() == []
