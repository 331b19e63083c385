"""Run a short job in a new user namespace with a given id mapping (rootless unpack and removal).

Files owned by subordinate ids (an unpacked layer, a container's upper dir) can only be
created or deleted by a process whose user namespace maps those ids, as ``podman unshare``
does. The job runs in a re-exec'd worker (``python -m podbay.runtime.process.userns_worker``),
never in a fork of this possibly multi-threaded process.

Sync points, numbered on both sides::

    parent                                    worker
      spawn ---------------------------------> unshare(CLONE_NEWUSER)
      (1) <----------------------------- "unshared"
      write uid_map/gid_map
      (2) "mapped" -------------------------> setresgid/setresuid(0), run the job
      (3) <----------------------------- "done" {result}   or   "error" {stage, message}
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from podbay.runtime.idmap import IdMapError, IdMapping, write_mapping
from podbay.runtime.process.channel import ENV_FD, Channel, ChildError, ProtocolError

WORKER = "podbay.runtime.process.userns_worker"


class UsernsError(Exception):
    pass


def python_argv(module: str) -> list[str]:
    """How to re-exec podbay: the same interpreter, isolated from PYTHON* variables and user site."""
    return [sys.executable, "-I", "-m", module]


def run_in_userns(mapping: IdMapping, job: str, *args: str, timeout: float = 600) -> dict[str, Any]:
    channel, theirs = Channel.pair()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), ENV_FD: str(theirs.fileno())}
    try:
        worker = subprocess.Popen(python_argv(WORKER) + [job, *args], pass_fds=[theirs.fileno()], env=env,
                                  stdin=subprocess.DEVNULL)
    finally:
        theirs.close()
    try:
        channel.recv("unshared", timeout=30)  # (1)
        write_mapping(worker.pid, mapping)
        channel.send("mapped")  # (2)
        done = channel.recv("done", timeout=timeout)  # (3)
        if done is None:
            raise UsernsError(f"{job}: the user namespace worker exited without an answer")
        return done
    except (ChildError, ProtocolError, IdMapError) as err:
        raise UsernsError(f"{job}: {err}") from err
    finally:
        channel.close()
        if worker.poll() is None:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def remove_tree(path: str, mapping: IdMapping) -> None:
    """Delete a folder whose files may belong to the mapping's subordinate ids."""
    if not os.path.lexists(path):
        return
    if mapping.identity or os.geteuid() == 0:
        import shutil  # noqa: PLC0415

        shutil.rmtree(path, ignore_errors=False)
        return
    run_in_userns(mapping, "remove", path)
