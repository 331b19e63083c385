"""A pod's usage from the cgroups its runtime record names (the pod's group and each container's):
what ``podbay top`` prints and the API gives the TUI. Reads files only; no supervisor involved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podbay.runtime.cgroups.stats import Usage, read_usage


@dataclass(frozen=True)
class PodUsage:
    namespace: str
    name: str
    pod: Usage | None  # the pod's own group (every container and the pause process)
    containers: dict[str, Usage]


def pod_usage(namespace: str, name: str, runtime: dict[str, Any]) -> PodUsage:
    group = runtime.get("cgroup") or ""
    containers = {}
    for container, info in runtime.get("containers", {}).items():
        if info.get("cgroup") and info.get("pid"):
            found = read_usage(Path(info["cgroup"]))
            if found is not None:
                containers[container] = found
    return PodUsage(namespace, name, read_usage(Path(group)) if group else None, containers)


def binary_size(value: float) -> str:
    """Memory as kubectl top prints it: Ki, Mi, Gi."""
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if value >= size:
            return f"{value / size:.0f}{unit}"
    return f"{value:.0f}"


def millicores(cores: float) -> str:
    return f"{cores * 1000:.0f}m"
