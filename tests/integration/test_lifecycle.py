"""The pod lifecycle under the supervisor, as the Kubernetes documentation describes it (root and
rootless): init containers, sidecars, restarts and crash-loop backoff, probes, hooks, termination,
status and events, logs, and a supervisor killed with SIGKILL.

Backoff and log rotation run with the shortened settings of the harness (base 1 s, cap 8 s; 256 KiB
files); timings are checked with generous bounds, never tight wall-clock numbers.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.podbay_harness import Podbay

IMAGE = "localhost/probe:latest"


def container(name: str, script: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never", "command": ["sh", "-c", script], **fields}


def pod(name: str, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": containers, **spec}}


def statuses(obj: dict[str, Any], key: str = "containerStatuses") -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in obj.get("status", {}).get(key, [])}


def condition(obj: dict[str, Any], kind: str) -> str:
    return next((c["status"] for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), "")


def phase(obj: dict[str, Any]) -> str:
    return str(obj.get("status", {}).get("phase", ""))


def state(obj: dict[str, Any], name: str, key: str = "containerStatuses") -> dict[str, Any]:
    return dict(statuses(obj, key).get(name, {}).get("state", {}))


def events(podbay: Podbay, name: str) -> str:
    done = podbay.cli("describe", "pod", name)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("Events:", 1)[1]


def shared_folder(podbay: Podbay, name: str) -> Path:
    """A hostPath folder the pod's root may write (rootless: owned by the test user, root in its pods)."""
    folder = podbay.home / name
    folder.mkdir(exist_ok=True)
    os.chown(folder, podbay.uid, podbay.gid)
    folder.chmod(0o777)
    return folder


# --- ordering -------------------------------------------------------------------------------


def test_init_containers_run_in_order_before_the_app(podbay: Podbay) -> None:
    mount = [{"name": "work", "mountPath": "/work"}]
    manifest = pod("inits", [container("app", "cat /work/order; sleep 30", volumeMounts=mount)],
                   initContainers=[container("first", "sleep 1; echo first >> /work/order", volumeMounts=mount),
                                   container("second", "echo second >> /work/order", volumeMounts=mount)],
                   volumes=[{"name": "work", "emptyDir": {}}], terminationGracePeriodSeconds=1)
    podbay.create(manifest)
    shown = podbay.cli("get", "pods", "inits").stdout
    assert "Init:0/2" in shown or "Init:1/2" in shown or "Running" in shown, shown
    obj = podbay.wait_pod("inits", lambda p: "running" in state(p, "app"), what="app running")
    first = state(obj, "first", "initContainerStatuses")["terminated"]
    second = state(obj, "second", "initContainerStatuses")["terminated"]
    assert first["reason"] == second["reason"] == "Completed"
    assert first["finishedAt"] <= second["startedAt"]
    assert condition(obj, "Initialized") == "True"
    podbay.wait_pod("inits", lambda p: podbay.cli("logs", "inits").stdout == "first\nsecond\n", timeout=10,
                    what="the app's log")


def test_a_failing_init_container_fails_the_pod_under_never(podbay: Podbay) -> None:
    manifest = pod("initfail", [container("app", "echo never runs")], restartPolicy="Never",
                   initContainers=[container("bad", "exit 3")])
    podbay.create(manifest)
    obj = podbay.wait_pod("initfail", lambda p: phase(p) == "Failed", what="Failed")
    assert state(obj, "bad", "initContainerStatuses")["terminated"]["exitCode"] == 3
    assert "waiting" in state(obj, "app")
    assert "Init:Error" in podbay.cli("get", "pods", "initfail").stdout


def test_a_failing_init_container_is_retried_under_on_failure(podbay: Podbay) -> None:
    folder = shared_folder(podbay, "initretry")
    mount = [{"name": "h", "mountPath": "/h"}]
    manifest = pod("initretry", [container("app", "sleep 30")], restartPolicy="OnFailure",
                   terminationGracePeriodSeconds=1, volumes=[{"name": "h", "hostPath": {"path": str(folder)}}],
                   initContainers=[container("flaky", "echo x >> /h/tries; [ $(wc -l < /h/tries) -ge 3 ]",
                                             volumeMounts=mount)])
    podbay.create(manifest)
    obj = podbay.wait_pod("initretry", lambda p: "running" in state(p, "app"), what="app running")
    assert statuses(obj, "initContainerStatuses")["flaky"]["restartCount"] == 2
    assert (folder / "tries").read_text().count("x") == 3


