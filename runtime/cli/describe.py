"""``podbay describe pod`` in kubectl's layout, and ``podbay inspect pod``: what the runtime did."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from podbay.runtime.cli.records import open_store
from podbay.runtime.cli.table import human_duration, table
from podbay.runtime.lifecycle.status import parse_time
from podbay.runtime.paths import Paths
from podbay.runtime.state.store import Event, PodRecord

Lines = list[str]


def _when(text: str | None) -> str:
    if not text:
        return ""
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(parse_time(text)))


def _pairs(mapping: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(mapping.items())] or ["<none>"]


def _field(out: Lines, indent: int, label: str, value: Any, width: int = 0) -> None:
    out.append(" " * indent + f"{label}:".ljust(width or len(label) + 1) + ("  " + str(value) if value != "" else ""))


def _probe(probe: dict[str, Any]) -> str:
    timing = (f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
              f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
              f"#failure={probe.get('failureThreshold', 3)}")
    if "exec" in probe:
        return f"exec {json.dumps(probe['exec'].get('command', []))} {timing}"
    if "httpGet" in probe:
        get = probe["httpGet"]
        return (f"http-get {get.get('scheme', 'HTTP').lower()}://{get.get('host', '')}:{get.get('port')}"
                f"{get.get('path', '/')} {timing}")
    if "tcpSocket" in probe:
        return f"tcp-socket {probe['tcpSocket'].get('host', '')}:{probe['tcpSocket'].get('port')} {timing}"
    if "grpc" in probe:
        return f"grpc <pod>:{probe['grpc'].get('port')} {probe['grpc'].get('service', '')} {timing}"
    return timing


def _state(out: Lines, label: str, state: dict[str, Any]) -> None:
    if not state:
        return
    kind, detail = next(iter(state.items()))
    _field(out, 4, label, kind.capitalize(), 16)
    if kind == "running":
        _field(out, 6, "Started", _when(detail.get("startedAt")), 14)
    elif kind == "waiting":
        if detail.get("reason"):
            _field(out, 6, "Reason", detail["reason"], 14)
        if detail.get("message"):
            _field(out, 6, "Message", detail["message"], 14)
    else:
        _field(out, 6, "Reason", detail.get("reason", ""), 14)
        if detail.get("message"):
            _field(out, 6, "Message", detail["message"], 14)
        _field(out, 6, "Exit Code", detail.get("exitCode", 0), 14)
        if detail.get("signal"):
            _field(out, 6, "Signal", detail["signal"], 14)
        _field(out, 6, "Started", _when(detail.get("startedAt")), 14)
        _field(out, 6, "Finished", _when(detail.get("finishedAt")), 14)


def _container(out: Lines, spec: dict[str, Any], status: dict[str, Any]) -> None:
    out.append(f"  {spec['name']}:")
    _field(out, 4, "Container ID", status.get("containerID", ""), 16)
    _field(out, 4, "Image", spec.get("image", ""), 16)
    _field(out, 4, "Image ID", status.get("imageID", ""), 16)
    ports = spec.get("ports", [])
    _field(out, 4, "Port", ", ".join(f"{p['containerPort']}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>",
           16)
    _field(out, 4, "Host Port", ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports)
           or "<none>", 16)
    for label, key in (("Command", "command"), ("Args", "args")):
        if spec.get(key):
            out.append(f"    {label}:")
            out.extend(f"      {word}" for word in spec[key])
    _state(out, "State", status.get("state", {}))
    _state(out, "Last State", status.get("lastState", {}))
    _field(out, 4, "Ready", str(bool(status.get("ready"))), 16)
    _field(out, 4, "Restart Count", status.get("restartCount", 0), 16)
    for label, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"), ("Startup", "startupProbe")):
        if key in spec:
            _field(out, 4, label, _probe(spec[key]), 16)
    env = spec.get("env", [])
    if env:
        out.append("    Environment:")
        for var in env:
            value = var.get("value", "") if "valueFrom" not in var else f"<set from {next(iter(var['valueFrom']))}>"
            out.append(f"      {var['name']}:  {value}")
    else:
        _field(out, 4, "Environment", "<none>", 16)
    mounts = spec.get("volumeMounts", [])
    if mounts:
        out.append("    Mounts:")
        for mount in mounts:
            mode = "ro" if mount.get("readOnly") else "rw"
            out.append(f"      {mount['mountPath']} from {mount['name']} ({mode})")
    else:
        _field(out, 4, "Mounts", "<none>", 16)


def _volume(out: Lines, volume: dict[str, Any]) -> None:
    out.append(f"  {volume['name']}:")
    kind = next((k for k in volume if k != "name"), "")
    source = volume.get(kind) or {}
    kinds = {"emptyDir": "EmptyDir (a temporary directory that shares a pod's lifetime)",
             "hostPath": "HostPath (bare host directory volume)",
             "configMap": "ConfigMap (a volume populated by a ConfigMap)",
             "secret": "Secret (a volume populated by a Secret)",
             "persistentVolumeClaim": "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
                                      "namespace)",
             "downwardAPI": "DownwardAPI (a volume populated by information about the pod)",
             "projected": "Projected (a volume that contains injected data from multiple sources)"}
    _field(out, 4, "Type", kinds.get(kind, kind), 12)
    for key, value in source.items():
        if isinstance(value, (str, int, bool)):
            _field(out, 4, key[0].upper() + key[1:], value, 12)


def event_lines(out: Lines, events: list[Event], source: str = "kubelet") -> None:
    if not events:
        out.append("Events:                      <none>")
        return
    out.append("Events:")
    rows = [["  Type", "Reason", "Age", "From", "Message"], ["  ----", "------", "----", "----", "-------"]]
    now = time.time()
    for event in events:
        age = human_duration(now - event.last)
        if event.count > 1:
            age = f"{age} (x{event.count} over {human_duration(now - event.first)})"
        rows.append([f"  {event.type}", event.reason, age, source, event.message])
    out.append(table(rows))


def describe(record: PodRecord, events: list[Event]) -> str:
    spec, status = record.manifest.get("spec", {}), record.status
    meta = record.manifest.get("metadata", {})
    out: Lines = []
    width = 18
    _field(out, 0, "Name", record.name, width)
    _field(out, 0, "Namespace", record.namespace, width)
    _field(out, 0, "Priority", spec.get("priority", 0), width)
    _field(out, 0, "Service Account", spec.get("serviceAccountName", "default"), width)
    _field(out, 0, "Node", f"{os.uname().nodename}/{status.get('hostIP', '')}", width)
    _field(out, 0, "Start Time", _when(status.get("startTime")), width)
    labels = _pairs(meta.get("labels", {}))
    _field(out, 0, "Labels", labels[0], width)
    out.extend(" " * width + "  " + label for label in labels[1:])
    _field(out, 0, "Annotations", _pairs(meta.get("annotations", {}))[0], width)
    _field(out, 0, "Status", "Terminating" if record.runtime.get("deleting") else status.get("phase", ""), width)
    if status.get("reason"):
        _field(out, 0, "Reason", status["reason"], width)
    if status.get("message"):
        _field(out, 0, "Message", status["message"], width)
    _field(out, 0, "IP", status.get("podIP", ""), width)
    out.append("IPs:" if status.get("podIPs") else "IPs:               <none>")
    out.extend(f"  IP:  {ip['ip']}" for ip in status.get("podIPs", []))
    for title, specs, statuses in (("Init Containers", spec.get("initContainers", []),
                                    status.get("initContainerStatuses", [])),
                                   ("Containers", spec.get("containers", []), status.get("containerStatuses", [])),
                                   ("Ephemeral Containers", spec.get("ephemeralContainers", []),
                                    status.get("ephemeralContainerStatuses", []))):
        if not specs:
            continue
        out.append(f"{title}:")
        by_name = {s.get("name"): s for s in statuses}
        for container in specs:
            _container(out, container, by_name.get(container["name"], {}))
    out.append("Conditions:")
    rows = [["  Type", "Status"]] + [[f"  {c['type']}", c["status"]] for c in status.get("conditions", [])]
    out.append(table(rows))
    volumes = spec.get("volumes", [])
    out.append("Volumes:" if volumes else "Volumes:                     <none>")
    for volume in volumes:
        _volume(out, volume)
    _field(out, 0, "QoS Class", status.get("qosClass", ""), 28)
    _field(out, 0, "Node-Selectors", _pairs(spec.get("nodeSelector", {}))[0], 28)
    _field(out, 0, "Tolerations", "<none>", 28)
    event_lines(out, events)
    return "\n".join(out)


def describe_pods(paths: Paths, names: list[str], namespace: str) -> int:
    store = open_store(paths)
    code = 0
    for index, name in enumerate(names):
        record = store.pod(namespace, name)
        if record is None:
            print(f'Error from server (NotFound): pods "{name}" not found', file=sys.stderr)
            code = 1
            continue
        if index:
            print("\n")
        print(describe(record, store.events(record.uid)))
    return code


def _namespaces(pid: int) -> dict[str, str]:
    found = {}
    for kind in ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup"):
        try:
            found[kind] = os.readlink(f"/proc/{pid}/ns/{kind}")
        except OSError:
            continue
    return found


def _security(pid: int) -> dict[str, str]:
    wanted = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
              "Seccomp_filters")
    found = {}
    try:
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key in wanted:
                    found[key] = " ".join(value.split())
    except OSError:
        pass
    for name in ("uid_map", "gid_map", "cgroup"):  # the user namespace's id maps; the cgroup path
        try:
            with open(f"/proc/{pid}/{name}") as file:
                found[name] = " | ".join(" ".join(line.split()) for line in file.read().splitlines())
        except OSError:
            continue
    return found


def _mounts(pid: int) -> list[dict[str, str]]:
    """The container's mounts as its own mount namespace lists them: where, what, how."""
    found = []
    try:
        with open(f"/proc/{pid}/mountinfo") as file:
            for line in file:
                before, _, after = line.partition(" - ")
                fields, rest = before.split(), after.split()
                found.append({"target": fields[4], "type": rest[0], "source": rest[1] if len(rest) > 1 else "",
                              "options": fields[5]})
    except OSError:
        pass
    return found


