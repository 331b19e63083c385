"""The container's init: ``python -I -m podbay.runtime.process.init``, re-exec'd by the launcher.

It is started with ``subprocess`` (which forks and execs in C), so it begins life with a
single thread, and it forks only itself, before any thread could exist. It imports only
the standard library, podbay's own stdlib-only modules and python-prctl: the time from
``podbay run`` to the app's ``execve`` is kernel work, not imports.

Sync points, numbered on both sides (the launcher's are in launcher.py)::

    launcher                                   init                          container (pid 1)
     (1) "plan" {memfd} --------------------->  read the plan; unshare(user)
     (2) <----------------------------------- "unshared"
         write uid_map, gid_map
     (3) "mapped" --------------------------->  setresuid(0); unshare(mnt uts ipc net pid cgroup)
                                                fork --------------------------> lo up, rootfs, /proc, /dev,
     (4) <----------------------------------- "pid" {host pid}; exit(0)          /sys, masks, pivot_root,
                                                                                 user, caps, nnp, seccomp
     (5) <-------------------------------------------------------------------- "log" {message} (any number)
    (5a) <-------------------------------------------------------------------- "pty" [master fd] (tty: true)
     (6) <-------------------------------------------------------------------- "error" {stage, errno} + exit(255)
         or end of file: the channel is close-on-exec, so EOF means execve succeeded.
"""

from __future__ import annotations

import marshal
import os
import resource
import signal
import socket
import sys
import warnings  # noqa: F401 - os.execvpe imports it (in os.get_exec_path), after pivot_root

import prctl as pyprctl  # python-prctl

# Everything the init needs is imported here, at start: after it enters the user namespace it
# may no longer read podbay's files (an install under /root is not readable by the mapped
# root), and after pivot_root the host's files are gone.
from podbay.runtime.process import console
from podbay.runtime.process.channel import ENV_EXE_FD, ENV_FD, Channel
from podbay.runtime.process.users import resolve
from podbay.runtime.rootfs import copy as _copy  # noqa: F401 - the copy fallback, imported early
from podbay.runtime.rootfs import mount as rootfs
from podbay.runtime.rootfs.securejoin import secure_join
from podbay.runtime.syscalls import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    PR_SET_DUMPABLE,
    SyscallError,
    add_default_route,
    clear_ambient_capabilities,
    load_seccomp_filter,
    prctl,
    set_interface_address,
    set_interface_up,
    set_loopback_up,
    set_no_new_privs,
    setns,
    unshare,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the init 4 ms

if TYPE_CHECKING:
    from typing import Any, NoReturn

NAMESPACE_FLAGS = {"mnt": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC, "net": CLONE_NEWNET,
                   "pid": CLONE_NEWPID, "cgroup": CLONE_NEWCGROUP}


class Stage:
    """The step in progress, named in any error sent home."""

    name = "start"


def _become_root(channel: Channel) -> None:
    Stage.name = "user namespace"
    unshare(CLONE_NEWUSER)
    channel.send("unshared")  # (2)
    if channel.recv("mapped") is None:  # (3)
        os._exit(255)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def _join(join: dict[str, int]) -> None:
    """Enter the pod's namespaces, held open by the launcher: the user namespace first (it gives
    the capabilities the others need), then its mount namespace (the pod's tmpfs volumes), net, ipc, uts."""
    Stage.name = "join pod namespaces"
    if "user" in join:
        setns(join["user"], CLONE_NEWUSER)
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
    for name in ("mnt", "net", "ipc", "uts", "cgroup", "pid"):  # pid: for the fork that follows
        if name in join:
            Stage.name = f"join pod {name} namespace"
            setns(join[name], NAMESPACE_FLAGS[name])
    for fd in join.values():
        os.close(fd)


