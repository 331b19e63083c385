"""``podbay supervisor status|stop``: is the per-user supervisor running; stop it (pods keep running,
and the next command that needs it starts it again and re-adopts them)."""

from __future__ import annotations

import sys

from podbay.runtime.paths import Paths
from podbay.runtime.supervisor import protocol


def supervisor_command(paths: Paths, action: str) -> int:
    pid = protocol.running(paths)
    if action == "status":
        print(f"running (pid {pid})" if pid else "not running")
        return 0 if pid else 3
    if not protocol.stop(paths):
        print(f"error: the supervisor ({pid}) did not exit", file=sys.stderr)
        return 1
    return 0
