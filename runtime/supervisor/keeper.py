"""The descriptor keeper: a ``sleep infinity`` that inherited every descriptor the supervisor cannot lose.

The pods' namespaces are held by descriptors, not processes, and the containers write into
pipes whose other ends the supervisor reads. Were the supervisor killed, those would close
with it: the pods' namespaces would go and their containers would die of SIGPIPE. So one
exec'd ``sleep`` (half a megabyte) inherits the same descriptors, under the same numbers,
and is replaced by a new one whenever the set changes (the new one starts before the old
one is killed). A restarted supervisor reopens what it needs through ``/proc/KEEPER/fd/N``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from podbay.runtime.process.liveness import alive, start_time

NAME = "podbay: descriptor keeper"


class KeeperError(Exception):
    pass


@dataclass
class Keeper:
    state: Path  # <run dir>/supervisor/keeper.json: the live keeper's pid and start time
    pid: int = 0
    start: str = ""
    child: subprocess.Popen[bytes] | None = None

    @classmethod
    def load(cls, state: Path) -> Keeper:
        """The keeper a previous supervisor left, if it still lives."""
        keeper = cls(state)
        with contextlib.suppress(OSError, ValueError, KeyError):
            data = json.loads(state.read_text())
            if alive(int(data["pid"]), str(data["start"])):
                keeper.pid, keeper.start = int(data["pid"]), str(data["start"])
        return keeper

    def replace(self, fds: list[int]) -> None:
        """A new keeper holding exactly ``fds``; then the old one goes."""
        sleep = shutil.which("sleep")
        if sleep is None:
            raise KeeperError("no `sleep` on PATH (coreutils): podbay's supervisor needs it to keep descriptors")
        old_pid, old_start, old_child = self.pid, self.start, self.child
        if fds:
            self.child = subprocess.Popen([NAME, "infinity"], executable=sleep, pass_fds=fds,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True)
            self.pid, self.start = self.child.pid, start_time(self.child.pid)
        else:
            self.child, self.pid, self.start = None, 0, ""
        temporary = self.state.with_suffix(".tmp")
        temporary.write_text(json.dumps({"pid": self.pid, "start": self.start}))
        os.replace(temporary, self.state)
        if old_child is not None:
            old_child.kill()
            old_child.wait()
        elif old_pid and alive(old_pid, old_start):
            os.kill(old_pid, signal.SIGKILL)  # a previous supervisor's keeper: its parent reaps it

    def reopen(self, fd: int, flags: int = os.O_RDONLY) -> int:
        """Our own descriptor of what the keeper holds as ``fd`` (a namespace, or either end of a pipe)."""
        if not self.pid:
            raise KeeperError("no descriptor keeper is running")
        try:
            return os.open(f"/proc/{self.pid}/fd/{fd}", flags | os.O_CLOEXEC)
        except OSError as err:
            raise KeeperError(f"descriptor {fd} of the keeper ({self.pid}): {err.strerror}") from err

    def stop(self) -> None:
        self.replace([])
