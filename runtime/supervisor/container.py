"""One container of a supervised pod across its runs: its status in the API's shape, its pipes and
log files, the process of the current run and the thread that waits for it."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podbay.runtime.lifecycle.status import now_text
from podbay.runtime.logs.cri import read_lines
from podbay.runtime.process import launcher
from podbay.runtime.process.console import set_size
from podbay.runtime.process.plan import TERMINATION_LOG
from podbay.runtime.spec.pod import Container
from podbay.runtime.supervisor import attach
from podbay.runtime.supervisor.logsink import Attached, LogPump, LogSink
from podbay.runtime.supervisor.probes import ProbeWorker

MESSAGE_LIMIT = 4096  # the kubelet reads at most this much of terminationMessagePath
FALLBACK_LINES = 80  # FallbackToLogsOnError: the log's last 80 lines, at most 2048 bytes
FALLBACK_BYTES = 2048
UNKNOWN_EXIT = 137  # what the kubelet reports for a container whose end it could not see


@dataclass
class ContainerRun:
    spec: Container
    kind: str  # "init", "sidecar" or "app"
    sink: LogSink
    log_dir: Path
    status: dict[str, Any] = field(default_factory=dict)
    launch: launcher.Launch | None = None
    pid: int = 0
    pidfd: int = -1
    adopted: bool = False  # started by an earlier supervisor: not our child, its exit code is unknown to us
    process: dict[str, Any] = field(default_factory=dict)  # the run's process settings, for exec probes and hooks
    runs: int = 0  # how many times it was started
    started_at: float = 0.0  # monotonic
    next_start: float = 0.0  # monotonic time before which it may not start again (backoff)
    last_exit: int | None = None
    probes: list[ProbeWorker] = field(default_factory=list)
    exited: threading.Event = field(default_factory=threading.Event)
    stopping: bool = False  # podbay is stopping it (termination, a failed probe or postStart hook)
    stdin_write: int = -1  # stdin: true without a tty: our end of the run's stdin pipe
    restart_asked: bool = False  # `podbay restart`: start it again at once, whatever the policy
    remove_on_exit: bool = False  # an ephemeral container started with `podbay debug --rm`
    input_lock: threading.Lock = field(default_factory=threading.Lock)  # input vs closing its descriptors
    cgroup: Path | None = None  # the run's cgroup (none where cgroups cannot be used)
    oom_watch: int = -1  # its memory.events watch (cgroups/oomwatch.py)
    oom_killed: bool = False  # the kernel's OOM killer took a process of this run

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def field_path(self) -> str:
        """How the kubelet's events name the container: ``spec.initContainers{NAME}`` and the like."""
        key = {"init": "initContainers", "sidecar": "initContainers", "ephemeral": "ephemeralContainers"}
        return f"spec.{key.get(self.kind, 'containers')}{{{self.name}}}"

    @property
    def running(self) -> bool:
        return self.pid != 0

    def is_started(self) -> bool:
        """Running with its startup probe passed (the other probes wait until then)."""
        return bool(self.status.get("started"))

    @property
    def succeeded(self) -> bool:
        return not self.running and self.last_exit == 0

    def log_path(self, run: int) -> Path:
        return self.log_dir / f"{run}.log"

    # --- status ------------------------------------------------------------------------------

    def initial_status(self, image: str, reason: str) -> None:
        self.status = {"name": self.name, "image": image, "imageID": "", "ready": False, "started": False,
                       "restartCount": 0, "state": {"waiting": {"reason": reason}}, "lastState": {}}

    def set_waiting(self, reason: str, message: str = "") -> None:
        waiting = {"reason": reason, **({"message": message} if message else {})}
        self.status["state"] = {"waiting": waiting}

    def count_run(self) -> None:
        """A new run begins: the restart count, and the last run's end moved to lastState."""
        if self.runs > 0:
            self.status["restartCount"] = self.runs
        self.runs += 1
        terminated = self.status["state"].get("terminated")
        if terminated is not None:
            self.status["lastState"] = {"terminated": terminated}

    def set_running(self, launch: launcher.Launch) -> None:
        self.count_run()
        self.status.update(state={"running": {"startedAt": now_text()}}, ready=False, started=False,
                           imageID=launch.image.digest or f"sha256:{launch.image.id}",
                           containerID=f"podbay://{launch.directory.name}")

    def set_terminated(self, code: int, reason: str, message: str = "", signal_number: int = 0) -> None:
        started = self.status["state"].get("running", {}).get("startedAt", "")
        terminated: dict[str, Any] = {"exitCode": code, "reason": reason}
        if signal_number:
            terminated["signal"] = signal_number
        if message:
            terminated["message"] = message
        terminated.update(startedAt=started or None, finishedAt=now_text(),
                          containerID=self.status.get("containerID", ""))
        self.status.update(state={"terminated": terminated}, ready=self.kind == "init" and code == 0,
                           started=False)
        self.last_exit = code

    def back_off(self, message: str) -> None:
        """Waiting to restart: the last run moves to lastState, as the kubelet shows a crash loop."""
        terminated = self.status["state"].get("terminated")
        if terminated is not None:
            self.status["lastState"] = {"terminated": terminated}
        self.set_waiting("CrashLoopBackOff", message)

    # --- the process -------------------------------------------------------------------------

    def watch(self, pid: int, post: Callable[[ContainerRun, int, int | None], None]) -> None:
        """A thread that waits for this run's end and posts (run, run number, exit code or None)."""
        self.pid, self.exited = pid, threading.Event()
        self.pidfd = os.pidfd_open(pid)
        number, adopted, pidfd = self.runs, self.adopted, self.pidfd

        def wait() -> None:
            code: int | None = None
            if adopted:
                select.select([pidfd], [], [])  # readable once it has exited; its status went to its old parent
            else:
                with contextlib.suppress(ChildProcessError):
                    _, status = os.waitpid(pid, 0)
                    code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            self.exited.set()
            post(self, number, code)

        threading.Thread(target=wait, name=f"wait {self.name}", daemon=True).start()

    def signal(self, number: int) -> None:
        if self.pidfd >= 0:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self.pidfd, number)

    def ended(self) -> None:
        """Forget the finished run's process; its probes stop."""
        for probe in self.probes:
            probe.stop()
        self.probes.clear()
        if self.pidfd >= 0:
            os.close(self.pidfd)
        self.pid, self.pidfd = 0, -1

    # --- attach ------------------------------------------------------------------------------

    def attach(self, conn: socket.socket, stdin: bool) -> None:
        """One ``podbay attach`` session, in the caller's thread until it detaches or the run ends: the
        output comes from the log pump (LogSink.attached), the input goes to the terminal or stdin."""
        session = Attached(conn)
        with self.sink.lock:
            self.sink.attached.append(session)
        try:
            while (got := attach.read_frame(conn)) is not None:
                kind, data = got
                with contextlib.suppress(OSError):  # the run ended under us: its descriptors are gone
                    if kind == attach.STDIN and stdin:
                        self._input(data)
                    elif kind == attach.RESIZE and self.sink.terminal >= 0:
                        rows, columns = (int(part) for part in data.split())
                        set_size(self.sink.terminal, rows, columns)
                    elif kind == attach.CLOSE_STDIN and stdin:
                        self.close_stdin()
        finally:
            with self.sink.lock:
                if session in self.sink.attached:
                    self.sink.attached.remove(session)
            if stdin and self.spec.stdin_once:  # the kubelet's stdinOnce: the first session's end closes stdin
                self.close_stdin()

    def _input(self, data: bytes) -> None:
        with self.input_lock:
            target = self.sink.terminal if self.sink.terminal >= 0 else self.stdin_write
            view = memoryview(data)
            while target >= 0 and view:
                view = view[os.write(target, view):]

    def close_stdin(self) -> None:
        with self.input_lock:
            if self.stdin_write >= 0:
                os.close(self.stdin_write)
                self.stdin_write = -1

    def close_streams(self, pump: LogPump) -> None:
        """After the run: its terminal and stdin are closed (a new run gets new ones)."""
        self.close_stdin()
        master = pump.unwatch_terminal(self.sink)
        if master >= 0:
            with self.input_lock:
                os.close(master)

    def end_sessions(self, code: int) -> None:
        """The run is over (its output drained): every attached session gets its exit code and is closed."""
        with self.sink.lock:
            sessions, self.sink.attached = self.sink.attached, []
        for session in sessions:
            with contextlib.suppress(OSError):
                session.conn.sendall(attach.frame(attach.EXIT, str(code).encode()))
                session.conn.shutdown(socket.SHUT_RDWR)

    def termination_message(self, code: int) -> str:
        """terminationMessagePath's content; with FallbackToLogsOnError and a failure, the log's tail."""
        text = ""
        if self.launch is not None and self.spec.termination_message_path:
            with contextlib.suppress(OSError), open(self.launch.directory / TERMINATION_LOG, "rb") as file:
                text = file.read(MESSAGE_LIMIT).decode(errors="replace")
        if not text and code != 0 and self.spec.termination_message_policy == "FallbackToLogsOnError":
            lines = [line.text for line in read_lines(self.log_path(self.runs - 1))][-FALLBACK_LINES:]
            text = b"\n".join(lines)[-FALLBACK_BYTES:].decode(errors="replace")
        return text
