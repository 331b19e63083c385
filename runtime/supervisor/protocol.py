"""Talking to the supervisor: its socket, one JSON line each way, and starting it on demand.

Standard library only: the CLI imports this on its fast path.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from podbay.runtime.paths import Paths
from podbay.runtime.process.liveness import alive, start_time

START_TIMEOUT = 30.0
MAX_REQUEST = 64 * 1024 * 1024  # a pod with its ConfigMaps and Secrets


class RequestError(Exception):
    """The supervisor refused a request; ``code`` is NotFound, AlreadyExists ... for callers to test."""

    def __init__(self, message: str, code: str = "Invalid") -> None:
        super().__init__(message)
        self.code = code


class SupervisorError(Exception):
    """The supervisor could not be reached or started."""


def folder(paths: Paths) -> Path:
    path = paths.run_dir / "supervisor"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def socket_path(paths: Paths) -> Path:
    return folder(paths) / "sock"


def send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def receive(conn: socket.socket) -> dict[str, Any] | None:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1 << 20)
        if not chunk:
            return None if not data else json.loads(data)
        data += chunk
        if len(data) > MAX_REQUEST:
            raise RequestError("request too large")
    message: dict[str, Any] = json.loads(data)
    return message


def _connect(paths: Paths) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(socket_path(paths)))
    except (FileNotFoundError, ConnectionRefusedError):
        conn.close()
        return None
    return conn


def _user_scope() -> list[str]:
    """``systemd-run`` before the supervisor's command when this user's cgroup is not its own but a
    systemd user manager can give it a delegated scope, where its pods' cgroups can be made."""
    from podbay.runtime import settings  # noqa: PLC0415
    from podbay.runtime.cgroups.hierarchy import needs_user_scope  # noqa: PLC0415

    try:
        wanted = needs_user_scope(settings.load())
    except settings.SettingsError:
        return []
    return ["systemd-run", "--user", "--scope", "--quiet", "--collect", "-p", "Delegate=yes",
            f"--unit=podbay-supervisor-{os.getpid()}", "--"] if wanted else []


def _start(paths: Paths) -> None:
    """Start a detached supervisor and wait until it serves (under a lock: one starter at a time); in a
    delegated systemd user scope when that is how this user gets cgroups, else as it is."""
    scope = _user_scope()
    if scope:
        try:
            _start_with(paths, scope)
            return
        except SupervisorError:  # no scope after all (a user manager that refuses): without one
            pass
    _start_with(paths, [])


def _start_with(paths: Paths, prefix: list[str]) -> None:
    log = folder(paths) / "supervisor.log"
    read, write = os.pipe()
    argv = [*prefix, sys.executable, "-m", "podbay.runtime.supervisor.daemon", "--data", str(paths.data_dir),
            "--run", str(paths.run_dir), "--ready-fd", str(write)]
    try:
        with open(log, "ab") as errors:
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                             pass_fds=(write,), start_new_session=True, cwd="/")
    finally:
        os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], START_TIMEOUT)
        answer = os.read(read, 64) if ready else b""
    finally:
        os.close(read)
    if not answer.startswith(b"ready"):
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        raise SupervisorError("podbay's supervisor did not start" + (":\n  " + "\n  ".join(tail) if tail else
                                                                        f" (see {log})"))


def call(paths: Paths, request: dict[str, Any], *, start: bool = True) -> dict[str, Any]:
    """Send one request and return the answer's fields; raises RequestError when it is refused."""
    conn = _connection(paths, start)
    with conn:
        send(conn, request)
        answer = receive(conn)
    return _checked(paths, answer)


def open_session(paths: Paths, request: dict[str, Any]) -> tuple[socket.socket, dict[str, Any]]:
    """A request whose connection goes on as a stream (attach): the socket, and the answer's fields."""
    conn = _connection(paths, start=False)
    try:
        send(conn, request)
        line = b""
        while not line.endswith(b"\n"):  # byte by byte: what follows the answer is the stream's
            byte = conn.recv(1)
            if not byte:
                break
            line += byte
        return conn, _checked(paths, json.loads(line) if line.strip() else None)
    except BaseException:
        conn.close()
        raise


def receive_socket(paths: Paths, request: dict[str, Any]) -> socket.socket:
    """A request answered with a descriptor (port-forward's connection into a pod)."""
    conn = _connection(paths, start=False)
    with conn:
        send(conn, request)
        data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 1, socket.MSG_CMSG_CLOEXEC)
    if not fds:
        _checked(paths, json.loads(data) if data.strip() else None)  # raises: the refusal's words
        raise SupervisorError("podbay's supervisor answered without a connection")
    return socket.socket(fileno=fds[0])


def _checked(paths: Paths, answer: dict[str, Any] | None) -> dict[str, Any]:
    if answer is None:
        raise SupervisorError("podbay's supervisor closed the connection without an answer (see "
                              f"{folder(paths) / 'supervisor.log'})")
    if not answer.pop("ok", False):
        raise RequestError(str(answer.get("error", "refused")), str(answer.get("code", "Invalid")))
    return answer


def _connection(paths: Paths, start: bool) -> socket.socket:
    conn = _connect(paths)
    if conn is None:
        if not start:
            raise SupervisorError("podbay's supervisor is not running")
        with open(folder(paths) / "start.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            conn = _connect(paths)
            if conn is None:
                _start(paths)
                conn = _connect(paths)
        if conn is None:
            raise SupervisorError(f"podbay's supervisor does not answer on {socket_path(paths)}")
    return conn


def running(paths: Paths) -> int:
    """The supervisor's pid, 0 when none answers."""
    conn = _connect(paths)
    if conn is None:
        return 0
    with conn, contextlib.suppress(OSError):
        send(conn, {"op": "ping"})
        answer = receive(conn) or {}
        return int(answer.get("pid", 0))
    return 0


def stop(paths: Paths, timeout: float = 30.0) -> bool:
    """Ask the running supervisor to exit (its pods keep running) and wait until it has; False if it
    did not in time. A zombie counts as gone: its parent, not us, reaps it."""
    pid = running(paths)
    if not pid:
        return True
    try:
        start = start_time(pid)
    except OSError:
        return True  # gone already
    call(paths, {"op": "stop"}, start=False)
    deadline = time.monotonic() + timeout
    while alive(pid, start):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