def test_sidecar_starts_before_the_app_and_outlives_it(podbay: Podbay) -> None:
    folder = shared_folder(podbay, "sidecar")
    mount = [{"name": "h", "mountPath": "/h"}]
    sidecar = container("logger", "trap 'echo sidecar-stop >> /h/events; exit 0' TERM; sleep 1; "
                                  "echo sidecar-up >> /h/events; touch /tmp/up; while true; do sleep 0.2; done",
                        restartPolicy="Always", volumeMounts=mount,
                        startupProbe={"exec": {"command": ["test", "-f", "/tmp/up"]}, "periodSeconds": 1,
                                      "failureThreshold": 30})
    app = container("app", "echo app-start >> /h/events; sleep 1; echo app-end >> /h/events", volumeMounts=mount)
    podbay.create(pod("sidecar", [app], initContainers=[sidecar], restartPolicy="Never",
                      volumes=[{"name": "h", "hostPath": {"path": str(folder)}}]))
    obj = podbay.wait_pod("sidecar", lambda p: phase(p) == "Succeeded", what="Succeeded")
    assert (folder / "events").read_text().split() == ["sidecar-up", "app-start", "app-end", "sidecar-stop"]
    side = state(obj, "logger", "initContainerStatuses")["terminated"]
    assert side["finishedAt"] >= state(obj, "app")["terminated"]["finishedAt"]
    assert podbay.cli("get", "pods", "sidecar").stdout.split()[-3] == "Completed"


def test_sidecars_stop_in_reverse_order(podbay: Podbay) -> None:
    folder = shared_folder(podbay, "reverse")
    mount = [{"name": "h", "mountPath": "/h"}]

    def side(name: str) -> dict[str, Any]:
        return container(name, f"trap 'echo {name} >> /h/stops; exit 0' TERM; while true; do sleep 0.1; done",
                         restartPolicy="Always", volumeMounts=mount)

    podbay.create(pod("reverse", [container("app", "sleep 1")], initContainers=[side("one"), side("two")],
                      restartPolicy="Never", volumes=[{"name": "h", "hostPath": {"path": str(folder)}}]))
    podbay.wait_pod("reverse", lambda p: phase(p) == "Succeeded", what="Succeeded")
    assert (folder / "stops").read_text().split() == ["two", "one"]


# --- restarts --------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Always", "OnFailure", "Never"])
def test_restart_policy_on_exit_codes_0_and_1(podbay: Podbay, policy: str) -> None:
    for code in (0, 1):
        podbay.create(pod(f"exit{code}", [container("main", f"sleep 0.3; exit {code}")], restartPolicy=policy))
    restarts = {"Always": (True, True), "OnFailure": (False, True), "Never": (False, False)}[policy]
    for code, restarting in zip((0, 1), restarts, strict=True):
        name = f"exit{code}"
        if restarting:
            obj = podbay.wait_pod(name, lambda p: statuses(p)["main"]["restartCount"] >= 2, what="2 restarts")
            assert phase(obj) == "Running"
            assert statuses(obj)["main"]["lastState"]["terminated"]["exitCode"] == code
        else:
            final = "Succeeded" if code == 0 else "Failed"
            obj = podbay.wait_pod(name, lambda p, f=final: phase(p) == f, what=final)
            assert statuses(obj)["main"]["restartCount"] == 0
            terminated = state(obj, "main")["terminated"]
            assert (terminated["exitCode"], terminated["reason"]) == (code, "Completed" if code == 0 else "Error")


