"""``podbay exec`` (root and rootless): the command runs inside the container with its namespaces and
security settings, streams are binary-safe, the exit code is the command's; with ``-it`` on a terminal
(a pty pair the test drives) the command gets a pty of the container's own with the window size, and
the terminal is restored; a hostile container that catches the exec's init gets nothing from it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.podbay_harness import Podbay
from tests.pty_session import PtySession

IMAGE = "localhost/probe:latest"
PROMPT = rb"/ [#$] "  # busybox sh's, once it reads what is typed (earlier input it would discard)
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
    left = podbay.cli("exec", "target", "--", "ps", "-o", "stat,args").stdout.splitlines()[1:]
    assert [line.split()[0] for line in left if "ps" not in line] == ["S"], left  # no zombie of the failed exec
    assert "is not valid for pod target" in podbay.cli("exec", "target", "-c", "nope", "--", "true").stderr
    gone = podbay.cli("exec", "absent", "--", "true")
    assert gone.returncode == 1 and 'pods "absent" not found' in gone.stderr
    podbay.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "done"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                                                  "command": ["true"]}]}})
    podbay.wait_pod("done", lambda p: p.get("status", {}).get("phase") == "Succeeded", what="Succeeded")
    completed = podbay.cli("exec", "done", "--", "true")
    assert "cannot exec into a container in a completed pod; current phase is Succeeded" in completed.stderr


def test_exec_with_a_terminal(podbay: Podbay) -> None:
    running_pod(podbay, securityContext={"runAsUser": 1000})
    session = PtySession(podbay, "exec", "-it", "target", "--", "sh", rows=33, columns=101)
    try:
        session.expect(PROMPT)
        session.send(b"stty size; ls -ln $(tty)\n")
        session.expect(rb"\r\n33 101\r\n")
        owner = session.expect(rb"crw--w---- +1 (\d+) +(\d+) .* (/dev/pts/\d+)\r\n")
        assert owner.groups()[:2] == (b"1000", b"5")  # the container's devpts, the user's, group tty
        session.resize(40, 120)  # the kernel sends SIGWINCH to podbay, which copies the size on
        session.send(b"stty size\n")
        session.expect(rb"\r\n40 120\r\n")
        session.send(b"echo $$ > /tmp/shell; sleep 0.2; exit 3\n")
        assert session.wait() == 3
        assert session.restored()
    finally:
        session.close()


def test_exec_terminal_is_restored_when_podbay_is_killed(podbay: Podbay) -> None:
    running_pod(podbay)
    session = PtySession(podbay, "exec", "-it", "target", "--", "sh")
    try:
        session.expect(PROMPT)
        session.send(b"echo ready\n")
        session.expect(rb"\r\nready\r\n")
        session.process.send_signal(signal.SIGTERM)
        assert session.wait() == 128 + signal.SIGTERM
        assert session.restored()
    finally:
        session.close()
    # The shell lost its terminal with podbay's end of it (SIGHUP): nothing of the exec stays behind.
    deadline = time.monotonic() + 10
    while (left := podbay.cli("exec", "target", "--", "ps", "-o", "args").stdout.split("\n")[1:-1]) != \
            ["sleep 600", "ps -o args"]:
        assert time.monotonic() < deadline, left
        time.sleep(0.2)


def test_exec_without_a_terminal_on_stdin_falls_back_to_pipes(podbay: Podbay) -> None:
    running_pod(podbay)
    done = podbay.cli("exec", "-it", "target", "--", "sh", "-c", "test -t 0 || echo piped")
    assert done.stdout == "piped\n"
    assert "Unable to use a TTY - input is not a terminal or the right kind of file" in done.stderr


ATTACKER = """rm /etc/passwd && mkfifo /etc/passwd
exec 3>/etc/passwd  # returns once an exec's init opens the FIFO: it waits, in our pid namespace
for proc in /proc/[0-9]*; do
  pid=${proc#/proc/}
  [ "$pid" = 1 ] && continue
  grep -E '^(Name|Uid|CapEff):' /proc/$pid/status
  /probe exe-attack $pid /tmp/attack-after-exit
done > /tmp/attack 2>&1
echo 'root:x:0:0:root:/root:/bin/sh' >&3
exec 3>&-
rm /etc/passwd && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd  # later execs read a plain file
sleep 600"""


def attack_during_exec(podbay: Podbay, **pod_spec: Any) -> dict[str, str]:
    """A container that catches an exec's init in its pid namespace and tries CVE-2019-5736 on it, with
    SYS_PTRACE and no seccomp filter, so that only podbay's own protections stand; the exec'd command then
    shows what the attack got."""
    podbay.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hostile"}, "spec": {
        "terminationGracePeriodSeconds": 1, **pod_spec, "containers": [{
            "name": "main", "image": IMAGE, "imagePullPolicy": "Never", "command": ["sh", "-c", ATTACKER],
            "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]},
                                "seccompProfile": {"type": "Unconfined"}}}]}}, "--wait", "--timeout", "60")
    done = podbay.cli("exec", "hostile", "--", "cat", "/tmp/attack")
    assert done.returncode == 0, done.stdout + done.stderr
    steps = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line and ":" not in line.split()[0])
    assert "readlink-exe" in steps, f"the attacker did not see the exec's init: {done.stdout}"
    return steps


def test_exec_init_gives_a_hostile_container_nothing(podbay: Podbay) -> None:
    steps = attack_during_exec(podbay)
    assert steps == {"readlink-exe": "denied EACCES", "open-exe": "denied EACCES",
                     "open-exe-for-writing": "denied EACCES", "list-fds": "denied EACCES",
                     "read-environ": "denied EACCES", "ptrace": "denied EPERM"}, steps


@pytest.mark.root
def test_exec_init_in_the_hosts_user_namespace_runs_a_sealed_interpreter(root_only_podbay: Podbay) -> None:
    """hostUsers: true and SYS_PTRACE: the container's root may open the init's /proc/PID/exe, and finds a
    sealed copy of the interpreter that cannot be written, never the host's binary."""
    steps = attack_during_exec(root_only_podbay, hostUsers=True)
    assert steps["readlink-exe"] == "allowed /memfd:podbay-python (deleted)", steps
    assert steps["reopen-exe-for-writing"] == steps["open-exe-for-writing"] == "denied ETXTBSY", steps
    # The attack's second half: the exec has returned, its init is gone; write the binary now.
    assert root_only_podbay.cli("exec", "hostile", "--", "touch", "/tmp/attack-after-exit.go").returncode == 0
    deadline = time.monotonic() + 30
    while (after := root_only_podbay.cli("exec", "hostile", "--", "cat", "/tmp/attack-after-exit")).stdout.count(
            "\n") < 2:
        assert time.monotonic() < deadline, after.stdout + after.stderr
        time.sleep(0.2)
    assert after.stdout.splitlines() == ["after-exit-reopen-exe-for-writing allowed ",
                                         "after-exit-write-exe denied EPERM"], after.stdout


def test_port_forward_reaches_the_pods_localhost(podbay: Podbay) -> None:
    running_pod(podbay, "web", command=["sh", "-c", "mkdir /www; echo hello from the pod > /www/index.html; "
                                                    "exec httpd -f -p 8080 -h /www"])
    argv, kwargs = podbay.argv("port-forward", "web", "18080:8080", "18081:9")
    forward = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=podbay.env(),
                               cwd=str(podbay.home), **kwargs)
    try:
        assert forward.stdout is not None
        assert forward.stdout.readline().strip() == "Forwarding from 127.0.0.1:18080 -> 8080"
        assert forward.stdout.readline().strip() == "Forwarding from 127.0.0.1:18081 -> 9"
        fetch = ["ip", "netns", "exec", podbay.netns, sys.executable, "-c",
                 "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10)"
                 ".read().decode())"]
        got = subprocess.run([*fetch, "http://127.0.0.1:18080/"], capture_output=True, text=True, timeout=30,
                             check=False)
        assert got.stdout == "hello from the pod\n", got.stderr
        refused = subprocess.run([*fetch, "http://127.0.0.1:18081/"], capture_output=True, text=True, timeout=30,
                                 check=False)
        assert refused.returncode != 0  # nothing listens on 9 in the pod: the connection is closed
    finally:
        forward.terminate()
        _, errors = forward.communicate(timeout=30)
    assert "failed to connect to localhost:9 inside its network namespace" in errors, errors
    assert "Traceback" not in errors
