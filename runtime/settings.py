"""podbay's own settings: a small YAML file, each key also an environment variable.

``/etc/podbay/config.yaml`` for root, ``$XDG_CONFIG_HOME/podbay/config.yaml`` (``~/.config``) for a
user, or the file ``PODBAY_CONFIG`` names. An absent file means the defaults. ::

    cgroups: enabled          # required | enabled | disabled    (PODBAY_CGROUPS)
    cgroupRoot: /sys/fs/cgroup/podbay                         #  (PODBAY_CGROUP_ROOT)
    podPidsLimit: -1          # the kubelet's podPidsLimit: -1 unlimited   (PODBAY_POD_PIDS_LIMIT)
    memorySwap: none          # none (the kubelet's NoSwap) | unlimited    (PODBAY_MEMORY_SWAP)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_MODES = ("required", "enabled", "disabled")
SWAP_MODES = ("none", "unlimited")


class SettingsError(ValueError):
    """A bad settings file or value; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    cgroups: str = "enabled"
    cgroup_root: str = ""  # "" = found: /sys/fs/cgroup/podbay, or the user's delegated subtree
    pod_pids_limit: int = -1
    memory_swap: str = "none"

    @property
    def swap_max(self) -> int | None:
        return 0 if self.memory_swap == "none" else None


KEYS = {"cgroups": "PODBAY_CGROUPS", "cgroupRoot": "PODBAY_CGROUP_ROOT", "podPidsLimit": "PODBAY_POD_PIDS_LIMIT",
        "memorySwap": "PODBAY_MEMORY_SWAP"}


def settings_file() -> Path:
    if os.environ.get("PODBAY_CONFIG"):
        return Path(os.environ["PODBAY_CONFIG"])
    if os.geteuid() == 0:
        return Path("/etc/podbay/config.yaml")
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(home, "podbay", "config.yaml")


def _from_file(path: Path) -> dict[str, object]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise SettingsError(f"{path}: {err.strerror}") from err
    import yaml  # noqa: PLC0415 - only when a file exists

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SettingsError(f"{path}: not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of settings")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SettingsError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(KEYS)})")
    return data


def load() -> Settings:
    """The settings: the file, then the environment on top. Raises SettingsError naming what is wrong."""
    path = settings_file()
    raw = _from_file(path)
    where = {key: str(path) for key in raw}
    for key, variable in KEYS.items():
        if os.environ.get(variable):
            raw[key], where[key] = os.environ[variable], variable
    cgroups = str(raw.get("cgroups", "enabled"))
    if cgroups not in CGROUP_MODES:
        raise SettingsError(f"{where['cgroups']}: cgroups: {cgroups!r} is not one of {', '.join(CGROUP_MODES)}")
    root = str(raw.get("cgroupRoot", ""))
    if root and not root.startswith("/sys/fs/cgroup/"):
        raise SettingsError(f"{where['cgroupRoot']}: cgroupRoot: {root!r} must be a folder under /sys/fs/cgroup/")
    try:
        pids = int(str(raw.get("podPidsLimit", -1)))
    except ValueError:
        raise SettingsError(f"{where['podPidsLimit']}: podPidsLimit: {raw['podPidsLimit']!r} is not a "
                            "whole number") from None
    swap = str(raw.get("memorySwap", "none"))
    if swap not in SWAP_MODES:
        raise SettingsError(f"{where['memorySwap']}: memorySwap: {swap!r} is not one of {', '.join(SWAP_MODES)}")
    return Settings(cgroups=cgroups, cgroup_root=root.rstrip("/"), pod_pids_limit=pids, memory_swap=swap)
