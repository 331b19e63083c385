"""``podbay top pod [NAME]`` and ``podbay top node``: kubectl top's columns (CPU in millicores over a
short interval, memory as the working set), plus CPU throttling, pids and pressure (PSI some avg10
for cpu, memory and io)."""

from __future__ import annotations

import sys
import time

from podbay.runtime import settings
from podbay.runtime.cgroups.hierarchy import detect
from podbay.runtime.cgroups.podusage import binary_size, millicores, pod_usage
from podbay.runtime.cgroups.stats import Usage, cpu_cores, node_cores, read_node
from podbay.runtime.cli.records import open_store
from podbay.runtime.cli.table import table
from podbay.runtime.paths import Paths

INTERVAL = 1.0  # seconds between the two CPU samples


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _psi(usage: Usage | None) -> str:
    if usage is None or not usage.pressure:
        return "-"
    return "/".join(f"{usage.pressure[k]:.0f}" if k in usage.pressure else "-" for k in ("cpu", "memory", "io"))


def _throttled(before: Usage | None, after: Usage | None) -> str:
    if before is None or after is None or not after.nr_periods:
        return "-"
    periods = after.nr_periods - before.nr_periods
    throttled = after.nr_throttled - before.nr_throttled
    return f"{100 * throttled / periods:.0f}%" if periods > 0 else "0%"


def _row(name: str, before: Usage | None, after: Usage | None) -> list[str]:
    if after is None:
        return [name, "-", "-", "-", "-", "-"]
    cores = cpu_cores(before, after) if before is not None else 0.0
    pids = f"{after.pids}" + (f"/{after.pids_max}" if after.pids_max else "")
    return [name, millicores(cores), binary_size(after.working_set), _throttled(before, after), pids, _psi(after)]


def top_pods(paths: Paths, names: list[str], namespace: str | None, containers: bool) -> int:
    store = open_store(paths)
    records = [r for r in store.pods(namespace) if not names or r.name in names]
    missing = [n for n in names if n not in {r.name for r in records}]
    if missing:
        return _err(f'pods "{missing[0]}" not found')
    before = {r.uid: pod_usage(r.namespace, r.name, r.runtime) for r in records}
    if not any(u.pod for u in before.values()):
        why = detect(settings.load()).why_missing if records else ""
        return _err("no usage figures: " + (f"podbay's pods have no cgroups here (the controllers are not "
                                            f"available {why})" if why else "no running pod has a cgroup"))
    time.sleep(INTERVAL)
    after = {r.uid: pod_usage(r.namespace, r.name, r.runtime) for r in records}
    rows = [["POD" if containers else "NAME"] + (["CONTAINER"] if containers else []) +
            ["CPU(cores)", "MEMORY(bytes)", "THROTTLED", "PIDS", "PSI(cpu/mem/io %)"]]
    for record in records:
        first, last = before[record.uid], after[record.uid]
        if last.pod is None:
            continue
        if containers:
            rows += [[record.name] + _row(c, first.containers.get(c), u) for c, u in last.containers.items()]
        else:
            rows.append(_row(record.name, first.pod, last.pod))
    print(table(rows))
    return 0


def top_node() -> int:
    first = read_node()
    time.sleep(INTERVAL)
    last = read_node()
    cores = node_cores(first, last)
    psi = "/".join(f"{last.pressure[k]:.0f}" if k in last.pressure else "-" for k in ("cpu", "memory", "io"))
    rows = [["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%", "PSI(cpu/mem/io %)"],
            ["localhost", millicores(cores), f"{100 * cores / last.cpus:.0f}%", binary_size(last.working_set),
             f"{100 * last.working_set / max(last.memory_total, 1):.0f}%", psi if last.pressure else "-"]]
    print(table(rows))
    return 0

