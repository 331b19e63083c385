"""One pod's life under the supervisor, as the kubelet's pod worker drives it.

A thread per pod. It makes the sandbox, then runs a loop: wait for something to happen (a
container exited, a probe changed its result, a backoff or deadline ran out, a delete was
asked), then ``sync``, which starts whatever should run now:

- init containers one at a time, each to completion (a failure is retried with backoff, or
  fails the pod under ``restartPolicy: Never``); a sidecar (an init container with
  ``restartPolicy: Always``) only has to be *started* (running, startup probe passed) before
  the next one starts, and is restarted whenever it exits;
- then every app container, restarted per the pod's restartPolicy with the crash-loop backoff;
- when no app container runs or will run again, the sidecars stop in reverse order and the
  pod's sandbox is released; the pod keeps its status and logs until it is deleted.

Deletion stops app containers (preStop, then the stop signal, then SIGKILL after the grace
period), then sidecars in reverse order, then releases everything.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import queue
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podbay.runtime.cgroups.pod import CgroupError, PodCgroups
from podbay.runtime.images.policy import ImageError, pull_secrets
from podbay.runtime.lifecycle import handlers
from podbay.runtime.lifecycle import status as pod_status
from podbay.runtime.lifecycle.restarts import CrashLoopBackoff, backoff_message, restarts, terminated_reason
from podbay.runtime.network import podsockets
from podbay.runtime.pod import hostports
from podbay.runtime.pod import sandbox as pod_sandbox
from podbay.runtime.pod.config import PodObjects
from podbay.runtime.pod.unenforced import unenforced
from podbay.runtime.process import launcher
from podbay.runtime.process.plan import PodContext
from podbay.runtime.spec.pod import Container, EphemeralContainer, LifecycleHandler, Pod, meta_of, spec_of
from podbay.runtime.supervisor import adopt, ephemeral
from podbay.runtime.supervisor.container import UNKNOWN_EXIT, ContainerRun
from podbay.runtime.supervisor.logsink import LogSink
from podbay.runtime.supervisor.probes import ProbeWorker

if TYPE_CHECKING:
    from podbay.runtime.supervisor.daemon import Supervisor

KILL_WAIT = 10.0  # after SIGKILL, how long to wait for the exit to be seen
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


@dataclass
class Exited:
    run: ContainerRun
    number: int
    code: int | None


@dataclass
class ProbeResult:
    run: ContainerRun
    number: int
    kind: str
    ok: bool
    message: str


@dataclass
class Delete:
    grace: int | None
    done: threading.Event


@dataclass
class Restart:
    """``podbay restart``: stop one container (preStop, stop signal, grace) and start it again at once."""
    container: str
    grace: int | None
    done: threading.Event
    error: str = ""


@dataclass
class Pause:
    """``podbay pause|unpause``: freeze or thaw the pod's cgroup."""
    frozen: bool
    done: threading.Event
    error: str = ""


WorkItem = Exited | ProbeResult | Delete | Restart | Pause | ephemeral.AddEphemeral  # what a pod worker waits for


def stop_signal(container: Container, launch: launcher.Launch | None) -> int:
    """lifecycle.stopSignal, else the image's STOPSIGNAL, else SIGTERM."""
    name = (container.lifecycle.stop_signal if container.lifecycle else "") or (
        launch.image.image_config.stop_signal if launch else "") or "SIGTERM"
    if name.isdigit():
        return int(name)
    name = name if name.startswith("SIG") else "SIG" + name
    for base, sign in (("SIGRTMIN+", 1), ("SIGRTMAX-", -1)):
        if name.startswith(base) and name[len(base):].isdigit():
            return int(getattr(signal, base[:-1])) + sign * int(name[len(base):])
    return int(getattr(signal, name, signal.SIGTERM))


def _waiting_reason(message: str) -> str:
    for reason in ("ErrImageNeverPull", "CreateContainerConfigError"):
        if reason in message:
            return reason
    if "is not in the local store" in message:
        return "ErrImagePull"
    if "runAsNonRoot" in message:  # the kubelet's verifyRunAsNonRoot fails the container's config
        return "CreateContainerConfigError"
    return "CreateContainerError"


