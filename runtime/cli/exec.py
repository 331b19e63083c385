"""``podbay exec [-i] [-t] POD [-c CONTAINER] -- CMD...``: a command in a running container (kubectl exec).

The container's pid and process settings come from the state store; the command is started by
the init in ``exec`` mode (process/execute.py), which joins every namespace of the container's
process and applies its user, capabilities, no_new_privs and seccomp filter. With ``-it`` the command gets
a pty of the container's devpts and our terminal is raw (cli/terminal.py); without, the
streams are piped through unchanged (binary-safe); the exit code is the command's.
"""

from __future__ import annotations

import os
import subprocess
import sys

from podbay.runtime.cli import terminal
from podbay.runtime.cli.records import chosen_container, open_store
from podbay.runtime.paths import Paths
from podbay.runtime.process import execute
from podbay.runtime.process.console import set_size
from podbay.runtime.process.liveness import alive
from podbay.runtime.process.spawn import LaunchError

NOT_FOUND = 127  # the shell's and podman's code for a command that does not exist
NOT_EXECUTABLE = 126


def _err(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def exec_command(paths: Paths, pod: str, namespace: str, container: str | None, command: list[str], *,
                 stdin: bool, tty: bool) -> int:
    if not command:
        return _err("you must specify at least one command for the container")
    record = open_store(paths).pod(namespace, pod)
    if record is None:
        print(f'Error from server (NotFound): pods "{pod}" not found', file=sys.stderr)
        return 1
    try:
        container = chosen_container(record.manifest, container)
    except ValueError as err:
        return _err(str(err))
    phase = record.status.get("phase")
    if any(c.get("type") == "podbay.io/Paused" and c.get("status") == "True"  # lifecycle/status.py's condition
           for c in record.status.get("conditions", [])):
        return _err(f"cannot exec into pod {pod}: it is paused (podbay unpause {pod})")
    if phase in ("Succeeded", "Failed"):
        return _err(f"cannot exec into a container in a completed pod; current phase is {phase}")
    info = record.runtime.get("containers", {}).get(container, {})
    pid = int(info.get("pid") or 0)
    if not pid or not alive(pid, str(info.get("start", ""))):
        return _err(f'unable to upgrade connection: container not found ("{container}")')
    tty = _use_tty(stdin, tty)
    streams = (subprocess.DEVNULL if tty or not stdin else None, subprocess.DEVNULL if tty else None, None)
    try:
        started = execute.spawn(pid, dict(info.get("process", {})), command, f"container {container}", streams,
                                terminal=terminal.terminal_size(0, 1) if tty else None)
    except LaunchError as err:
        text = str(err)
        code = NOT_FOUND if "not found" in text or "no such file" in text else (
            NOT_EXECUTABLE if "permission denied" in text else 1)
        return _err(f"failed to exec in container: {text.split(': exec: ', 1)[-1]}", code)
    if started.master is not None:
        return _interact(started)
    try:
        return started.init.wait()
    except KeyboardInterrupt:
        started.init.wait()  # the init passes the signal on to the command
        return 130


def _use_tty(stdin: bool, tty: bool) -> bool:
    """kubectl's rules: -t needs -i, and a terminal on our stdin (else a note, and pipes)."""
    if not (tty and stdin):
        return False
    if not os.isatty(0):
        print("Unable to use a TTY - input is not a terminal or the right kind of file", file=sys.stderr)
        return False
    return True


def _interact(started: execute.Started) -> int:
    """Our terminal, raw, joined to the command's pty until the command ends."""
    master = started.master
    assert master is not None
    until = os.pidfd_open(started.init.pid)
    try:
        with terminal.raw_mode(0), terminal.window_follower(lambda rows, columns: set_size(master, rows, columns)):
            terminal.pump(master, until)
    finally:
        os.close(until)
        os.close(master)
    return started.init.wait()
