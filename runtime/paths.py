"""Where podbay keeps things, as root and as an ordinary user (podman's layout).

Live state (container folders, sockets) is under ``run_dir``; images and other
persistent data under ``data_dir``. Both are overridable for tests and for users who
want several podbay stores (``--root``/``--runroot`` on the CLI, or ``PODBAY_DATA_DIR``
and ``PODBAY_RUN_DIR``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    data_dir: Path
    run_dir: Path

    def __post_init__(self) -> None:
        # Absolute always: the container's init changes directory before it uses them.
        object.__setattr__(self, "data_dir", Path(os.path.abspath(self.data_dir)))
        object.__setattr__(self, "run_dir", Path(os.path.abspath(self.run_dir)))

    @property
    def images(self) -> Path:
        return self.data_dir / "images"

    @property
    def containers(self) -> Path:
        """Per-container folders (overlay upper and work dirs, /etc files): persistent, on disk.

        Overlay's ``userxattr`` needs user xattrs on the upper dir, which tmpfs only has
        from Linux 6.6, so these live with the data rather than under ``run_dir``.
        """
        return self.data_dir / "containers"

    @property
    def objects_db(self) -> Path:
        """Applied objects (workloads, ConfigMaps, Secrets): the desired state, kept across reboots."""
        return self.data_dir / "objects.db"

    @property
    def seccomp_profiles(self) -> Path:
        """``seccompProfile.localhostProfile`` is relative to this folder (the kubelet's ``seccomp/``)."""
        return self.data_dir / "seccomp"


def default_paths() -> Paths:
    data = os.environ.get("PODBAY_DATA_DIR")
    run = os.environ.get("PODBAY_RUN_DIR")
    if os.geteuid() == 0:
        return Paths(Path(data or "/var/lib/podbay"), Path(run or "/run/podbay"))
    home = Path(os.environ.get("HOME") or os.path.expanduser("~"))
    xdg_data = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    # No systemd login session (no /run/user/UID): podman falls back to /tmp/podman-run-UID; so do we.
    xdg_run = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/podbay-run-{os.getuid()}"
    return Paths(Path(data or os.path.join(xdg_data, "podbay")), Path(run or os.path.join(xdg_run, "podbay")))
