"""``podbay kubelet``: the node agent in the foreground. It is the supervisor (pods, their restarts and
probes; the workload controllers) run in this process instead of detached, plus the static pods of a
manifest folder; for a systemd service (``contrib/podbay-kubelet.service``, and the user unit). Killed
or stopped, it leaves pods running; started again, it adopts them and reconciles from its stores."""

from __future__ import annotations

import os
import sys

from podbay.runtime.paths import Paths


def kubelet_command(paths: Paths, manifests: str) -> int:
    from podbay.runtime.controllers.static import default_folder  # noqa: PLC0415
    from podbay.runtime.supervisor import protocol  # noqa: PLC0415

    folder = os.path.abspath(manifests) if manifests else str(default_folder())
    protocol.folder(paths)  # made, with its permissions, as for a detached supervisor
    print(f"podbay kubelet: static pods from {folder}; store {paths.data_dir}, state {paths.run_dir}",
          file=sys.stderr)
    argv = [sys.executable, "-m", "podbay.runtime.supervisor.daemon", "--data", str(paths.data_dir),
            "--run", str(paths.run_dir), "--manifests", folder, "--foreground"]
    os.execv(sys.executable, argv)  # signals reach the agent itself; its exit code is this command's
