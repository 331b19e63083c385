"""seccomp filters: RuntimeDefault, Localhost profiles (OCI/Docker JSON) and Unconfined.

The filter is built in the parent with libseccomp (through pyseccomp) and exported as BPF;
the container's init only loads the bytes (``syscalls.load_seccomp_filter``) as its last
step before ``execve``.

``RuntimeDefault`` is built as moby's and containers/common's default profile is: an allow
list. Every syscall libseccomp knows for this architecture is allowed, except the ones
moby's profile refuses, which fail with EPERM (kernel modules, kexec, reboot, mount and the
new mount API, namespaces, keyrings, bpf, perf, ptrace, clock setting, swap, NUMA ...),
unless the container holds the capability that moby's profile lifts them for
(SYS_ADMIN lifts mount, SYS_PTRACE lifts ptrace ...). Arguments are filtered as moby does:
clone without namespace flags, clone3 refused with ENOSYS so libc falls back to clone,
personality only for its five harmless values (others get ENOSYS). Syscalls unknown to libseccomp (newer than
it) fail with ENOSYS, as in containers/common's profile, so that libc falls back.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLONE_NAMESPACE_FLAGS = 0x7E020000  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

# Refused unless the container holds the capability (moby's "includes": {"caps": [...]}).
_BY_CAPABILITY = {
    "SYS_ADMIN": ("mount umount umount2 pivot_root unshare setns bpf fanotify_init lookup_dcookie perf_event_open "
                  "quotactl quotactl_fd setdomainname sethostname open_tree move_mount fsopen fsconfig fsmount fspick "
                  "mount_setattr name_to_handle_at"),
    "SYS_BOOT": "reboot",
    "SYS_CHROOT": "chroot",
    "SYS_MODULE": "init_module finit_module delete_module create_module query_module get_kernel_syms",
    "SYS_PACCT": "acct",
    "SYS_PTRACE": "ptrace process_vm_readv process_vm_writev kcmp process_madvise",
    "SYS_RAWIO": "iopl ioperm",
    "SYS_TIME": "settimeofday stime clock_settime clock_settime64 adjtimex clock_adjtime clock_adjtime64",
    "SYS_TTY_CONFIG": "vhangup",
    "SYS_NICE": "get_mempolicy mbind set_mempolicy set_mempolicy_home_node move_pages migrate_pages",
    "SYSLOG": "syslog",
    "DAC_READ_SEARCH": "open_by_handle_at",
}
# Refused whatever the capabilities.
_ALWAYS = ("add_key keyctl request_key kexec_load kexec_file_load nfsservctl swapon swapoff _sysctl sysfs uselib "
           "userfaultfd ustat vm86 vm86old bdflush io_pgetevents")
# Given an argument filter below instead of a plain allow.
_FILTERED = ("clone", "clone3", "personality")
_PERSONALITY_ALLOWED = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
_ACTIONS = {"SCMP_ACT_ALLOW": "ALLOW", "SCMP_ACT_ERRNO": "ERRNO", "SCMP_ACT_KILL": "KILL",
            "SCMP_ACT_KILL_THREAD": "KILL", "SCMP_ACT_KILL_PROCESS": "KILL_PROCESS", "SCMP_ACT_TRAP": "TRAP",
            "SCMP_ACT_LOG": "LOG"}
_OPS = {"SCMP_CMP_NE": "NE", "SCMP_CMP_LT": "LT", "SCMP_CMP_LE": "LE", "SCMP_CMP_EQ": "EQ", "SCMP_CMP_GE": "GE",
        "SCMP_CMP_GT": "GT", "SCMP_CMP_MASKED_EQ": "MASKED_EQ"}
_ARCHES = {"x86_64": ("SCMP_ARCH_X86_64", "amd64"), "aarch64": ("SCMP_ARCH_AARCH64", "arm64")}


class SeccompError(Exception):
    pass


@dataclass
class Rule:
    """Syscall names, an action, and argument comparisons that must all hold."""

    names: list[str]
    action: str  # ALLOW, ERRNO, KILL, KILL_PROCESS, TRAP, LOG
    errno: int = errno.EPERM
    args: list[tuple[int, str, int, int]] = field(default_factory=list)  # index, op, value, mask/value two


@dataclass
class Profile:
    default_action: str
    default_errno: int = errno.EPERM
    rules: list[Rule] = field(default_factory=list)


def _known_syscalls() -> list[str]:
    import pyseccomp  # noqa: PLC0415

    arch = pyseccomp.system_arch()
    names = []
    for number in range(1024):
        try:
            name = pyseccomp.resolve_syscall(arch, number)
        except (ValueError, OSError):
            continue
        if name:
            names.append(name.decode() if isinstance(name, bytes) else name)
    return names


def runtime_default(capabilities: list[str]) -> Profile:
    held = set(capabilities)
    denied = set(_ALWAYS.split())
    for cap, names in _BY_CAPABILITY.items():
        if cap not in held:
            denied.update(names.split())
    allowed = [n for n in _known_syscalls() if n not in denied and n not in _FILTERED]
    rules = [Rule(allowed, "ALLOW"), Rule(sorted(denied), "ERRNO", errno.EPERM)]
    # personality: only its five harmless values; any other gets the default (ENOSYS). libseccomp lets a plain
    # rule override argument rules for the same syscall, so moby's EPERM cannot be given here.
    rules += [Rule(["personality"], "ALLOW", args=[(0, "EQ", value, 0)]) for value in _PERSONALITY_ALLOWED]
    if "SYS_ADMIN" in held:
        rules += [Rule(["clone", "clone3"], "ALLOW")]
    else:
        rules += [Rule(["clone"], "ALLOW", args=[(0, "MASKED_EQ", CLONE_NAMESPACE_FLAGS, 0)]),
                  Rule(["clone3"], "ERRNO", errno.ENOSYS)]
        # Any namespace flag: EPERM, as moby's profile answers (one rule per flag: a rule compares once).
        rules += [Rule(["clone"], "ERRNO", errno.EPERM, args=[(0, "MASKED_EQ", bit, bit)])
                  for bit in (1 << n for n in range(32)) if CLONE_NAMESPACE_FLAGS & bit]
    return Profile("ERRNO", errno.ENOSYS, rules)


def load_profile(path: Path, capabilities: list[str]) -> Profile:
    """A profile in the OCI/Docker JSON format (``defaultAction``, ``syscalls`` with names, args,
    ``includes``/``excludes`` by capability and architecture), for this container's capabilities."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise SeccompError(f"seccomp profile {path} does not exist") from err
    except (OSError, ValueError) as err:
        raise SeccompError(f"seccomp profile {path}: {err}") from err
    if not isinstance(data, dict) or "defaultAction" not in data:
        raise SeccompError(f"seccomp profile {path}: not an OCI/Docker seccomp profile (no defaultAction)")
    held = {f"CAP_{c}" for c in capabilities}
    machine = _ARCHES.get(os.uname().machine, ("", ""))

    def applies(condition: dict[str, Any] | None, negate: bool) -> bool:
        if not condition:
            return True
        caps = set(condition.get("caps") or [])
        arches = set(condition.get("arches") or [])
        hit_caps = bool(caps) and caps <= held if not negate else bool(caps & held)
        hit_arch = bool(arches & set(machine))
        if negate:
            return not (hit_caps or hit_arch)
        return (not caps or hit_caps) and (not arches or hit_arch)

    try:
        default_action = _action(data["defaultAction"], path)
        profile = Profile(default_action, int(data.get("defaultErrnoRet") or errno.EPERM))
        for entry in data.get("syscalls") or []:
            if not applies(entry.get("includes"), False) or not applies(entry.get("excludes"), True):
                continue
            names = entry.get("names") or ([entry["name"]] if entry.get("name") else [])
            args = [(int(a["index"]), _op(a["op"], path), int(a["value"]), int(a.get("valueTwo") or 0))
                    for a in entry.get("args") or []]
            profile.rules.append(Rule(list(names), _action(entry["action"], path),
                                      int(entry.get("errnoRet") or errno.EPERM), args))
    except (KeyError, TypeError, ValueError) as err:
        raise SeccompError(f"seccomp profile {path}: malformed entry ({err})") from err
    return profile


