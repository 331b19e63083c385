"""The supervisor process: ``python -m podbay.runtime.supervisor.daemon --data DIR --run DIR``.

One per user (per store), started by the first CLI command that needs it and detached from it.
It is the child subreaper of every container, serves requests on a Unix socket
(``<run dir>/supervisor/sock``, one JSON line each way; see protocol.py), runs a PodWorker
thread per live pod, and exits after a while with no live pod (``PODBAY_SUPERVISOR_IDLE``
seconds, default 60). Reads (``get``, ``describe``, ``logs``) never come here: they read the
state store and the log files directly.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import fcntl
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from podbay.runtime import settings
from podbay.runtime.cgroups.oomwatch import OomWatcher
from podbay.runtime.cgroups.pod import host_cgroups
from podbay.runtime.controllers import requests as object_requests
from podbay.runtime.controllers.manager import ControllerManager
from podbay.runtime.idmap import default_mapping
from podbay.runtime.images.policy import ImageManager
from podbay.runtime.images.store import ImageStore
from podbay.runtime.network import links
from podbay.runtime.network.podsockets import RootlessSockets
from podbay.runtime.paths import Paths
from podbay.runtime.pod.config import PodObjects
from podbay.runtime.process.liveness import start_time
from podbay.runtime.process.userns import UsernsError, remove_tree
from podbay.runtime.spec.loader import load_text
from podbay.runtime.spec.pod import Pod, meta_of, spec_of
from podbay.runtime.spec.schema import encode
from podbay.runtime.spec.validation import refused_on_create
from podbay.runtime.state.store import PodRecord, StateError, StateStore
from podbay.runtime.supervisor import adopt, protocol
from podbay.runtime.supervisor.keeper import Keeper, KeeperError
from podbay.runtime.supervisor.logsink import LogPump
from podbay.runtime.supervisor.pod_worker import PodWorker
from podbay.runtime.syscalls import set_child_subreaper

DELETE_WAIT = 600.0
CONNECT_TIMEOUT = 5.0


def _start_time(pid: int) -> str:
    try:
        return start_time(pid) if pid else ""
    except OSError:
        return ""


def decode(objects: list[dict[str, Any]], what: str = "the pod") -> tuple[Pod, PodObjects]:
    """The pod and its ConfigMaps/Secrets, from the objects the CLI loaded and defaulted."""
    documents = load_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), "<request>")
    problems = [str(error) for doc in documents for error in doc.errors]
    if problems:
        raise protocol.RequestError(f"{what} is invalid: " + "; ".join(problems))
    loaded = [doc.obj for doc in documents if doc.obj is not None]
    pods = [obj for obj in loaded if isinstance(obj, Pod)]
    if len(pods) != 1:
        raise protocol.RequestError(f"a run request needs exactly one Pod (found {len(pods)})")
    others = [obj for obj in loaded if not isinstance(obj, Pod)]
    return pods[0], PodObjects.from_objects(others, meta_of(pods[0]).namespace or "default")


class Supervisor:
    def __init__(self, paths: Paths, rootfs_mode: str = "overlay", *, foreground: bool = False) -> None:
        self.paths, self.rootfs_mode = paths, rootfs_mode
        self.foreground = foreground  # `podbay kubelet`: its log on stderr too, and no idle exit
        self.folder = protocol.folder(paths)
        self.store = StateStore(paths.run_dir / "state.db")
        self.pump = LogPump()
        self.images = ImageManager(ImageStore(paths.images))
        self.keeper = Keeper.load(self.folder / "keeper.json")
        self.rootless_sockets = RootlessSockets(paths.run_dir / "network")
        self.workers: dict[str, PodWorker] = {}
        self.lock = threading.RLock()
        self.idle_since = time.monotonic()
        self.stopping = threading.Event()
        self.log_file = open(self.folder / "supervisor.log", "a", buffering=1)  # noqa: SIM115
        try:
            self.settings = settings.load()
        except settings.SettingsError as err:  # `podbay run` refuses pods until it is fixed
            self.log(f"settings: {err}; using the defaults")
            self.settings = settings.Settings()
        self.cgroups = host_cgroups(self.settings)
        self.oom = OomWatcher() if self.cgroups.enabled else None
        self.controllers = ControllerManager(self)

    def log(self, text: str) -> None:
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}\n"
        self.log_file.write(line)
        if self.foreground:
            sys.stderr.write(line)

    # --- what the workers call ---------------------------------------------------------------

    def keep(self) -> None:
        """The keeper holds every live pod's namespaces and pipes (replaced when the set changes)."""
        with self.lock:
            fds: list[int] = []
            for worker in self.workers.values():
                if worker.sandbox is not None:
                    fds += list(worker.sandbox.fds.values())
                    fds += [fd for run in worker.runs for fd in run.sink.fds]
            try:
                self.keeper.replace(sorted(set(fds)))
            except (KeeperError, OSError) as err:
                self.log(f"descriptor keeper: {err}")

    def forget(self, worker: PodWorker) -> None:
        with self.lock:
            if self.workers.get(worker.uid) is worker:
                del self.workers[worker.uid]
            if not self.workers:
                self.idle_since = time.monotonic()
        self.keep()

    def record_runtime(self, worker: PodWorker) -> None:
        """What a restarted supervisor needs to find this pod's processes and descriptors again."""
        sandbox = worker.sandbox
        runtime: dict[str, Any] = {"supervisor": os.getpid(), "containers": {}, "deleting": worker.deleting_since,
                                   "objects": worker.objects_data, "cgroup": str(worker.cgroups.path or "")}
        if sandbox is not None:
            runtime["sandbox"] = {
                "directory": str(sandbox.directory), "fds": sandbox.fds, "etc_files": sandbox.etc_files,
                "volumes": sandbox.volumes.sources, "holder": sandbox.holder, "host_link": sandbox.host_link,
                "lease": sandbox.lease.__dict__ if sandbox.lease else None,
                "rootless": sandbox.rootless_net is not None}
        runtime["folders"] = [runtime["sandbox"]["directory"]] if sandbox is not None else []
        for run in worker.runs:
            if run.launch is not None:
                runtime["folders"].append(str(run.launch.directory))
            runtime["containers"][run.name] = {
                "pipes": run.sink.fds, "pid": run.pid, "start": _start_time(run.pid), "runs": run.runs,
                "directory": str(run.launch.directory) if run.launch else "", "process": run.process,
                "cgroup": str(run.cgroup or "")}
        self.store.update(worker.uid, runtime=runtime)

    # --- requests ----------------------------------------------------------------------------

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"pid": os.getpid()}
        if op == "run":
            return self._run(request)
        if op == "delete":
            return self._delete(str(request.get("namespace", "default")), str(request["name"]),
                                request.get("grace"))
        if op == "stop":
            self.stopping.set()
            return {}
        if op == "debug":
            return self._debug(request)
        if op == "restart":
            return self._restart(request)
        answered = object_requests.handle(self.controllers, request)
        if answered is not None:
            return answered
        if op == "pause":
            return self._pause(request)
        raise protocol.RequestError(f"unknown request {op!r}")

    def _live_worker(self, namespace: str, name: str, doing: str) -> tuple[PodRecord, PodWorker]:
        record = self.store.pod(namespace, name)
        if record is None:
            raise protocol.RequestError(f'pods "{name}" not found', code="NotFound")
        with self.lock:
            worker = self.workers.get(record.uid)
        if worker is None or worker.finished or worker.sandbox is None:
            phase = record.status.get("phase", "Unknown")
            if worker is not None and worker.finished:  # the store may not say so yet
                phase = worker.phase()
            raise protocol.RequestError(f"cannot {doing} a completed pod; current phase is {phase}", code="BadRequest")
        if worker.deleting is not None:
            raise protocol.RequestError(f"cannot {doing} pod {name}: it is being deleted", code="BadRequest")
        return record, worker

    def _debug(self, request: dict[str, Any]) -> dict[str, Any]:
        """kubectl debug's PATCH of the ephemeralcontainers subresource, then the kubelet's start."""
        namespace, name = str(request.get("namespace", "default")), str(request["name"])
        record, worker = self._live_worker(namespace, name, "add an ephemeral container to")
        manifest = copy.deepcopy(record.manifest)
        manifest.setdefault("spec", {}).setdefault("ephemeralContainers", []).append(request["container"])
        pod, _ = decode([manifest, *worker.objects_data], f'Pod "{name}"')  # the API server's words
        added = spec_of(pod).ephemeral_containers[-1]
        manifest["spec"]["ephemeralContainers"][-1] = encode(added)
        error = worker.add_ephemeral(added, manifest, bool(request.get("remove")))
        if error:
            raise protocol.RequestError(error)
        return {"container": added.name}

    def _restart(self, request: dict[str, Any]) -> dict[str, Any]:
        namespace, name = str(request.get("namespace", "default")), str(request["name"])
        _, worker = self._live_worker(namespace, name, "restart a container of")
        grace = request.get("grace")
        error = worker.restart_container(str(request.get("container", "")), None if grace is None else int(grace))
        if error:
            raise protocol.RequestError(error, code="BadRequest")
        return {}

    def _pause(self, request: dict[str, Any]) -> dict[str, Any]:
        namespace, name = str(request.get("namespace", "default")), str(request["name"])
        frozen = bool(request.get("paused", True))
        _, worker = self._live_worker(namespace, name, "pause" if frozen else "unpause")
        error = worker.pause(frozen)
        if error:
            raise protocol.RequestError(error, code="BadRequest")
        return {}

    def connect(self, conn: socket.socket, request: dict[str, Any]) -> None:
        """``podbay port-forward``: a TCP connection to ``port`` on the pod's localhost, made from inside
        its network namespace and handed to the caller (SCM_RIGHTS), as the kubelet's port-forward."""
        namespace, name = str(request.get("namespace", "default")), str(request["name"])
        port = int(request.get("port", 0))
        _, worker = self._live_worker(namespace, name, "forward a port of")
        try:
            made = worker.sockets()(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as err:
            raise protocol.RequestError(f"pod {name}: no socket in its network: {err}") from err
        with made:
            try:
                made.settimeout(CONNECT_TIMEOUT)
                made.connect(("127.0.0.1", port))
                made.settimeout(None)
            except OSError as err:
                raise protocol.RequestError(f"error forwarding port {port} to pod {name}: failed to connect to "
                                            f"localhost:{port} inside its network namespace: "
                                            f"{err.strerror or err}") from err
            socket.send_fds(conn, [json.dumps({"ok": True}).encode() + b"\n"], [made.fileno()])

    def attach(self, conn: socket.socket, request: dict[str, Any]) -> None:
        """``podbay attach``: the reply, then the session's frames on the same connection (attach.py)."""
        namespace, name = str(request.get("namespace", "default")), str(request["name"])
        _, worker = self._live_worker(namespace, name, "attach to a container in")
        container = str(request.get("container", ""))
        run = next((r for r in worker.runs if r.name == container), None)
        if run is None:
            raise protocol.RequestError(f"container {container} is not valid for pod {name}", code="BadRequest")
        if not run.running:
            raise protocol.RequestError(f"container {container} is not running", code="BadRequest")
        protocol.send(conn, {"ok": True, "tty": run.spec.tty, "stdin": run.spec.stdin})
        run.attach(conn, bool(request.get("stdin")) and run.spec.stdin)

    def _run(self, request: dict[str, Any]) -> dict[str, Any]:
        pod, objects = decode(request["objects"])
        meta = meta_of(pod)
        if refused := refused_on_create(pod):
            raise protocol.RequestError(refused)
        namespace = meta.namespace or "default"
        existing = self.store.pod(namespace, meta.name)
        if existing is not None:
            if not request.get("replace"):
                raise protocol.RequestError(f'pods "{meta.name}" already exists in namespace "{namespace}" '
                                            "(use --replace, or delete it first)")
            self._delete(namespace, meta.name, request.get("grace"))
        status = {"phase": "Pending", "qosClass": ""}
        try:
            self.store.add_pod(PodRecord(meta.uid, namespace, meta.name, request["objects"][0], status))
        except StateError as err:
            raise protocol.RequestError(str(err)) from err
        worker = PodWorker(self, pod, objects)
        worker.objects_data = list(request["objects"][1:])
        with self.lock:
            self.workers[meta.uid] = worker
        for run in worker.runs:
            self.pump.add(run.sink)
        worker.start()
        worker.created.wait()
        if worker.create_error:  # the worker closes its pipes and goes
            self.store.remove_pod(meta.uid)
            self.forget(worker)
            raise protocol.RequestError(worker.create_error)
        self.record_runtime(worker)
        return {"uid": meta.uid, "name": meta.name, "namespace": namespace, "warnings": worker.warnings}

    def _delete(self, namespace: str, name: str, grace: int | None) -> dict[str, Any]:
        record = self.store.pod(namespace, name)
        if record is None:
            raise protocol.RequestError(f'pods "{name}" not found in namespace "{namespace}"', code="NotFound")
        with self.lock:
            worker = self.workers.get(record.uid)
        if worker is not None:
            done = worker.delete(grace)
            deadline = time.monotonic() + DELETE_WAIT
            while not done.wait(0.2) and worker.is_alive() and time.monotonic() < deadline:
                pass
            if done.is_set():
                return {"uid": record.uid}
        # No live worker: a finished pod, or one lost with its processes. Its folders, record and logs go.
        adopt.remove_folders(self, record)
        shutil.rmtree(self.paths.data_dir / "logs" / f"{namespace}_{name}_{record.uid}", ignore_errors=True)
        self.store.remove_pod(record.uid)
        return {"uid": record.uid}

    def adopt_all(self) -> None:
        """Resume every pod an earlier supervisor left running (before serving any request); start again
        the ones it had accepted but not yet given a sandbox when it died."""
        workers = []
        unborn = []
        for record in self.store.pods():  # every descriptor reopened before any worker replaces the keeper
            if record.uid in self.workers or record.status.get("reason") == "NodeRebooted":
                continue
            if not record.runtime.get("sandbox"):
                if record.status.get("phase") == "Pending" and not record.runtime.get("deleting") and \
                        not record.status.get("containerStatuses"):
                    unborn.append(record)
                continue
            worker = adopt.worker_for(self, record, PodWorker)
            if worker is not None:
                workers.append(worker)
                with self.lock:
                    self.workers[record.uid] = worker
        for worker in workers:
            for run in worker.runs:
                self.pump.add(run.sink)
            worker.start()
            worker.created.wait()
        for record in unborn:
            self._start_again(record)

    def _start_again(self, record: PodRecord) -> None:
        """A pod whose supervisor died while making its sandbox: what it left is removed, and it starts anew."""
        adopt.remove_folders(self, record)
        directory = self.paths.data_dir / "pods" / f"{record.namespace}_{record.name}_{record.uid}"
        with contextlib.suppress(OSError, UsernsError):
            remove_tree(str(directory), default_mapping(bool(record.manifest.get("spec", {}).get("hostUsers"))))
        self.store.remove_pod(record.uid)
        try:
            self._run({"objects": [record.manifest, *record.runtime.get("objects", [])]})
            self.log(f"pod {record.namespace}/{record.name}: its supervisor died before it started; started again")
        except protocol.RequestError as err:
            self.log(f"pod {record.namespace}/{record.name}: could not start it again: {err}")

    # --- the server --------------------------------------------------------------------------

    def serve(self, ready_fd: int, manifests: Path | None = None) -> int:
        set_child_subreaper()
        self.pump.start()
        self.adopt_all()
        self.controllers.start()
        if manifests is not None:
            from podbay.runtime.controllers.static import StaticPods  # noqa: PLC0415

            StaticPods(self, manifests).start()
            self.log(f"static pods from {manifests}")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = protocol.socket_path(self.paths)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener.bind(str(path))
        listener.listen(64)
        listener.settimeout(1.0)
        if ready_fd >= 0:
            os.write(ready_fd, b"ready\n")
            os.close(ready_fd)
        self.log(f"supervisor {os.getpid()} serving {path}")
        idle = float(os.environ.get("PODBAY_SUPERVISOR_IDLE", "60"))
        while not self.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                with self.lock:
                    if not self.workers and time.monotonic() - self.idle_since > idle and \
                            not self.foreground and not self.controllers.busy():
                        break
                continue
            with self.lock:
                self.idle_since = time.monotonic()
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.log(f"supervisor {os.getpid()} exits")
        return 0

    def _serve_one(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = protocol.receive(conn)
                if request is None:
                    return
                streams = {"attach": self.attach, "connect": self.connect}  # answered on the connection itself
                if request.get("op") in streams:  # (a session's frames; a descriptor), refusals as any other
                    streams[request["op"]](conn, request)
                    return
                reply = {"ok": True, **self.handle(request)}
            except protocol.RequestError as err:
                reply = {"ok": False, "error": str(err), "code": err.code}
            except Exception as err:  # a bug answers the caller rather than leaving it waiting
                self.log(traceback.format_exc())
                reply = {"ok": False, "error": f"podbay's supervisor failed: {err}", "code": "Internal"}
            with contextlib.suppress(OSError):
                protocol.send(conn, reply)


def _take_over(paths: Paths, lock: Any) -> bool:
    """`podbay kubelet` where a detached supervisor serves (a command started one): it is asked to stop
    (its pods keep running) and the agent adopts them."""
    lock.seek(0)
    pid = lock.read().strip()
    print(f"podbay kubelet: taking over from the supervisor {pid} (its pods keep running)", file=sys.stderr)
    with contextlib.suppress(protocol.SupervisorError, protocol.RequestError):  # (on its way out already)
        protocol.call(paths, {"op": "stop"}, start=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(0.1)
    print(f"podbay kubelet: the supervisor {pid} did not stop within 30 s", file=sys.stderr)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="podbay-supervisor")
    parser.add_argument("--data", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--ready-fd", type=int, default=-1)
    parser.add_argument("--manifests", default="", help="`podbay kubelet`: the static pods' folder")
    parser.add_argument("--foreground", action="store_true", help="`podbay kubelet`: log to stderr, never idle out")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    paths = Paths(Path(args.data), Path(args.run))
    folder = protocol.folder(paths)
    links.IN_WORKER = True  # pyroute2 never in this long-lived process
    with open(folder / "supervisor.pid", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not args.foreground:
                return 0  # another supervisor serves this store
            if not _take_over(paths, lock):
                return 1
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        supervisor = Supervisor(paths, foreground=args.foreground)
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stopping.set())  # pods keep running, as the kubelet's
        signal.signal(signal.SIGINT, (lambda *_: supervisor.stopping.set()) if args.foreground else signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        return supervisor.serve(args.ready_fd, Path(args.manifests) if args.manifests else None)


if __name__ == "__main__":
    sys.exit(main())