def _sandbox(channel: Channel, plan: dict[str, Any]) -> NoReturn:
    """The pod's sandbox: create the namespaces every container of the pod joins, set them up, and
    exit once the launcher holds them open (so no process per pod stays behind to hold them)."""
    if plan.get("join"):
        _join(plan["join"])  # a rootless networked pod lives in the rootless network's user namespace
    elif plan["userns"]:
        _become_root(channel)
    Stage.name = "pod namespaces"
    unshare(sum(NAMESPACE_FLAGS[name] for name in plan["namespaces"]))
    holder, held = 0, -1
    if "pid" in plan["namespaces"]:  # shareProcessNamespace: the pod's pid namespace needs a living PID 1
        ready, held = os.pipe()
        holder = os.fork()
        if holder == 0:
            os.close(held)
            _pause(channel, ready)
        os.close(ready)
        channel.send("holder", pid=holder)  # at once: should a later step fail, the launcher still kills it
    rootfs.make_slave()
    if "uts" in plan["namespaces"]:
        Stage.name = "hostname"
        socket.sethostname(plan["hostname"])
    if "net" in plan["namespaces"]:
        Stage.name = "loopback"
        set_loopback_up()
    for volume in plan["tmpfs"]:
        Stage.name = f"volume {volume['name']}"
        rootfs.mount_tmpfs_volume(volume)
    channel.send("sandbox")
    message = channel.recv("configure", "release")
    if message is not None and message["kind"] == "configure":
        Stage.name = "pod network"  # eth0 was created here by the launcher, as one end of a veth pair
        set_interface_address("eth0", message["address"], message["prefix"])
        set_interface_up("eth0")
        add_default_route(message["gateway"])
        channel.send("configured")
        channel.recv("release")
    if held >= 0:
        os.write(held, b"x")  # the launcher holds the pod's namespaces now: the pause may lock itself down
    os._exit(0)


def _pause(channel: Channel, ready: int) -> NoReturn:
    """PID 1 of a pod's shared pid namespace, as Kubernetes' pause: reap orphans until told to stop.

    It stays dumpable until the launcher has opened its pid namespace (a rootless launcher could
    not open /proc/PID/ns/pid of an undumpable process), then it is not: it is a host binary that
    the pod's processes can see."""
    channel.close()
    os.read(ready, 1)
    os.closerange(3, 1 << 16)
    prctl(PR_SET_DUMPABLE, 0)
    pyprctl.set_name("pause")  # what `ps` in the pod shows, as for Kubernetes' pause
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda *_: os._exit(0))
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            signal.pause()


def _exec_in_container(channel: Channel, plan: dict[str, Any]) -> NoReturn:
    """Run a command in a running container (exec probes, hooks, ``podbay exec``): join every namespace
    of its process, fork into its pid namespace, take on its process settings and exec. This
    process stays outside the container's pid namespace, waits and exits with the command's code;
    it is not dumpable from the start, so nothing in the container can reach it or its binary."""
    prctl(PR_SET_DUMPABLE, 0)
    _join(plan["join"])
    slave = -1
    if plan["process"].get("terminal"):
        Stage.name = "terminal"
        master, slave = console.open_pair(*plan["process"]["terminal"])
        channel.send_fds("pty", [master])  # (4a): the master is podbay's, never the container's
        os.close(master)
    pid = os.fork()
    if pid == 0:
        if slave >= 0:
            console.become_controlling(slave)
        _become_process(plan["process"])
    if slave >= 0:
        os.close(slave)
    channel.send("pid", pid=pid)  # (4)
    channel.close()  # the child's copy alone: end of file once it has exec'd
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, lambda n, _f: os.kill(pid, n))  # an interrupted exec stops its command
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def _setgroups_allowed() -> bool:
    try:
        with open("/proc/self/setgroups") as file:
            return file.read().strip() != "deny"
    except OSError:
        return True


def _drop_capabilities(keep: list[int]) -> None:
    last = max(pyprctl.ALL_CAPS)
    try:
        with open("/proc/sys/kernel/cap_last_cap") as file:
            last = int(file.read())
    except (OSError, ValueError):
        pass
    wanted = set(keep)
    for number in range(last + 1):
        if number not in wanted:
            pyprctl.capbset_drop(number)
    pyprctl.cap_inheritable.limit()
    clear_ambient_capabilities()


def _exec(process: dict[str, Any]) -> NoReturn:
    args, env = process["args"], process["env"]
    Stage.name = "exec"
    environ = dict(entry.split("=", 1) if "=" in entry else (entry, "") for entry in env)
    # Python ignores SIGPIPE and SIGXFSZ at start-up; ignored signals survive execve.
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    try:
        os.execvpe(args[0], args, environ)
    except FileNotFoundError as err:
        where = "no such file or directory" if "/" in args[0] else "executable file not found in $PATH"
        raise OSError(err.errno, f'exec: "{args[0]}": {where}') from err
    except PermissionError as err:
        raise OSError(err.errno, f'exec: "{args[0]}": permission denied') from err


