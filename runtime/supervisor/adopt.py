"""Taking over the pods an earlier supervisor ran (it was killed, or stopped and started again).

The state store has each live pod's runtime record: the descriptor numbers the keeper holds
(namespaces, pipes), each container's pid and start time, folders and process settings. The
new supervisor reopens the descriptors through ``/proc/KEEPER/fd/N``, re-takes the pod's IP
lease and host ports, and watches the containers still running with pidfds. It is not their
parent, so their exit codes are lost: they end as ``ContainerStatusUnknown`` (137), as the
kubelet reports a container it could not see end. Pods whose descriptors are gone (the
keeper was killed too) are cleaned up and reported as lost, never shown as running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podbay.runtime.cgroups.manager import CgroupError
from podbay.runtime.idmap import default_mapping
from podbay.runtime.images.store import ImageStore
from podbay.runtime.lifecycle.status import LIMITS_CONDITION, PAUSED_CONDITION, is_paused, parse_time
from podbay.runtime.network import rootless
from podbay.runtime.network.ipam import Ipam, Lease
from podbay.runtime.pod import hostports
from podbay.runtime.pod.sandbox import Sandbox
from podbay.runtime.pod.volumes import PodVolumes
from podbay.runtime.process import launcher
from podbay.runtime.process.liveness import alive
from podbay.runtime.process.userns import UsernsError, remove_tree
from podbay.runtime.spec.pod import spec_of
from podbay.runtime.state.store import PodRecord
from podbay.runtime.supervisor.container import UNKNOWN_EXIT
from podbay.runtime.supervisor.keeper import Keeper, KeeperError
from podbay.runtime.supervisor.logsink import LogSink

if TYPE_CHECKING:
    from podbay.runtime.supervisor.daemon import Supervisor
    from podbay.runtime.supervisor.pod_worker import PodWorker

LOST = ("podbay's supervisor and its descriptor keeper were both killed: the pod's namespaces and "
        "processes are gone")


def _sinks(keeper: Keeper, containers: dict[str, Any]) -> dict[str, LogSink]:
    sinks: dict[str, LogSink] = {}
    try:
        for name, info in containers.items():
            out_r, out_w, err_r, err_w = info["pipes"]
            sink = LogSink((keeper.reopen(out_r), keeper.reopen(out_w, os.O_WRONLY)),
                           (keeper.reopen(err_r), keeper.reopen(err_w, os.O_WRONLY)))
            for fd in (sink.stdout[0], sink.stderr[0]):
                os.set_blocking(fd, False)
            sinks[name] = sink
    except (KeeperError, KeyError, ValueError):
        for sink in sinks.values():
            sink.close()
        raise
    return sinks


def worker_for(supervisor: Supervisor, record: PodRecord, make: type[PodWorker]) -> PodWorker | None:
    """A worker to resume this pod, or None when there is nothing to resume (then the record says why)."""
    from podbay.runtime.supervisor.daemon import decode  # noqa: PLC0415

    runtime = record.runtime
    sandbox = runtime.get("sandbox")
    if not sandbox:
        return None  # finished before: its status and logs are all there is
    try:
        pod, objects = decode([record.manifest, *runtime.get("objects", [])])
        fds = {kind: supervisor.keeper.reopen(int(fd)) for kind, fd in sandbox["fds"].items()}
        sinks = _sinks(supervisor.keeper, runtime.get("containers", {}))
    except Exception as err:
        supervisor.log(f"pod {record.namespace}/{record.name} cannot be re-adopted: {err}")
        lost(supervisor, record)
        return None
    worker = make(supervisor, pod, objects, sinks)
    worker.adopting = runtime
    worker.sandbox = Sandbox(pod, Path(sandbox["directory"]), default_mapping(spec_of(pod).host_users), fds=fds,
                             etc_files=dict(sandbox.get("etc_files", {})),
                             volumes=PodVolumes(dict(sandbox.get("volumes", {}))), holder=int(sandbox.get("holder", 0)),
                             host_link=str(sandbox.get("host_link", "")))
    worker.adopted_status = record.status
    return worker


def resume(worker: PodWorker, runtime: dict[str, Any]) -> None:
    """In the worker's thread: network, containers and status picked up where the last supervisor left."""
    supervisor, sandbox = worker.supervisor, worker.sandbox
    assert sandbox is not None
    sandbox_record = runtime["sandbox"]
    folder = supervisor.paths.run_dir / "network"
    if sandbox_record.get("lease"):
        sandbox.lease = Lease(**sandbox_record["lease"])
        sandbox.ipam = Ipam(folder)
        if sandbox_record.get("rootless"):
            sandbox.rootless_net = rootless.current(folder)
        if not sandbox.ipam.adopt(worker.uid, sandbox.lease.address):
            worker.event("Warning", "PodbayWarning", f"address {sandbox.lease.address} was given to another pod "
                                                     "while podbay's supervisor was down")
    status = worker.adopted_status
    worker.cgroups.path = Path(runtime["cgroup"]) if runtime.get("cgroup") else None
    worker.paused = is_paused(status)
    worker.paused_since = next((c.get("lastTransitionTime", "") for c in status.get("conditions", [])
                                if c["type"] == PAUSED_CONDITION), "")
    worker.cgroup_warnings = next(([c["message"]] for c in status.get("conditions", [])
                                   if c["type"] == LIMITS_CONDITION), [])
    by_name = {s["name"]: s for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
               for s in status.get(key, [])}
    worker.initialized = any(c["type"] == "Initialized" and c["status"] == "True"
                             for c in status.get("conditions", []))
    worker.conditions = list(status.get("conditions", []))
    with contextlib.suppress(KeyError, ValueError):
        worker.start_time = parse_time(status["startTime"])
    if worker.spec.active_deadline_seconds:
        worker.deadline = time.monotonic() - (time.time() - worker.start_time) + worker.spec.active_deadline_seconds
    store = ImageStore(supervisor.paths.images)
    for run in worker.runs:
        info = runtime.get("containers", {}).get(run.name, {})
        if run.name in by_name:
            run.status = by_name[run.name]
        run.runs, run.process = int(info.get("runs", 0)), dict(info.get("process", {}))
        image = store.find(run.spec.image)
        if info.get("directory") and image is not None:
            run.launch = launcher.Launch(worker.pod, run.spec, image, sandbox.mapping, Path(info["directory"]),
                                         plan={"process": run.process})
        run.cgroup = Path(info["cgroup"]) if info.get("cgroup") else None
        pid = int(info.get("pid") or 0)
        if pid and alive(pid, str(info.get("start", ""))):
            run.adopted = True
            worker.watch_oom(run)
            run.sink.open(run.log_path(run.runs - 1))  # the run's own file, appended to
            started = run.status.get("state", {}).get("running", {}).get("startedAt")
            run.started_at = time.monotonic() - (time.time() - parse_time(started)) if started else time.monotonic()
            run.watch(pid, worker.post_exit)
            worker.start_probes(run, keep_state=True)
        elif pid:  # it ended while no supervisor watched
            run.set_terminated(UNKNOWN_EXIT, "ContainerStatusUnknown", "the container ended while podbay's "
                               "supervisor was down: its exit status could not be seen")
            worker.after_exit(run, 0.0)
    warnings: list[str] = []
    try:
        worker.ports = hostports.forward(sandbox, warnings)
    except launcher.LaunchError as err:
        warnings.append(f"host ports could not be bound again: {err}")
    for warning in warnings:
        worker.event("Warning", "PodbayWarning", warning)
    worker.event("Normal", "Adopted", f"podbay's supervisor (pid {os.getpid()}) took over the pod after a restart")
    supervisor.keep()
    supervisor.record_runtime(worker)
    worker.created.set()


