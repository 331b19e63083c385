"""Ephemeral containers (``podbay debug``) in a pod worker: added to a running pod, started in its
sandbox (with ``--target``, in the target's pid namespace), never restarted, and with ``--rm``
removed from the pod's spec, status and logs when they end. Called in the pod worker's thread."""

from __future__ import annotations

import copy
import os
import shutil
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podbay.runtime.process import launcher
from podbay.runtime.spec.pod import EphemeralContainer
from podbay.runtime.supervisor.container import ContainerRun
from podbay.runtime.supervisor.logsink import LogSink

if TYPE_CHECKING:
    from podbay.runtime.supervisor.pod_worker import PodWorker


@dataclass
class AddEphemeral:
    """A validated ephemeral container to add and start (``remove``: --rm), posted to the worker."""

    container: EphemeralContainer
    manifest: dict[str, Any]  # the pod's manifest with it added
    remove: bool
    done: threading.Event
    error: str = ""


def new_run(worker: PodWorker, container: EphemeralContainer, sink: LogSink) -> ContainerRun:
    run = ContainerRun(container, "ephemeral", sink, worker.log_root / container.name)
    run.initial_status(container.image, "ContainerCreating")
    worker.runs.append(run)
    return run


def add(worker: PodWorker, item: AddEphemeral) -> None:
    try:
        if worker.finished or worker.deleting is not None or worker.sandbox is None:
            item.error = f"pod {worker.name} is not running: an ephemeral container cannot be added"
            return
        run = new_run(worker, item.container, LogSink.create())
        run.remove_on_exit = item.remove
        mapping = worker.sandbox.mapping
        if os.geteuid() == 0 and not mapping.identity:  # as the pod's other containers' pipes
            for fd in run.sink.fds:
                os.fchown(fd, mapping.to_host(0), mapping.to_host(0, group=True))
        worker.supervisor.pump.add(run.sink)
        worker.spec.ephemeral_containers.append(item.container)
        worker.supervisor.store.update(worker.uid, manifest=item.manifest)
        worker.supervisor.keep()
        worker.start_container(run)
        worker.publish()
    finally:
        item.done.set()


def target_namespace(worker: PodWorker, run: ContainerRun) -> dict[str, int]:
    """--target: the target container's pid namespace for the debug container to join ({} for others)."""
    target = getattr(run.spec, "target_container_name", "")
    if not target:
        return {}
    running = next((r for r in worker.runs if r.name == target and r.running), None)
    if running is None:
        raise launcher.LaunchError(f"container {run.name}: the target container {target} is not running")
    try:
        return {"pid": os.open(f"/proc/{running.pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)}
    except OSError as err:
        raise launcher.LaunchError(f"container {run.name}: the target container {target}: {err}") from err


def remove(worker: PodWorker, run: ContainerRun) -> None:
    """--rm: the finished debug container leaves the pod's spec, status and logs."""
    worker.discard(run)
    worker.supervisor.pump.remove(run.sink)
    run.sink.close()
    worker.runs.remove(run)
    worker.spec.ephemeral_containers[:] = [c for c in worker.spec.ephemeral_containers if c.name != run.name]
    record = worker.supervisor.store.pod(worker.namespace, worker.name)
    if record is not None:
        manifest = copy.deepcopy(record.manifest)
        spec = manifest.get("spec", {})
        spec["ephemeralContainers"] = [c for c in spec.get("ephemeralContainers", []) if c.get("name") != run.name]
        if not spec["ephemeralContainers"]:
            del spec["ephemeralContainers"]
        worker.supervisor.store.update(worker.uid, manifest=manifest)
    shutil.rmtree(run.log_dir, ignore_errors=True)
    worker.supervisor.record_runtime(worker)
    worker.supervisor.keep()
