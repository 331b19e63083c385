"""Typed messages between a parent and a re-exec'd child, over a SOCK_SEQPACKET socketpair.

Each message is one dict with a ``kind``, in ``marshal``'s format (both ends are podbay processes of
one interpreter; importing ``json`` would cost every init 10 ms, ``re`` among them).
``recv(expect)`` raises on anything but the expected kinds, so a protocol slip is an error at
the sync point where it happens, never a hang. An ``error`` message from the child carries the
failed stage, errno and text, and is raised as :class:`ChildError`. End of file means every copy
of the child's end is closed: the container's end is close-on-exec, so EOF after ``pid`` means the
exec succeeded.

Standard library only: the container init imports this.
"""

from __future__ import annotations

import marshal
import os
import socket

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the init 4 ms

if TYPE_CHECKING:
    from typing import Any

MAX_MESSAGE = 1 << 20
ENV_FD = "_PODBAY_SYNC_FD"
ENV_EXE_FD = "_PODBAY_EXE_FD"  # an init run from a sealed interpreter (sealed.py) closes it at once


class ProtocolError(Exception):
    pass


class ChildError(Exception):
    """A set-up step failed in the child: ``stage`` names the step, ``errno`` the kernel's answer."""

    def __init__(self, stage: str, message: str, err: int = 0) -> None:
        super().__init__(message)
        self.stage = stage
        self.errno = err


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def pair(cls) -> tuple[Channel, socket.socket]:
        """Our end, and the child's end (inheritable, to pass with ``pass_fds``)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        theirs.set_inheritable(True)
        return cls(ours), theirs

    @classmethod
    def from_fd(cls, fd: int) -> Channel:
        sock = socket.socket(fileno=fd)
        sock.set_inheritable(False)  # close-on-exec: EOF tells the parent the exec happened
        return cls(sock)

    def send(self, kind: str, **fields: Any) -> None:
        self.sock.send(marshal.dumps({"kind": kind, **fields}))

    def send_fds(self, kind: str, fds: list[int], **fields: Any) -> None:
        """A message carrying descriptors (SCM_RIGHTS): the receiver finds its copies in ``fds``."""
        socket.send_fds(self.sock, [marshal.dumps({"kind": kind, **fields})], fds)

    def recv(self, *expect: str, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message (None at EOF); raises ChildError for ``error``, ProtocolError for surprises."""
        self.sock.settimeout(timeout)
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 4, socket.MSG_CMSG_CLOEXEC)
        except TimeoutError as err:
            raise ProtocolError(f"no answer within {timeout:g} s (waiting for {' or '.join(expect)})") from err
        finally:
            self.sock.settimeout(None)
        if not data:
            return None
        message: dict[str, Any] = marshal.loads(data)
        if fds:
            message["fds"] = fds
        kind = message.get("kind")
        if kind == "error":
            raise ChildError(message.get("stage", "?"), message.get("message", ""), message.get("errno", 0))
        if expect and kind not in expect:
            for fd in fds:
                os.close(fd)
            raise ProtocolError(f"expected {' or '.join(expect)}, got {kind}")
        return message

    def close(self) -> None:
        self.sock.close()
