"""The attach stream between ``podbay attach`` and the supervisor, after the request's JSON line.

Both ways it is a sequence of frames: one kind byte, a 4-byte big-endian length, the data.
The supervisor sends the container's output (STDOUT, STDERR; a terminal's output is STDOUT)
and, when the run ends, EXIT with its code; the client sends STDIN, RESIZE ("rows columns") and
CLOSE_STDIN. Closing the socket detaches: the container goes on. Standard library only.
"""

from __future__ import annotations

import socket
import struct

STDIN, STDOUT, STDERR, RESIZE, EXIT, CLOSE_STDIN = range(6)
OUTPUT_KINDS = {"stdout": STDOUT, "stderr": STDERR}
HEADER = struct.Struct(">BI")


def frame(kind: int, data: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(data)) + data


def read_frame(conn: socket.socket) -> tuple[int, bytes] | None:
    """The next frame, or None when the other side has gone."""
    header = _read_exactly(conn, HEADER.size)
    if header is None:
        return None
    kind, size = HEADER.unpack(header)
    data = _read_exactly(conn, size) if size else b""
    return None if data is None else (kind, data)


def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        try:
            chunk = conn.recv(left)
        except TimeoutError:  # the socket's timeout is for sending; a reader waits for as long as it takes
            continue
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
