"""Starting the init (``python -I -S -m podbay.runtime.process.init``) and taking it through the
handshake's first sync points: what a container, a sandbox and an exec all begin with.

Light on purpose: ``podbay exec`` imports this, not the launcher (whose plan and image modules
cost the CLI 20 ms).
"""

from __future__ import annotations

import marshal
import os
import subprocess
from collections.abc import Callable
from typing import IO

from podbay.runtime.idmap import IdMapError, IdMapping, write_mapping
from podbay.runtime.process import sealed
from podbay.runtime.process.channel import ENV_EXE_FD, ENV_FD, Channel, ChildError, ProtocolError
from podbay.runtime.process.userns import python_argv

INIT = "podbay.runtime.process.init"
HANDSHAKE_TIMEOUT = 60.0  # generous: the copy fallback copies a whole image before answering


class LaunchError(Exception):
    """The container could not start; the message names the container, the step and the cause."""


Stdio = IO[bytes] | int | None
HANDSHAKE_FAILURES = (ChildError, ProtocolError, IdMapError, OSError)  # what a failed handshake raises


def launch_error(what: str, err: BaseException) -> LaunchError:
    """A failed handshake in the user's words: ``what``, the init's stage if it named one, the cause."""
    return LaunchError(f"{what}: {err.stage}: {err}" if isinstance(err, ChildError) else f"{what}: {err}")


def spawn_init(plan: dict[str, object], mapping: IdMapping, what: str, *, stdio: tuple[Stdio, Stdio, Stdio],
               pass_fds: tuple[int, ...] = (), place: Callable[[int], None] | None = None,
               ) -> tuple[subprocess.Popen[bytes], Channel]:
    """Start the init and take it through sync points (1)-(3): plan sent, user namespace mapped.

    ``place(pid)`` runs before the plan is sent, while the init waits for it: the container's
    cgroup and oom_score_adj are set before any of its processes exists (runc's parent moves
    ``runc init`` the same way). An exception from it fails the launch with its message.

    The plan itself travels in a memfd, not in the message: with the pod's secrets and ConfigMaps
    (up to 1 MiB each) it can exceed what one SOCK_SEQPACKET message may carry."""
    channel, theirs = Channel.pair()
    plan_fd = os.memfd_create("podbay-plan")  # close-on-exec by default; pass_fds makes the child's copy stay
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), ENV_FD: str(theirs.fileno())}
    argv = python_argv(INIT)
    if sealed.needed(mapping.identity, "user" in (plan.get("join") or {})):  # type: ignore[operator]
        exe = sealed.interpreter()
        argv[0], env[ENV_EXE_FD] = f"/proc/self/fd/{exe}", str(exe)
        pass_fds = (*pass_fds, exe)
    try:
        os.write(plan_fd, marshal.dumps(plan))
        init = subprocess.Popen(argv, pass_fds=(theirs.fileno(), plan_fd, *pass_fds), env=env,
                                stdin=stdio[0], stdout=stdio[1], stderr=stdio[2], start_new_session=True)
    except OSError as err:
        channel.close()
        raise LaunchError(f"{what}: cannot start the init: {err}") from err
    finally:
        theirs.close()
        os.close(plan_fd)
    try:
        if place is not None:
            try:
                place(init.pid)
            except Exception as err:  # a cgroup that cannot be joined: the launch fails, nothing ran
                raise LaunchError(f"{what}: {err}") from err
        channel.send("plan", fd=plan_fd)  # (1)
        if plan["userns"] and not plan.get("join"):
            channel.recv("unshared", timeout=HANDSHAKE_TIMEOUT)  # (2)
            write_mapping(init.pid, mapping)
            channel.send("mapped")  # (3)
    except BaseException as err:
        channel.close()
        init.kill()
        init.wait()
        if isinstance(err, HANDSHAKE_FAILURES):
            raise launch_error(what, err) from err
        raise
    return init, channel
