"""The parent/child message channel and the kernel boundary's errors."""

from __future__ import annotations

import errno

import pytest

from podbay.runtime.process.channel import Channel, ChildError, ProtocolError
from podbay.runtime.syscalls import CLONE_NEWNS, CLONE_NEWUSER, SyscallError, namespace_names


def test_messages_arrive_typed_and_in_order() -> None:
    parent, theirs = Channel.pair()
    child = Channel(theirs)
    child.send("pid", pid=42)
    child.send("log", message="hi")
    assert parent.recv("pid", timeout=1) == {"kind": "pid", "pid": 42}
    assert parent.recv("log", timeout=1) == {"kind": "log", "message": "hi"}
    child.close()
    assert parent.recv("log", timeout=1) is None  # end of file: every copy of the child's end is closed


def test_an_unexpected_message_is_a_protocol_error() -> None:
    parent, theirs = Channel.pair()
    Channel(theirs).send("pid", pid=1)
    with pytest.raises(ProtocolError, match="expected unshared, got pid"):
        parent.recv("unshared", timeout=1)


def test_silence_is_a_timeout_not_a_hang() -> None:
    parent, _theirs = Channel.pair()
    with pytest.raises(ProtocolError, match=r"no answer within 0\.05 s"):
        parent.recv("pid", timeout=0.05)


def test_an_error_message_carries_the_stage_and_errno() -> None:
    parent, theirs = Channel.pair()
    Channel(theirs).send("error", stage="mounts", errno=errno.EPERM, message="mount proc /r/proc: EPERM")
    with pytest.raises(ChildError) as caught:
        parent.recv("pid", timeout=1)
    assert (caught.value.stage, caught.value.errno, str(caught.value)) == (
        "mounts", errno.EPERM, "mount proc /r/proc: EPERM")


def test_syscall_errors_read_like_the_failed_call() -> None:
    assert str(SyscallError(errno.EPERM, "mount proc", "/x/proc")) == \
        "mount proc /x/proc: EPERM (Operation not permitted)"
    assert str(SyscallError(errno.EINVAL, "unshare user")) == "unshare user: EINVAL (Invalid argument)"
    assert namespace_names(CLONE_NEWUSER | CLONE_NEWNS) == "user+mnt"
