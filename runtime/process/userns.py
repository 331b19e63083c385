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

import functools
import os
import subprocess
import sys
from typing import Any

from podbay.runtime.idmap import IdMapError, IdMapping, write_mapping
from podbay.runtime.process.channel import ENV_FD, Channel, ChildError, ProtocolError

WORKER = "podbay.runtime.process.userns_worker"


class UsernsError(Exception):
    pass


def python_argv(module: str, *packages: str) -> list[str]:
    """How to re-exec podbay's ``module`` and call its ``main()``: the same interpreter, isolated
    (``-I``: no PYTHON* variables, no user site) and without ``site`` (``-S``).

    ``site`` costs a re-exec'd child about 18 ms (an editable install's import finder alone
    imports pathlib and inspect), on every container start. The child needs only a few import
    locations, which the parent knows: podbay.runtime's folder, python-prctl's and those of
    the other third-party ``packages`` it names.
    """
    return [sys.executable, "-I", "-S", "-c", _bootstrap(module, ("prctl", *packages))]


@functools.cache
def _bootstrap(module: str, packages: tuple[str, ...]) -> str:
    import importlib.util  # noqa: PLC0415

    import podbay.runtime  # noqa: PLC0415

    extra: list[str] = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        origin = spec.origin if spec is not None else None
        if origin:  # a package's __init__.py lies one folder deeper than a module such as prctl.py
            folder = os.path.dirname(origin)
            folder = os.path.dirname(folder) if os.path.basename(origin) == "__init__.py" else folder
            if folder not in extra:
                extra.append(folder)
    runtime = os.path.dirname(podbay.runtime.__file__)
    # Package modules with a __path__ are all the default finder needs (podbay.runtime's
    # __init__ holds only a docstring); importlib.util would cost another 7 ms.
    return (
        "import sys\n"
        f"sys.path += {extra!r}\n"
        "for name, path in (('podbay', []), ('podbay.runtime', [" + repr(runtime) + "])):\n"
        "    sys.modules[name] = module = type(sys)(name)\n"
        "    module.__path__ = path\n"
        f"import {module} as main_module\n"
        "sys.exit(main_module.main())\n"
    )


def spawn_python(module: str, args: list[str], *, packages: tuple[str, ...] = (), pass_fds: tuple[int, ...] = (),
                 detached: bool = False, stderr: int | None = None) -> tuple[subprocess.Popen[bytes], Channel]:
    """Start podbay's ``module`` (its ``main()``) with a channel to it.

    ``detached``: in a session of its own, its output discarded, so that it outlives this process
    and the terminal's signals (the rootless network's holder)."""
    channel, theirs = Channel.pair()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), ENV_FD: str(theirs.fileno())}
    quiet = subprocess.DEVNULL if detached else None
    try:
        worker = subprocess.Popen(python_argv(module, *packages) + args, pass_fds=[theirs.fileno(), *pass_fds],
                                  env=env, stdin=subprocess.DEVNULL, stdout=quiet,
                                  stderr=quiet if stderr is None else stderr, start_new_session=detached)
    except OSError:
        channel.close()
        raise
    finally:
        theirs.close()
    return worker, channel


def spawn_in_userns(mapping: IdMapping, module: str, args: list[str], **options: Any,
                    ) -> tuple[subprocess.Popen[bytes], Channel]:
    """``spawn_python`` into a new user namespace, mapped (sync points (1) and (2))."""
    worker, channel = spawn_python(module, args, **options)
    try:
        channel.recv("unshared", timeout=30)  # (1)
        write_mapping(worker.pid, mapping)
        channel.send("mapped")  # (2)
    except (ChildError, ProtocolError, IdMapError) as err:
        channel.close()
        worker.kill()
        worker.wait()
        raise UsernsError(f"{module}: {err}") from err
    return worker, channel


def run_in_userns(mapping: IdMapping, job: str, *args: str, timeout: float = 600) -> dict[str, Any]:
    worker, channel = spawn_in_userns(mapping, WORKER, [job, *args])
    try:
        done = channel.recv("done", timeout=timeout)  # (3)
        if done is None:
            raise UsernsError(f"{job}: the user namespace worker exited without an answer")
        return done
    except (ChildError, ProtocolError) as err:
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