def _action(name: str, path: Path) -> str:
    if name not in _ACTIONS:
        raise SeccompError(f"seccomp profile {path}: unsupported action {name!r}")
    return _ACTIONS[name]


def _op(name: str, path: Path) -> str:
    if name not in _OPS:
        raise SeccompError(f"seccomp profile {path}: unsupported comparison {name!r}")
    return _OPS[name]


def compile_bpf(profile: Profile) -> bytes:
    """The profile as a classic-BPF program for this architecture."""
    import pyseccomp  # noqa: PLC0415

    def action(name: str, err: int) -> Any:
        return pyseccomp.ERRNO(err) if name == "ERRNO" else getattr(pyseccomp, name)

    default = action(profile.default_action, profile.default_errno)
    filt = pyseccomp.SyscallFilter(default)
    for rule in profile.rules:
        rule_action = action(rule.action, rule.errno)
        if rule.action == profile.default_action and (rule.action != "ERRNO" or rule.errno == profile.default_errno):
            continue  # libseccomp refuses rules that repeat the default
        comparisons = [pyseccomp.Arg(index, getattr(pyseccomp, op), value, *((two,) if op == "MASKED_EQ" else ()))
                       for index, op, value, two in rule.args]
        for name in rule.names:
            try:
                filt.add_rule(rule_action, name, *comparisons)
            except (ValueError, OSError) as err:
                if isinstance(err, OSError) and err.errno == errno.EEXIST:
                    continue
                if _unknown(name):
                    continue  # a syscall this architecture or libseccomp does not have
                raise SeccompError(f"seccomp rule for {name}: {err}") from err
    fd = os.memfd_create("podbay-seccomp")
    try:
        with os.fdopen(fd, "w+b") as file:
            filt.export_bpf(file)
            file.seek(0)
            return file.read()
    except OSError as err:
        raise SeccompError(f"cannot export the seccomp filter: {err}") from err


def _unknown(name: str) -> bool:
    import pyseccomp  # noqa: PLC0415

    try:
        return bool(pyseccomp.resolve_syscall(pyseccomp.system_arch(), name) < 0)
    except (ValueError, OSError):
        return True


PROFILE_VERSION = "4"  # bump when runtime_default changes, to invalidate cached programs


def cached_runtime_default(capabilities: list[str], cache_dir: Path) -> bytes:
    """RuntimeDefault's BPF for these capabilities, compiled once and kept in ``cache_dir``.

    Listing the syscalls libseccomp knows costs about 20 ms, too much for every start.
    """
    import hashlib  # noqa: PLC0415

    import pyseccomp  # noqa: PLC0415

    api = pyseccomp.get_api() if hasattr(pyseccomp, "get_api") else 0
    key = hashlib.sha256(repr((PROFILE_VERSION, sorted(capabilities), os.uname().machine, api,
                               getattr(pyseccomp, "__version__", ""))).encode()).hexdigest()[:24]
    path = cache_dir / f"runtime-default-{key}.bpf"
    try:
        return path.read_bytes()
    except OSError:
        pass
    program = compile_bpf(runtime_default(capabilities))
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(program)
        os.replace(temporary, path)
    except OSError:
        pass  # a cache we cannot write is only slower
    return program
