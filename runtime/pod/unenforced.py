"""What podbay does not enforce yet for a pod, said at its start rather than silently skipped."""

from __future__ import annotations

from podbay.runtime.spec.pod import Pod, spec_of


def unenforced(pod: Pod) -> list[str]:
    spec = spec_of(pod)
    containers = spec.init_containers + spec.containers
    out = []
    limited = [c.name for c in containers if c.resources is not None and (c.resources.limits or c.resources.requests)]
    if limited or spec.resources is not None:
        out.append(f"resource requests and limits are not enforced ({', '.join(limited) or 'pod'}): podbay "
                   "does not manage cgroups yet, and this host may have no usable cgroup v2 hierarchy")
    attached = [c.name for c in containers if c.stdin or c.tty]
    if attached:
        out.append(f"stdin and tty are not attached to detached pods yet ({', '.join(attached)}): their stdin is "
                   "/dev/null until `podbay attach`")
    return out
