"""Start one container: prepare its folder and plan, run the init handshake, clean up on every path.

The launching process never forks itself: the init is started with ``subprocess`` (fork and
exec in C, no Python code between them), so a thread in the launcher (the TUI's workers,
later the supervisor's) cannot leave a lock held in the child. The init forks only itself.

Sync points (the init's side is in init.py)::

    (1) send "plan"            (2) recv "unshared"   write the id maps   (3) send "mapped"
    (4) recv "pid"             (5) recv "log"*       (6) "error" raises ChildError; EOF means execve succeeded
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from podbay.runtime.idmap import IdMapping
from podbay.runtime.images.store import ImageRecord, ImageStore, ImageStoreError
from podbay.runtime.paths import Paths
from podbay.runtime.process import plan as planner
from podbay.runtime.process.spawn import (
    HANDSHAKE_FAILURES,
    HANDSHAKE_TIMEOUT,
    LaunchError,
    Stdio,
    launch_error,
    spawn_init,
)
from podbay.runtime.process.userns import UsernsError, remove_tree
from podbay.runtime.spec.pod import Container, Pod

__all__ = ["HANDSHAKE_TIMEOUT", "Launch", "LaunchError", "cleanup", "prepare", "start"]  # and what spawn.py gives


@dataclass
class Launch:
    pod: Pod
    container: Container
    image: ImageRecord
    mapping: IdMapping
    directory: Path
    plan: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    pid: int = 0
    terminal: int = -1  # tty: true: the pty master the init sent (its holder closes it)


def find_image(store: ImageStore, container: Container) -> ImageRecord:
    record = store.find(container.image)
    if record is not None:
        return record
    if container.image_pull_policy == "Never":
        raise LaunchError(f'container {container.name}: ErrImageNeverPull: Container image "{container.image}" '
                          "is not present with pull policy of Never")
    raise LaunchError(f'container {container.name}: image "{container.image}" is not in the local store: pull '
                      f"it with `podbay pull {container.image}` or load it with `podbay image load FILE`")


def _owned_dir(path: Path, mapping: IdMapping, mode: int = 0o755) -> None:
    path.mkdir(mode=mode)
    if not mapping.identity and os.geteuid() == 0:
        os.chown(path, mapping.to_host(0), mapping.to_host(0, group=True))


def prepare(pod: Pod, container: Container, paths: Paths, context: planner.PodContext,
            rootfs_mode: str = "overlay") -> Launch:
    """Everything up to the fork: image, layers for the pod's id mapping, the container's folder, the plan."""
    store = ImageStore(paths.images)
    image = find_image(store, container)
    mapping = context.mapping
    warnings: list[str] = []
    try:
        with store.locked():
            layers = store.ensure_layers(image, mapping)
    except ImageStoreError as err:
        raise LaunchError(f"container {container.name}: image {container.image}: {err}") from err
    warnings += store.warnings
    paths.containers.mkdir(parents=True, exist_ok=True)
    paths.containers.chmod(0o711)
    directory = paths.containers / os.urandom(8).hex()
    launch = Launch(pod, container, image, mapping, directory, warnings=warnings)
    try:
        directory.mkdir(mode=0o711)
        for name in ("upper", "work", "rootfs", "copy"):
            _owned_dir(directory / name, mapping)
        if container.termination_message_path:
            log = directory / planner.TERMINATION_LOG
            log.touch(mode=0o666)
            log.chmod(0o666)  # whatever user the container runs as may write its message
        built = planner.build(pod, container, image.image_config, layers_dir=layers[0].parent if layers else directory,
                              lower=[p.name for p in reversed(layers)], container_dir=directory,
                              context=context, profiles_dir=paths.seccomp_profiles,
                              cache_dir=paths.run_dir / "cache", rootfs_mode=rootfs_mode)
    except planner.PlanError as err:
        cleanup(launch)
        raise LaunchError(str(err)) from err
    except BaseException:
        cleanup(launch)
        raise
    launch.plan = built.data
    launch.warnings += built.warnings
    return launch


def start(launch: Launch, stdin: Stdio, stdout: Stdio, stderr: Stdio, on_log: object = None, *,
          place: Callable[[int], None] | None = None) -> int:
    """Run the init handshake; returns the container's pid once it has exec'd its process.
    ``place`` puts the init in its cgroup first (spawn_init)."""
    name = launch.container.name
    join = launch.plan.get("join") or {}
    assert isinstance(join, dict)
    init, channel = spawn_init(launch.plan, launch.mapping, f"container {name}", stdio=(stdin, stdout, stderr),
                               pass_fds=tuple(join.values()), place=place)
    started = False
    try:
        message = channel.recv("pid", timeout=HANDSHAKE_TIMEOUT)  # (4)
        if message is None:
            init.wait()
            raise LaunchError(f"container {name}: the init exited (status {init.returncode}) before "
                              "creating the container")
        launch.pid = int(message["pid"])
        init.wait()
        while (message := channel.recv("log", "pty", timeout=HANDSHAKE_TIMEOUT)) is not None:  # (5), (5a)
            if message["kind"] == "pty":
                launch.terminal = int(message["fds"][0])
            elif callable(on_log):
                on_log(f"container {name}: {message['message']}")
        started = True
        return launch.pid
    except HANDSHAKE_FAILURES as err:  # (6) among them
        raise launch_error(f"container {name}", err) from err
    finally:
        channel.close()
        if init.poll() is None:
            init.kill()
            init.wait()
        if not started:
            kill_and_reap(launch)
            if launch.terminal >= 0:
                os.close(launch.terminal)
                launch.terminal = -1


def kill_and_reap(launch: Launch) -> None:
    if launch.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(launch.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(launch.pid, 0)
        launch.pid = 0


def cleanup(launch: Launch) -> None:
    """Idempotent: kill the container if it lives, and remove its folder (mounts died with its namespace)."""
    kill_and_reap(launch)
    try:
        remove_tree(str(launch.directory), launch.mapping)
    except (UsernsError, OSError) as err:
        raise LaunchError(f"container {launch.container.name}: could not remove {launch.directory}: {err}") from err
