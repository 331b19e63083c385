"""``podbay port-forward POD [LOCAL:]REMOTE... [--address A]``, as ``kubectl port-forward``.

Listens on ``A`` (127.0.0.1) and, for every connection, asks the supervisor for a connection to
the pod's localhost:REMOTE made inside the pod's network namespace (it passes the socket back),
then copies bytes both ways until either side closes. Runs until interrupted.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading

from podbay.runtime.cli.records import open_store
from podbay.runtime.paths import Paths
from podbay.runtime.supervisor import protocol

CHUNK = 65536


def parse_ports(specs: list[str]) -> list[tuple[int, int]] | str:
    """``8080``, ``18080:8080``, ``:8080`` (a free local port) into (local, remote); or the error."""
    pairs = []
    for spec in specs:
        local, _, remote = spec.rpartition(":") if ":" in spec else (spec, ":", spec)
        try:
            pair = (int(local) if local else 0, int(remote))
        except ValueError:
            return f'invalid port "{spec}": use PORT, LOCAL:REMOTE or :REMOTE'
        if not (0 <= pair[0] <= 65535 and 0 < pair[1] <= 65535):
            return f'invalid port "{spec}": ports are 1-65535'
        pairs.append(pair)
    return pairs or "at least one port is needed"


def port_forward(paths: Paths, pod: str, namespace: str, specs: list[str], address: str) -> int:
    pairs = parse_ports(specs)
    if isinstance(pairs, str):
        print(f"error: {pairs}", file=sys.stderr)
        return 1
    if open_store(paths).pod(namespace, pod) is None:
        print(f'Error from server (NotFound): pods "{pod}" not found', file=sys.stderr)
        return 1
    listeners: dict[socket.socket, int] = {}
    try:
        for local, remote in pairs:
            listener = socket.create_server((address, local), reuse_port=False)
            listeners[listener] = remote
            print(f"Forwarding from {address}:{listener.getsockname()[1]} -> {remote}", flush=True)
    except OSError as err:
        print(f"error: unable to listen on {address}: {err.strerror or err}", file=sys.stderr)
        for listener in listeners:
            listener.close()
        return 1
    try:
        with selectors.DefaultSelector() as selector:
            for listener in listeners:
                selector.register(listener, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    client, _ = key.fileobj.accept()  # type: ignore[union-attr]
                    remote = listeners[key.fileobj]  # type: ignore[index]
                    print(f"Handling connection for {remote}", flush=True)
                    threading.Thread(target=_serve, args=(paths, namespace, pod, remote, client),
                                     daemon=True).start()
    except KeyboardInterrupt:
        return 0
    finally:
        for listener in listeners:
            listener.close()


def _serve(paths: Paths, namespace: str, pod: str, port: int, client: socket.socket) -> None:
    with client:
        try:
            inside = protocol.receive_socket(paths, {"op": "connect", "namespace": namespace, "name": pod,
                                                     "port": port})
        except (protocol.RequestError, protocol.SupervisorError) as err:
            print(f"error: an error occurred forwarding {port}: {err}", file=sys.stderr, flush=True)
            return
        with inside:
            back = threading.Thread(target=_copy, args=(inside, client), daemon=True)
            back.start()
            _copy(client, inside)
            back.join()


def _copy(source: socket.socket, target: socket.socket) -> None:
    """One direction until its end, then half-close the other side so the peer sees the end too."""
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
