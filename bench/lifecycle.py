"""Supervision costs, podbay beside podman in one run: memory per idle pod, probe CPU, log throughput.

Run by bench/lifecycle.sh (as root, in private mount and network namespaces with the host's
cgroup trees read-only). Writes OUT/lifecycle.md and prints it.

- Memory per idle pod, for 1, 10 and 50 pods of one `sleep` container: podbay's supervisor and
  descriptor keeper (PSS, /proc/PID/smaps_rollup) divided by the pods; podman's per-pod processes:
  an infra container running catatonit (as a podman pod's) and the app container, each with its
  conmon. podman's own pods need a cgroup this host cannot give (hybrid hierarchy), so the pod
  is built as `podman pod create` would: infra first, the app joining its network namespace.
  The app processes themselves (the same `sleep` under both) are not counted.
- Supervisor CPU with 50 pods each probed every second (exec, then tcpSocket probes): the
  supervisor's and its children's CPU time over a window, as a share of one core.
- Log throughput: one container writing 200 MB of 100-byte lines as fast as it can, timed
  inside the container; through podbay's supervisor, through podman's conmon (k8s-file), and
  into /dev/null inside the container (the floor).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(sys.argv[1])
PODBAY = [str(Path(sys.executable).with_name("podbay"))]
PODMAN = os.environ["PODMAN"].split()
IMAGE = "localhost/bench:latest"
COUNTS = [int(n) for n in os.environ.get("POD_COUNTS", "1 10 50").split()]
WINDOW = float(os.environ.get("CPU_WINDOW", "30"))
LOG_BYTES = 200 * 1000 * 1000
LINE = "x" * 99
CATATONIT = "/usr/libexec/podman/catatonit"


def sh(*argv: str, check: bool = True) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:"))


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15])  # utime stime cutime cstime


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                    found.append(int(entry))
            except OSError:
                continue
    return found


# --- podbay ----------------------------------------------------------------------------------


def podbay(*args: str, check: bool = True) -> str:
    return sh(*PODBAY, *args, check=check)


def pod_manifest(name: str, probe: dict[str, object] | None = None) -> str:
    container: dict[str, object] = {"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                                    "command": ["sleep", "100000"]}
    if probe:
        container["readinessProbe"] = {**probe, "periodSeconds": 1}
    if probe and "tcpSocket" in probe:
        container["command"] = ["httpd", "-f", "-p", "8080"]
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]}}))
    return str(path)


def podbay_pods(count: int, probe: dict[str, object] | None = None) -> None:
    for n in range(count):
        podbay("run", "-f", pod_manifest(f"p{n}", probe))
    deadline = time.monotonic() + 120
    while podbay("get", "pods").count(" Running ") < count:
        if time.monotonic() > deadline:
            raise SystemExit("podbay pods did not all start:\n" + podbay("get", "pods"))
        time.sleep(0.5)


def podbay_processes() -> dict[str, int]:
    run = Path(os.environ["PODBAY_RUN_DIR"]) / "supervisor"
    return {"supervisor": int((run / "supervisor.pid").read_text()),
            "keeper": int(json.loads((run / "keeper.json").read_text())["pid"])}


def podbay_clear() -> None:
    podbay("delete", "pod", "--all", "--grace-period", "0", check=False)


# --- podman ----------------------------------------------------------------------------------


def podman(*args: str, check: bool = True) -> str:
    return sh(*PODMAN, *args, check=check)


def podman_pods(count: int) -> None:
    run = ["run", "-d", "--cgroups=disabled", "--log-driver", "k8s-file"]
    for n in range(count):
        podman(*run, "--network", "none", "--name", f"infra{n}", "-v", f"{CATATONIT}:/catatonit:ro",
               "--entrypoint", "/catatonit", IMAGE, "-P")
        podman(*run, "--network", f"container:infra{n}", "--ipc", f"container:infra{n}",
               "--uts", f"container:infra{n}", "--name", f"app{n}", IMAGE, "sleep", "100000")


def podman_clear() -> None:
    for _ in range(2):  # the app containers first: the infra ones have dependents until then
        podman("rm", "-f", "-t", "0", "--all", check=False)


# --- measurements ----------------------------------------------------------------------------


def memory() -> list[str]:
    rows = ["| pods | podbay: supervisor + keeper PSS | podbay per pod | podman: conmons + catatonit PSS | "
            "podman per pod |", "|---:|---:|---:|---:|---:|"]
    for count in COUNTS:
        podbay_pods(count)
        time.sleep(2)
        ours = sum(pss_kb(pid) for pid in podbay_processes().values())
        podbay_clear()
        podman_pods(count)
        time.sleep(2)
        theirs = sum(pss_kb(pid) for pid in pids_named("conmon") + pids_named("catatonit"))
        podman_clear()
        rows.append(f"| {count} | {ours / 1024:.1f} MB | {ours / 1024 / count:.2f} MB | {theirs / 1024:.1f} MB | "
                    f"{theirs / 1024 / count:.2f} MB |")
    return rows


def probe_cpu() -> list[str]:
    rows = ["| 50 pods, probe every 1 s | supervisor CPU (share of one core) |", "|---|---:|"]
    ticks = os.sysconf("SC_CLK_TCK")
    for label, probe in (("exec probe (`true`)", {"exec": {"command": ["true"]}}),
                         ("tcpSocket probe", {"tcpSocket": {"port": 8080}}),
                         ("no probe (idle)", None)):
        podbay_pods(50, probe)
        time.sleep(3)
        pid = podbay_processes()["supervisor"]
        before = cpu_ticks(pid)
        time.sleep(WINDOW)
        used = (cpu_ticks(pid) - before) / ticks
        podbay_clear()
        rows.append(f"| {label} | {100 * used / WINDOW:.1f} % |")
    return rows


WRITER = (f"s=$(cut -d' ' -f1 /proc/uptime); yes {LINE} | head -c {LOG_BYTES} TARGET; "
          "e=$(cut -d' ' -f1 /proc/uptime); echo \"elapsed $s $e\" >&2")


def _phase(name: str) -> str:
    with sqlite3.connect(Path(os.environ["PODBAY_RUN_DIR"]) / "state.db") as db:
        row = db.execute("SELECT status FROM pods WHERE name = ?", (name,)).fetchone()
    return str(json.loads(row[0]).get("phase", "")) if row else ""


def _rate(text: str) -> float:
    line = next(line for line in reversed(text.splitlines()) if "elapsed" in line)
    start, end = (float(x) for x in line.split()[-2:])
    return LOG_BYTES / 1e6 / max(end - start, 0.01)


def _podbay_writer(target: str) -> float:
    path = OUT / "logs.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "logs"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                                                  "command": ["sh", "-c", WRITER.replace("TARGET", target)]}]}}))
    podbay("run", "-f", str(path))
    deadline = time.monotonic() + 600
    while _phase("logs") != "Succeeded":  # read from the store: a CLI every poll would steal the writer's CPU
        if time.monotonic() > deadline:
            raise SystemExit("the log writer did not finish")
        time.sleep(0.5)
    rate = _rate(podbay("logs", "logs", "--tail", "1"))
    podbay_clear()
    return rate


def _podman_writer() -> float:
    podman("run", "-d", "--cgroups=disabled", "--network", "none", "--log-driver", "k8s-file", "--name", "logs",
           IMAGE, "sh", "-c", WRITER.replace("TARGET", ""))
    podman("wait", "logs")
    last = subprocess.run([*PODMAN, "logs", "--tail", "1", "logs"], capture_output=True, text=True, check=False)
    podman_clear()
    return _rate(last.stdout + last.stderr)


def log_throughput() -> list[str]:
    """Each writer three times, interleaved; the median."""
    writers = {"podbay (supervisor to CRI log)": lambda: _podbay_writer(""),
               "podman (conmon to k8s-file)": _podman_writer,
               "floor: > /dev/null in the container": lambda: _podbay_writer("> /dev/null")}
    rates: dict[str, list[float]] = {label: [] for label in writers}
    for _ in range(3):
        for label, writer in writers.items():
            rates[label].append(writer())
    rows = ["| writer | MB/s (median of 3) | runs |", "|---|---:|---|"]
    for label, values in rates.items():
        rows.append(f"| {label} | {sorted(values)[1]:.0f} | {', '.join(f'{v:.0f}' for v in values)} |")
    return rows


def main() -> int:
    text = ""
    wanted = os.environ.get("SECTIONS", "memory cpu logs").split()
    for key, title, measure in (("memory", "Memory per idle pod", memory),
                                ("cpu", "Supervisor CPU with probes", probe_cpu),
                                ("logs", "Log throughput", log_throughput)):
        if key not in wanted:
            continue
        text += f"## {title}\n\n" + "\n".join(measure()) + "\n\n"
        print(text.rsplit("## ", 1)[-1], file=sys.stderr, flush=True)
    (OUT / "lifecycle.md").write_text(text)
    print(text)
    podbay("supervisor", "stop", check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
