"""Run a command inside a running container: exec probes, lifecycle hooks, and later ``podbay exec``.

The init is started in ``exec`` mode with descriptors of every namespace of the container's
process that differs from ours; it joins them (user first), forks into the container's pid
namespace, applies the container's process settings (user, groups, rlimits, capabilities,
no_new_privs, seccomp, working directory, environment) and execs the command, as ``runc exec``
does with the container's ``config.json``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from podbay.runtime.idmap import HOST
from podbay.runtime.process.channel import ChildError
from podbay.runtime.process.spawn import (
    HANDSHAKE_FAILURES,
    HANDSHAKE_TIMEOUT,
    LaunchError,
    Stdio,
    launch_error,
    spawn_init,
)

NAMESPACES = ("user", "mnt", "net", "ipc", "uts", "cgroup", "pid")
OUTPUT_LIMIT = 10 * 1024  # the kubelet keeps this much of a probe's or hook's output


@dataclass
class Started:
    """A command started in a container: its init (whose exit code is the command's), the command's
    host pid, and with a terminal the pty's master (the caller's to close)."""

    init: subprocess.Popen[bytes]
    pid: int
    master: int | None = None


@dataclass
class ExecResult:
    code: int
    output: bytes
    timed_out: bool = False


def namespace_fds(pid: int) -> dict[str, int]:
    """Descriptors of the namespaces of ``pid`` that are not already ours (setns into one's own fails)."""
    fds: dict[str, int] = {}
    try:
        for name in NAMESPACES:
            if os.stat(f"/proc/{pid}/ns/{name}").st_ino == os.stat(f"/proc/self/ns/{name}").st_ino:
                continue
            fds[name] = os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        for fd in fds.values():
            os.close(fd)
        raise LaunchError(f"the container's process {pid} is gone ({err.strerror})") from err
    return fds


def join_cgroup_of(pid: int, joiner: int) -> None:
    """Put ``joiner`` in the cgroup of the container's process ``pid`` (runc exec does the same: what the
    command uses counts against the container's limits). Only on a unified cgroup v2 host; where this
    user may not move it (a rootless session outside its delegated subtree) the command runs anyway."""
    if not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return
    try:
        with open(f"/proc/{pid}/cgroup") as lines:
            group = next((line[3:].strip() for line in lines if line.startswith("0::")), "")
        if group and group != "/":
            with open(f"/sys/fs/cgroup{group}/cgroup.procs", "w") as procs:
                procs.write(str(joiner))
    except OSError:
        pass


def spawn(pid: int, process: dict[str, Any], args: list[str], what: str,
          stdio: tuple[Stdio, Stdio, Stdio], *, terminal: tuple[int, int] | None = None) -> Started:
    """Start ``args`` in the container whose main process is ``pid``, once the command has exec'd.

    With ``terminal`` (rows, columns) the command gets a new pty of the container's devpts as its
    controlling terminal and stdio; ``stdio`` then only serves the init."""
    fds = namespace_fds(pid)
    env = list(process.get("env", []))
    if terminal and not any(entry.startswith("TERM=") for entry in env):
        env.append("TERM=xterm")  # as containerd's exec with a terminal
    plan = {"exec": True, "userns": False, "join": fds,
            "process": {**process, "args": list(args), "env": env, "terminal": list(terminal) if terminal else None}}
    try:
        init, channel = spawn_init(plan, HOST, what, stdio=stdio, pass_fds=tuple(fds.values()),
                                   place=functools.partial(join_cgroup_of, pid))
    finally:
        for fd in fds.values():
            os.close(fd)
    master, child = None, 0
    try:
        if terminal:
            message = channel.recv("pty", timeout=HANDSHAKE_TIMEOUT)  # (4a)
            if message is None or len(message.get("fds", ())) != 1:
                raise LaunchError(f"{what}: the exec's init sent no terminal")
            master = int(message["fds"][0])
        message = channel.recv("pid", timeout=HANDSHAKE_TIMEOUT)
        if message is None:
            init.wait()
            raise LaunchError(f"{what}: the exec's init exited (status {init.returncode}) before its command")
        child = int(message["pid"])
        if channel.recv("log", timeout=HANDSHAKE_TIMEOUT) is not None:
            raise LaunchError(f"{what}: unexpected message from the exec's init")
        return Started(init, child, master)
    except BaseException as err:
        if master is not None:
            os.close(master)
        if isinstance(err, ChildError):  # the command's own failure (not found ...): it has exited, and the
            with contextlib.suppress(subprocess.TimeoutExpired):  # init reaps it (the container's PID 1 may not)
                init.wait(HANDSHAKE_TIMEOUT)
        elif child:  # started in the container but never reached its exec: it must not stay there
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        init.kill()
        init.wait()
        if isinstance(err, HANDSHAKE_FAILURES):
            raise launch_error(what, err) from err
        raise
    finally:
        channel.close()


def run(pid: int, process: dict[str, Any], args: list[str], timeout: float, what: str) -> ExecResult:
    """Run a command to its end (or its timeout, when it is killed) with stdout and stderr captured together."""
    read, write = os.pipe()
    try:
        try:
            started = spawn(pid, process, args, what, (subprocess.DEVNULL, write, write))
        finally:
            os.close(write)
        output, timed_out = _collect(read, time.monotonic() + timeout)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(started.pid, signal.SIGKILL)  # the command, in the container's pid namespace
        code = started.init.wait()
    finally:
        os.close(read)
    return ExecResult(code, output, timed_out)


def _collect(fd: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return b"".join(chunks), True
            data = os.read(fd, 65536)
            if not data:
                return b"".join(chunks), False
            if size < OUTPUT_LIMIT:
                chunks.append(data[:OUTPUT_LIMIT - size])
                size += len(chunks[-1])
