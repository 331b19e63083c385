"""Run a whole pod in the foreground: sandbox, init containers one by one, then the app containers
together; output on the terminal (prefixed by container when there are several); signals forwarded;
everything removed at the end.

The exit code: the first failed init container's, else 0 when every app container succeeded, else
the code of the first app container (in spec order) that failed. Ordering beyond that, restarts and
probes come with the supervisor.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from podbay.runtime import settings
from podbay.runtime.cgroups.pod import CgroupError, PodCgroups, host_cgroups
from podbay.runtime.paths import Paths
from podbay.runtime.pod import sandbox as pod_sandbox
from podbay.runtime.pod.config import PodObjects
from podbay.runtime.process import launcher
from podbay.runtime.process.plan import PodContext
from podbay.runtime.spec.pod import Container, Pod, meta_of, spec_of
from podbay.runtime.syscalls import set_child_subreaper

Warn = Callable[[str], None]


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


class PodRun:
    def __init__(self, pod: Pod, objects: PodObjects, paths: Paths, *, rootfs_mode: str = "overlay",
                 warn: Warn | None = None) -> None:
        self.pod, self.objects, self.paths, self.rootfs_mode = pod, objects, paths, rootfs_mode
        self.warn: Warn = warn or (lambda text: print(f"Warning: {text}", file=sys.stderr))
        self.sandbox: pod_sandbox.Sandbox | None = None
        self.running: list[launcher.Launch] = []
        grace = spec_of(pod).termination_grace_period_seconds
        self.grace = 30 if grace is None else max(grace, 1)
        self.stopping = False
        self.proxy: Any = None
        self.cgroups: PodCgroups | None = None
        self.groups: dict[str, Path | None] = {}  # container -> its cgroup

    # --- the pod's life ----------------------------------------------------------------------

    def run(self) -> int:
        set_child_subreaper()  # containers are our grandchildren: their exit statuses must come to us
        # Handlers first: a signal that arrives while containers start must not kill podbay and orphan them.
        previous = {n: signal.signal(n, self._forward) for n in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, self._out_of_time)
        try:
            cgroup_warnings = self._cgroups()
            assert self.cgroups is not None
            infra = self.cgroups.infra() if spec_of(self.pod).share_process_namespace else None
            self.sandbox = pod_sandbox.create(self.pod, self.paths, self.objects,
                                              place=self.cgroups.placer(None, infra, self.warn))
            for warning in self.sandbox.warnings + cgroup_warnings + self._unenforced():
                self.warn(warning)
            self._host_ports()
            spec = spec_of(self.pod)
            for container in spec.init_containers:
                code = self._run_group([container])
                if code != 0 or self.stopping:
                    return code
            return self._run_group(spec.containers)
        finally:
            signal.alarm(0)
            for number, handler in previous.items():
                signal.signal(number, handler)
            self._cleanup()

    def _cgroups(self) -> list[str]:
        """The pod's cgroup, made; what it cannot enforce here (an error when cgroups are required)."""
        try:
            chosen = settings.load()
            self.cgroups = PodCgroups(host_cgroups(chosen), self.pod, chosen)
            found = self.cgroups.warnings()
            self.cgroups.create()
        except (CgroupError, settings.SettingsError) as err:
            raise launcher.LaunchError(f"pod {meta_of(self.pod).name}: {err}") from err
        return found

    def _context(self) -> PodContext:
        assert self.sandbox is not None
        return PodContext(self.sandbox.mapping, dict(self.sandbox.fds), self.sandbox.etc_files,
                          self.sandbox.volumes.sources, self.objects, pod_ip=self.sandbox.pod_ip)

    def _run_group(self, containers: list[Container]) -> int:
        """Start these containers together and wait for all of them."""
        launches = []
        for container in containers:
            self._image(container)
            launch = launcher.prepare(self.pod, container, self.paths, self._context(), self.rootfs_mode)
            self.running.append(launch)
            launches.append(launch)
            for warning in launch.warnings:
                self.warn(warning)
        prefixed = len(spec_of(self.pod).containers) + len(spec_of(self.pod).init_containers) > 1
        streams: dict[int, str] = {}
        started = []
        for launch in launches:
            if self.stopping:
                break  # asked to stop before this container started: it never starts
            stdin = None if launch.container.stdin and not prefixed else os.open(os.devnull, os.O_RDONLY)
            out = err = None
            if prefixed:
                out_r, out_w = os.pipe()
                err_r, err_w = os.pipe()
                streams[out_r], streams[err_r] = f"[{launch.container.name}] ", f"[{launch.container.name}] "
                out, err = out_w, err_w
            try:
                assert self.cgroups is not None
                group = self.groups[launch.container.name] = self.cgroups.container(launch.container)
                launcher.start(launch, stdin, out, err, on_log=self.warn,
                               place=self.cgroups.placer(launch.container, group, self.warn))
                started.append(launch)
            except CgroupError as cgroup_error:
                raise launcher.LaunchError(f"container {launch.container.name}: {cgroup_error}") from cgroup_error
            finally:
                for fd in (stdin, out, err):
                    if isinstance(fd, int):
                        os.close(fd)
        if not started:
            return 128 + signal.SIGTERM
        return self._wait(started, streams)

    def _wait(self, launches: list[launcher.Launch], streams: dict[int, str]) -> int:
        codes: dict[str, int] = {}
        selector = selectors.DefaultSelector()
        pidfds = {}
        for launch in launches:
            pidfd = os.pidfd_open(launch.pid)
            pidfds[pidfd] = launch
            selector.register(pidfd, selectors.EVENT_READ)
        buffers = {fd: b"" for fd in streams}
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
        try:
            while pidfds or buffers:
                for key, _ in selector.select():
                    fd = key.fd
                    if fd in pidfds:
                        launch = pidfds.pop(fd)
                        selector.unregister(fd)
                        os.close(fd)
                        _, status = os.waitpid(launch.pid, 0)
                        launch.pid = 0
                        codes[launch.container.name] = _exit_code(status)
                        self._oom(launch.container)
                    else:
                        self._pump(fd, streams[fd], buffers, selector)
        finally:
            selector.close()
        failed = [codes[launch.container.name] for launch in launches if codes[launch.container.name] != 0]
        return failed[0] if failed else 0

    def _image(self, container: Container) -> None:
        """Pulled if its imagePullPolicy says so, saying so on stderr as podman does."""
        from podbay.runtime.images.policy import ImageError, ImageManager, pull_secrets  # noqa: PLC0415
        from podbay.runtime.images.store import ImageStore  # noqa: PLC0415

        def said(kind: str, reason: str, message: str) -> None:
            if reason == "FailedToRetrieveImagePullSecret":  # a failed pull is the run's error itself
                print(f"Warning: {message}", file=sys.stderr)
            elif reason in ("Pulling", "Pulled") and "already present" not in message:
                print(message, file=sys.stderr)

        try:
            secrets = pull_secrets(spec_of(self.pod).image_pull_secrets, self.objects.secrets, said)
            ImageManager(ImageStore(self.paths.images)).ensure(container.image, container.image_pull_policy,
                                                               meta_of(self.pod).uid, said, secrets=secrets)
        except ImageError as err:
            raise launcher.LaunchError(f"container {container.name}: {err.reason}: {err.message}") from err

    def _oom(self, container: Container) -> None:
        if self.cgroups is not None and self.cgroups.oom_killed(self.groups.get(container.name)):
            limit = container.resources.limits.get("memory") if container.resources else None
            self.warn(f"container {container.name}: OOMKilled: the kernel's OOM killer ended it"
                      + (f" at its memory limit {limit}" if limit else ""))

    @staticmethod
    def _pump(fd: int, prefix: str, buffers: dict[int, bytes], selector: selectors.BaseSelector) -> None:
        data = os.read(fd, 65536)
        if not data:
            if buffers[fd]:
                sys.stdout.buffer.write(prefix.encode() + buffers[fd] + b"\n")
                sys.stdout.buffer.flush()
            selector.unregister(fd)
            os.close(fd)
            del buffers[fd]
            return
        *lines, buffers[fd] = (buffers[fd] + data).split(b"\n")
        if lines:
            sys.stdout.buffer.write(b"".join(prefix.encode() + line + b"\n" for line in lines))
            sys.stdout.buffer.flush()

    def _unenforced(self) -> list[str]:
        """What this foreground run does not do, said once rather than silently skipped."""
        from podbay.runtime.pod.unenforced import unenforced  # noqa: PLC0415

        out = [w for w in unenforced(self.pod) if not w.startswith("stdin")]  # the terminal's stdin is attached
        spec = spec_of(self.pod)
        probed = [c.name for c in spec.init_containers + spec.containers
                  if c.liveness_probe or c.readiness_probe or c.startup_probe or c.lifecycle]
        if probed:
            out.append(f"probes and lifecycle hooks are not run in the foreground ({', '.join(probed)}): run the "
                       "pod without --rm --attach to have the supervisor run them")
        return out

    def _host_ports(self) -> None:
        from podbay.runtime.pod import hostports  # noqa: PLC0415

        assert self.sandbox is not None
        warnings: list[str] = []
        self.proxy = hostports.forward(self.sandbox, warnings)
        for warning in warnings:
            self.warn(warning)

    # --- signals and cleanup ------------------------------------------------------------------

    def _forward(self, number: int, _frame: FrameType | None) -> None:
        if self.stopping and number == signal.SIGINT:
            self._kill_all()  # a second Ctrl-C: stop now
            return
        self.stopping = True
        for launch in self.running:
            if launch.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(launch.pid, number)
        signal.alarm(self.grace)

    def _out_of_time(self, _number: int, _frame: FrameType | None) -> None:
        self._kill_all()

    def _kill_all(self) -> None:
        for launch in self.running:
            if launch.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(launch.pid, signal.SIGKILL)

    def _cleanup(self) -> None:
        if self.proxy is not None:
            self.proxy.close()
        errors = []
        for launch in self.running:
            try:
                launcher.cleanup(launch)
            except launcher.LaunchError as err:
                errors.append(str(err))
        self.running.clear()
        if self.sandbox is not None:
            try:
                pod_sandbox.destroy(self.sandbox)
            except launcher.LaunchError as err:
                errors.append(str(err))
        if self.cgroups is not None:
            try:
                self.cgroups.remove_pod()
            except CgroupError as err:
                errors.append(str(err))
        if errors:
            raise launcher.LaunchError("; ".join(errors))
