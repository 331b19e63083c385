"""What podbay does not enforce yet for a pod, said at its start rather than silently skipped
(resource limits a host cannot enforce are said by cgroups/hierarchy.py)."""

from __future__ import annotations

from podbay.runtime.spec.pod import Pod, spec_of


def unenforced(pod: Pod) -> list[str]:
    spec = spec_of(pod)
    containers = spec.init_containers + spec.containers
    out = []
    attached = [c.name for c in containers if c.stdin or c.tty]
    if attached:
        out.append(f"stdin and tty are not attached to detached pods yet ({', '.join(attached)}): their stdin is "
                   "/dev/null until `podbay attach`")
    return out