def test_crash_loop_backoff_grows(podbay: Podbay) -> None:
    folder = shared_folder(podbay, "backoff")
    manifest = pod("crashloop", [container("main", "cut -d' ' -f1 /proc/uptime >> /h/starts; echo crashing; exit 1",
                                           volumeMounts=[{"name": "h", "mountPath": "/h"}])],
                   volumes=[{"name": "h", "hostPath": {"path": str(folder)}}])
    podbay.create(manifest)
    obj = podbay.wait_pod("crashloop", lambda p: statuses(p)["main"]["restartCount"] >= 4, timeout=60,
                          what="4 restarts")
    starts = [float(line) for line in (folder / "starts").read_text().split()]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # base 1 s, cap 8 s: restarts at once, then after 1, 2, 4 s
    assert gaps[0] < 1.5 and gaps[2] > gaps[1] > 0.8 and gaps[3] > 3, gaps
    # Waiting out a backoff of 4 s or more: `get pods` says CrashLoopBackOff, as kubectl's does.
    deadline = time.monotonic() + 30
    while "CrashLoopBackOff" not in (shown := podbay.cli("get", "pods", "crashloop").stdout):
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    assert "Back-off restarting failed container main" in events(podbay, "crashloop")
    assert podbay.cli("logs", "crashloop", "--previous").stdout == "crashing\n"
    assert obj["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "Error"


@pytest.mark.root
def test_crash_loop_backoff_with_the_kubelets_real_ten_seconds(root_podbay: Podbay) -> None:
    podbay = root_podbay
    podbay.cleanup_pods()  # a supervisor with the real settings
    saved = dict(podbay.extra_env)
    podbay.extra_env.update(PODBAY_BACKOFF_BASE="10", PODBAY_BACKOFF_CAP="300")
    try:
        folder = shared_folder(podbay, "realbackoff")
        podbay.create(pod("slowloop", [container("main", "cut -d' ' -f1 /proc/uptime >> /h/starts; exit 1",
                                                 volumeMounts=[{"name": "h", "mountPath": "/h"}])],
                          volumes=[{"name": "h", "hostPath": {"path": str(folder)}}]))
        podbay.wait_pod("slowloop", lambda p: statuses(p)["main"]["restartCount"] >= 2, timeout=60,
                        what="2 restarts")
        starts = [float(line) for line in (folder / "starts").read_text().split()]
        assert starts[1] - starts[0] < 3 and 9 < starts[2] - starts[1] < 20, starts
        waiting = state(podbay.pod("slowloop"), "main").get("waiting", {})
        assert waiting.get("reason") in (None, "CrashLoopBackOff")
    finally:
        podbay.cleanup_pods()
        podbay.extra_env.clear()
        podbay.extra_env.update(saved)


def test_restart_one_container_whatever_the_policy(podbay: Podbay) -> None:
    folder = shared_folder(podbay, "restart")
    mount = [{"name": "h", "mountPath": "/h"}]
    stopping = {"preStop": {"exec": {"command": ["sh", "-c", "echo prestop >> /h/web"]}}}
    manifest = pod("restartable", [container("web", "echo start >> /h/web; trap 'echo term >> /h/web; exit 0' TERM; "
                                                    "while true; do sleep 0.1; done", volumeMounts=mount,
                                             lifecycle=stopping),
                                   container("other", "sleep 300")],
                   initContainers=[container("setup", "true")],
                   volumes=[{"name": "h", "hostPath": {"path": str(folder)}}],
                   restartPolicy="Never", terminationGracePeriodSeconds=5)
    podbay.create(manifest, "--wait", "--timeout", "30")
    other_started = state(podbay.pod("restartable"), "other")["running"]["startedAt"]
    done = podbay.cli("restart", "restartable", "-c", "web")
    assert done.returncode == 0 and done.stdout == 'container "web" of pod "restartable" restarted\n', done.stderr
    obj = podbay.pod("restartable")
    web = statuses(obj)["web"]
    # Under restartPolicy Never too: started again at once, counted, the last run's end kept; the preStop hook
    # and the stop signal ran first; the other container was left alone.
    assert web["restartCount"] == 1 and "running" in web["state"], web
    assert web["lastState"]["terminated"]["exitCode"] == 0
    assert (folder / "web").read_text().split() == ["start", "prestop", "term", "start"]
    assert state(obj, "other")["running"]["startedAt"] == other_started
    text = events(podbay, "restartable")
    assert "Stopping container web to restart it" in text
    # without -c: the first container, with kubectl's note
    done = podbay.cli("restart", "restartable", "--grace-period", "0")
    assert done.returncode == 0 and done.stderr.startswith('Defaulted container "web" out of: web, other, '
                                                           "setup (init)"), done.stderr
    assert statuses(podbay.pod("restartable"))["web"]["restartCount"] == 2
    for args, error in ((("-c", "setup"), "container setup is an init container: only app containers and "
                                          "sidecars can be restarted"),
                        (("-c", "nope"), "container nope is not valid for pod restartable")):
        refused = podbay.cli("restart", "restartable", *args)
        assert refused.returncode == 1 and refused.stderr == f"error: {error}\n", refused.stderr
    missing = podbay.cli("restart", "ghost")
    assert missing.returncode == 1 and 'pods "ghost" not found' in missing.stderr
    # While the pod is being deleted ("other", a sleep as its pid 1, ignores SIGTERM for its 5 s of grace), a
    # restart or a pause is refused at once rather than left waiting for the worker that will never take it.
    argv, kwargs = podbay.argv("delete", "pod", "restartable")
    deleting = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=podbay.env(),
                                cwd=str(podbay.home), **kwargs)
    try:
        deadline = time.monotonic() + 20
        while "Terminating" not in podbay.cli("get", "pods", "restartable").stdout:
            assert time.monotonic() < deadline, "never Terminating"
            time.sleep(0.1)
        for verb in ("restart", "pause"):
            refused = podbay.cli(verb, "restartable")
            assert refused.returncode == 1 and "it is being deleted" in refused.stderr, (verb, refused.stderr)
    finally:
        deleting.communicate(timeout=60)
    assert deleting.returncode == 0


