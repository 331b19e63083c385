"""Run the real ``podbay`` CLI against a private store, as root or as an unprivileged test user."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PODBAY_MODULE = ["-m", "podbay.runtime.cli.main"]
PODBAY = [sys.executable, *PODBAY_MODULE]
TEST_USER = "podbay-test"
SUBID_START = 400000


def pod(name: str = "probe", *, command: list[str] | None = None, args: list[str] | None = None,
        image: str = "localhost/probe:latest", security: dict[str, Any] | None = None,
        pod_security: dict[str, Any] | None = None, spec: dict[str, Any] | None = None,
        **container: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"name": "main", "image": image, "imagePullPolicy": "Never", **container}
    if command is not None:
        c["command"] = command
    if args is not None:
        c["args"] = args
    if security is not None:
        c["securityContext"] = security
    body: dict[str, Any] = {"containers": [c], **(spec or {})}
    if pod_security is not None:
        body["securityContext"] = pod_security
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def shell(script: str, **kwargs: Any) -> dict[str, Any]:
    return pod(command=["sh", "-c", script], **kwargs)


@dataclass
class Podbay:
    """One podbay store (data and run folders) and the user that runs it."""

    home: Path
    uid: int = 0
    gid: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=lambda: list(PODBAY))
    netns: str = ""  # run podbay inside this network namespace (the tests' own), never the host's
    tun: str = ""  # a /dev/net/tun node open to the user, bound over the real one for this podbay only
    cgroup2: bool = False  # the host's /sys/fs/cgroup is cgroup v2 (the VM): mount it in the netns's /sys too
    runners: list[subprocess.Popen[str]] = field(default_factory=list)  # ``start``ed runs, stopped at cleanup

    def argv(self, *args: str) -> tuple[list[str], dict[str, Any]]:
        """The command line and Popen options: in the test netns, as the store's user."""
        if not self.netns:
            become_user = self.uid != os.geteuid()  # (a test already running as the store's user stays itself)
            kwargs: dict[str, Any] = {"user": self.uid, "group": self.gid, "extra_groups": []} if become_user else {}
            return [*self.command, *args], kwargs
        # ip netns exec needs root; setpriv then becomes the user (both exec: the pid stays podbay's).
        become = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--"] if self.uid else []
        if self.tun:  # in the mount namespace ip netns exec makes, which is a slave of the host's
            become = ["sh", "-c", 'mount --bind "$0" /dev/net/tun && exec "$@"', self.tun, *become]
        if self.cgroup2:  # ip netns exec mounts a new /sys, which hides /sys/fs/cgroup: mount it again there
            become = ["sh", "-c", 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"', "sh", *become]
        return ["ip", "netns", "exec", self.netns, *become, *self.command, *args], {}

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    def env(self) -> dict[str, str]:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.home),
               "PODBAY_DATA_DIR": str(self.data_dir), "PODBAY_RUN_DIR": str(self.run_dir),
               "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "LANG": "C.UTF-8",
               # The supervisor's settings, shortened as the kubelet's flags can be (one test uses the real ones):
               "PODBAY_BACKOFF_BASE": "1", "PODBAY_BACKOFF_CAP": "8", "PODBAY_LOG_MAX_SIZE": str(256 * 1024),
               "PODBAY_LOG_MAX_FILES": "3"}
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, timeout: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run podbay; one that overruns ``timeout`` is stopped as a user would (SIGTERM, then its grace
        period) so that it cleans up after itself, and the test fails with what it printed."""
        argv, kwargs = self.argv(*args)
        with subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(),
                              cwd=str(self.home), **kwargs) as process:
            try:
                out, err = process.communicate(stdin, timeout=timeout)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    out, err = process.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    out, err = process.communicate()
                raise subprocess.TimeoutExpired(argv, timeout, out, err) from None
        return subprocess.CompletedProcess(argv, process.returncode, out, err)

    def manifest_file(self, manifest: dict[str, Any] | str) -> str:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=self.home, delete=False) as file:
            file.write(text)
        os.chown(file.name, self.uid, self.gid)
        return file.name

    def run(self, manifest: dict[str, Any] | str, *extra: str,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        path = self.manifest_file(manifest)
        try:
            return self.cli("run", "-f", path, "--rm", "--attach", *extra, timeout=timeout)
        finally:
            os.unlink(path)

    def start(self, manifest: dict[str, Any]) -> subprocess.Popen[str]:
        """``podbay run`` in the background, its output piped (the manifest file is removed at once:
        podbay has read it before the container's first output)."""
        argv, kwargs = self.argv("run", "-f", self.manifest_file(manifest), "--rm", "--attach")
        runner = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(),
                                  cwd=str(self.home), **kwargs)
        self.runners.append(runner)
        return runner

    def create(self, manifest: dict[str, Any] | str, *extra: str, timeout: float = 120) -> None:
        """``podbay run -f`` (detached: the supervisor runs the pod); fails the test if it is refused."""
        path = self.manifest_file(manifest)
        try:
            done = self.cli("run", "-f", path, *extra, timeout=timeout)
        finally:
            os.unlink(path)
        assert done.returncode == 0, done.stderr

    def pod(self, name: str, namespace: str = "default") -> dict[str, Any]:
        """The pod as ``get -o json`` shows it ({} once it is gone)."""
        done = self.cli("get", "pods", name, "-n", namespace, "-o", "json")
        return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else {}

    def wait_pod(self, name: str, check: Any, timeout: float = 60, what: str = "") -> dict[str, Any]:
        """Poll the pod until ``check(pod)`` holds; the assertion says what was awaited and the last state."""
        deadline = time.monotonic() + timeout
        pod = self.pod(name)
        while not check(pod):
            if time.monotonic() > deadline:
                raise AssertionError(f"pod {name}: {what or 'condition'} not reached in {timeout:g}s; last status: "
                                     f"{json.dumps(pod.get('status', {}), indent=1)[:3000]}")
            time.sleep(0.25)
            pod = self.pod(name)
        return pod

    def cleanup_pods(self) -> None:
        """Stop runs a failed test left behind, delete every pod and stop the supervisor; nothing of
        them may remain."""
        while self.runners:
            runner = self.runners.pop()
            if runner.poll() is None:
                runner.terminate()  # podbay forwards it and cleans up after the pod's grace period
                try:
                    runner.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    runner.kill()
                    runner.communicate()
        if self.has_workloads():  # workloads first, or their controllers bring pods back
            for kind in ("deployments", "replicasets", "jobs", "statefulsets", "daemonsets"):
                done = self.cli("delete", kind, "--all", "-A")
                assert done.returncode == 0, done.stderr
            time.sleep(1.5)  # a controller's sync that began before the delete may still make a pod
        done = self.cli("delete", "pod", "--all", "-A", "--grace-period", "0")
        assert done.returncode == 0, done.stderr
        done = self.cli("supervisor", "stop")
        assert done.returncode == 0, done.stdout + done.stderr
        keeper = self.run_dir / "supervisor" / "keeper.json"
        if keeper.exists():
            pid = json.loads(keeper.read_text()).get("pid", 0)
            assert not pid or not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text(
            ).split(")")[1][:3], f"the descriptor keeper {pid} outlived the supervisor"

    def has_workloads(self) -> bool:
        """Read straight from the applied-objects store (a podbay command per kind would cost every test)."""
        import sqlite3  # noqa: PLC0415

        path = self.data_dir / "objects.db"
        if not path.exists():
            return False
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
            return bool(db.execute("SELECT count(*) FROM objects WHERE kind NOT IN ('ConfigMap', 'Secret')")
                        .fetchone()[0])

    def containers_left(self) -> list[str]:
        """Container and pod folders still on disk (none once every run has ended)."""
        left = []
        for kind in ("containers", "pods"):
            folder = self.data_dir / kind
            left += [f"{kind}/{name}" for name in sorted(os.listdir(folder))] if folder.is_dir() else []
        return left

    def give(self, path: Path) -> Path:
        """A copy of ``path`` in this store's home, owned by its user."""
        target = self.home / path.name
        shutil.copy(path, target)
        os.chown(target, self.uid, self.gid)
        return target


