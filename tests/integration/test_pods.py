"""Pods with several containers: shared namespaces, volumes and configuration (root and rootless)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from typing import Any

import yaml

from tests.podbay_harness import Podbay

IMAGE = "localhost/probe:latest"


def container(name: str, script: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never", "command": ["sh", "-c", script], **fields}


def manifest(spec: dict[str, Any], *others: dict[str, Any], name: str = "pod", **meta: Any) -> str:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **meta}, "spec": spec}
    return yaml.safe_dump_all([*others, pod])


def lines(output: str, prefix: str) -> list[str]:
    return [line[len(prefix) + 3:] for line in output.splitlines() if line.startswith(f"[{prefix}] ")]


def test_web_server_and_sidecar_share_localhost_and_an_empty_dir(podbay: Podbay) -> None:
    # The seed's pattern (a): httpd serves an emptyDir that a sidecar rewrites, and fetches over localhost.
    spec = {"initContainers": [container("content", "echo first > /www/index.html",
                                         volumeMounts=[{"name": "www", "mountPath": "/www"}])],
            "containers": [
                container("web", "timeout 3 httpd -f -p 8080 -h /www; true",
                          volumeMounts=[{"name": "www", "mountPath": "/www", "readOnly": True}]),
                container("sidecar", "sleep 0.5; wget -qO- http://localhost:8080/; echo second > /www/index.html; "
                                     "wget -qO- http://127.0.0.1:8080/; hostname",
                          volumeMounts=[{"name": "www", "mountPath": "/www"}])],
            "volumes": [{"name": "www", "emptyDir": {}}]}
    done = podbay.run(manifest(spec, name="webpod"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines(done.stdout, "sidecar") == ["first", "second", "webpod"]


def test_containers_share_ipc_and_uts_but_not_pid_or_mounts(podbay: Podbay) -> None:
    # Both stay alive a moment: a freed namespace's inode number is reused at once.
    script = "for n in net ipc uts pid mnt; do readlink /proc/self/ns/$n; done; sleep 1"
    spec = {"containers": [container("a", script), container("b", script)]}
    done = podbay.run(manifest(spec))
    a, b = lines(done.stdout, "a"), lines(done.stdout, "b")
    assert len(a) == len(b) == 5, done.stdout + done.stderr
    assert a[:3] == b[:3]  # net, ipc, uts: the pod's
    assert a[3] != b[3] and a[4] != b[4]  # pid and mount: each container's own


def test_config_map_secret_and_downward_api_volumes(podbay: Podbay) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
              "data": {"app.conf": "port=80\n", "other": "x"}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
              "stringData": {"password": "s3cret"}}
    script = ("cd /v; for f in cfg/app.conf items/renamed creds/password down/name down/labels; do "
              "echo \"$f $(stat -c %a $f) $(cat $f | tr '\\n' '|')\"; done; echo $(ls cfg) $(ls items)")
    spec = {"containers": [container("c", script, volumeMounts=[
                {"name": n, "mountPath": f"/v/{n}"} for n in ("cfg", "items", "creds", "down")])],
            "volumes": [
                {"name": "cfg", "configMap": {"name": "cfg"}},
                {"name": "items", "configMap": {"name": "cfg", "items": [
                    {"key": "app.conf", "path": "renamed", "mode": 0o600}]}},
                {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                {"name": "down", "downwardAPI": {"items": [
                    {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]}
    done = podbay.run(manifest(spec, config, secret, name="volpod", labels={"app": "web", "tier": "a"}))
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[:5] == ["cfg/app.conf 644 port=80|", "items/renamed 600 port=80|", "creds/password 400 s3cret",
                       "down/name 644 volpod", 'down/labels 644 app="web"|tier="a"|']
    assert out[5].split() == ["app.conf", "other", "renamed"]


def test_env_from_config_map_secret_and_fields(podbay: Podbay) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"MODE": "fast"}}
    spec = {"containers": [container("c", 'echo "$CFG_MODE $NS $POD $LIMIT"', envFrom=[
        {"prefix": "CFG_", "configMapRef": {"name": "cfg"}}], env=[
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}],
        resources={"limits": {"memory": "64Mi"}})]}
    done = podbay.run(manifest(spec, config, name="envpod"))
    assert done.stdout.strip() == "fast default envpod 64", done.stderr


def test_memory_empty_dir_honours_its_size_limit(podbay: Podbay) -> None:
    spec = {"containers": [container("c", "df -k /m | tail -1 | awk '{print $2}'; "
                                          "dd if=/dev/zero of=/m/big bs=1024 count=2048 2>/dev/null; echo $?; "
                                          "wc -c < /m/big",
                                     volumeMounts=[{"name": "m", "mountPath": "/m"}])],
            "volumes": [{"name": "m", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}]}
    done = podbay.run(manifest(spec))
    size, status, written = done.stdout.splitlines()
    assert (size, status, written) == ("1024", "1", str(1 << 20)), done.stdout + done.stderr


def test_a_symlink_in_a_volume_cannot_lead_a_sub_path_out(podbay: Podbay) -> None:
    # The symlink-exchange attack, made deterministic: a container plants links in a shared volume, then
    # another container's subPath names them. openat2(RESOLVE_BENEATH) refuses to leave the volume.
    for link in ("/", "../../../../../../", "/etc"):
        spec = {"initContainers": [container("plant", f"ln -s {link} /vol/escape",
                                             volumeMounts=[{"name": "vol", "mountPath": "/vol"}])],
                "containers": [container("victim", "ls /mnt/escape",
                                         volumeMounts=[{"name": "vol", "mountPath": "/mnt/escape",
                                                        "subPath": "escape"}])],
                "volumes": [{"name": "vol", "emptyDir": {}}]}
        done = podbay.run(manifest(spec))
        assert done.returncode == 125, (link, done.stdout, done.stderr)
        assert "volume mounts: openat2 escape: EXDEV" in done.stderr, done.stderr


def test_sub_path_inside_the_volume_works_and_is_created(podbay: Podbay) -> None:
    spec = {"initContainers": [container("write", "mkdir -p /vol/a && echo inner > /vol/a/file",
                                         volumeMounts=[{"name": "vol", "mountPath": "/vol"}])],
            "containers": [container("read", "cat /x/file; ls -d /new",
                                     volumeMounts=[{"name": "vol", "mountPath": "/x", "subPath": "a"},
                                                   {"name": "vol", "mountPath": "/new", "subPath": "b/c"}])],
            "volumes": [{"name": "vol", "emptyDir": {}}]}
    done = podbay.run(manifest(spec))
    assert lines(done.stdout, "read") == ["inner", "/new"], done.stdout + done.stderr


def test_host_path_types_are_checked(podbay: Podbay, tmp_path: Path) -> None:
    base = podbay.home / "host"
    base.mkdir(exist_ok=True)
    os.chown(base, podbay.uid, podbay.gid)
    sock_path = base / "sock"
    if not sock_path.exists():
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(sock_path))
    cases = [("Directory", str(base), 0), ("DirectoryOrCreate", str(base / "made"), 0),
             ("FileOrCreate", str(base / "made-file"), 0), ("Socket", str(sock_path), 0),
             ("File", str(base), 125), ("Directory", str(base / "missing"), 125), ("CharDevice", "/dev/null", 0),
             ("BlockDevice", "/dev/null", 125)]
    for kind, path, code in cases:
        spec = {"containers": [container("c", "ls -d /h", volumeMounts=[{"name": "h", "mountPath": "/h"}])],
                "volumes": [{"name": "h", "hostPath": {"path": path, "type": kind}}]}
        done = podbay.run(manifest(spec))
        assert done.returncode == code, (kind, path, done.stderr)
        if code:
            assert "hostPath type check failed" in done.stderr
    assert (base / "made").is_dir() and stat.S_ISREG((base / "made-file").stat().st_mode)


def test_a_claim_is_a_named_volume_that_outlives_the_pod(podbay: Podbay) -> None:
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "keep"}}]
    mounts = [{"name": "data", "mountPath": "/data"}]
    first = podbay.run(manifest({"containers": [container("c", "echo kept > /data/f", volumeMounts=mounts)],
                                 "volumes": volumes}))
    assert first.returncode == 0, first.stderr
    second = podbay.run(manifest({"containers": [container("c", "cat /data/f", volumeMounts=mounts)],
                                  "volumes": volumes}))
    assert second.stdout == "kept\n", second.stderr


def test_exit_code_is_the_first_failed_containers(podbay: Podbay) -> None:
    done = podbay.run(manifest({"containers": [container("ok", "true"), container("bad", "exit 3"),
                                               container("worse", "sleep 0.2; exit 4")]}))
    assert done.returncode == 3, done.stderr
    init_fails = podbay.run(manifest({"initContainers": [container("setup", "exit 9")],
                                      "containers": [container("never", "echo ran")]}))
    assert init_fails.returncode == 9 and "ran" not in init_fails.stdout


def test_volumes_behind_claims_are_listed_and_removed(podbay: Podbay) -> None:
    spec = {"containers": [container("c", "echo x > /d/f", volumeMounts=[{"name": "d", "mountPath": "/d"}])],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "listed"}}]}
    assert podbay.run(manifest(spec)).returncode == 0
    assert "listed" in podbay.cli("volume", "ls", "-q").stdout.split()
    removed = podbay.cli("volume", "rm", "listed")
    assert removed.returncode == 0 and removed.stdout.strip() == "listed", removed.stderr
    assert "listed" not in podbay.cli("volume", "ls", "-q").stdout.split()
    missing = podbay.cli("volume", "rm", "listed")
    assert missing.returncode == 1 and "no such volume 'listed'" in missing.stderr


def test_a_config_map_near_the_api_limit_gets_through(podbay: Podbay) -> None:
    # 900 kB: far more than one SOCK_SEQPACKET message may carry; the plan travels in a memfd.
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"blob": "x" * 900_000}}
    spec = {"containers": [container("c", "wc -c < /cfg/blob", volumeMounts=[{"name": "cfg", "mountPath": "/cfg"}])],
            "volumes": [{"name": "cfg", "configMap": {"name": "big"}}]}
    done = podbay.run(manifest(spec, config))
    assert done.stdout.strip() == "900000", done.stderr


def test_share_process_namespace_gives_one_pid_namespace_with_a_pause(podbay: Podbay) -> None:
    spec = {"shareProcessNamespace": True,
            "containers": [container("a", "sleep 2; true"),
                           container("b", "sleep 0.5; ps -o pid,comm | tail -n +2")]}
    done = podbay.run(manifest(spec))
    processes = {tuple(line.split()) for line in lines(done.stdout, "b")}
    assert ("1", "pause") in processes, done.stdout + done.stderr
    assert any(comm == "sleep" for _, comm in processes)  # container a's process, seen from b
    assert podbay.run(manifest({"containers": [container("alone", "ps -o pid,comm | tail -n +2")]})).stdout \
        .split()[:2] == ["1", "sh"]  # without it, each container is its own PID 1