# --- probes ----------------------------------------------------------------------------------


def test_liveness_exec_probe_restarts_the_container(podbay: Podbay) -> None:
    script = "touch /tmp/healthy; echo run; sleep 2; rm /tmp/healthy; while true; do sleep 0.2; done"
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 2}
    podbay.create(pod("liveness", [container("main", script, livenessProbe=probe)], terminationGracePeriodSeconds=1))
    obj = podbay.wait_pod("liveness", lambda p: statuses(p)["main"]["restartCount"] >= 2, timeout=60,
                          what="2 restarts")
    assert obj["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 137
    text = events(podbay, "liveness")
    assert "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory" in text
    assert "Container main failed liveness probe, will be restarted" in text


def test_readiness_flips_the_ready_condition(podbay: Podbay) -> None:
    script = "while true; do touch /tmp/ready; sleep 3; rm /tmp/ready; sleep 3; done"
    probe = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1, "failureThreshold": 1}
    podbay.create(pod("ready", [container("main", script, readinessProbe=probe)], terminationGracePeriodSeconds=1))
    podbay.wait_pod("ready", lambda p: condition(p, "Ready") == "True", what="Ready")
    obj = podbay.wait_pod("ready", lambda p: condition(p, "Ready") == "False", what="not Ready")
    assert condition(obj, "ContainersReady") == "False"
    assert "0/1" in podbay.cli("get", "pods", "ready").stdout
    podbay.wait_pod("ready", lambda p: condition(p, "Ready") == "True", what="Ready again")
    assert statuses(podbay.pod("ready"))["main"]["restartCount"] == 0


def test_http_get_and_tcp_socket_probes(podbay: Podbay) -> None:
    web = container("web", "mkdir -p /www; echo ok > /www/healthz; httpd -f -p 8080 -h /www",
                    ports=[{"name": "http", "containerPort": 8080}],
                    readinessProbe={"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 1},
                    livenessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1})
    missing = container("missing", "sleep 60",
                        readinessProbe={"httpGet": {"path": "/nothing", "port": 8080}, "periodSeconds": 1})
    closed = container("closed", "sleep 60", readinessProbe={"tcpSocket": {"port": 9999}, "periodSeconds": 1})
    podbay.create(pod("probes", [web, missing, closed], terminationGracePeriodSeconds=1))
    podbay.wait_pod("probes", lambda p: statuses(p).get("web", {}).get("ready"), what="web ready")
    text = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = events(podbay, "probes")
        if "statuscode: 404" in text and "connect: connection refused" in text:
            break
        time.sleep(0.5)
    assert "Readiness probe failed: HTTP probe failed with statuscode: 404" in text
    assert ":9999: connect: connection refused" in text
    obj = podbay.pod("probes")
    assert not statuses(obj)["missing"]["ready"] and not statuses(obj)["closed"]["ready"]
    assert statuses(obj)["web"]["restartCount"] == 0 and condition(obj, "Ready") == "False"


