"""Where `podbay run --rm` spends its time: the parent's imports, loading the pod, preparing the
container (plan, seccomp program), the init's handshake until execve, waiting, cleanup.

    python bench/breakdown.py POD.yaml   (uses PODBAY_DATA_DIR/PODBAY_RUN_DIR like the CLI)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

RUNS = 20
PHASES = ("imports", "load pod", "sandbox (namespaces, IP, veth)", "prepare container (plan, seccomp)",
          "start (init until execve)", "wait", "cleanup")

CHILD = r"""
import os, sys, time
t0 = time.perf_counter()
from podbay.runtime.cli import run as r
from podbay.runtime.paths import default_paths
from podbay.runtime.pod import sandbox as pod_sandbox
from podbay.runtime.pod.config import PodObjects
from podbay.runtime.process import launcher
from podbay.runtime.process.plan import PodContext
from podbay.runtime.spec.pod import spec_of
from podbay.runtime.syscalls import set_child_subreaper
t1 = time.perf_counter()
pod, _ = r._load([sys.argv[1]])
t2 = time.perf_counter()
paths = default_paths()
box = pod_sandbox.create(pod, paths, PodObjects())
t3 = time.perf_counter()
context = PodContext(box.mapping, dict(box.fds), box.etc_files, box.volumes.sources, pod_ip=box.pod_ip)
launch = launcher.prepare(pod, spec_of(pod).containers[0], paths, context)
t4 = time.perf_counter()
set_child_subreaper()
pid = launcher.start(launch, None, None, None)
t5 = time.perf_counter()
os.waitpid(pid, 0)
t6 = time.perf_counter()
launch.pid = 0
launcher.cleanup(launch)
pod_sandbox.destroy(box)
t7 = time.perf_counter()
marks = [t0, t1, t2, t3, t4, t5, t6, t7]
print(" ".join(f"{(b - a) * 1000:.2f}" for a, b in zip(marks, marks[1:])))
"""


def main() -> None:
    samples: list[list[float]] = []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", CHILD, sys.argv[1]], capture_output=True, text=True, check=True)
        samples.append([float(x) for x in out.stdout.split()])
    from podbay.runtime.process.userns import python_argv

    argv = python_argv("podbay.runtime.process.init")  # exactly how the launcher starts the init
    # Without its channel the init stops right after its imports, which is all this measures.
    traced = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True,
                            check=False, env={k: v for k, v in os.environ.items() if k != "_PODBAY_SYNC_FD"}).stderr
    init_total = sum(int(line.split("|")[1]) for line in traced.splitlines()
                     if line.startswith("import time:") and line.split("|")[1].strip().isdigit()
                     and line.split("|")[2].startswith(" ") and not line.split("|")[2].startswith("  "))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=True)
    bare = (time.perf_counter() - start) * 1000
    print(f"## Where podbay's time goes (median of {RUNS} runs, ms)\n")
    print("| phase | ms |")
    print("|---|---:|")
    for i, phase in enumerate(PHASES):
        print(f"| {phase} | {statistics.median(s[i] for s in samples):.1f} |")
    print(f"\n`start` is a bare `python -I -S` ({bare:.1f} ms), the init's imports ({init_total / 1000:.1f} ms, "
          "python -X importtime) and the kernel's work; `imports` are the CLI's (PyYAML and the Pod model), "
          "which a long-running supervisor pays once; the sandbox includes importing pyroute2 (about 200 ms) for "
          "the pod's veth pair.")


if __name__ == "__main__":
    main()
