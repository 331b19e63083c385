"""``podbay exec`` without a terminal (root and rootless): the command runs inside the container with
its namespaces and security settings, streams are binary-safe, the exit code is the command's."""

from __future__ import annotations

import subprocess
from typing import Any

from tests.podbay_harness import Podbay

IMAGE = "localhost/probe:latest"
SECURITY_FIELDS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                   "Seccomp", "Seccomp_filters")


def running_pod(podbay: Podbay, name: str = "target", **container: Any) -> None:
    spec = {"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
            "command": ["sh", "-c", "echo hello > /tmp/greeting; sleep 600"], **container}
    podbay.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                   "spec": {"terminationGracePeriodSeconds": 1, "containers": [spec]}}, "--wait", "--timeout", "60")


def status_fields(text: str) -> dict[str, str]:
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key: " ".join(fields[key].split()) for key in SECURITY_FIELDS if key in fields}


def test_exec_runs_in_the_container_with_its_exit_code(podbay: Podbay) -> None:
    running_pod(podbay)
    done = podbay.cli("exec", "target", "--", "cat", "/tmp/greeting")
    assert (done.returncode, done.stdout) == (0, "hello\n"), done.stderr
    assert podbay.cli("exec", "target", "-c", "main", "--", "sh", "-c", "exit 7").returncode == 7
    hostname = podbay.cli("exec", "target", "--", "hostname").stdout
    assert hostname == "target\n"


def test_exec_has_the_main_processes_security_state(podbay: Podbay) -> None:
    running_pod(podbay, securityContext={"runAsUser": 1000, "capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}})
    own = podbay.cli("exec", "target", "--", "cat", "/proc/self/status")
    main = podbay.cli("exec", "target", "--", "cat", "/proc/1/status")
    assert own.returncode == main.returncode == 0, own.stderr + main.stderr
    ours, theirs = status_fields(own.stdout), status_fields(main.stdout)
    assert ours == theirs and ours["Uid"].split()[0] == "1000" and ours["NoNewPrivs"] == "1"
    assert ours["Seccomp"] == "2"


def test_exec_sees_only_stdio_and_pipes_binary_data(podbay: Podbay) -> None:
    running_pod(podbay)
    fds = podbay.cli("exec", "target", "--", "sh", "-c", "ls /proc/$$/fd; true")  # ; true: sh must not exec ls
    assert fds.stdout.split() == ["0", "1", "2"], fds.stdout + fds.stderr
    data = bytes(range(256)) * 64
    argv, kwargs = podbay.argv("exec", "-i", "target", "--", "cat")
    done = subprocess.run(argv, input=data, capture_output=True, env=podbay.env(), cwd=str(podbay.home), timeout=60,
                          check=False, **kwargs)
    assert done.returncode == 0 and done.stdout == data, done.stderr


def test_exec_errors_read_as_kubectls(podbay: Podbay) -> None:
    running_pod(podbay)
    missing = podbay.cli("exec", "target", "--", "no-such-command")
    assert missing.returncode == 127 and 'exec: "no-such-command": executable file not found in $PATH' in \
        missing.stderr and "Traceback" not in missing.stderr
    assert "is not valid for pod target" in podbay.cli("exec", "target", "-c", "nope", "--", "true").stderr
    gone = podbay.cli("exec", "absent", "--", "true")
    assert gone.returncode == 1 and 'pods "absent" not found' in gone.stderr
    podbay.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "done"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                                                  "command": ["true"]}]}})
    podbay.wait_pod("done", lambda p: p.get("status", {}).get("phase") == "Succeeded", what="Succeeded")
    completed = podbay.cli("exec", "done", "--", "true")
    assert "cannot exec into a container in a completed pod; current phase is Succeeded" in completed.stderr
