"""The rootless network's processes (see rootless.py), one job each:

- ``hold GATEWAY PREFIX SUBNET``: in a new user and network namespace (mapped by the parent),
  bring up loopback and the ``podbay0`` bridge, turn on forwarding and masquerade the pods'
  subnet, answer "ready", then exec ``sleep infinity``: a process of half a megabyte that
  holds both namespaces for as long as pods use them.
- ``connect USER_FD NET_FD NAME POD_NET_FD``: join the holder's namespaces and plug a pod's
  network namespace into the bridge with a veth pair.
- ``proxy USER_FD NET_FD LISTEN_FD:POD_IP:PORT...``: join them and forward host ports (the
  listening sockets were made in the host's namespace) to pods, until the parent goes.
- ``sockets USER_FD NET_FD``: join them and, for each request (a pod's network namespace
  descriptor), make a socket in that namespace and send it back: the supervisor's probes
  and hooks connect from the pod's own network, which a rootless process cannot enter.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys

from podbay.runtime.network import bridge
from podbay.runtime.network.portproxy import PortProxy
from podbay.runtime.process.channel import ENV_FD, Channel
from podbay.runtime.process.userns_worker import become_root
from podbay.runtime.syscalls import CLONE_NEWNET, CLONE_NEWUSER, set_loopback_up, setns, unshare


def _hold(channel: Channel, gateway: str, prefix: str, subnet: str) -> int:
    become_root(channel)
    unshare(CLONE_NEWNET)
    set_loopback_up()
    bridge.ensure_bridge(gateway, int(prefix))
    problem = bridge.masquerade(subnet)  # in this namespace only, never the host's
    channel.send("ready", warnings=[f"{problem}: rootless pods reach each other but nothing beyond"] if problem else [])
    channel.close()
    sleep = shutil.which("sleep", path=bridge.SBIN_PATH)
    if sleep is None:
        while True:  # no coreutils: hold the namespaces as this (bigger) Python process
            signal.pause()
    os.execv(sleep, ["podbay: rootless network", "infinity"])


def _join(user_fd: str, net_fd: str) -> None:
    setns(int(user_fd), CLONE_NEWUSER)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    setns(int(net_fd), CLONE_NEWNET)


def _proxy(channel: Channel, forwards: list[str]) -> int:
    proxy = PortProxy()
    for forward in forwards:
        fd, pod_ip, port = forward.split(":")
        proxy.serve(socket.socket(fileno=int(fd)), pod_ip, int(port))
    channel.send("done")
    channel.recv("stop")  # end of file too: the pod's process is gone, and so are its ports
    proxy.close()
    return 0


def _sockets(channel: Channel) -> int:
    channel.send("done")
    while True:
        data, fds, _, _ = socket.recv_fds(channel.sock, 1024, 1)
        if not data:
            return 0
        request = json.loads(data)
        try:
            setns(fds[0], CLONE_NEWNET)
            made = socket.socket(request["family"], request["type"])
        except OSError as err:
            channel.send("error", stage="socket", message=str(err), errno=err.errno or 0)
            continue
        finally:
            os.close(fds[0])
        socket.send_fds(channel.sock, [b'{"kind": "socket"}'], [made.fileno()])
        made.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    channel = Channel.from_fd(int(os.environ[ENV_FD]))
    job, args = argv[0], argv[1:]
    try:
        if job in ("hold", "connect"):
            import pyroute2  # noqa: F401, PLC0415 - before any namespace; not in the proxy, which lives long
        if job == "hold":
            return _hold(channel, *args)
        _join(args[0], args[1])
        if job == "connect":
            bridge.add_pod_link(args[2], int(args[3]))
            channel.send("done")
            return 0
        if job == "proxy":
            return _proxy(channel, args[2:])
        if job == "sockets":
            return _sockets(channel)
        raise ValueError(f"unknown job {job!r}")
    except Exception as err:
        channel.send("error", stage=job, message=str(err), errno=getattr(err, "errno", 0) or 0)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