def _container(channel: Channel, plan: dict[str, Any]) -> NoReturn:
    process = plan["process"]
    prctl(PR_SET_DUMPABLE, 0)  # nothing in the container may ptrace or read us while we set up
    if "net" in plan["namespaces"]:
        Stage.name = "loopback"
        set_loopback_up()
    Stage.name = "root filesystem"
    root = plan["rootfs"]["target"]
    def log(message: str) -> None:
        channel.send("log", message=message)

    rootfs.mount_root(plan["rootfs"], log)
    Stage.name = "mounts"
    rootfs.mount_system(root, plan, log)
    Stage.name = "volume mounts"
    rootfs.mount_volumes(root, plan["mounts"])
    if "uts" in plan["namespaces"]:
        Stage.name = "hostname"
        socket.sethostname(plan["hostname"])
    Stage.name = "masked paths"
    rootfs.mask_paths(root, plan)
    Stage.name = "working directory"
    os.makedirs(secure_join(root, process["cwd"]), exist_ok=True)
    Stage.name = "pivot_root"
    rootfs.pivot(root)
    if plan["rootfs"]["readonly"]:
        Stage.name = "read-only root"
        rootfs.remount_readonly("/")
    if process.get("terminal"):  # tty: true, a pty of the container's own devpts (mounted above)
        Stage.name = "terminal"
        master, slave = console.open_pair(*process["terminal"])
        channel.send_fds("pty", [master])  # (5a): the supervisor keeps it for the log and attach
        os.close(master)
        console.become_controlling(slave)
    _become_process(process)


def _become_process(process: dict[str, Any]) -> NoReturn:
    """The container process's identity and limits, last before execve (a container's or an exec's)."""
    Stage.name = "user"
    who = resolve(process["user"], process["run_as_user"], process["run_as_group"],
                  supplemental=process["supplemental_groups"], fs_group=process["fs_group"])
    if process.get("terminal"):
        os.fchown(0, who.uid, -1)  # the user's terminal, group tty, as login(1) leaves it
    Stage.name = "rlimits"
    for number, soft, hard in process["rlimits"]:
        resource.setrlimit(number, (soft, hard))
    Stage.name = "capabilities"
    _drop_capabilities(process["capabilities"])
    bpf = bytes.fromhex(process["seccomp"]) if process["seccomp"] else b""
    if bpf and not process["no_new_privs"]:
        Stage.name = "seccomp"  # without no_new_privs the filter needs CAP_SYS_ADMIN: load it while we have it
        load_seccomp_filter(bpf)
    Stage.name = "user"
    if _setgroups_allowed():
        os.setgroups(list(who.groups))
    os.setresgid(who.gid, who.gid, who.gid)
    os.setresuid(who.uid, who.uid, who.uid)
    Stage.name = "working directory"
    os.chdir(process["cwd"])
    if not any(entry.startswith("HOME=") for entry in process["env"]):
        process["env"].append(f"HOME={who.home}")
    if process["no_new_privs"]:
        Stage.name = "no_new_privs"
        set_no_new_privs()
        if bpf:
            Stage.name = "seccomp"
            load_seccomp_filter(bpf)
    _exec(process)


def main() -> None:
    channel = Channel.from_fd(int(os.environ.pop(ENV_FD)))
    exe = os.environ.pop(ENV_EXE_FD, "")
    if exe:
        os.close(int(exe))  # the sealed interpreter we run from (process/sealed.py): never the container's
    try:
        message = channel.recv("plan")  # (1)
        if message is None:
            os._exit(255)
        with os.fdopen(message["fd"], "rb") as plan_file:  # a memfd: the plan may be megabytes
            plan_file.seek(0)
            plan: dict[str, Any] = marshal.loads(plan_file.read())
        if plan.get("sandbox"):
            _sandbox(channel, plan)
        if plan.get("exec"):
            _exec_in_container(channel, plan)
        if plan.get("join"):
            _join(plan["join"])
        elif plan["userns"]:
            _become_root(channel)
        Stage.name = "namespaces"
        unshare(sum(NAMESPACE_FLAGS[name] for name in plan["namespaces"]))
        pid = os.fork()
        if pid:
            channel.send("pid", pid=pid)  # (4)
            os._exit(0)
        _container(channel, plan)
    except BaseException as err:
        number = err.errno if isinstance(err, OSError) and err.errno else 0
        text = str(err) if isinstance(err, SyscallError) else (
            err.strerror if isinstance(err, OSError) and err.strerror and not err.filename else str(err))
        try:
            channel.send("error", stage=Stage.name, errno=number, message=text or type(err).__name__)  # (6)
        finally:
            os._exit(255)


if __name__ == "__main__":
    main()
    sys.exit(255)