def remove_folders(supervisor: Supervisor, record: PodRecord) -> None:
    """What a pod left on disk and in the IP leases, when no worker is there to release it (it is lost,
    or the host rebooted): its folders (recorded for this), its address."""
    runtime = record.runtime
    mapping = default_mapping(bool(record.manifest.get("spec", {}).get("hostUsers")))
    for folder in runtime.get("folders", []):
        with contextlib.suppress(UsernsError, OSError):
            remove_tree(str(folder), mapping)
    network = supervisor.paths.run_dir / "network"
    with rootless.locked(network):
        left = Ipam(network).release(record.uid)
        supervisor.log(f"pod {record.namespace}/{record.name} removed; {left} pods keep addresses")
        if left == 0:
            rootless.stop(network)  # the user's rootless network, if any, served only this pod


def remove_cgroups(supervisor: Supervisor, record: PodRecord) -> None:
    """The pod's cgroup tree, with whatever still runs in it (a lost pod's, one of an earlier supervisor's)."""
    if record.runtime.get("cgroup"):
        try:
            supervisor.cgroups.remove(Path(record.runtime["cgroup"]))
        except CgroupError as err:
            supervisor.log(f"pod {record.namespace}/{record.name}: {err}")


def lost(supervisor: Supervisor, record: PodRecord) -> None:
    """Nothing holds the pod any more: end what is left of it and say so in its status."""
    runtime = record.runtime
    for info in runtime.get("containers", {}).values():
        pid = int(info.get("pid") or 0)
        if pid and alive(pid, str(info.get("start", ""))):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    remove_cgroups(supervisor, record)
    remove_folders(supervisor, record)
    status = dict(record.status)
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for entry in status.get(key, []):
            if "running" in entry.get("state", {}):
                entry["state"] = {"terminated": {"exitCode": UNKNOWN_EXIT, "reason": "ContainerStatusUnknown",
                                                 "message": LOST}}
                entry["ready"] = False
    status.update(phase="Failed", reason="PodLost", message=LOST)
    supervisor.store.update(record.uid, status=status, runtime={})
    supervisor.store.record_event(record.uid, "Warning", "PodLost", LOST)
