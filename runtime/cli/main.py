"""The ``podbay`` command: argument parsing and dispatch.

This module is on every command's path, so it imports only the standard
library; each command's module (and the heavy parts of the runtime) is imported
when that command runs. ``podbay version`` therefore costs a bare interpreter
start (see tests/unit/test_cli.py, which checks the imports).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podbay.runtime.paths import Paths

PROG = "podbay"
POD_KINDS = ("pods", "pod", "po")
EVENT_KINDS = ("events", "event", "ev")


def _namespace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--namespace", default="default", help="the namespace (default: default)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run Kubernetes Pods on one Linux machine, without a cluster.",
    )
    parser.add_argument("--root", metavar="DIR", help="folder for images and container data "
                        "(default /var/lib/podbay, rootless $XDG_DATA_HOME/podbay; or PODBAY_DATA_DIR)")
    parser.add_argument("--runroot", metavar="DIR", help="folder for live state "
                        "(default /run/podbay, rootless $XDG_RUNTIME_DIR/podbay; or PODBAY_RUN_DIR)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("version", help="print the podbay version")
    commands.add_parser("doctor", help="check what this host lets podbay do (namespaces, ids, cgroups ...)")
    info = commands.add_parser("info", help="the host checks and podbay's set-up, as data (podman info)")
    info.add_argument("-o", "--output", choices=("json", "yaml"), default="yaml")

    validate = commands.add_parser(
        "validate", help="check manifests as the API server would, and show the defaulted objects",
        description="Load, default and validate Kubernetes manifests. Prints each object, its warnings "
                    "and every error at once; exits 1 when any document is invalid.")
    validate.add_argument("-f", "--filename", action="append", required=True, metavar="FILE",
                          help="file, folder or - for stdin (repeatable)")
    validate.add_argument("-R", "--recursive", action="store_true", help="descend into sub-folders of folders")
    validate.add_argument("-o", "--output", choices=("yaml", "json", "name"),
                          help="print the defaulted objects in this format")

    explain = commands.add_parser(
        "explain", help="describe a field of a kind and whether podbay honours it",
        description="Describe a resource field, for example: podbay explain pod.spec.containers.livenessProbe")
    explain.add_argument("field", metavar="FIELD", help="RESOURCE[.field.path]")
    explain.add_argument("--recursive", action="store_true", help="list all nested fields")

    run = commands.add_parser(
        "run", help="run a pod from a manifest",
        description="Create a pod from a manifest and return once it is created; podbay's supervisor runs it "
                    "(restarts, probes, hooks) after this command exits. --rm --attach runs it in the "
                    "foreground instead; the exit code is then the pod's.")
    run.add_argument("-f", "--filename", action="append", required=True, metavar="FILE", help="the pod manifest")
    run.add_argument("--rm", action="store_true", help="with --attach: delete the pod when it ends")
    run.add_argument("--attach", action="store_true", help="stream the pod's output until it ends; its exit code")
    run.add_argument("--wait", action="store_true", help="return once the pod is Ready")
    run.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS", help="how long --wait waits")
    run.add_argument("--replace", action="store_true", help="delete a pod of the same name first")
    run.add_argument("--rootfs", choices=("overlay", "copy"), default="overlay",
                     help="how to build the root filesystem (copy: no overlayfs; slow; foreground only)")
    _namespace(run)

    get = commands.add_parser("get", help="list pods and workloads (kubectl get)")
    get.add_argument("kind", metavar="KIND", help="pods (po), deployments (deploy), replicasets (rs), configmaps (cm), "
                     "secrets, events (ev); KIND/NAME works too")
    get.add_argument("names", nargs="*", metavar="NAME")
    get.add_argument("-o", "--output", choices=("wide", "yaml", "json", "name"))
    get.add_argument("-l", "--selector", default="", help="label selector, e.g. app=web,tier!=db")
    get.add_argument("-w", "--watch", action="store_true", help="print a line whenever a pod changes")
    get.add_argument("-A", "--all-namespaces", action="store_true")
    _namespace(get)

    events = commands.add_parser("events", help="events of pods, workloads and the node, oldest first "
                                 "(kubectl events; also get events)")
    events.add_argument("--for", dest="for_object", default="", metavar="KIND/NAME",
                        help="only the events of this object, e.g. pod/web or deploy/web")
    events.add_argument("--types", default="", metavar="TYPES", help="Normal, Warning or both (comma separated)")
    events.add_argument("-o", "--output", choices=("yaml", "json"))
    events.add_argument("-A", "--all-namespaces", action="store_true")
    _namespace(events)

    apply = commands.add_parser("apply", help="create or update objects from files (kubectl apply)",
                                description="Deployments, ReplicaSets, ConfigMaps, Secrets and Pods: the same file "
                                            "again changes nothing; a changed one updates what changed.")
    apply.add_argument("-f", "--filename", dest="files", action="append", required=True, metavar="FILE",
                       help="a YAML/JSON file, a folder, or - for stdin (repeatable)")
    apply.add_argument("-n", "--namespace", default=None)

    kubelet = commands.add_parser("kubelet", help="run the node agent in the foreground: pods, workloads, static pods",
                                  description="The supervisor in the foreground (for a systemd service) with the "
                                              "static pods of a manifest folder.")
    kubelet.add_argument("--manifests", default="", metavar="DIR", help="static pods' folder (default "
                         "/etc/podbay/manifests as root, $XDG_CONFIG_HOME/podbay/manifests otherwise)")

    rollout = commands.add_parser("rollout", help="a Deployment's rollouts: status, history, undo, restart")
    rollout.add_argument("action", choices=("status", "history", "undo", "restart"))
    rollout.add_argument("kind", metavar="deploy/NAME")
    rollout.add_argument("names", nargs="*", metavar="NAME")
    rollout.add_argument("--to-revision", type=int, default=0, help="undo: the revision to go back to")
    rollout.add_argument("--timeout", type=float, default=0, help="status: give up after these seconds")
    _namespace(rollout)

    scale = commands.add_parser("scale", help="set a Deployment's or ReplicaSet's replicas")
    scale.add_argument("kind", metavar="KIND[/NAME]")
    scale.add_argument("names", nargs="*", metavar="NAME")
    scale.add_argument("--replicas", type=int, required=True)
    _namespace(scale)

    describe = commands.add_parser("describe", help="show a pod or a workload in detail, with its events")
    describe.add_argument("kind", metavar="KIND", help="pod, deployment, replicaset, job ... (KIND/NAME works too)")
    describe.add_argument("names", nargs="*", metavar="NAME")
    _namespace(describe)

    inspect = commands.add_parser("inspect", help="a pod's runtime detail: processes, namespaces, security")
    inspect.add_argument("kind", metavar="pod", choices=POD_KINDS)
    inspect.add_argument("name", metavar="NAME")
    _namespace(inspect)

    delete = commands.add_parser("delete", help="delete pods (preStop hooks, stop signal, grace period) or workloads")
    delete.add_argument("kind", metavar="KIND", help="pod, deployment, replicaset ... (KIND/NAME works too)")
    delete.add_argument("--cascade", choices=("background", "foreground", "orphan"), default="background",
                        help="a workload's pods and ReplicaSets: deleted after it (background, foreground) or kept "
                             "(orphan)")
    delete.add_argument("names", nargs="*", metavar="NAME")
    delete.add_argument("--all", action="store_true", help="every pod of the namespace")
    delete.add_argument("-l", "--selector", default="")
    delete.add_argument("--grace-period", type=int, default=None, metavar="SECONDS",
                        help="override terminationGracePeriodSeconds (0: kill at once)")
    delete.add_argument("--now", action="store_true", help="grace period 1 s")
    delete.add_argument("-A", "--all-namespaces", action="store_true", help="with --all: in every namespace")
    _namespace(delete)

    restart = commands.add_parser(
        "restart", help="restart a container of a running pod",
        description="Stop a container (preStop hook, stop signal, grace period) and start it again at once, "
                    "whatever the pod's restartPolicy; it counts as a restart.")
    restart.add_argument("pod", metavar="POD")
    restart.add_argument("-c", "--container", help="the container (default: the pod's first)")
    restart.add_argument("--grace-period", type=int, default=None, metavar="SECONDS",
                         help="override terminationGracePeriodSeconds (0: kill at once)")
    _namespace(restart)

    for verb, words in (("pause", "freeze every process of a pod (cgroup.freeze)"),
                        ("unpause", "thaw a paused pod")):
        paused = commands.add_parser(verb, help=words, description=words[0].upper() + words[1:] + ".")
        paused.add_argument("pod", metavar="POD")
        _namespace(paused)

    top = commands.add_parser("top", help="CPU, memory, throttling and pressure of pods or the node",
                              description="kubectl top's columns from podbay's cgroups (pods) or /proc (node), "
                                          "with CPU throttling, pids and PSI pressure.")
    top_kinds = top.add_subparsers(dest="top_kind", metavar="pod|node", required=True)
    top_pod = top_kinds.add_parser("pod", aliases=["pods", "po"], help="pods' usage")
    top_pod.add_argument("names", nargs="*", metavar="NAME")
    top_pod.add_argument("--containers", action="store_true", help="one row per container")
    top_pod.add_argument("-A", "--all-namespaces", action="store_true")
    _namespace(top_pod)
    top_kinds.add_parser("node", aliases=["nodes", "no"], help="this machine's usage")

    logs = commands.add_parser("logs", help="print a container's logs")
    logs.add_argument("pod", metavar="POD", help="a pod, or TYPE/NAME of a workload (deploy/web): its first pod")
    logs.add_argument("-c", "--container")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-p", "--previous", action="store_true", help="the previous run of the container")
    logs.add_argument("--tail", type=int, default=-1, metavar="N", help="the last N lines")
    logs.add_argument("--since", metavar="DURATION", help="only lines newer than this (5s, 2m, 3h)")
    logs.add_argument("--timestamps", action="store_true")
    logs.add_argument("--all-containers", action="store_true")
    logs.add_argument("--prefix", action="store_true", help="prefix each line with pod and container")
    _namespace(logs)

    commands.add_parser("tui", help="the terminal UI", description="Start the terminal UI (Textual).")

    forward = commands.add_parser(
        "port-forward", help="forward local ports to a pod",
        description="Forward local ports to a pod's ports: podbay port-forward POD [LOCAL:]REMOTE...")
    forward.add_argument("pod", metavar="POD")
    forward.add_argument("ports", nargs="+", metavar="[LOCAL:]REMOTE")
    forward.add_argument("--address", default="127.0.0.1", help="the local address to listen on (127.0.0.1)")
    _namespace(forward)

    attach = commands.add_parser(
        "attach", help="attach to a running container's terminal or stdin",
        description="Attach to a running container: podbay attach POD [-c C] [-i] [-t]. Ctrl-P Ctrl-Q detaches.")
    _stream_flags(attach, "the container's stdin is a terminal")

    debug = commands.add_parser(
        "debug", help="add an ephemeral debug container to a running pod",
        description="Add an ephemeral container to a running pod, as kubectl debug does: "
                    "podbay debug POD --image IMAGE [--target C] [-c NAME] [-it] [--profile P] [-- CMD...]")
    debug.add_argument("pod", metavar="POD")
    debug.add_argument("--image", default="", help="the debug container's image")
    debug.add_argument("--target", default="", help="join this container's process namespace")
    debug.add_argument("-c", "--container", default="", help="the debug container's name (default debugger-xxxxx)")
    debug.add_argument("-i", "--stdin", action="store_true", help="keep its stdin open and attach to it")
    debug.add_argument("-t", "--tty", action="store_true", help="give it a terminal (with -i)")
    debug.add_argument("--profile", default="general",
                       help="general (SYS_PTRACE), baseline, restricted, netadmin (NET_ADMIN, NET_RAW) or sysadmin "
                            "(privileged), as kubectl's")
    debug.add_argument("--env", action="append", default=[], metavar="K=V", help="an environment variable")
    debug.add_argument("--image-pull-policy", default="", help="Always, IfNotPresent or Never")
    debug.add_argument("--share-volumes", action="store_true",
                       help="mount the target container's volumes at the same paths (podbay only)")
    debug.add_argument("--rm", action="store_true", help="remove the container from the pod when it ends (podbay only)")
    debug.add_argument("--attach", default="", metavar="NAME",
                       help="attach again to the running ephemeral container NAME (podbay only)")
    debug.add_argument("-q", "--quiet", action="store_true", help="no informational messages")
    debug.add_argument("cmd", nargs="*", metavar="-- CMD", help="the command and its arguments, after --")
    _namespace(debug)

    execute = commands.add_parser(
        "exec", help="run a command in a running container",
        description="Run a command in a container of a running pod: podbay exec [-i] [-t] POD [-c C] -- CMD...")
    _stream_flags(execute, "give the command a terminal (with -i)")
    execute.add_argument("cmd", nargs="*", metavar="-- CMD", help="the command and its arguments, after --")

    supervisor = commands.add_parser("supervisor", help="the per-user supervisor: status, stop")
    supervisor.add_argument("action", choices=("status", "stop"))

    from podbay.runtime.cli import images as image_cli  # noqa: PLC0415

    image_cli.add_parsers(commands)

    volume = commands.add_parser("volume", help="manage the named volumes behind persistentVolumeClaims")
    volume_commands = volume.add_subparsers(dest="volume_command", metavar="COMMAND")
    volume_ls = volume_commands.add_parser("ls", help="list volumes")
    volume_ls.add_argument("-q", "--quiet", action="store_true", help="print names only")
    volume_rm = volume_commands.add_parser("rm", help="remove volumes and their data")
    volume_rm.add_argument("names", nargs="+", metavar="NAME")
    return parser


def _stream_flags(parser: argparse.ArgumentParser, tty_help: str) -> None:
    """attach's and exec's: -i, -t, -c, the pod, the namespace."""
    parser.add_argument("-i", "--stdin", action="store_true", help="pass this command's stdin to the container")
    parser.add_argument("-t", "--tty", action="store_true", help=tty_help)
    parser.add_argument("-c", "--container", help="the container (default: the pod's first)")
    parser.add_argument("pod", metavar="POD")
    _namespace(parser)


def _paths(args: argparse.Namespace) -> Paths:
    from pathlib import Path  # noqa: PLC0415

    from podbay.runtime.paths import Paths, default_paths  # noqa: PLC0415

    paths = default_paths()
    return Paths(Path(args.root) if args.root else paths.data_dir,
                 Path(args.runroot) if args.runroot else paths.run_dir)


def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    argv, after = list(argv), []
    verb = next((word for word in ("exec", "debug") if word in argv), "")
    if verb and "--" in argv[argv.index(verb):]:  # the command is everything after --, as kubectl's
        split = argv.index("--", argv.index(verb))
        argv, after = argv[:split], argv[split + 1:]
    args = parser.parse_args(argv)
    if args.command in ("exec", "debug"):
        args.cmd = after or args.cmd
    if args.command == "version":
        from podbay.runtime.version import __version__  # noqa: PLC0415 - lazy by design

        print(f"podbay {__version__}")
        return 0
    if args.command == "info":
        from podbay.runtime.cli.doctor import info_command  # noqa: PLC0415

        return info_command(_paths(args), args.output)
    if args.command in ("pause", "unpause"):
        from podbay.runtime.cli.pods import pause_pod  # noqa: PLC0415

        return pause_pod(_paths(args), args.pod, args.namespace, args.command == "pause")
    if args.command == "top":
        from podbay.runtime.cli.top import top_node, top_pods  # noqa: PLC0415

        if args.top_kind in ("node", "nodes", "no"):
            return top_node()
        return top_pods(_paths(args), args.names, None if args.all_namespaces else args.namespace, args.containers)
    if args.command == "doctor":
        from podbay.runtime.cli.doctor import doctor_command  # noqa: PLC0415

        return doctor_command()
    if args.command == "validate":
        from podbay.runtime.cli.validate import validate_command  # noqa: PLC0415

        return validate_command(args.filename, recursive=args.recursive, output=args.output)
    if args.command == "explain":
        from podbay.runtime.cli.explain import explain_command  # noqa: PLC0415

        return explain_command(args.field, recursive=args.recursive)
    if args.command == "run":
        from podbay.runtime.cli.run import run_command  # noqa: PLC0415

        return run_command(args.filename, args.rm, args.attach, _paths(args), args.rootfs, replace=args.replace,
                           wait=args.wait, timeout=args.timeout)
    if args.command == "tui":
        try:
            from podbay.tui.app import make_app  # noqa: PLC0415
        except ImportError as err:
            print(f"error: the TUI needs textual ({err}); pip install textual", file=sys.stderr)
            return 1
        from podbay.runtime.api import Runtime  # noqa: PLC0415

        make_app(Runtime(_paths(args))).run()
        return 0
    if args.command == "port-forward":
        from podbay.runtime.cli.portforward import port_forward  # noqa: PLC0415

        return port_forward(_paths(args), args.pod, args.namespace, args.ports, args.address)
    if args.command == "attach":
        from podbay.runtime.cli.attach import attach_command  # noqa: PLC0415

        return attach_command(_paths(args), args.pod, args.namespace, args.container, stdin=args.stdin,
                              tty=args.tty)
    if args.command == "debug":
        from podbay.runtime.cli.debug import DebugOptions, debug_command  # noqa: PLC0415

        return debug_command(_paths(args), args.pod, args.namespace, DebugOptions(
            image=args.image, target=args.target, name=args.container, stdin=args.stdin, tty=args.tty,
            profile=args.profile, env=args.env, command=args.cmd, share_volumes=args.share_volumes, remove=args.rm,
            attach_to=args.attach, pull_policy=args.image_pull_policy, quiet=args.quiet))
    if args.command == "exec":
        from podbay.runtime.cli.exec import exec_command  # noqa: PLC0415

        return exec_command(_paths(args), args.pod, args.namespace, args.container, args.cmd, stdin=args.stdin,
                            tty=args.tty)
    if args.command == "kubelet":
        from podbay.runtime.cli.kubelet import kubelet_command  # noqa: PLC0415

        return kubelet_command(_paths(args), args.manifests)
    if args.command == "events" or (args.command == "get" and args.kind in EVENT_KINDS):
        from podbay.runtime.cli.events import get_events  # noqa: PLC0415

        if args.command == "get" and (args.names or args.watch or args.selector or args.output in ("wide", "name")):
            print("error: get events lists all of a namespace's events (-o yaml|json, -A); "
                  "podbay events --for KIND/NAME --types Warning narrows them", file=sys.stderr)
            return 1
        return get_events(_paths(args), args.namespace, all_namespaces=args.all_namespaces, output=args.output,
                          for_object=getattr(args, "for_object", ""), types=getattr(args, "types", ""))
    if args.command in ("apply", "scale", "rollout") or (args.command in ("get", "delete", "describe") and
                                               args.kind.partition("/")[0] not in POD_KINDS):
        return _workloads(args)
    if args.command in ("get", "describe", "delete", "restart", "logs", "inspect", "supervisor"):
        return _pods(args)
    if args.command in ("pull", "images", "image", "rmi", "tag", "login", "logout"):
        from podbay.runtime.cli import images as image_cli  # noqa: PLC0415

        done = image_cli.dispatch(_paths(args), args)
        if done is not None:
            return done
    if args.command == "volume" and args.volume_command in ("ls", "rm"):
        from podbay.runtime.cli.volumes import volume_ls, volume_rm  # noqa: PLC0415

        if args.volume_command == "ls":
            return volume_ls(_paths(args), quiet=args.quiet)
        return volume_rm(_paths(args), args.names)
    parser.print_help(sys.stderr)
    return 2


def _workloads(args: argparse.Namespace) -> int:
    from podbay.runtime.cli import workloads  # noqa: PLC0415

    paths = _paths(args)
    if args.command == "apply":
        return workloads.apply_command(paths, args.files, args.namespace)
    alias, names = workloads.split_kind(args.kind, args.names)
    if alias not in workloads.KINDS:
        print(f'error: the server doesn\'t have a resource type "{alias}"', file=sys.stderr)
        return 1
    if args.command == "scale":
        return workloads.scale_command(paths, alias, names, args.namespace, args.replicas)
    if args.command == "rollout":
        return workloads.rollout_command(paths, args.action, alias, names, args.namespace,
                                         revision=args.to_revision, timeout=args.timeout)
    if args.command == "get":
        return workloads.get_objects(paths, alias, names, args.namespace, all_namespaces=args.all_namespaces,
                                     output=args.output)
    if args.command == "describe":
        return workloads.describe_objects(paths, alias, names, args.namespace)
    return workloads.delete_objects(paths, alias, names, None if args.all_namespaces else args.namespace,
                                    args.cascade, everything=args.all)


def _pods(args: argparse.Namespace) -> int:
    paths = _paths(args)
    if args.command in ("get", "delete", "describe") and "/" in args.kind:  # pod/NAME
        args.names = [args.kind.partition("/")[2], *args.names]
    if args.command == "get":
        from podbay.runtime.cli.pods import get_pods  # noqa: PLC0415

        return get_pods(paths, args.names, args.namespace, all_namespaces=args.all_namespaces, output=args.output,
                        selector=args.selector, watch=args.watch)
    if args.command == "describe":
        from podbay.runtime.cli.describe import describe_pods  # noqa: PLC0415

        return describe_pods(paths, args.names, args.namespace)
    if args.command == "inspect":
        from podbay.runtime.cli.describe import inspect_pod  # noqa: PLC0415

        return inspect_pod(paths, args.name, args.namespace)
    if args.command == "delete":
        from podbay.runtime.cli.pods import delete_pods  # noqa: PLC0415

        namespace = None if args.all_namespaces else args.namespace
        return delete_pods(paths, args.names, namespace, everything=args.all, grace=args.grace_period,
                           now=args.now, selector=args.selector)
    if args.command == "restart":
        from podbay.runtime.cli.pods import restart_container  # noqa: PLC0415

        return restart_container(paths, args.pod, args.namespace, args.container, args.grace_period)
    if args.command == "logs":
        from podbay.runtime.cli.pods import logs  # noqa: PLC0415

        return logs(paths, args.pod, args.namespace, args.container, follow=args.follow, previous=args.previous,
                    tail=args.tail, since=args.since, timestamps=args.timestamps,
                    all_containers=args.all_containers, prefix=args.prefix)
    from podbay.runtime.cli.supervisor import supervisor_command  # noqa: PLC0415

    return supervisor_command(paths, args.action)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error. Silence the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
