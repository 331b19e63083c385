"""Escape attempts from inside a default container; each must be denied, with the expected errno.

The probe (tests/probe/probe.c) makes the attempt itself, with the raw syscall, and
prints ``denied ERRNO`` or ``allowed``. Every attempt runs as root and as the rootless
test user. A control at the end shows that the same probe reports ``allowed`` where the
pod asks for the privilege, so these tests can fail.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.podbay_harness import Podbay, pod

NO_NET_RAW = {"capabilities": {"drop": ["NET_RAW"]}}

# attempt -> (errnos that count as denied, securityContext, argument: None, "pid" or "marker")
ATTEMPTS: dict[str, tuple[set[str], dict[str, object] | None, str | None]] = {
    "mount": ({"EPERM"}, None, None),
    "remount-root-rw": ({"EPERM"}, None, None),
    "umount-proc": ({"EPERM"}, None, None),
    "init-module": ({"EPERM"}, None, None),
    "finit-module": ({"EPERM"}, None, None),
    "ptrace-host": ({"EPERM", "ESRCH"}, None, "pid"),
    "raw-socket": ({"EPERM"}, NO_NET_RAW, None),
    "packet-socket": ({"EPERM"}, NO_NET_RAW, None),
    "read-kcore": ({"EACCES", "ENOENT"}, None, None),  # masked: reads nothing (ENOENT where the kernel has none)
    "write-proc-sys": ({"EROFS", "EACCES"}, None, None),  # EACCES: owned by a host id the user namespace lacks
    "write-self-exe": ({"ETXTBSY", "EACCES"}, None, None),
    "host-file-proc1-root": ({"ENOENT"}, None, "marker"),
    "mknod-disk": ({"EPERM"}, None, None),
    "dev-mem": ({"ENOENT"}, None, None),
    "unshare-user": ({"EPERM"}, None, None),
    "unshare-mount": ({"EPERM"}, None, None),
    "clone-newuser": ({"EPERM"}, None, None),
    "setns-host": ({"ENOENT"}, None, "pid"),
    "keyctl": ({"EPERM"}, None, None),
    "add-key": ({"EPERM"}, None, None),
    "bpf": ({"EPERM"}, None, None),
    "perf-event-open": ({"EPERM"}, None, None),
    "kexec-load": ({"EPERM"}, None, None),
    "reboot": ({"EPERM"}, None, None),
    "swapon": ({"EPERM"}, None, None),
    "clock-settime": ({"EPERM"}, None, None),
    "open-by-handle-at": ({"EPERM"}, None, None),
    "userfaultfd": ({"EPERM"}, None, None),
    "iopl": ({"EPERM"}, None, None),
    "sethostname": ({"EPERM"}, None, None),
    "chroot-escape": ({"ENOENT"}, None, "marker"),
    "personality": ({"ENOSYS"}, None, None),  # the default action: see security/seccomp.py
}
if os.path.exists("/proc/sysrq-trigger"):
    ATTEMPTS["sysrq-trigger"] = ({"EROFS"}, None, None)


@pytest.fixture(scope="module")
def host_marker() -> Iterator[Path]:
    """A file on the host that no container may reach."""
    with tempfile.NamedTemporaryFile(prefix="podbay-host-marker-", dir="/tmp") as file:
        os.chmod(file.name, 0o644)
        yield Path(file.name)


def test_the_battery_covers_every_probe_attempt(probe_binary: Path) -> None:
    listed = set(subprocess.run([str(probe_binary), "list"], capture_output=True, text=True, check=True).stdout.split())
    assert set(ATTEMPTS) - {"sysrq-trigger"} == listed - {"sysrq-trigger", "write-sys"}
    assert len(ATTEMPTS) >= 20


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_escape_attempt_is_denied(podbay: Podbay, attempt: str, host_marker: Path) -> None:
    denied, security, argument = ATTEMPTS[attempt]
    args = [attempt]
    if argument == "pid":
        args.append(str(os.getpid()))
    elif argument == "marker":
        args.append(str(host_marker))
    done = podbay.run(pod(command=["/probe", *args], security=security))
    verdict = done.stdout.strip().split()
    assert verdict[:1] == ["denied"], f"{attempt}: {done.stdout}{done.stderr}"
    assert verdict[1] in denied, f"{attempt}: denied with {verdict[1]}, expected one of {sorted(denied)}"


def test_write_sys_is_read_only(podbay: Podbay) -> None:
    done = podbay.run(pod(command=["sh", "-c", "echo 1500 > /sys/class/net/lo/mtu"]))
    assert done.returncode != 0 and "Read-only file system" in done.stderr


def test_setuid_binary_gains_nothing_under_no_new_privs(podbay: Podbay) -> None:
    done = podbay.run(pod(command=["/probe-suid", "ids"], security={"runAsUser": 1000}))
    assert done.stdout.split() == ["1000", "1000", "1000", "1000"], done.stderr  # uid euid gid egid
    # Control: with allowPrivilegeEscalation the same binary does gain euid 0, so the test can fail.
    control = podbay.run(pod(command=["/probe-suid", "ids"],
                             security={"runAsUser": 1000, "allowPrivilegeEscalation": True}))
    assert control.stdout.split() == ["1000", "0", "1000", "1000"], control.stderr


def test_the_probe_reports_allowed_when_the_pod_grants_it(podbay: Podbay) -> None:
    """The battery's control: SYS_ADMIN lifts the seccomp rule, and the user namespace lets unshare succeed."""
    done = podbay.run(pod(command=["/probe", "unshare-mount"], security={"capabilities": {"add": ["SYS_ADMIN"]}}))
    assert done.stdout.strip() == "allowed", done.stderr
