"""``podbay debug POD --image IMAGE [--target C] [-c NAME] [-it] [--profile P] [--env K=V] [-- CMD]``.

As ``kubectl debug``: an ephemeral container, built here (name, profile, env, command) and sent to
the supervisor, which validates it as the API server validates the ``ephemeralcontainers``
subresource, adds it to the pod's spec and starts it in the pod's net, IPC and UTS namespaces
(with ``--target``, in the target container's PID namespace too); ``-i`` attaches to it.

Beyond kubectl: ``--share-volumes`` mounts the target's volumes at the same paths, ``--rm``
removes the container from the pod when its process ends, ``--attach NAME`` re-attaches to one
that still runs. (Kubernetes never removes an ephemeral container, has no volume sharing flag, and
re-attaches with ``kubectl attach -c NAME``.)
"""

from __future__ import annotations

import copy
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.cli.attach import session
from podbay.runtime.cli.records import open_store
from podbay.runtime.paths import Paths
from podbay.runtime.state.store import PodRecord
from podbay.runtime.supervisor import protocol

PROFILES = ("general", "baseline", "restricted", "netadmin", "sysadmin", "legacy")
NAME_LETTERS = "bcdfghjklmnpqrstvwxz2456789"  # the apimachinery's rand.String alphabet
START_TIMEOUT = 120.0


def apply_profile(container: dict[str, Any], profile: str) -> dict[str, Any]:
    """kubectl debug's profiles for an ephemeral container (kubectl pkg/cmd/debug/profiles.go)."""
    out = copy.deepcopy(container)
    context: dict[str, Any] = out.get("securityContext") or {}
    if profile in ("baseline", "restricted"):
        context = {}  # clearSecurityContext
    if profile == "restricted":
        context.update(runAsNonRoot=True, capabilities={"drop": ["ALL"]}, allowPrivilegeEscalation=False,
                       seccompProfile={"type": "RuntimeDefault"})
    added = {"general": ["SYS_PTRACE"], "netadmin": ["NET_ADMIN", "NET_RAW"]}.get(profile, [])
    if added:
        capabilities = context.setdefault("capabilities", {})
        capabilities["add"] = list(capabilities.get("add", [])) + added
    if profile == "sysadmin":
        context["privileged"] = True
    if context:
        out["securityContext"] = context
    else:
        out.pop("securityContext", None)
    return out


@dataclass
class DebugOptions:
    image: str = ""
    target: str = ""
    name: str = ""
    stdin: bool = False
    tty: bool = False
    profile: str = "general"
    env: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)
    share_volumes: bool = False
    remove: bool = False
    attach_to: str = ""
    pull_policy: str = ""
    quiet: bool = False


def debug_command(paths: Paths, pod: str, namespace: str, options: DebugOptions) -> int:
    record = open_store(paths).pod(namespace, pod)
    if record is None:
        print(f'Error from server (NotFound): pods "{pod}" not found', file=sys.stderr)
        return 1
    if options.attach_to:
        return _reattach(paths, record, options.attach_to, stdin=options.stdin, tty=options.tty)
    problem = _check_flags(options)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    image, target, name, stdin, tty = options.image, options.target, options.name, options.stdin, options.tty
    if not name:
        name = _new_name(record)
        if not options.quiet:
            print(f"Defaulting debug container name to {name}.", flush=True)
    if target and not options.quiet:
        print(f'Targeting container "{target}". If you don\'t see processes from this container it may be '
              "because the container runtime doesn't support this feature.", flush=True)
    container: dict[str, Any] = {"name": name, "image": image, "stdin": stdin, "tty": tty,
                                 "terminationMessagePolicy": "File"}
    if options.pull_policy:
        container["imagePullPolicy"] = options.pull_policy
    if options.env:
        container["env"] = [{"name": k, "value": v} for k, _, v in (entry.partition("=") for entry in options.env)]
    if options.command:
        container["command"] = options.command
    if target:
        container["targetContainerName"] = target
    if options.share_volumes:
        container["volumeMounts"] = _target_mounts(record, target)
    container = apply_profile(container, options.profile)
    try:
        protocol.call(paths, {"op": "debug", "namespace": namespace, "name": pod, "container": container,
                              "remove": options.remove})
    except (protocol.RequestError, protocol.SupervisorError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not stdin:
        return 0
    if not _wait_running(paths, namespace, pod, name):
        print(f"error: the debug container {name} did not start; see: podbay describe pod {pod}", file=sys.stderr)
        return 1
    return session(paths, namespace, pod, name, stdin=True, tty=tty)


def _check_flags(options: DebugOptions) -> str:
    """kubectl debug's own checks (Validate), with its messages."""
    if not options.image:
        return "you must specify --image when not using --copy-to."
    if options.profile not in PROFILES:
        return f"unknown profile: {options.profile}"
    if options.tty and not options.stdin:
        return "-i/--stdin is required for containers with -t/--tty=true"
    bad = [entry for entry in options.env if "=" not in entry]
    if bad:
        return f'invalid --env "{bad[0]}": must be NAME=VALUE'
    if options.share_volumes and not options.target:
        return "--share-volumes needs --target: the volumes shared are the target container's"
    return ""


def _new_name(record: PodRecord) -> str:
    spec = record.manifest.get("spec", {})
    taken = {c["name"] for key in ("containers", "initContainers", "ephemeralContainers") for c in spec.get(key, [])}
    while True:
        name = "debugger-" + "".join(random.choice(NAME_LETTERS) for _ in range(5))
        if name not in taken:
            return name


def _target_mounts(record: PodRecord, target: str) -> list[dict[str, Any]]:
    """The target's volume mounts at the same paths (ephemeral containers may not use subPath: those
    are left out, with a note)."""
    spec = record.manifest.get("spec", {})
    container = next((c for key in ("containers", "initContainers") for c in spec.get(key, [])
                      if c["name"] == target), None)
    if container is None:
        return []  # the supervisor's validation names the unknown target
    mounts = []
    for mount in container.get("volumeMounts", []):
        if mount.get("subPath") or mount.get("subPathExpr"):
            print(f"note: {mount['mountPath']} is not shared: ephemeral containers may not mount a subPath",
                  file=sys.stderr)
            continue
        mounts.append({k: v for k, v in mount.items() if k in ("name", "mountPath", "readOnly",
                                                                 "mountPropagation", "recursiveReadOnly")})
    return mounts


def _wait_running(paths: Paths, namespace: str, pod: str, name: str) -> bool:
    store = open_store(paths)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        record = store.pod(namespace, pod)
        statuses = (record.status if record else {}).get("ephemeralContainerStatuses", [])
        state: dict[str, Any] = next((s.get("state", {}) for s in statuses if s.get("name") == name), {})
        if "running" in state:
            return True
        if "terminated" in state or record is None:
            return False
        time.sleep(0.05)
    return False


def _reattach(paths: Paths, record: PodRecord, name: str, *, stdin: bool, tty: bool) -> int:
    names = [c["name"] for c in record.manifest.get("spec", {}).get("ephemeralContainers", [])]
    if name not in names:
        print(f"error: pod {record.name} has no ephemeral container {name}"
              + (f" (it has: {', '.join(names)})" if names else ""), file=sys.stderr)
        return 1
    return session(paths, record.namespace, record.name, name, stdin=stdin, tty=tty)