def portable_command() -> list[str]:
    """The base interpreter the venv was made from, running podbay's CLI module."""
    return [os.path.realpath(getattr(sys, "_base_executable", sys.executable)), *PODBAY_MODULE]


def portable_install(target: Path) -> Path:
    """podbay and its Python dependencies copied where any user can read them (run with
    ``portable_command()`` and ``PYTHONPATH=target``).

    The test user must run podbay, but the clone (and its .venv) may sit where only root can
    look (/root). The copy runs on the base interpreter the venv was made from, with
    PYTHONPATH; podbay's re-exec'd children find their imports from the parent.
    """
    import compileall  # noqa: PLC0415

    import prctl  # type: ignore[import-untyped]  # noqa: PLC0415
    import pyseccomp  # type: ignore[import-untyped]  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    (target / "podbay").mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "runtime", target / "podbay" / "runtime", ignore=ignore)
    shutil.copytree(REPO / "tui", target / "podbay" / "tui", ignore=ignore)
    site = Path(yaml.__file__).parents[1]
    for name in ("yaml", "_yaml"):
        if (site / name).is_dir():
            shutil.copytree(site / name, target / name, ignore=ignore)
    import h2  # noqa: PLC0415
    import hpack  # noqa: PLC0415
    import hyperframe  # noqa: PLC0415
    import pyroute2  # noqa: PLC0415
    import zstandard  # noqa: PLC0415

    for package in (pyroute2, h2, hpack, hyperframe, zstandard):
        shutil.copytree(Path(package.__file__).parent, target / package.__name__, ignore=ignore)
    for module in (prctl, pyseccomp):
        shutil.copy(module.__file__, target)
    for extension in site.glob("_prctl*.so"):
        shutil.copy(extension, target)
    compileall.compile_dir(target, quiet=1)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def user_store(home: Path, uid: int, gid: int, install: Path | None = None) -> Podbay:
    """A podbay store for this user; an unprivileged one runs the portable install."""
    home.mkdir(mode=0o755, exist_ok=True)
    os.chown(home, uid, gid)
    podbay = Podbay(home, uid, gid)
    if install is not None:
        podbay.command = portable_command()
        podbay.extra_env["PYTHONPATH"] = str(install)
    return podbay


def netns_links(netns: str) -> list[str]:
    """The interfaces of a network namespace, by name."""
    out = subprocess.run(["ip", "netns", "exec", netns, "ip", "-o", "link"], capture_output=True, text=True,
                         check=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]


def host_mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as mountinfo:
        return [line for line in mountinfo if str(path) in line]


def ensure_test_user(home: Path, name: str = TEST_USER, ranges: bool = True) -> tuple[int, int]:
    """An unprivileged test user, with subordinate id ranges or explicitly without (idempotent)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh", name],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(name)
    for path in ("/etc/subuid", "/etc/subgid"):
        lines = Path(path).read_text().splitlines() if Path(path).exists() else []
        own = [line for line in lines if line.split(":")[0] in (name, str(entry.pw_uid))]
        if ranges and not own:
            with open(path, "a") as file:
                file.write(f"{name}:{SUBID_START}:65536\n")
        elif not ranges and own:  # useradd may have given it a range: take it away
            Path(path).write_text("".join(f"{line}\n" for line in lines if line not in own))
    return entry.pw_uid, entry.pw_gid
