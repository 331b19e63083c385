"""kubectl debug's profiles, the detach key scanner and the attach stream's frames (pure parts)."""

from __future__ import annotations

import socket

import pytest

from podbay.runtime.cli.debug import apply_profile
from podbay.runtime.cli.terminal import DetachScanner
from podbay.runtime.supervisor import attach

BASE = {"name": "debugger-x", "image": "busybox", "securityContext": {"runAsUser": 5,
                                                                      "capabilities": {"add": ["CHOWN"]}}}


@pytest.mark.parametrize(("profile", "context"), [
    ("legacy", {"runAsUser": 5, "capabilities": {"add": ["CHOWN"]}}),
    ("general", {"runAsUser": 5, "capabilities": {"add": ["CHOWN", "SYS_PTRACE"]}}),
    ("baseline", None),
    ("restricted", {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": False,
                    "seccompProfile": {"type": "RuntimeDefault"}}),
    ("netadmin", {"runAsUser": 5, "capabilities": {"add": ["CHOWN", "NET_ADMIN", "NET_RAW"]}}),
    ("sysadmin", {"runAsUser": 5, "capabilities": {"add": ["CHOWN"]}, "privileged": True}),
])
def test_profiles_change_the_security_context_as_kubectls(profile: str, context: dict[str, object] | None) -> None:
    out = apply_profile(BASE, profile)
    assert out.get("securityContext") == context
    assert BASE["securityContext"] == {"runAsUser": 5, "capabilities": {"add": ["CHOWN"]}}  # a copy was changed


def test_detach_keys_are_found_across_reads_and_held_back_until_known() -> None:
    scanner = DetachScanner()
    assert scanner.feed(b"ls\x10") == (b"ls", False)  # ctrl-p could start the sequence: held
    assert scanner.feed(b"x") == (b"\x10x", False)  # it did not
    assert scanner.feed(b"a\x10") == (b"a", False)
    assert scanner.feed(b"\x11rest") == (b"", True)
    assert DetachScanner().feed(b"echo hi\x10\x11") == (b"echo hi", True)


def test_frames_round_trip_and_a_closed_peer_reads_none() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(attach.frame(attach.STDOUT, b"out") + attach.frame(attach.EXIT, b"3") + attach.frame(
            attach.CLOSE_STDIN))
        assert attach.read_frame(theirs) == (attach.STDOUT, b"out")
        assert attach.read_frame(theirs) == (attach.EXIT, b"3")
        assert attach.read_frame(theirs) == (attach.CLOSE_STDIN, b"")
        ours.sendall(attach.frame(attach.STDIN, b"partial")[:6])
        ours.close()
        assert attach.read_frame(theirs) is None
