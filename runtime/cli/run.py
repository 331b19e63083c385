"""``podbay run -f pod.yaml --rm --attach``: run a pod in the foreground.

ConfigMaps and Secrets in the same files (or folders) are what the pod's volumes and env
read. The exit code is the pod's (see pod/run.py); 125 when podbay itself fails.
"""

from __future__ import annotations

import sys
from typing import Any

from podbay.runtime.paths import Paths
from podbay.runtime.spec.loader import load_paths
from podbay.runtime.spec.pod import Pod, meta_of


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 125  # podman's and docker's code for "the runtime failed", distinct from the container's


def _load(files: list[str]) -> tuple[Pod, list[Any]] | str:
    result = load_paths(files)
    for document in result.documents:
        for warning in document.warnings:
            print(f"Warning: {document.source}: {warning}", file=sys.stderr)
    problems = [f"{doc.source}: {error}" for doc in result.documents for error in doc.errors]
    if problems:
        return "the pod is invalid:\n  " + "\n  ".join(problems)
    objects = [doc.obj for doc in result.documents if doc.obj is not None]
    pods = [obj for obj in objects if isinstance(obj, Pod)]
    if len(pods) != 1:
        return f"{', '.join(files)}: podbay run needs exactly one Pod (found {len(pods)})"
    return pods[0], [obj for obj in objects if not isinstance(obj, Pod)]


def run_command(files: list[str], remove: bool, attach: bool, paths: Paths, rootfs_mode: str) -> int:
    if not (remove and attach):
        return _err("podbay run runs pods in the foreground for now: use --rm --attach "
                    "(detached pods come with the supervisor)")
    loaded = _load(files)
    if isinstance(loaded, str):
        return _err(loaded)
    pod, others = loaded
    from podbay.runtime.pod.config import PodObjects  # noqa: PLC0415
    from podbay.runtime.pod.run import PodRun  # noqa: PLC0415
    from podbay.runtime.process.launcher import LaunchError  # noqa: PLC0415

    objects = PodObjects.from_objects(others, meta_of(pod).namespace or "default")
    try:
        return PodRun(pod, objects, paths, rootfs_mode=rootfs_mode).run()
    except LaunchError as err:
        return _err(str(err))
