"""``podbay debug`` and ``podbay attach`` (root and rootless): an ephemeral container with its own
image in a running pod whose app image has no shell, seeing the app's processes and files through
``--target``; kubectl's profiles; the container in the pod's spec and status; ``--rm`` and
``--share-volumes``; attaching to a container's terminal and to its stdin, detaching with
Ctrl-P Ctrl-Q. The fixture checks that nothing is left behind."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.podbay_harness import Podbay
from tests.pty_session import PtySession

TOOLS = "localhost/probe:latest"
PROMPT = rb"/ [#$] "
CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_PTRACE, CAP_SYS_ADMIN = 12, 13, 19, 21


def make_pod(podbay: Podbay, name: str, container: dict[str, Any], **spec: Any) -> None:
    podbay.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "terminationGracePeriodSeconds": 1, **spec,
        "containers": [{"name": "main", "imagePullPolicy": "Never", **container}]}}, "--wait", "--timeout", "60")


def ephemeral_status(podbay: Podbay, pod: str, name: str) -> dict[str, Any]:
    statuses = podbay.pod(pod).get("status", {}).get("ephemeralContainerStatuses", [])
    return next((s for s in statuses if s["name"] == name), {})


def wait_terminated(podbay: Podbay, pod: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while "terminated" not in (state := ephemeral_status(podbay, pod, name).get("state", {})):
        assert time.monotonic() < deadline, podbay.pod(pod).get("status")
        time.sleep(0.2)
    return dict(state["terminated"])


def test_debug_gives_a_shell_in_a_pod_whose_image_has_none(podbay: Podbay) -> None:
    make_pod(podbay, "distroless", {"image": "localhost/static-app:latest"})
    no_shell = podbay.cli("exec", "distroless", "--", "sh")
    assert no_shell.returncode == 127, no_shell.stderr  # the app's image has nothing but its binary
    session = PtySession(podbay, "debug", "distroless", "--image", TOOLS, "--image-pull-policy", "Never",
                         "--target", "main", "-c", "shell", "-it", "--", "sh")
    try:
        session.expect(rb"try pressing enter.")  # what the shell wrote before we attached is not replayed
        session.send(b"\n")
        session.expect(PROMPT)
        session.send(b"ps -o pid,args; cat /proc/1/root/data/secret.txt; hostname\n")
        session.expect(rb"\r\n +1 /app pause")  # the target's processes: its pid namespace
        session.expect(rb"only in the app's image\r\n")  # and its files, through /proc/1/root
        session.expect(rb"distroless\r\n")  # the pod's UTS namespace
        session.send(b"exit 4\n")
        assert session.wait() == 4
        assert session.restored()
    finally:
        session.close()
    pod = podbay.pod("distroless")
    added = pod["spec"]["ephemeralContainers"]
    assert [(c["name"], c["image"], c["targetContainerName"], c["tty"]) for c in added] == \
        [("shell", TOOLS, "main", True)]
    assert wait_terminated(podbay, "distroless", "shell")["exitCode"] == 4
    assert pod["status"]["phase"] == "Running" and ephemeral_status(podbay, "distroless", "shell")["restartCount"] == 0
    time.sleep(1.5)  # never restarted
    assert ephemeral_status(podbay, "distroless", "shell")["restartCount"] == 0
    described = podbay.cli("describe", "pod", "distroless").stdout
    assert "Ephemeral Containers:\n  shell:\n" in described and "Exit Code:      4" in described
    inspected = json.loads(podbay.cli("inspect", "pod", "distroless").stdout)["containers"]["shell"]
    assert (inspected["kind"], inspected["target"]) == ("ephemeral", "main")
    assert "1/1     Running" in podbay.cli("get", "pods", "distroless").stdout


PROFILES: dict[str, tuple[set[int], set[int], str, str]] = {
    # profile: (capabilities it adds to the default set, that it removes, NoNewPrivs, Seccomp mode)
    "general": ({CAP_SYS_PTRACE}, set(), "1", "2"),
    "baseline": (set(), set(), "1", "2"),
    "netadmin": ({CAP_NET_ADMIN, CAP_NET_RAW}, set(), "1", "2"),
    "sysadmin": ({CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_ADMIN}, set(), "0", "0"),
}


def capabilities(status_text: str) -> tuple[set[int], dict[str, str]]:
    fields = {k: v.strip() for k, v in (line.split(":", 1) for line in status_text.splitlines() if ":" in line)}
    mask = int(fields["CapEff"], 16)
    return {bit for bit in range(64) if mask >> bit & 1}, fields


def test_debug_profiles_set_security_as_kubectls(podbay: Podbay) -> None:
    make_pod(podbay, "profiles", {"image": TOOLS, "command": ["sleep", "600"]})
    found: dict[str, tuple[set[int], dict[str, str]]] = {}
    for profile in [*PROFILES, "restricted"]:
        image = "localhost/probe-nonroot:latest" if profile == "restricted" else TOOLS  # runAsNonRoot
        done = podbay.cli("debug", "profiles", "--image", image, "--image-pull-policy", "Never", "-c", profile,
                          "--profile", profile, "--", "cat", "/proc/self/status")
        assert done.returncode == 0, done.stderr
        assert wait_terminated(podbay, "profiles", profile)["exitCode"] == 0
        found[profile] = capabilities(podbay.cli("logs", "profiles", "-c", profile).stdout)
    default_caps = found["baseline"][0]
    assert len(default_caps) == 14 and CAP_SYS_PTRACE not in default_caps  # containerd's default set
    for profile, (added, removed, no_new_privs, seccomp) in PROFILES.items():
        caps, fields = found[profile]
        assert added <= caps and not (removed & caps), (profile, caps)
        assert (fields["NoNewPrivs"], fields["Seccomp"]) == (no_new_privs, seccomp), (profile, fields)
    assert found["general"][0] == default_caps | {CAP_SYS_PTRACE}
    caps, fields = found["restricted"]
    assert caps == set() and fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2"
    assert fields["Uid"].split()[0] != "0"
    refused = podbay.cli("debug", "profiles", "--image", TOOLS, "--image-pull-policy", "Never", "-c", "as-root",
                         "--profile", "restricted", "--", "true")  # an image that runs as root: the kubelet says no
    assert refused.returncode == 0, refused.stderr
    deadline = time.monotonic() + 30
    while (waiting := ephemeral_status(podbay, "profiles", "as-root").get("state", {}).get("waiting", {})).get(
            "reason") != "CreateContainerConfigError":
        assert time.monotonic() < deadline, waiting
        time.sleep(0.2)
    assert "container has runAsNonRoot and image will run as root" in waiting["message"]
    spec = {c["name"]: c for c in podbay.pod("profiles")["spec"]["ephemeralContainers"]}
    assert spec["restricted"]["securityContext"] == {
        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": False,
        "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["sysadmin"]["securityContext"] == {"privileged": True}


def test_debug_rm_share_volumes_and_env(podbay: Podbay) -> None:
    make_pod(podbay, "shared", {"image": TOOLS, "command": ["sh", "-c", "echo from main > /work/note; sleep 600"],
                                "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
             volumes=[{"name": "work", "emptyDir": {}}])
    done = podbay.cli("debug", "shared", "--image", TOOLS, "--image-pull-policy", "Never", "--target", "main",
                      "--share-volumes", "--rm", "-i", "-q", "-c", "peek", "--env", "GREETING=hi", "--",
                      "sh", "-c", "read go; cat /work/note; echo $GREETING", stdin="go\n")
    assert (done.returncode, done.stdout) == (0, "from main\nhi\n"), done.stderr
    deadline = time.monotonic() + 30
    while "ephemeralContainers" in (pod := podbay.pod("shared"))["spec"]:
        assert time.monotonic() < deadline, pod["spec"]["ephemeralContainers"]
        time.sleep(0.2)
    assert "ephemeralContainerStatuses" not in pod["status"]
    assert "is not valid for pod shared" in podbay.cli("logs", "shared", "-c", "peek").stderr
    without = podbay.cli("debug", "shared", "--image", TOOLS, "--share-volumes")
    assert without.returncode == 1 and "--share-volumes needs --target" in without.stderr


def test_debug_refusals_read_as_kubectls_and_the_api_servers(podbay: Podbay) -> None:
    make_pod(podbay, "target", {"image": TOOLS, "command": ["sleep", "600"]})
    cases = [
        (["--image", TOOLS, "--target", "nope"], 'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"'),
        (["--image", TOOLS, "-c", "main"], 'spec.ephemeralContainers[0].name: Duplicate value: "main"'),
        (["--image", TOOLS, "-t"], "-i/--stdin is required for containers with -t/--tty=true"),
        (["--image", TOOLS, "--profile", "wide-open"], "unknown profile: wide-open"),
        ([], "you must specify --image"),
    ]
    for flags, message in cases:
        done = podbay.cli("debug", "target", *flags)
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "ephemeralContainers" not in podbay.pod("target")["spec"]  # nothing half-added
    created = podbay.run({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "early"}, "spec": {
        "containers": [{"name": "main", "image": TOOLS}],
        "ephemeralContainers": [{"name": "debug", "image": TOOLS}]}})
    assert created.returncode != 0 and "spec.ephemeralContainers: Forbidden: cannot be set on create" in \
        created.stderr, created.stderr


def test_attach_to_a_containers_terminal(podbay: Podbay) -> None:
    # A plain reader of lines (the terminal's own line editing): no prompt to race with the attach.
    make_pod(podbay, "shell", {"image": TOOLS, "command": ["sh", "-c", 'while read -r line; do eval "$line"; done'],
                               "stdin": True, "tty": True})
    session = PtySession(podbay, "attach", "-it", "shell", rows=30, columns=100)
    try:
        session.expect(rb"If you don't see a command prompt, try pressing enter.")
        session.send(b"stty size; tty\n")
        session.expect(rb"\r\n30 100\r\n/dev/pts/0\r\n")  # our window size, the container's own devpts
        session.send(b"\x10\x11")  # ctrl-p ctrl-q: detach
        assert session.wait() == 0
        session.expect(rb"read escape sequence")
        assert session.restored()
    finally:
        session.close()
    status = podbay.pod("shell")["status"]["containerStatuses"][0]
    assert "running" in status["state"] and status["restartCount"] == 0  # detaching left it running
    again = PtySession(podbay, "attach", "-it", "shell")
    try:
        again.expect(rb"try pressing enter.")
        again.send(b"exit 3\n")
        assert again.wait() == 3  # the run's end ends the session with its code
        assert again.restored()
    finally:
        again.close()


def test_attach_to_a_containers_stdin(podbay: Podbay) -> None:
    make_pod(podbay, "reader", {"image": TOOLS, "command": ["sh", "-c", "cat; echo stdin closed"], "stdin": True,
                                "stdinOnce": True}, restartPolicy="Never")
    done = podbay.cli("attach", "-i", "reader", stdin="hello\n")
    assert (done.returncode, done.stdout) == (0, "hello\nstdin closed\n"), done.stderr
    assert "hello\nstdin closed" in podbay.cli("logs", "reader").stdout
    refused = podbay.cli("attach", "-i", "reader")
    assert refused.returncode == 1 and \
        "cannot attach to a container in a completed pod; current phase is Succeeded" in refused.stderr


@pytest.mark.parametrize("profile", ["general"])
def test_debug_attach_again_to_a_running_ephemeral_container(podbay: Podbay, profile: str) -> None:
    make_pod(podbay, "again", {"image": TOOLS, "command": ["sleep", "600"]})
    first = PtySession(podbay, "debug", "again", "--image", TOOLS, "--image-pull-policy", "Never", "-c", "tools",
                       "--profile", profile, "-it", "--", "sh")
    try:
        first.expect(rb"try pressing enter.")
        first.send(b"\n")
        first.expect(PROMPT)
        first.send(b"export MARK=kept\n")
        first.send(b"\x10\x11")
        assert first.wait() == 0
    finally:
        first.close()
    second = PtySession(podbay, "debug", "again", "--attach", "tools", "-it")
    try:
        second.expect(rb"try pressing enter.")
        second.send(b"echo $MARK\n")
        second.expect(rb"\r\nkept\r\n")  # the same shell
        second.send(b"exit\n")
        assert second.wait() == 0
    finally:
        second.close()
    missing = podbay.cli("debug", "again", "--attach", "nope")
    assert missing.returncode == 1 and "has no ephemeral container nope (it has: tools)" in missing.stderr
