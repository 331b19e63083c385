"""Static pods: the manifest folder the kubelet watches (``--pod-manifest-path``).

Every ``*.yaml``, ``*.yml`` or ``*.json`` file (dotfiles are skipped, as the kubelet skips them) holds pods
(and the ConfigMaps/Secrets they read). A pod is named ``<name>-<node name>``, as the kubelet names the
mirror pod, and carries ``kubernetes.io/config.source: file`` and ``kubernetes.io/config.hash``: the
hash of its file's pod, so that a changed file replaces the pod (a new uid) and an unchanged one leaves it
alone. A removed file deletes its pods. The folder is watched with inotify and rescanned every 20 s (the
kubelet's fileCheckFrequency; ``PODBAY_FILE_CHECK_FREQUENCY``). An invalid file is logged and recorded as
a node event; the other files go on. Restarts are the pod worker's, by each pod's restartPolicy.
"""

from __future__ import annotations

import hashlib
import os
import select
import socket
import threading
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podbay.runtime import syscalls

if TYPE_CHECKING:
    from podbay.runtime.supervisor.daemon import Supervisor

SOURCE = "kubernetes.io/config.source"
HASH = "kubernetes.io/config.hash"
FILE_PATH = "podbay.io/config.file"
NODE_EVENTS = "node"  # the uid node events are recorded under
SUFFIXES = (".yaml", ".yml", ".json")


def node_name() -> str:
    return socket.gethostname().split(".")[0].lower() or "localhost"


def default_folder() -> Path:
    if os.geteuid() == 0:
        return Path("/etc/podbay/manifests")
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "podbay" / "manifests"


def desired(folder: Path, node: str) -> tuple[dict[str, tuple[dict[str, Any], list[dict[str, Any]]]], list[str]]:
    """name -> (the pod to run, the objects beside it), and the problems of invalid files."""
    from podbay.runtime.spec.loader import load_paths  # noqa: PLC0415
    from podbay.runtime.spec.pod import Pod  # noqa: PLC0415
    from podbay.runtime.spec.schema import encode  # noqa: PLC0415

    pods: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    problems = []
    files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and not p.name.startswith(".")) \
        if folder.is_dir() else []
    for path in files:
        result = load_paths([str(path)])
        errors = [f"{doc.source}: {error}" for doc in result.documents for error in doc.errors]
        if errors:
            problems.append(f"{path}: invalid, its pods are not run: " + "; ".join(errors))
            continue
        objects = [doc.obj for doc in result.documents if doc.obj is not None]
        others = [encode(o) for o in objects if not isinstance(o, Pod)]
        for other in others:
            (other.get("metadata") or {}).pop("uid", None)
        for pod in (o for o in objects if isinstance(o, Pod)):
            manifest = encode(pod)
            meta = manifest["metadata"]
            meta.pop("uid", None)  # the loader's fresh one: the hash must depend on the file alone
            name = f"{meta['name']}-{node}"
            digest = hashlib.sha256(repr((str(path), manifest, others)).encode()).hexdigest()[:32]
            meta.update({"name": name, "uid": str(uuid.UUID(digest))})
            meta.setdefault("annotations", {}).update({SOURCE: "file", HASH: digest, FILE_PATH: str(path)})
            if name in pods:
                first = pods[name][0]["metadata"]["annotations"][FILE_PATH]
                problems.append(f"{path}: pod {name} is also defined in {first}: only the first runs")
                continue
            pods[name] = (manifest, others)
    return pods, problems


class StaticPods:
    def __init__(self, supervisor: Supervisor, folder: Path) -> None:
        self.supervisor, self.folder = supervisor, folder
        self.node = node_name()
        self.period = float(os.environ.get("PODBAY_FILE_CHECK_FREQUENCY", "20"))
        self.reported: set[str] = set()
        self.thread = threading.Thread(target=self.run, name="static pods", daemon=True)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.thread.start()

    def run(self) -> None:
        fd = syscalls.inotify_init()
        mask = syscalls.IN_CLOSE_WRITE | syscalls.IN_MOVED_FROM | syscalls.IN_MOVED_TO | syscalls.IN_CREATE | \
            syscalls.IN_DELETE
        syscalls.inotify_add_watch(fd, str(self.folder), mask)
        try:
            while not self.supervisor.stopping.is_set():
                try:
                    self.sync()
                except Exception:  # one bad sync must not end the watcher
                    self.supervisor.log("static pods: " + traceback.format_exc())
                ready, _, _ = select.select([fd], [], [], self.period)
                if ready:
                    while True:  # drain; the folder is read whole again anyway
                        try:
                            if not os.read(fd, 65536):
                                break
                        except BlockingIOError:
                            break
        finally:
            os.close(fd)

    def sync(self) -> None:
        pods, problems = desired(self.folder, self.node)
        for problem in problems:
            if problem not in self.reported:  # said once per distinct problem, not at every rescan
                self.supervisor.log(problem)
                self.supervisor.store.record_event(NODE_EVENTS, "Warning", "FailedToLoadStaticPod", problem)
        self.reported = set(problems)
        running = {r.name: r for r in self.supervisor.store.pods()
                   if ((r.manifest.get("metadata") or {}).get("annotations") or {}).get(SOURCE) == "file"}
        for name, record in running.items():
            wanted = pods.get(name)
            if wanted is None or wanted[0]["metadata"]["uid"] != record.uid:
                self.supervisor.log(f"static pod {record.namespace}/{name}: "
                                    f"{'its file changed' if wanted else 'its file is gone'}: deleting it")
                self._call({"op": "delete", "namespace": record.namespace, "name": name})
        for name, (manifest, others) in pods.items():
            if name in running and running[name].uid == manifest["metadata"]["uid"]:
                continue
            self.supervisor.log(f"static pod {manifest['metadata'].get('namespace', 'default')}/{name}: creating it")
            self._call({"op": "run", "objects": [manifest, *others]})

    def _call(self, request: dict[str, Any]) -> None:
        from podbay.runtime.supervisor import protocol  # noqa: PLC0415

        try:
            self.supervisor.handle(request)
        except protocol.RequestError as err:
            message = f"static pod: {err}"
            self.supervisor.log(message)
            self.supervisor.store.record_event(NODE_EVENTS, "Warning", "FailedCreate", message)
