"""``podbay run -f pod.yaml``: hand the pod to the supervisor and return once it is created
(``--wait``: once it is Ready; ``--attach``: stream its output until it ends). ``--rm --attach``
runs it in the foreground instead, in this process (see pod/run.py).

ConfigMaps and Secrets in the same files (or folders) are what the pod's volumes and env
read. With --attach the exit code is the pod's; 125 when podbay itself fails.
"""

from __future__ import annotations

import sys
from typing import Any

from podbay.runtime.paths import Paths
from podbay.runtime.spec.loader import Document, load_paths
from podbay.runtime.spec.pod import Pod, meta_of
from podbay.runtime.spec.validation import refused_on_create


def _err(message: str, code: int = 125) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code  # podman's and docker's code for "the runtime failed", distinct from the container's


def _load(files: list[str]) -> tuple[Pod, list[Any]] | str:
    result = load_paths(files)
    for document in result.documents:
        for warning in document.warnings:
            print(f"Warning: {document.source}: {warning}", file=sys.stderr)
    return choose_pod(result.documents, ", ".join(files))


def choose_pod(documents: list[Document], where: str) -> tuple[Pod, list[Any]] | str:
    """The one Pod to run and the ConfigMaps/Secrets beside it, or why not (every error at once)."""
    problems = [f"{doc.source}: {error}" for doc in documents for error in doc.errors]
    if problems:
        return "the pod is invalid:\n  " + "\n  ".join(problems)
    objects = [doc.obj for doc in documents if doc.obj is not None]
    pods = [obj for obj in objects if isinstance(obj, Pod)]
    if len(pods) != 1:
        return f"{where}: podbay run needs exactly one Pod (found {len(pods)})"
    return refused_on_create(pods[0]) or (pods[0], [obj for obj in objects if not isinstance(obj, Pod)])


def run_command(files: list[str], remove: bool, attach: bool, paths: Paths, rootfs_mode: str, *,
                replace: bool = False, wait: bool = False, timeout: float = 300.0) -> int:
    loaded = _load(files)
    if isinstance(loaded, str):
        return _err(loaded)
    pod, others = loaded
    from podbay.runtime import settings  # noqa: PLC0415

    try:
        settings.load()  # a bad settings file is the user's to fix, said before any pod is made
    except settings.SettingsError as err:
        return _err(str(err))
    if remove and attach and not replace and not wait:
        return _foreground(pod, others, paths, rootfs_mode)
    if rootfs_mode != "overlay":
        return _err("--rootfs copy is for foreground runs (--rm --attach) only")
    from podbay.runtime.spec.schema import encode  # noqa: PLC0415
    from podbay.runtime.supervisor import protocol  # noqa: PLC0415

    meta = meta_of(pod)
    namespace = meta.namespace or "default"
    try:
        answer = protocol.call(paths, {"op": "run", "objects": [encode(pod)] + [encode(o) for o in others],
                                       "replace": replace})
    except protocol.RequestError as err:
        return _err(str(err))
    except protocol.SupervisorError as err:
        return _err(str(err))
    for warning in answer.get("warnings", []):
        print(f"Warning: {warning}", file=sys.stderr)
    print(f"pod/{meta.name} created", file=sys.stderr if attach else sys.stdout)
    if attach:
        code = _attach(paths, namespace, meta.name)
        if remove:
            try:
                protocol.call(paths, {"op": "delete", "namespace": namespace, "name": meta.name, "grace": None})
            except (protocol.RequestError, protocol.SupervisorError) as err:
                return _err(str(err))
        return code
    if wait:
        return _wait_ready(paths, namespace, meta.name, timeout)
    return 0


def _foreground(pod: Pod, others: list[Any], paths: Paths, rootfs_mode: str) -> int:
    """``--rm --attach``: the pod runs in this process, with the terminal's stdin and signals, and goes
    with it (podman's ``run --rm``); no supervisor, no restarts or probes."""
    from podbay.runtime.pod.config import PodObjects  # noqa: PLC0415
    from podbay.runtime.pod.run import PodRun  # noqa: PLC0415
    from podbay.runtime.process.launcher import LaunchError  # noqa: PLC0415

    objects = PodObjects.from_objects(others, meta_of(pod).namespace or "default")
    try:
        return PodRun(pod, objects, paths, rootfs_mode=rootfs_mode).run()
    except LaunchError as err:
        return _err(str(err))


def _attach(paths: Paths, namespace: str, name: str) -> int:
    """Stream every container's output (prefixed when there are several) until the pod has ended; the
    exit code is the first failed app container's, as the foreground run's."""
    from podbay.runtime.cli.pods import follow_pod, log_folder  # noqa: PLC0415
    from podbay.runtime.logs.tail import LogTail  # noqa: PLC0415

    tails: dict[tuple[str, int], LogTail] = {}
    record = None
    for record in follow_pod(paths, namespace, name):
        spec = record.manifest.get("spec", {})
        names = [c["name"] for c in spec.get("initContainers", []) + spec.get("containers", [])]
        statuses = record.status.get("initContainerStatuses", []) + record.status.get("containerStatuses", [])
        for status in statuses:
            if "running" in status.get("state", {}) or "terminated" in status.get("state", {}):
                key = (status["name"], status.get("restartCount", 0))
                if key not in tails:
                    path = log_folder(paths, record) / key[0] / f"{key[1]}.log"
                    tails[key] = LogTail(path, f"[{key[0]}] " if len(names) > 1 else "")
        for tail in tails.values():
            tail.pump(sys.stdout.buffer)
        if record.status.get("phase") in ("Succeeded", "Failed"):
            for tail in tails.values():
                tail.pump(sys.stdout.buffer)
            break
    if record is None:
        return _err(f"pod {name} is gone")
    for status in record.status.get("containerStatuses", []):
        code = status.get("state", {}).get("terminated", {}).get("exitCode", 0)
        if code:
            return int(code)
    for status in record.status.get("initContainerStatuses", []):
        code = status.get("state", {}).get("terminated", {}).get("exitCode", 0)
        if code:
            return int(code)
    return 0 if record.status.get("phase") == "Succeeded" else 1


def _wait_ready(paths: Paths, namespace: str, name: str, timeout: float) -> int:
    import time  # noqa: PLC0415

    from podbay.runtime.cli.pods import follow_pod  # noqa: PLC0415
    from podbay.runtime.lifecycle.status import is_ready  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    for record in follow_pod(paths, namespace, name):
        if is_ready(record.status):
            return 0
        if record.status.get("phase") in ("Succeeded", "Failed"):
            return _err(f"pod {name} ended ({record.status['phase']}) before it was Ready", 1)
        if time.monotonic() > deadline:
            return _err(f"timed out after {timeout:g}s waiting for pod {name} to be Ready", 1)
    return _err(f"pod {name} was deleted while waiting for it to be Ready", 1)
