"""The actions on one pod, in one table: their keys (the pods and detail screens bind them) and their
titles in the command palette."""

from __future__ import annotations

from textual.binding import Binding

# (key, view, footer label, palette title before "NAMESPACE/NAME")
POD_ACTIONS = (
    ("l", "logs", "Logs", "Logs of"),
    ("d", "describe", "Describe", "Describe"),
    ("y", "yaml", "YAML", "YAML of"),
    ("i", "inspect", "Kernel", "Kernel view of"),
    ("s", "shell", "Shell", "Shell in"),
    ("x", "debug", "Debug", "Debug"),
    ("f", "forward", "Forward", "Port-forward to"),
    ("r", "restart", "Restart", "Restart a container of"),
    ("z", "pause", "Pause", "Pause or unpause"),
    ("ctrl+d", "delete", "Delete", "Delete"),
)


def pod_bindings() -> list[Binding]:
    """Each key calls the screen's ``action_pod(view)``."""
    return [Binding(key, f"pod('{view}')", label) for key, view, label, _ in POD_ACTIONS]