def test_startup_probe_holds_liveness_and_gives_up(podbay: Podbay) -> None:
    # Both probes fail; liveness would restart first (1 failure) were it not held by the startup probe (3).
    probe = {"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 3}
    liveness = {"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1}
    podbay.create(pod("startup", [container("main", "sleep 60", startupProbe=probe, livenessProbe=liveness)],
                      terminationGracePeriodSeconds=1))
    obj = podbay.wait_pod("startup", lambda p: statuses(p)["main"]["restartCount"] >= 1, timeout=30,
                          what="a restart")
    assert not statuses(obj)["main"]["started"]
    text = events(podbay, "startup")
    assert "Container main failed startup probe, will be restarted" in text
    assert "Liveness probe failed" not in text and "failed liveness probe" not in text


@pytest.mark.root
def test_grpc_probe(root_podbay: Podbay, tmp_path: Path) -> None:
    podbay = root_podbay
    port = 50151
    server = subprocess.Popen(["ip", "netns", "exec", podbay.netns, sys.executable, "-c", GRPC_SERVER, str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "serving"
        good = container("good", "sleep 60", readinessProbe={"grpc": {"port": port}, "periodSeconds": 1})
        sick = container("sick", "sleep 60", readinessProbe={"grpc": {"port": port, "service": "sick"},
                                                             "periodSeconds": 1})
        podbay.create(pod("grpc", [good, sick], hostNetwork=True, terminationGracePeriodSeconds=1))
        podbay.wait_pod("grpc", lambda p: statuses(p).get("good", {}).get("ready"), what="good ready")
        deadline = time.monotonic() + 20
        while 'service unhealthy (responded with "NOT_SERVING")' not in events(podbay, "grpc"):
            assert time.monotonic() < deadline, events(podbay, "grpc")
            time.sleep(0.5)
        assert not statuses(podbay.pod("grpc"))["sick"]["ready"]
    finally:
        server.kill()
        server.wait()


GRPC_SERVER = """
import sys, time
from concurrent import futures
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
servicer = health.HealthServicer()
health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
servicer.set("", health_pb2.HealthCheckResponse.SERVING)
servicer.set("sick", health_pb2.HealthCheckResponse.NOT_SERVING)
server.add_insecure_port("127.0.0.1:" + sys.argv[1])
server.start()
print("serving", flush=True)
time.sleep(600)
"""


# --- hooks and termination -------------------------------------------------------------------


def test_pre_stop_runs_before_the_stop_signal(podbay: Podbay) -> None:
    folder = shared_folder(podbay, "prestop")
    script = "trap 'echo term >> /h/events; exit 0' TERM; echo started >> /h/events; while true; do sleep 0.1; done"
    hooks = {"postStart": {"exec": {"command": ["sh", "-c", "echo poststart >> /h/events"]}},
             "preStop": {"exec": {"command": ["sh", "-c", "echo prestop >> /h/events; sleep 1"]}}}
    podbay.create(pod("hooks", [container("main", script, lifecycle=hooks,
                                          volumeMounts=[{"name": "h", "mountPath": "/h"}])],
                      volumes=[{"name": "h", "hostPath": {"path": str(folder)}}]), "--wait", "--timeout", "30")
    done = podbay.cli("delete", "pod", "hooks")
    assert done.returncode == 0 and done.stdout == 'pod "hooks" deleted\n', done.stderr
    recorded = (folder / "events").read_text().split()
    assert recorded[-2:] == ["prestop", "term"], recorded
    assert set(recorded[:2]) == {"started", "poststart"}
    assert podbay.pod("hooks") == {}


def test_sigterm_ignored_is_killed_after_the_grace_period(podbay: Podbay) -> None:
    podbay.create(pod("stubborn", [container("main", "trap '' TERM; while true; do sleep 0.1; done")],
                      terminationGracePeriodSeconds=3), "--wait", "--timeout", "30")
    started = time.monotonic()
    done = podbay.cli("delete", "pod", "stubborn")
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert 2.5 < took < 20, took
    started = time.monotonic()
    podbay.create(pod("stubborn", [container("main", "trap '' TERM; while true; do sleep 0.1; done")],
                      terminationGracePeriodSeconds=30), "--wait", "--timeout", "30")
    assert podbay.cli("delete", "pod", "stubborn", "--grace-period", "1").returncode == 0
    assert time.monotonic() - started < 20


def test_stop_signal_from_the_pod_spec(podbay: Podbay) -> None:
    folder = shared_folder(podbay, "stopsignal")
    script = "trap 'echo usr1 >> /h/got; exit 0' USR1; trap 'echo term >> /h/got; exit 0' TERM; " \
             "while true; do sleep 0.1; done"
    podbay.create(pod("signal", [container("main", script, lifecycle={"stopSignal": "SIGUSR1"},
                                           volumeMounts=[{"name": "h", "mountPath": "/h"}])],
                      volumes=[{"name": "h", "hostPath": {"path": str(folder)}}], os={"name": "linux"}),
                  "--wait", "--timeout", "30")
    assert podbay.cli("delete", "pod", "signal").returncode == 0
    assert (folder / "got").read_text() == "usr1\n"


def test_active_deadline_fails_the_pod(podbay: Podbay) -> None:
    podbay.create(pod("deadline", [container("main", "sleep 60")], activeDeadlineSeconds=2,
                      terminationGracePeriodSeconds=1))
    obj = podbay.wait_pod("deadline", lambda p: phase(p) == "Failed", timeout=30, what="Failed")
    assert obj["status"]["reason"] == "DeadlineExceeded"
    assert "DeadlineExceeded" in podbay.cli("get", "pods", "deadline").stdout
    assert "Pod was active on the node longer than the specified deadline" in events(podbay, "deadline")


def test_termination_message_and_fallback_to_logs(podbay: Podbay) -> None:
    own = container("own", "echo 'bye from file' > /dev/termination-log; exit 2")
    fallback = container("fallback", "echo last words; exit 3", terminationMessagePolicy="FallbackToLogsOnError")
    podbay.create(pod("messages", [own, fallback], restartPolicy="Never"))
    obj = podbay.wait_pod("messages", lambda p: phase(p) == "Failed", what="Failed")
    assert state(obj, "own")["terminated"]["message"] == "bye from file\n"
    assert state(obj, "fallback")["terminated"]["message"] == "last words"


# --- the CLI ---------------------------------------------------------------------------------


def test_get_describe_and_output_formats(podbay: Podbay) -> None:
    manifest = pod("shown", [container("main", "echo hi; sleep 60")], terminationGracePeriodSeconds=1)
    manifest["metadata"]["labels"] = {"app": "web", "tier": "front"}
    podbay.create(manifest, "--wait")
    table = podbay.cli("get", "pods").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:4] == ["shown", "1/1", "Running", "0"]
    wide = podbay.cli("get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[1].split()[5].count(".") == 3  # the pod's IP
    assert podbay.cli("get", "pods", "-o", "name").stdout == "pod/shown\n"
    assert podbay.cli("get", "pods", "-l", "app=web,tier in (front, back)", "-o", "name").stdout == "pod/shown\n"
    assert podbay.cli("get", "pods", "-l", "app!=web", "-o", "name").stdout == ""
    as_yaml = yaml.safe_load(podbay.cli("get", "pod", "shown", "-o", "yaml").stdout)
    assert as_yaml["kind"] == "Pod" and as_yaml["status"]["phase"] == "Running"
    assert as_yaml["status"]["qosClass"] == "BestEffort" and as_yaml["metadata"]["creationTimestamp"]
    types = {c["type"] for c in as_yaml["status"]["conditions"]}
    assert types == {"PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready", "PodScheduled"}
    text = podbay.cli("describe", "pod", "shown").stdout
    for heading in ("Name:", "Namespace:", "Status:", "IP:", "Containers:", "Conditions:", "QoS Class:",
                    "Events:", "Started container main"):
        assert heading in text, text
    missing = podbay.cli("get", "pods", "nothere")
    assert missing.returncode == 1 and 'pods "nothere" not found' in missing.stderr
    detail = json.loads(podbay.cli("inspect", "pod", "shown").stdout)
    main = detail["containers"]["main"]
    assert main["pid"] > 0 and "NoNewPrivs" in main["process"] and main["namespaces"]["pid"].startswith("pid:")
    proc = next(m for m in main["mounts"] if m["target"] == "/proc")
    assert proc["type"] == "proc"


def test_names_are_per_namespace_and_replace(podbay: Podbay) -> None:
    one = pod("twin", [container("main", "echo one; sleep 60")], terminationGracePeriodSeconds=1)
    two = json.loads(json.dumps(one))
    two["metadata"]["namespace"] = "other"
    podbay.create(one)
    podbay.create(two)
    again = podbay.cli("run", "-f", podbay.manifest_file(one))
    assert again.returncode != 0 and 'pods "twin" already exists' in again.stderr
    assert podbay.cli("get", "pods", "-A", "-o", "name").stdout == "pod/twin\npod/twin\n"
    uid = podbay.pod("twin")["metadata"]["uid"]
    podbay.create(one, "--replace")
    assert podbay.pod("twin")["metadata"]["uid"] != uid
    assert podbay.cli("delete", "pod", "twin", "-n", "other").returncode == 0
    assert podbay.cli("get", "pods", "-n", "other", "-o", "name").stdout == ""


def test_run_attach_streams_and_exits_with_the_pods_code(podbay: Podbay) -> None:
    manifest = pod("attached", [container("a", "echo from a; exit 0"), container("b", "sleep 0.5; echo from b; "
                                                                                       "exit 4")],
                   restartPolicy="Never")
    done = podbay.cli("run", "-f", podbay.manifest_file(manifest), "--attach")
    assert done.returncode == 4, done.stderr
    assert sorted(done.stdout.splitlines()) == ["[a] from a", "[b] from b"]
    assert phase(podbay.pod("attached")) == "Failed"


def test_missing_image_waits_with_the_kubelets_reason(podbay: Podbay) -> None:
    podbay.create(pod("noimage", [{"name": "main", "image": "localhost/absent:1", "imagePullPolicy": "Never"}]))
    obj = podbay.wait_pod("noimage", lambda p: state(p, "main").get("waiting", {}).get("reason") ==
                          "ErrImageNeverPull", what="ErrImageNeverPull")
    assert phase(obj) == "Pending"
    assert "ErrImageNeverPull" in podbay.cli("get", "pods", "noimage").stdout


def test_bad_input_is_refused_without_leftovers(podbay: Podbay) -> None:
    bad = pod("bad", [container("main", "true")])
    bad["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 1}]  # privileged port, or taken
    bad["spec"]["restartPolicy"] = "Sometimes"
    done = podbay.cli("run", "-f", podbay.manifest_file(bad))
    assert done.returncode == 125 and "restartPolicy" in done.stderr and "Traceback" not in done.stderr
    assert podbay.cli("get", "pods", "-o", "name").stdout == ""


# --- logs ------------------------------------------------------------------------------------


def test_logs_rotate_and_read_back(podbay: Podbay) -> None:
    # 6000 lines of ~100 bytes: with 256 KiB files and 3 kept, the oldest lines are rotated away.
    script = "i=0; while [ $i -lt 6000 ]; do echo \"line $i $(printf '%090d' 0)\"; i=$((i+1)); done; " \
             "echo to-stderr >&2; sleep 60"
    podbay.create(pod("chatty", [container("main", script)], terminationGracePeriodSeconds=1))
    podbay.wait_pod("chatty", lambda p: "to-stderr" in podbay.cli("logs", "chatty", "--tail", "1").stdout,
                    timeout=60, what="all output logged")
    uid = podbay.pod("chatty")["metadata"]["uid"]
    folder = podbay.data_dir / "logs" / f"default_chatty_{uid}" / "main"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["0.log", "0.log.1", "0.log.2"], names
    assert all(p.stat().st_size < 300 * 1024 for p in folder.iterdir())
    record = (folder / "0.log").read_text().splitlines()[-1]
    assert record.split(" ", 3)[1:3] == ["stderr", "F"] and record.endswith("to-stderr")
    tail = podbay.cli("logs", "chatty", "--tail", "3").stdout.splitlines()
    assert tail[0].startswith("line 5998 ") and tail[2] == "to-stderr"
    lines = podbay.cli("logs", "chatty").stdout.splitlines()
    assert 2000 < len(lines) < 6000 and lines[-2].startswith("line 5999 ")
    stamped = podbay.cli("logs", "chatty", "--tail", "1", "--timestamps").stdout
    assert stamped.startswith("20") and stamped.rstrip().endswith("Z to-stderr")
    assert podbay.cli("logs", "chatty", "--since", "1h", "--tail", "1").stdout == "to-stderr\n"


def test_logs_follow_until_the_container_ends(podbay: Podbay) -> None:
    podbay.create(pod("follow", [container("main", "for i in 1 2 3; do echo n$i; sleep 0.5; done")],
                      restartPolicy="Never"))
    done = podbay.cli("logs", "-f", "follow", timeout=60)
    assert done.stdout.split() == ["n1", "n2", "n3"], done.stderr


# --- the supervisor --------------------------------------------------------------------------


def test_supervisor_sigkill_leaves_containers_running_and_readopts_them(podbay: Podbay) -> None:
    script = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"
    quitter = container("quitter", "touch /tmp/alive; sleep 3; exit 5")
    podbay.create(pod("survivor", [container("main", script, readinessProbe={
        "exec": {"command": ["true"]}, "periodSeconds": 1}), quitter], terminationGracePeriodSeconds=1))
    podbay.wait_pod("survivor", lambda p: statuses(p)["main"].get("ready"), what="main ready")
    before = json.loads(podbay.cli("inspect", "pod", "survivor").stdout)["containers"]["main"]["pid"]
    supervisor = int((podbay.run_dir / "supervisor" / "supervisor.pid").read_text())
    os.kill(supervisor, signal.SIGKILL)
    time.sleep(4)  # the quitter ends while no supervisor watches
    assert Path(f"/proc/{before}").exists(), "the container died with the supervisor"
    obj = podbay.wait_pod("survivor", lambda p: statuses(p)["quitter"]["restartCount"] >= 1, what="quitter rerun")
    assert json.loads(podbay.cli("inspect", "pod", "survivor").stdout)["containers"]["main"]["pid"] == before
    last = statuses(obj)["quitter"]["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("ContainerStatusUnknown", 137)
    assert "running" in state(obj, "main") and statuses(obj)["main"]["restartCount"] == 0
    assert "took over the pod after a restart" in events(podbay, "survivor")
    lines = podbay.cli("logs", "survivor", "-c", "main").stdout.split("\n")
    numbers = [int(line.split()[1]) for line in lines if line.startswith("tick ")]
    assert numbers == list(range(1, len(numbers) + 1)), "lines were lost while the supervisor was down"
    assert int((podbay.run_dir / "supervisor" / "supervisor.pid").read_text()) != supervisor


def test_pods_lost_with_supervisor_and_keeper_are_reported(podbay: Podbay) -> None:
    podbay.create(pod("orphan", [container("main", "sleep 60")]), "--wait")
    supervisor = int((podbay.run_dir / "supervisor" / "supervisor.pid").read_text())
    keeper = json.loads((podbay.run_dir / "supervisor" / "keeper.json").read_text())["pid"]
    os.kill(supervisor, signal.SIGKILL)
    os.kill(keeper, signal.SIGKILL)
    time.sleep(0.5)
    obj = podbay.wait_pod("orphan", lambda p: phase(p) == "Failed", what="Failed")
    assert obj["status"]["reason"] == "PodLost"
    assert state(obj, "main")["terminated"]["reason"] == "ContainerStatusUnknown"
    assert "PodLost" in podbay.cli("get", "pods", "orphan").stdout
    assert podbay.containers_left() == []  # its folders went with it


def test_pods_of_an_earlier_boot_are_shown_as_such_and_deleted_cleanly(podbay: Podbay) -> None:
    # A reboot, as far as podbay can tell: its processes gone (killed here) and another boot id.
    podbay.create(pod("before", [container("main", "sleep 60")]), "--wait")
    main_pid = json.loads(podbay.cli("inspect", "pod", "before").stdout)["containers"]["main"]["pid"]
    keeper = json.loads((podbay.run_dir / "supervisor" / "keeper.json").read_text())["pid"]
    supervisor = int((podbay.run_dir / "supervisor" / "supervisor.pid").read_text())
    for pid in (supervisor, keeper, main_pid):
        os.kill(pid, signal.SIGKILL)
    with sqlite3.connect(podbay.run_dir / "state.db") as db:
        db.execute("UPDATE meta SET value = 'an-earlier-boot' WHERE key = 'boot_id'")
    obj = podbay.pod("before")
    assert (phase(obj), obj["status"]["reason"]) == ("Unknown", "NodeRebooted")
    assert "NodeRebooted" in podbay.cli("get", "pods", "before").stdout
    assert podbay.containers_left() != []  # its folders wait for the delete
    assert podbay.cli("delete", "pod", "before").returncode == 0
    assert podbay.containers_left() == []


def test_a_pod_that_cannot_start_is_refused_and_leaves_nothing(podbay: Podbay) -> None:
    web = pod("first", [container("main", "echo up; sleep 60", ports=[{"containerPort": 80, "hostPort": 18181}])],
              terminationGracePeriodSeconds=1)
    podbay.create(web, "--wait")
    second = json.loads(json.dumps(web))
    second["metadata"]["name"] = "second"
    done = podbay.cli("run", "-f", podbay.manifest_file(second))
    assert done.returncode == 125 and "hostPort 18181/TCP" in done.stderr and "Traceback" not in done.stderr
    assert podbay.cli("get", "pods", "-o", "name").stdout == "pod/first\n"
    assert podbay.cli("delete", "pod", "first").returncode == 0
    assert podbay.containers_left() == []
    podbay.create(pod("after", [container("main", "echo still logging")], restartPolicy="Never"))
    podbay.wait_pod("after", lambda p: podbay.cli("logs", "after").stdout == "still logging\n", timeout=20,
                    what="the supervisor still logs")
