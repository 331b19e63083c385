"""``podbay attach POD [-c C] [-i] [-t]``: the terminal or stdin of a running container (kubectl attach).

The supervisor keeps each container's streams (a pty master for ``tty: true``, the write end of
the stdin pipe for ``stdin: true``) and copies the output to every attached session as well as to
the log; this side relays our stdin to it, our window size with it, and its output to us, in the
frames of supervisor/attach.py. Ctrl-P Ctrl-Q detaches (as docker and podman attach), leaving the
container running; when the container's run ends the command exits with its code.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import sys

from podbay.runtime.cli import terminal
from podbay.runtime.paths import Paths
from podbay.runtime.supervisor import attach, protocol

DETACHED = "read escape sequence"


def attach_command(paths: Paths, pod: str, namespace: str, container: str | None, *, stdin: bool,
                   tty: bool) -> int:
    from podbay.runtime.cli.records import chosen_container, open_store  # noqa: PLC0415

    record = open_store(paths).pod(namespace, pod)
    if record is None:
        print(f'Error from server (NotFound): pods "{pod}" not found', file=sys.stderr)
        return 1
    try:
        container = chosen_container(record.manifest, container)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return session(paths, namespace, pod, container, stdin=stdin, tty=tty)


def session(paths: Paths, namespace: str, pod: str, container: str, *, stdin: bool, tty: bool) -> int:
    """Attach to one container until it ends (its exit code) or the user detaches (0)."""
    request = {"op": "attach", "namespace": namespace, "name": pod, "container": container, "stdin": stdin}
    try:
        conn, reply = protocol.open_session(paths, request)
    except (protocol.RequestError, protocol.SupervisorError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    with conn:
        if tty and not reply["tty"]:
            print(f"error: Unable to use a TTY - container {container} did not allocate one", file=sys.stderr)
        tty = bool(reply["tty"])  # a container with a terminal is attached as one, as kubectl does
        stdin = stdin and bool(reply["stdin"])
        raw = tty and stdin and os.isatty(0)
        if raw:
            print("If you don't see a command prompt, try pressing enter.", file=sys.stderr)

        def resize(rows: int, columns: int) -> None:
            conn.sendall(attach.frame(attach.RESIZE, f"{rows} {columns}".encode()))

        with terminal.raw_mode(0) if raw else contextlib.nullcontext(), \
                terminal.window_follower(resize) if tty and os.isatty(0) else contextlib.nullcontext():
            code = _relay(conn, stdin, detach=os.isatty(0))
    if code is None:
        print(f"\r\n{DETACHED}", file=sys.stderr)
        return 0
    return code


def _relay(conn: socket.socket, stdin: bool, *, detach: bool) -> int | None:
    """The session's frames out, our input in; the container's exit code, or None when we detached."""
    scanner = terminal.DetachScanner() if detach else None
    with selectors.DefaultSelector() as selector:
        selector.register(conn, selectors.EVENT_READ)
        if stdin:
            selector.register(0, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is conn:
                    got = attach.read_frame(conn)
                    if got is None:
                        print("error: podbay's supervisor ended the session", file=sys.stderr)
                        return 1
                    kind, data = got
                    if kind == attach.EXIT:
                        return int(data or b"0")
                    terminal.write_all(2 if kind == attach.STDERR else 1, data)
                    continue
                data = os.read(0, terminal.CHUNK)
                if not data:
                    selector.unregister(0)
                    conn.sendall(attach.frame(attach.CLOSE_STDIN))
                    continue
                leaving = False
                if scanner is not None:
                    data, leaving = scanner.feed(data)
                if data:
                    conn.sendall(attach.frame(attach.STDIN, data))
                if leaving:
                    return None
