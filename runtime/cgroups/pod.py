"""One pod's cgroups, for whoever runs the pod (the supervisor's pod worker, the foreground run):
the pod's group with its limits, a group per container run, the infra group of a pause process,
and each process's oom_score_adj, all set before the container's program exists."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from pathlib import Path

from podbay.runtime.cgroups.hierarchy import detect
from podbay.runtime.cgroups.manager import INFRA, CgroupError, Cgroups
from podbay.runtime.cgroups.resources import Limits, container_limits, oom_score_adj, pod_limits
from podbay.runtime.settings import Settings
from podbay.runtime.spec.pod import Container, Pod, meta_of, spec_of

__all__ = ["CgroupError", "PodCgroups", "host_cgroups", "memory_capacity"]


def host_cgroups(settings: Settings) -> Cgroups:
    return Cgroups(detect(settings))


def memory_capacity() -> int:
    """The node's memory, which Burstable oom_score_adj values are a share of."""
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 1


def set_oom_score_adj(pid: int, value: int) -> str:
    """Write a process's oom_score_adj; "" or a warning (lowering it needs CAP_SYS_RESOURCE)."""
    try:
        with open(f"/proc/{pid}/oom_score_adj", "w") as handle:
            handle.write(str(value))
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EPERM):
            return (f"oom_score_adj {value} not set: lowering it needs CAP_SYS_RESOURCE, which this podbay "
                    "process does not have (rootless, or a restricted root)")
        raise
    return ""


class PodCgroups:
    def __init__(self, cgroups: Cgroups, pod: Pod, settings: Settings, path: Path | None = None) -> None:
        self.cgroups, self.pod, self.settings = cgroups, pod, settings
        self.path = path or cgroups.pod_path(meta_of(pod).uid)
        self.capacity = memory_capacity()
        self.adj_warnings: set[str] = set()

    def warnings(self) -> list[str]:
        """What the pod asks that this host cannot enforce (CgroupError when cgroups are required)."""
        wanted: dict[str, list[str]] = {}
        spec = spec_of(self.pod)
        for limits in [pod_limits(self.pod, pids_limit=self.settings.pod_pids_limit)] + [
                container_limits(c) for c in spec.init_containers + spec.containers]:
            for controller, items in limits.wanted.items():
                wanted.setdefault(controller, []).extend(items)
        return self.cgroups.warnings(wanted)

    def create(self) -> None:
        if self.path is not None:
            self.cgroups.create(self.path, pod_limits(self.pod, pids_limit=self.settings.pod_pids_limit),
                                parent=True)

    def infra(self) -> Path | None:
        """The group of the pod's pause process (shareProcessNamespace), made now."""
        if self.path is None:
            return None
        path = self.path / INFRA
        self.cgroups.create(path, Limits())
        return path

    def container(self, container: Container) -> Path | None:
        """A fresh group for a container's run (a leftover of its previous run is removed first)."""
        if self.path is None:
            return None
        path = self.path / container.name
        self.cgroups.remove(path)
        self.cgroups.create(path, container_limits(container, swap_max=self.settings.swap_max))
        return path

    def placer(self, container: Container | None, path: Path | None,
               warn: Callable[[str], None]) -> Callable[[int], None]:
        """What the launcher calls with the init's pid before the container's program exists:
        into ``path``, and the kubelet's oom_score_adj for the container."""
        adjust = oom_score_adj(self.pod, container, self.capacity) if container is not None else None

        def place(pid: int) -> None:
            self.cgroups.attach(path, pid)
            if adjust is not None:
                message = set_oom_score_adj(pid, adjust)
                if message and message not in self.adj_warnings:  # once per pod, not per restart
                    self.adj_warnings.add(message)
                    warn(f"container {container.name if container else INFRA}: {message}")
        return place

    def oom_killed(self, path: Path | None) -> bool:
        return self.cgroups.oom_kills(path) > 0

    def remove_run(self, path: Path | None) -> None:
        """A container run's group (none: nothing to do)."""
        self.cgroups.remove(path)

    def remove_pod(self) -> None:
        """The pod's whole tree, with whatever still runs in it."""
        self.cgroups.remove(self.path)
