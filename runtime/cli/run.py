"""``podbay run -f pod.yaml --rm --attach``: run a one-container pod in the foreground.

The container's exit code becomes ours (128+N when a signal ended it). SIGINT, SIGTERM and
SIGHUP are forwarded to the container; if it is still running ``terminationGracePeriodSeconds``
later (or at a second Ctrl-C) it is killed, as the kubelet would.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from podbay.runtime.paths import Paths
from podbay.runtime.process import launcher
from podbay.runtime.spec.loader import load_paths
from podbay.runtime.spec.pod import Pod, meta_of, spec_of
from podbay.runtime.syscalls import set_child_subreaper


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 125  # podman's and docker's code for "the runtime failed", distinct from the container's


def _load_pod(files: list[str]) -> Pod | str:
    result = load_paths(files)
    for document in result.documents:
        for warning in document.warnings:
            print(f"Warning: {document.source}: {warning}", file=sys.stderr)
    problems = [f"{doc.source}: {error}" for doc in result.documents for error in doc.errors]
    if problems:
        return "the pod is invalid:\n  " + "\n  ".join(problems)
    pods = [doc.obj for doc in result.documents if isinstance(doc.obj, Pod)]
    others = [doc.kind for doc in result.documents if doc.obj is not None and not isinstance(doc.obj, Pod)]
    if len(pods) != 1 or others:
        return (f"{', '.join(files)}: podbay run needs exactly one Pod "
                f"(found {len(pods)} Pods and {others or 'no'} other objects)")
    return pods[0]


def run_command(files: list[str], remove: bool, attach: bool, paths: Paths, rootfs_mode: str) -> int:
    if not (remove and attach):
        return _err("podbay run runs pods in the foreground for now: use --rm --attach "
                    "(detached pods come with the supervisor)")
    pod = _load_pod(files)
    if isinstance(pod, str):
        return _err(pod)
    spec = spec_of(pod)
    if len(spec.containers) != 1 or spec.init_containers or spec.ephemeral_containers:
        return _err(f"pod {meta_of(pod).name}: podbay run takes one container and no init containers for now "
                    f"(this pod has {len(spec.containers)} containers and {len(spec.init_containers)} init "
                    "containers)")
    if spec.volumes or spec.containers[0].volume_mounts:
        return _err(f"pod {meta_of(pod).name}: volumes are not supported yet (they come with pod volumes)")
    container = spec.containers[0]
    try:
        launch = launcher.prepare(pod, container, paths, rootfs_mode=rootfs_mode)
    except launcher.LaunchError as err:
        return _err(str(err))
    for warning in launch.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    try:
        return _run_attached(launch)
    except launcher.LaunchError as err:
        return _err(str(err))
    finally:
        try:
            launcher.cleanup(launch)
        except launcher.LaunchError as err:
            print(f"error: {err}", file=sys.stderr)


def _run_attached(launch: launcher.Launch) -> int:
    grace = spec_of(launch.pod).termination_grace_period_seconds
    grace = 30 if grace is None else max(grace, 1)
    stopping = {"asked": False}

    def forward(number: int, _frame: FrameType | None) -> None:
        if not launch.pid:
            return
        if stopping["asked"] and number == signal.SIGINT:
            os.kill(launch.pid, signal.SIGKILL)  # a second Ctrl-C: stop now
            return
        stopping["asked"] = True
        os.kill(launch.pid, number)
        signal.alarm(grace)

    def out_of_time(_number: int, _frame: FrameType | None) -> None:
        if launch.pid:
            os.kill(launch.pid, signal.SIGKILL)

    set_child_subreaper()  # the container is our grandchild: make its exit status ours to collect
    stdin = None if launch.container.stdin else open(os.devnull, "rb")  # noqa: SIM115
    try:
        pid = launcher.start(launch, stdin, None, None,
                             on_log=lambda text: print(f"Warning: {text}", file=sys.stderr))
    finally:
        if stdin is not None:
            stdin.close()
    previous = {number: signal.signal(number, forward) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGALRM, out_of_time)
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        signal.alarm(0)
        for number, handler in previous.items():
            signal.signal(number, handler)
    launch.pid = 0
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