def _settings(process: dict[str, Any]) -> dict[str, Any]:
    """What the container runs after the image's defaults were applied: argv, env, user, working dir."""
    user = process.get("run_as_user")
    return {"argv": process.get("args", []), "env": process.get("env", []), "cwd": process.get("cwd", ""),
            "user": str(user) if user is not None else process.get("user", "") or "0 (the image's default)",
            "no_new_privs": process.get("no_new_privs"), "seccomp": "filter" if process.get("seccomp") else "none"}


def inspect_pod(paths: Paths, name: str, namespace: str) -> int:
    """JSON: per container its pid, namespaces, credentials, capabilities, seccomp state and mounts; the
    pod's IP, sandbox folder and volumes (what the TUI shows as "what the kernel did")."""
    record = open_store(paths).pod(namespace, name)
    if record is None:
        print(f'Error from server (NotFound): pods "{name}" not found', file=sys.stderr)
        return 1
    print(json.dumps(inspect_data(record), indent=2))
    return 0


def inspect_data(record: PodRecord) -> dict[str, Any]:
    sandbox = record.runtime.get("sandbox") or {}
    containers = {}
    spec = record.manifest.get("spec", {})
    kinds = {c["name"]: (kind, c.get("targetContainerName", "")) for key, kind in (
        ("initContainers", "init"), ("containers", "app"), ("ephemeralContainers", "ephemeral"))
        for c in spec.get(key, [])}
    for container, info in record.runtime.get("containers", {}).items():
        pid = int(info.get("pid") or 0)
        kind, target = kinds.get(container, ("app", ""))
        containers[container] = {"kind": kind, **({"target": target} if target else {}), "pid": pid,
                                 "folder": info.get("directory", ""), "runs": info.get("runs", 0),
                                 "namespaces": _namespaces(pid) if pid else {},
                                 "process": _security(pid) if pid else {}, "mounts": _mounts(pid) if pid else [],
                                 "settings": _settings(info.get("process", {}))}
    return {"name": record.name, "namespace": record.namespace, "uid": record.uid,
            "phase": record.status.get("phase"), "ip": record.status.get("podIP", ""),
            "supervisor": record.runtime.get("supervisor"), "host_namespaces": _namespaces(os.getpid()),
            "sandbox": {
                "folder": sandbox.get("directory", ""), "volumes": sandbox.get("volumes", {}),
                "etc_files": sandbox.get("etc_files", {}), "rootless_network": sandbox.get("rootless", False)},
            "containers": containers}