class PodWorker:
    def __init__(self, supervisor: Supervisor, pod: Pod, objects: PodObjects,
                 sinks: dict[str, LogSink] | None = None) -> None:
        meta = meta_of(pod)
        self.thread = threading.Thread(target=self.run, name=f"pod {meta.namespace}/{meta.name}", daemon=True)
        self.supervisor, self.pod, self.objects = supervisor, pod, objects
        self.spec = spec_of(pod)
        self.uid, self.name, self.namespace = meta.uid, meta.name, meta.namespace or "default"
        self.events: queue.Queue[WorkItem | None] = queue.Queue()
        self.sandbox: pod_sandbox.Sandbox | None = None
        self.backoff = CrashLoopBackoff.from_environment()
        self.log_root = supervisor.paths.data_dir / "logs" / f"{self.namespace}_{self.name}_{self.uid}"
        self.runs: list[ContainerRun] = []
        for kind, containers in (("init", self.spec.init_containers), ("app", self.spec.containers)):
            for container in containers:
                real_kind = "sidecar" if kind == "init" and pod_status.is_sidecar(container) else kind
                sink = sinks[container.name] if sinks else LogSink.create()
                run = ContainerRun(container, real_kind, sink, self.log_root / container.name)
                run.initial_status(container.image, "PodInitializing" if self.spec.init_containers else
                                   "ContainerCreating")
                self.runs.append(run)
        for debug in self.spec.ephemeral_containers:  # added by `podbay debug` before a supervisor restart
            ephemeral.new_run(self, debug, sinks[debug.name] if sinks else LogSink.create())
        self.initialized = not self.spec.init_containers
        self.finished = False  # every container is done and the sandbox released
        self.failure: tuple[str, str] | None = None  # (reason, message) that failed the whole pod
        self.start_time = time.time()
        self.deadline = (time.monotonic() + self.spec.active_deadline_seconds
                         if self.spec.active_deadline_seconds else None)
        self.conditions: list[dict[str, Any]] = []
        self.created = threading.Event()
        self.cancel_pulls = threading.Event()  # set as a delete is asked: a pull in progress ends at once
        self.create_error = ""
        self.deleting: Delete | None = None
        self.last_ip = ""
        self.deleting_since = ""
        self.ports: hostports.Forwarding | None = None
        self.adopting: dict[str, Any] | None = None  # the runtime record of a pod an earlier supervisor ran
        self.adopted_status: dict[str, Any] = {}  # and the status it had then
        self.published: dict[str, Any] = {}
        self.objects_data: list[dict[str, Any]] = []  # its ConfigMaps and Secrets, as the CLI sent them
        grace = self.spec.termination_grace_period_seconds
        self.grace = 30 if grace is None else grace
        self.cgroups = PodCgroups(supervisor.cgroups, pod, supervisor.settings)
        self.warnings: list[str] = []
        self.cgroup_warnings: list[str] = []  # limits not enforced: a condition of the status says so
        self.paused = False
        self.paused_since = ""
        self.created_text = pod_status.now_text(self.start_time)

    # --- helpers -----------------------------------------------------------------------------

    def _warn(self, message: str) -> None:
        self.event("Warning", "PodbayWarning", message)

    def event(self, type_: str, reason: str, message: str, run: ContainerRun | None = None) -> None:
        """An event about the pod, or about one of its containers (the kubelet's fieldPath)."""
        self.supervisor.store.record_event(self.uid, type_, reason, message, run.field_path if run else "")

    def post_exit(self, run: ContainerRun, number: int, code: int | None) -> None:
        self.events.put(Exited(run, number, code))

    def start(self) -> None:
        self.thread.start()

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def delete(self, grace: int | None) -> threading.Event:
        done = threading.Event()
        self.cancel_pulls.set()  # the worker may be inside a pull: the Delete waits behind it otherwise
        self.events.put(Delete(grace, done))
        return done

    def _context(self, join: dict[str, int] | None = None) -> PodContext:
        assert self.sandbox is not None
        return PodContext(self.sandbox.mapping, {**self.sandbox.fds, **(join or {})}, self.sandbox.etc_files,
                          self.sandbox.volumes.sources, self.objects, pod_ip=self.sandbox.pod_ip)

    def sockets(self) -> handlers.SocketFactory:
        """Sockets in the pod's network namespace (probes, hooks, port-forward)."""
        assert self.sandbox is not None
        net = self.sandbox.fds.get("net")
        if net is None:
            return podsockets.host_socket
        if self.sandbox.rootless_net is not None:
            helper = self.supervisor.rootless_sockets
            return lambda family, kind: helper.make(net, family, kind)
        return lambda family, kind: podsockets.rootful_socket(net, family, kind)

    def _target(self, run: ContainerRun) -> handlers.Target:
        assert self.sandbox is not None
        ports = {p.name: p.container_port for p in run.spec.ports if p.name}
        return handlers.Target(run.name, run.pid, run.process, self.sandbox.pod_ip, ports, self.sockets())

    # --- the thread --------------------------------------------------------------------------

    def run(self) -> None:
        try:
            if self.adopting is not None:
                adopt.resume(self, self.adopting)
            elif not self._create():
                return
            self._loop()
        except Exception as err:  # a bug must not take the supervisor down; the pod says what happened
            self.supervisor.log(f"pod {self.namespace}/{self.name}: {traceback.format_exc()}")
            with contextlib.suppress(Exception):
                self._fail("InternalError", "podbay's supervisor failed on this pod: see its supervisor.log")
            if not self.created.is_set():  # the caller is told, and the pod is not kept half-made
                self.create_error = f"pod {self.name}: podbay's supervisor failed: {err}"
                self.created.set()
                return
            self.publish()
        finally:
            self._refuse_waiting("being deleted" if self.deleting is not None else "completed")
            if self.deleting is not None:
                self._remove()
                self.deleting.done.set()
            elif self.sandbox is None:  # finished: status and logs stay in the store until deleted
                self._close_sinks()
                self.supervisor.forget(self)

    def _refuse_waiting(self, state: str) -> None:
        """Requests queued when the worker stopped taking them are answered now, not left to time out."""
        while True:
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, (ephemeral.AddEphemeral, Restart, Pause)):
                item.error = f"pod {self.name} is {state}"
                item.done.set()
            # A second Delete's caller stops waiting when this thread ends (the daemon watches is_alive).

    def _create(self) -> bool:
        try:
            self.cgroup_warnings = self.cgroups.warnings()
            self.cgroups.create()
            infra = self.cgroups.infra() if self.spec.share_process_namespace else None
            self.sandbox = pod_sandbox.create(self.pod, self.supervisor.paths, self.objects,
                                              place=self.cgroups.placer(None, infra, self._warn))
            self.warnings = list(self.sandbox.warnings) + self.cgroup_warnings + unenforced(self.pod)
            self.ports = hostports.forward(self.sandbox, self.warnings)
        except (launcher.LaunchError, CgroupError) as err:
            self.create_error = f"pod {self.name}: {err}" if isinstance(err, CgroupError) else str(err)
            if self.sandbox is not None:
                with contextlib.suppress(launcher.LaunchError):
                    pod_sandbox.destroy(self.sandbox)
                self.sandbox = None
            with contextlib.suppress(CgroupError):
                self.cgroups.remove_pod()
            self.created.set()  # the pipes are closed on the way out (run's finally)
            return False
        for warning in self.warnings:
            self.event("Warning", "PodbayWarning", warning)
        mapping = self.sandbox.mapping
        if os.geteuid() == 0 and not mapping.identity:
            for run in self.runs:  # the container's root owns its stdout, as with a terminal: /proc/1/fd/1 works
                for fd in run.sink.fds:
                    os.fchown(fd, mapping.to_host(0), mapping.to_host(0, group=True))
        self.supervisor.keep()
        self.publish()
        self.created.set()
        return True

    def _loop(self) -> None:
        while self.deleting is None and not self.finished:
            self._sync()
            self.publish()
            try:
                item = self.events.get(timeout=self._next_timer())
            except queue.Empty:
                item = None
            while item is not None:
                self._handle(item)
                if self.deleting is not None:  # what came after the delete is answered as the worker ends
                    break
                try:
                    item = self.events.get_nowait()
                except queue.Empty:
                    item = None
        if self.deleting is not None:
            if self.paused:  # thawed first: a frozen container could not run its preStop hook or see SIGTERM
                with contextlib.suppress(CgroupError):
                    self.cgroups.cgroups.freeze(self.cgroups.path, False)
                self.paused = False
            self._stop_all(self.grace if self.deleting.grace is None else self.deleting.grace)

    def _next_timer(self) -> float | None:
        now = time.monotonic()
        times = [run.next_start for run in self.runs if not run.running and run.next_start > now]
        if self.deadline is not None:
            times.append(self.deadline)
        return max(min(times) - now, 0.01) if times else None

    def _handle(self, item: WorkItem) -> None:
        if isinstance(item, ephemeral.AddEphemeral):
            ephemeral.add(self, item)
        elif isinstance(item, Restart):
            self._restart(item)
        elif isinstance(item, Pause):
            self._pause(item)
        elif isinstance(item, Delete):
            self.deleting = item
            self.deleting_since = pod_status.now_text()
            self.supervisor.record_runtime(self)
        elif isinstance(item, Exited):
            if item.number == item.run.runs and item.run.running:
                self._exited(item.run, item.code)
        elif item.number == item.run.runs and item.run.running:
            self._probe_result(item)

    # --- sync: what should run now -----------------------------------------------------------

    def _sync(self) -> None:
        if self.finished or self.sandbox is None:
            return
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.event("Warning", "DeadlineExceeded", DEADLINE_MESSAGE)
            self._fail("DeadlineExceeded", DEADLINE_MESSAGE)
            return
        now = time.monotonic()
        for run in self.runs:
            if run.kind == "ephemeral":  # started once by `podbay debug`, never restarted; one that could not
                if run.runs == 0 and not run.running and 0 < run.next_start <= now:  # be created is retried
                    self.start_container(run)
                continue
            if run.kind == "init":
                if run.succeeded or self.initialized:
                    continue
                if run.running or run.next_start > now:
                    return
                if run.runs and not restarts(self.spec.restart_policy, run.last_exit or 1):
                    self._fail("", "")  # restartPolicy Never: a failed init container fails the pod
                    return
                self.start_container(run)
                return
            if run.kind == "sidecar":
                if not run.running and run.next_start <= now:
                    self.start_container(run)
                if not self.initialized and not (run.running and run.status.get("started")):
                    return  # the next init container waits until this sidecar has started
                continue
            if not run.running and run.next_start <= now and (
                    run.runs == 0 or run.restart_asked or restarts(self.spec.restart_policy, run.last_exit or 0)):
                self.start_container(run)
        self.initialized = True
        apps = [run for run in self.runs if run.kind == "app"]
        if all(not run.running and run.runs and not restarts(self.spec.restart_policy, run.last_exit or 0)
               for run in apps):
            self._complete()

    def start_container(self, run: ContainerRun) -> None:
        if run.launch is not None:
            self.discard(run)
        join: dict[str, int] = {}
        try:
            said = functools.partial(self.event, run=run)
            secrets = pull_secrets(self.spec.image_pull_secrets, self.objects.secrets, said)
            self.supervisor.images.ensure(run.spec.image, run.spec.image_pull_policy, self.uid, said,
                                          secrets=secrets, cancel=self.cancel_pulls)
        except ImageError as err:
            run.set_waiting(err.reason, err.message)
            run.next_start = time.monotonic() + err.retry_in
            return
        try:
            join = ephemeral.target_namespace(self, run)
            launch = launcher.prepare(self.pod, run.spec, self.supervisor.paths, self._context(join),
                                      self.supervisor.rootfs_mode)
        except launcher.LaunchError as err:
            for fd in join.values():
                os.close(fd)
            run.set_waiting(_waiting_reason(str(err)), str(err))
            self.event("Warning", "Failed", f"Error: {err}", run)
            run.next_start = time.monotonic() + self.backoff.exited(run.name, time.monotonic(), 0) + 1
            return
        run.launch, run.restart_asked = launch, False
        run.process = dict(launch.plan["process"])  # type: ignore[call-overload]
        run.sink.open(run.log_path(run.runs))
        self.event("Normal", "Created", f"Created container: {run.name}", run)
        stdin_read = -1
        if run.spec.stdin and not run.spec.tty:  # attach's input; with a tty it goes to the terminal
            stdin_read, run.stdin_write = os.pipe()
            os.set_inheritable(run.stdin_write, False)
        try:
            run.cgroup = self.cgroups.container(run.spec)
            self.watch_oom(run)
            with open("/dev/null", "rb") as devnull:
                pid = launcher.start(launch, stdin_read if stdin_read >= 0 else devnull, run.sink.stdout[1],
                                     run.sink.stderr[1], on_log=functools.partial(self.event, "Normal", "PodbayLog",
                                                                                  run=run),
                                     place=self.cgroups.placer(run.spec, run.cgroup, self._warn))
        except (launcher.LaunchError, CgroupError) as err:
            run.close_stdin()
            run.count_run()
            run.set_terminated(128, "ContainerCannotRun", str(err))
            run.sink.finish()
            self.event("Warning", "Failed", f"Error: {err}", run)
            self.after_exit(run, 0.0)
            return
        finally:
            if stdin_read >= 0:
                os.close(stdin_read)
            for fd in join.values():
                os.close(fd)
        if launch.terminal >= 0:
            self.supervisor.pump.watch_terminal(run.sink, launch.terminal)
            launch.terminal = -1
        run.set_running(launch)
        run.started_at = time.monotonic()
        run.stopping = False
        run.watch(pid, self.post_exit)
        self.supervisor.record_runtime(self)
        self.event("Normal", "Started", f"Started container {run.name}", run)
        self.start_probes(run)
        hook = run.spec.lifecycle.post_start if run.spec.lifecycle else None
        if hook is not None:
            self._post_start(run, hook)

    def _post_start(self, run: ContainerRun, hook: LifecycleHandler) -> None:
        outcome = handlers.run(hook, self._target(run), float(max(self.grace, 1)))
        if not outcome.ok:
            message = f"PostStartHook failed: {outcome.message}".strip()
            self.event("Warning", "FailedPostStartHook", message, run)
            run.stopping = True
            run.signal(signal.SIGKILL)

    def start_probes(self, run: ContainerRun, *, keep_state: bool = False) -> None:
        """Probe workers for the run; without a startup probe it is started at once, and ready too
        without a readiness probe (``keep_state``: a re-adopted run keeps what its status says)."""
        spec = run.spec
        if run.kind == "init":
            return
        if spec.startup_probe is None and not keep_state:
            run.status["started"] = True
            if spec.readiness_probe is None:
                run.status["ready"] = True
        number = run.runs
        for kind, probe in (("startup", spec.startup_probe), ("liveness", spec.liveness_probe),
                            ("readiness", spec.readiness_probe)):
            if probe is None or (kind == "liveness" and run.kind == "init"):
                continue
            worker = ProbeWorker(kind, probe, self._target(run), post=self._probe_poster(run, number),
                                 event=functools.partial(self.event, run=run),
                                 started=functools.partial(self._probing, run))
            run.probes.append(worker)
            worker.start()

    def _probing(self, run: ContainerRun) -> bool:
        """Liveness and readiness probe a started container, never a paused one."""
        return run.is_started() and not self.paused

    def _probe_poster(self, run: ContainerRun, number: int) -> Callable[[str, bool, str], None]:
        return lambda kind, ok, message: self.events.put(ProbeResult(run, number, kind, ok, message))

    def _probe_result(self, item: ProbeResult) -> None:
        run = item.run
        if item.kind == "readiness":
            run.status["ready"] = item.ok and bool(run.status.get("started"))
        elif item.kind == "startup" and item.ok:
            run.status["started"] = True
            if run.spec.readiness_probe is None:
                run.status["ready"] = True
        elif not item.ok:  # liveness, or startup giving up: the kubelet kills and restarts the container
            words = "liveness" if item.kind == "liveness" else "startup"
            self.event("Normal", "Killing", f"Container {run.name} failed {words} probe, will be restarted", run)
            probe = run.spec.liveness_probe if item.kind == "liveness" else run.spec.startup_probe
            grace = probe.termination_grace_period_seconds if probe else None
            grace = self.grace if grace is None else grace
            self._stop_runs([run], time.monotonic() + grace, announce=False)

    # --- ephemeral containers (supervisor/ephemeral.py) ---------------------------------------

    def add_ephemeral(self, container: EphemeralContainer, manifest: dict[str, Any], remove: bool) -> str:
        """From a request thread: the worker adds and starts it; returns an error text or ""."""
        item = ephemeral.AddEphemeral(container, manifest, remove, threading.Event())
        self.events.put(item)
        if not item.done.wait(launcher.HANDSHAKE_TIMEOUT + 30):
            return f"pod {self.name}: the debug container did not start in time"
        return item.error

    # --- restart (podbay restart) -------------------------------------------------------------

    def restart_container(self, container: str, grace: int | None) -> str:
        """From a request thread: the worker restarts the container; returns an error text or ""."""
        item = Restart(container, grace, threading.Event())
        self.events.put(item)
        wait = (self.grace if grace is None else grace) + KILL_WAIT + launcher.HANDSHAKE_TIMEOUT
        if not item.done.wait(wait):
            return f"pod {self.name}: container {container} did not restart in time"
        return item.error

    def _restart(self, item: Restart) -> None:
        """Kubernetes has no such call (crictl stop leaves the restart to the policy): podbay's restart
        runs the container again whatever the policy, at once, and counts it as a restart."""
        run = next((r for r in self.runs if r.name == item.container), None)
        if run is None:
            item.error = f"container {item.container} is not valid for pod {self.name}"
        elif run.kind in ("init", "ephemeral"):
            item.error = (f"container {run.name} is an {'init' if run.kind == 'init' else 'ephemeral'} container: "
                          "only app containers and sidecars can be restarted")
        elif run.runs == 0:
            item.error = f"container {run.name} has not started yet"
        else:
            run.restart_asked = True  # first: its exit schedules no back-off
            if run.running:
                self.event("Normal", "Killing", f"Stopping container {run.name} to restart it", run)
                grace = self.grace if item.grace is None else item.grace
                self._stop_runs([run], time.monotonic() + grace, announce=False)
            run.next_start = 0.0
            self._sync()
            if not run.running:
                state: dict[str, Any] = next(iter(run.status["state"].values()), {})
                item.error = f"container {run.name} did not start: {state.get('message') or 'see the pod events'}"
        item.done.set()

    # --- pause (podbay pause|unpause) -------------------------------------------------------

    def pause(self, frozen: bool) -> str:
        """From a request thread: the worker freezes or thaws the pod; returns an error text or ""."""
        item = Pause(frozen, threading.Event())
        self.events.put(item)
        if not item.done.wait(KILL_WAIT + 5):
            return f"pod {self.name} did not {'pause' if frozen else 'unpause'} in time"
        return item.error

    def _pause(self, item: Pause) -> None:
        """cgroup.freeze on the pod's group; probes wait meanwhile (a frozen container answers none)."""
        if item.frozen == self.paused:
            item.error = f"pod {self.name} is {'already paused' if self.paused else 'not paused'}"
        else:
            try:
                self.cgroups.cgroups.freeze(self.cgroups.path, item.frozen)
            except CgroupError as err:
                item.error = f"pod {self.name}: {err}"
            else:
                self.paused, self.paused_since = item.frozen, pod_status.now_text()
                self.event("Normal", "Paused" if item.frozen else "Unpaused",
                           "Froze the pod's processes" if item.frozen else "Thawed the pod's processes")
                self.supervisor.record_runtime(self)
        item.done.set()

    # --- exits and restarts ------------------------------------------------------------------

    def _exited(self, run: ContainerRun, code: int | None) -> None:
        ran_for = time.monotonic() - run.started_at
        run.sink.finish()
        run.close_streams(self.supervisor.pump)
        run.ended()
        if code is None:
            run.set_terminated(UNKNOWN_EXIT, "ContainerStatusUnknown", "podbay's supervisor was restarted while "
                               "the container ran: its exit status could not be seen")
        else:
            oom = run.oom_killed or self.cgroups.oom_killed(run.cgroup)  # the counter, not a guess from 137
            signal_number = code - 128 if code > 128 and (run.stopping or oom) else 0
            reason = terminated_reason(code, oom)
            run.set_terminated(code, reason, run.termination_message(code), signal_number)
        self.supervisor.record_runtime(self)
        run.end_sessions(run.last_exit if run.last_exit is not None else UNKNOWN_EXIT)
        self.after_exit(run, ran_for)

    def after_exit(self, run: ContainerRun, ran_for: float) -> None:
        """Schedule the next run when the policy restarts this container: at once the first time, then
        after the crash-loop backoff (a regular init container runs again only after a failure)."""
        if self.deleting is not None or self.finished:
            return
        if run.kind == "ephemeral":
            if run.remove_on_exit:
                ephemeral.remove(self, run)
            return
        if run.restart_asked:  # podbay restart starts it again itself
            return
        policy = "Always" if run.kind == "sidecar" else self.spec.restart_policy
        if run.kind == "init" and policy == "Always":
            policy = "OnFailure"
        if not restarts(policy, run.last_exit or 0):
            return
        now = time.monotonic()
        delay = self.backoff.exited(run.name, now, ran_for)
        run.next_start = now + delay
        if delay > 0:
            run.back_off(backoff_message(delay, run.name, self.name, self.namespace, self.uid))
            self.event("Warning", "BackOff", f"Back-off restarting failed container {run.name} in pod "
                                             f"{self.name}_{self.namespace}({self.uid})", run)

    def watch_oom(self, run: ContainerRun) -> None:
        run.oom_killed = False
        oom = self.supervisor.oom
        if oom is None or run.cgroup is None or self.cgroups.cgroups.hierarchy.missing("memory"):
            return
        number = run.runs if run.running else run.runs + 1  # an adopted run, or the one starting now
        run.oom_watch = oom.watch(run.cgroup, lambda total: self._oom_kill(run, number, total))

    def _oom_kill(self, run: ContainerRun, number: int, total: int) -> None:
        """From the OOM watcher's thread: the kernel killed a process of the run at its memory limit."""
        if run.runs != number:
            return
        run.oom_killed = True
        limit = run.spec.resources.limits.get("memory") if run.spec.resources else None
        self.event("Warning", "OOMKilling", f"Memory cgroup out of memory: the kernel killed a process of "
                   f"container {run.name}" + (f" at its memory limit {limit}" if limit else "") +
                   f" ({total} OOM kill{'s' if total > 1 else ''} in this run)", run)

    def _drop_cgroup(self, run: ContainerRun) -> None:
        if run.oom_watch >= 0 and self.supervisor.oom is not None:
            self.supervisor.oom.unwatch(run.oom_watch)
        run.oom_watch = -1
        try:
            self.cgroups.remove_run(run.cgroup)
        except CgroupError as err:
            self.event("Warning", "PodbayWarning", str(err), run)
        run.cgroup = None

    def discard(self, run: ContainerRun) -> None:
        """The finished run's folder and cgroup go (its status and log stay)."""
        if not run.running:
            self._drop_cgroup(run)
        if run.launch is None:
            return
        try:
            launcher.cleanup(run.launch)
        except launcher.LaunchError as err:
            self.event("Warning", "PodbayWarning", str(err), run)
        run.launch = None
        for old in sorted(run.log_dir.glob("*.log*")):  # the kubelet keeps the current and the previous run
            number = old.name.split(".", 1)[0]
            if number.isdigit() and int(number) < run.runs - 1:
                old.unlink(missing_ok=True)

    # --- stopping ----------------------------------------------------------------------------

    def _stop_runs(self, runs: list[ContainerRun], deadline: float, *, announce: bool = True) -> None:
        """preStop, the stop signal, SIGKILL at ``deadline`` (monotonic); waits until they have exited."""
        runs = [run for run in runs if run.running]
        if not runs:
            return
        grace = max(int(deadline - time.monotonic() + 0.5), 0)
        threads = []
        for run in runs:
            run.stopping = True
            if announce:
                self.event("Normal", "Killing", f"Stopping container {run.name}", run)
            thread = threading.Thread(target=self._stop_one, args=(run, deadline, grace), daemon=True)
            thread.start()
            threads.append(thread)
        for run in runs:
            run.exited.wait(max(deadline - time.monotonic(), 0))
        for run in runs:
            if not run.exited.is_set():
                run.signal(signal.SIGKILL)
        for run in runs:
            run.exited.wait(KILL_WAIT)
        for thread in threads:
            thread.join(KILL_WAIT)
        self._drain_exits(runs)

    def _stop_one(self, run: ContainerRun, deadline: float, grace: int) -> None:
        hook = run.spec.lifecycle.pre_stop if run.spec.lifecycle else None
        if hook is not None and grace > 0:
            target = self._target(run)
            outcome = handlers.run(hook, target, max(deadline - time.monotonic(), 1))
            if not outcome.ok:
                self.event("Warning", "FailedPreStopHook", f"PreStopHook failed: {outcome.message}".strip(), run)
        if grace > 0:
            run.signal(stop_signal(run.spec, run.launch))
        else:
            run.signal(signal.SIGKILL)

    def _drain_exits(self, runs: list[ContainerRun]) -> None:
        """Handle the exits of ``runs`` now (other items go back to the queue)."""
        later = []
        while any(run.running for run in runs):
            try:
                item = self.events.get(timeout=KILL_WAIT)
            except queue.Empty:
                break
            if isinstance(item, Exited) and item.run in runs:
                self._handle(item)
            elif item is not None:
                later.append(item)
        for item in later:
            self.events.put(item)

    def _complete(self) -> None:
        """No app container runs or will: sidecars stop in reverse order, the sandbox goes."""
        self.finished = True  # first: the sidecars' exits restart nothing
        self._stop_all(self.grace, apps=False)
        self._release_sandbox()

    def _fail(self, reason: str, message: str) -> None:
        self.failure = (reason, message)
        self.finished = True  # first: exits seen while stopping restart nothing
        self._stop_all(self.grace)
        self._release_sandbox()

    def _stop_all(self, grace: int, *, apps: bool = True) -> None:
        """App and init containers together, then sidecars one by one in reverse order, all within one
        grace period (the kubelet's budget for the whole pod); then their folders go."""
        deadline = time.monotonic() + grace
        self._stop_runs([r for r in self.runs if r.kind != "sidecar" and (apps or r.kind == "ephemeral")], deadline)
        for run in reversed([r for r in self.runs if r.kind == "sidecar"]):
            self._stop_runs([run], deadline)
        for run in self.runs:
            self.discard(run)

    def _release_sandbox(self) -> None:
        if self.ports is not None:
            self.ports.close()
            self.ports = None
        self.supervisor.keep()  # without this pod's namespaces
        if self.sandbox is not None:
            try:
                pod_sandbox.destroy(self.sandbox)
            except launcher.LaunchError as err:
                self.supervisor.log(str(err))
            self.sandbox = None
        try:
            self.cgroups.remove_pod()
        except CgroupError as err:
            self.supervisor.log(f"pod {self.namespace}/{self.name}: {err}")

    def _remove(self) -> None:
        for run in self.runs:
            with contextlib.suppress(Exception):
                self.discard(run)
        self._release_sandbox()
        self._close_sinks()
        shutil.rmtree(self.log_root, ignore_errors=True)
        self.supervisor.store.remove_pod(self.uid)
        self.supervisor.forget(self)

    def _close_sinks(self) -> None:
        for run in self.runs:
            self.supervisor.pump.remove(run.sink)
            run.sink.close()

    # --- status ------------------------------------------------------------------------------

    def phase(self) -> str:
        if self.failure is not None:
            return "Failed"
        return pod_status.phase(self.spec, [run.status for run in self.runs if run.kind in ("init", "sidecar")],
                                [run.status for run in self.runs if run.kind == "app"])

    def status(self) -> dict[str, Any]:
        init_statuses = [run.status for run in self.runs if run.kind in ("init", "sidecar")]
        statuses = [run.status for run in self.runs if run.kind == "app"]
        ephemeral = [run.status for run in self.runs if run.kind == "ephemeral"]
        phase = self.phase()
        conditions = pod_status.conditions(self.spec, phase, init_statuses, statuses,
                                           sandbox_ready=self.sandbox is not None, previous=self.conditions)
        self.conditions = conditions
        result: dict[str, Any] = {"phase": phase, "conditions": conditions + self._podbay_conditions()}
        if self.failure and self.failure[0]:
            result.update(reason=self.failure[0], message=self.failure[1])
        ip = self.sandbox.pod_ip if self.sandbox else self.last_ip
        self.last_ip = ip
        if ip:
            result.update(podIP=ip, podIPs=[{"ip": ip}])
        result.update(hostIP="127.0.0.1", startTime=pod_status.now_text(self.start_time),
                      qosClass=pod_status.qos_class(self.spec))
        if init_statuses:
            result["initContainerStatuses"] = init_statuses
        result["containerStatuses"] = statuses
        if ephemeral:
            result["ephemeralContainerStatuses"] = ephemeral
        return result

    def _podbay_conditions(self) -> list[dict[str, Any]]:
        """podbay's own condition types (Kubernetes allows extra ones, as readiness gates use)."""
        out = []
        if self.cgroup_warnings:
            out.append({"type": pod_status.LIMITS_CONDITION, "status": "False", "reason": "CgroupsUnavailable",
                        "message": "; ".join(self.cgroup_warnings), "lastTransitionTime": self.created_text})
        if self.paused:
            out.append({"type": pod_status.PAUSED_CONDITION, "status": "True", "reason": "Paused",
                        "message": "the pod's processes are frozen (cgroup.freeze); `podbay unpause` thaws them",
                        "lastTransitionTime": self.paused_since})
        return out

    def publish(self) -> None:
        """The status to the store, when it changed (every loop turn would otherwise be a write)."""
        status = self.status()
        if status != self.published:
            self.supervisor.store.update(self.uid, status=status)
            self.published = copy.deepcopy(status)  # the containers' statuses change in place

