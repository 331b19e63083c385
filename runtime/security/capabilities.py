"""The container's capability set, as containerd computes it from a securityContext.

Only the bounding set is given to the container: containerd and CRI-O set no inheritable
and no ambient capabilities, so after ``execve`` root has ``CapPrm = CapEff = CapBnd`` and
any other user has empty permitted and effective sets, which is what the Kubernetes
documentation shows in ``/proc/1/status``.
"""

from __future__ import annotations

# Linux capability numbers (linux/capability.h), in order.
CAPABILITY_NUMBERS = {name: number for number, name in enumerate("""
CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE
NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN
SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE
MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE
""".split())}

# containerd's and moby's default set (containerd oci/spec.go, moby oci/caps/defaults.go).
DEFAULT_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
                        "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE")


def last_capability(proc: str = "/proc") -> int:
    try:
        with open(f"{proc}/sys/kernel/cap_last_cap") as file:
            return int(file.read())
    except (OSError, ValueError):
        return max(CAPABILITY_NUMBERS.values())


def _normal(name: str) -> str:
    upper = name.upper()
    return upper[4:] if upper.startswith("CAP_") else upper


def container_capabilities(add: list[str], drop: list[str], privileged: bool,
                           last_cap: int | None = None) -> list[str]:
    """The bounding set: containerd's ``TweakCapabilities`` (adds win over drops; ALL in either)."""
    last = last_capability() if last_cap is None else last_cap
    every = [name for name, number in CAPABILITY_NUMBERS.items() if number <= last]
    if privileged:
        return every
    adds = [_normal(c) for c in add]
    drops = [_normal(c) for c in drop]
    basics = every if "ALL" in adds else list(DEFAULT_CAPABILITIES)
    caps = [] if "ALL" in drops else [c for c in basics if c not in drops]
    for cap in adds:
        if cap == "ALL" or cap in caps:
            continue
        if cap not in CAPABILITY_NUMBERS:
            raise ValueError(f"unknown capability {cap!r}")
        caps.append(cap)
    return caps


def capability_names(mask_hex: str) -> list[str]:
    """The names in a /proc/PID/status capability mask (``00000000a80425fb``), lowest number first."""
    mask = int(mask_hex or "0", 16)
    names = {number: name for name, number in CAPABILITY_NUMBERS.items()}
    return [names.get(bit, f"CAP_{bit}") for bit in range(64) if mask >> bit & 1]
