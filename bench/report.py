"""Turn hyperfine's JSON into a table of medians and ratios (to crun and to podbay)."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text())["results"]
    medians = {r["command"]: r["median"] * 1000 for r in data}
    crun = next((v for k, v in medians.items() if k.startswith("crun")), None)
    podbay = next((v for k, v in medians.items() if k.startswith("podbay")), None)
    title = os.environ.get("BENCH_TITLE", "Start-up of /bin/true")
    print(f"# {title}, {len(data[0]['times'])} runs each ({platform.node()}, {platform.release()})\n")
    print("| what | median ms | min ms | x crun | x podbay |")
    print("|---|---:|---:|---:|---:|")
    for result in data:
        median = medians[result["command"]]
        ratios = [f"{median / base:.2f}" if base else "" for base in (crun, podbay)]
        print(f"| {result['command']} | {median:.1f} | {min(result['times']) * 1000:.1f} | {' | '.join(ratios)} |")
    if len(sys.argv) > 2:
        print()
        print(Path(sys.argv[2]).read_text())
    if len(sys.argv) > 4:
        pods = json.loads(Path(sys.argv[3]).read_text())["results"]
        print(f"\n## A two-container pod with networking, start to finish ({len(pods[0]['times'])} runs)\n")
        print("| what | median ms | min ms |")
        print("|---|---:|---:|")
        for result in pods:
            print(f"| {result['command']} | {result['median'] * 1000:.1f} | {min(result['times']) * 1000:.1f} |")
        if len(pods) == 1:
            why = Path(sys.argv[4]).read_text().strip().splitlines()[-1:] or ["?"]
            print(f"| podman kube play | not runnable here | `{why[0]}`: podman's pods need a cgroup of "
                  "their own, which needs a writable cgroup tree (the cgroup v2 VM) |")


if __name__ == "__main__":
    main()
