"""The state store as the CLI opens it, and the names of a pod's containers (light: exec and attach use it)."""

from __future__ import annotations

import sys
from typing import Any

from podbay.runtime.paths import Paths
from podbay.runtime.state.store import StateStore
from podbay.runtime.supervisor import protocol


def open_store(paths: Paths) -> StateStore:
    """The state store; when it lists live pods but no supervisor answers (it was killed), one is started
    first, which re-adopts them, so what is shown is their real state."""
    store = StateStore(paths.run_dir / "state.db")
    if any(record.runtime.get("sandbox") for record in store.pods()) and not protocol.running(paths):
        try:
            protocol.call(paths, {"op": "ping"})
        except (protocol.SupervisorError, protocol.RequestError) as err:
            print(f"Warning: {err}", file=sys.stderr)
    return store


def container_names(manifest: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """The app, init and ephemeral containers' names."""
    spec = manifest.get("spec", {})
    return tuple([c["name"] for c in spec.get(key, [])]  # type: ignore[return-value]
                 for key in ("containers", "initContainers", "ephemeralContainers"))


def sidecar_names(manifest: dict[str, Any]) -> list[str]:
    """The init containers that are sidecars (``restartPolicy: Always``): they run for the pod's life."""
    return [c["name"] for c in manifest.get("spec", {}).get("initContainers", []) if c.get("restartPolicy") == "Always"]


def defaulted_note(apps: list[str], inits: list[str], ephemeral: list[str]) -> str:
    """kubectl's note when -c is left out of a pod with several containers ("" when there is one)."""
    if len(apps) + len(inits) + len(ephemeral) < 2:
        return ""
    others = ", ".join(apps + [f"{n} (init)" for n in inits] + [f"{n} (ephem)" for n in ephemeral])
    return f'Defaulted container "{apps[0]}" out of: {others}'


def chosen_container(manifest: dict[str, Any], container: str | None) -> str:
    """``-c`` as kubectl takes it: the named container (ValueError when the pod has none of that name), or
    the first app container, with kubectl's note on stderr when there were others to choose from."""
    apps, inits, ephemeral = container_names(manifest)
    if container is None:
        if note := defaulted_note(apps, inits, ephemeral):
            print(note, file=sys.stderr)
        return apps[0]
    if container not in apps + inits + ephemeral:
        raise ValueError(f"container {container} is not valid for pod {manifest['metadata']['name']}")
    return container
