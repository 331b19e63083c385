"""A rootful pod's link to the host: the ``podbay0`` bridge (made once), the pod's veth pair and,
when asked, the masquerade rule, by bridge.py (pyroute2).

pyroute2 costs about 15 MB once imported, and a Python process cannot give it back. The
foreground ``podbay run`` (short-lived) calls bridge.py itself; the supervisor, which lives for
as long as pods do, sets ``IN_WORKER`` and each change is made by a short worker
(``python -m podbay.runtime.network.links JOB ARGS``), as the rootless network's plumbing is.
"""

from __future__ import annotations

import os
import sys

from podbay.runtime.process.channel import ENV_FD, Channel, ChildError, ProtocolError

IN_WORKER = False
MASQUERADE_ENV = "PODBAY_MASQUERADE"


class LinkError(Exception):
    pass


def masquerade_wanted() -> bool:
    """Rootful pods reach past the host only when asked (``PODBAY_MASQUERADE=1``): it changes the
    host's firewall and turns on forwarding, which podbay does not do behind the user's back."""
    return os.environ.get(MASQUERADE_ENV, "").lower() in ("1", "true", "yes")


def _in_process(job: str, args: list[str]) -> list[str]:
    from podbay.runtime.network import bridge  # noqa: PLC0415 - pyroute2

    try:
        if job == "connect":
            gateway, prefix, link, net_fd, masquerade = args
            bridge.ensure_bridge(gateway, int(prefix))
            problem = bridge.masquerade(masquerade) if masquerade else ""
            bridge.add_pod_link(link, int(net_fd))
            return [problem] if problem else []
        bridge.remove_pod_link(args[0])
        return []
    except bridge.NetworkError as err:
        raise LinkError(str(err)) from err


def _run(job: str, args: list[str], pass_fds: tuple[int, ...] = ()) -> list[str]:
    if not IN_WORKER:
        return _in_process(job, args)
    from podbay.runtime.process.userns import spawn_python  # noqa: PLC0415

    worker, channel = spawn_python(__name__, [job, *args], packages=("pyroute2",), pass_fds=pass_fds)
    try:
        done = channel.recv("done", timeout=60)
        if done is None:
            raise LinkError(f"{job}: the network worker exited without an answer")
        return list(done.get("warnings", []))
    except (ChildError, ProtocolError) as err:
        raise LinkError(str(err)) from err
    finally:
        channel.close()
        worker.wait()


def connect(gateway: str, prefix: int, link: str, net_fd: int, masquerade_subnet: str = "") -> list[str]:
    """The bridge (if need be) and a veth pair whose pod end is ``eth0`` in ``net_fd``; returns warnings."""
    return _run("connect", [gateway, str(prefix), link, str(net_fd), masquerade_subnet], (net_fd,))


def remove(link: str) -> None:
    _run("remove", [link])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    channel = Channel.from_fd(int(os.environ[ENV_FD]))
    try:
        channel.send("done", warnings=_in_process(argv[0], argv[1:]))
        return 0
    except Exception as err:  # the parent reports it, naming the pod
        channel.send("error", stage=argv[0], message=str(err), errno=getattr(err, "errno", 0) or 0)
        return 1


if __name__ == "__main__":
    sys.exit(main())
