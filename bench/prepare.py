"""Prepare the benchmark's inputs in OUT: one image, its rootfs, crun and runc bundles, the pod."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.imagebuilder import build_image, busybox_layer

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench"},
       "spec": {"containers": [{"name": "true", "image": "localhost/bench:latest", "imagePullPolicy": "Never",
                                "command": ["/bin/true"]}]}}
POD2 = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench2"},
        "spec": {"containers": [{"name": name, "image": "localhost/bench:latest", "imagePullPolicy": "Never",
                                 "command": ["/bin/true"]} for name in ("a", "b")]}}
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "crun"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def rootfs_from(image: Path, target: Path) -> None:
    """The image's single layer, unpacked: the same files every tool runs."""
    with tarfile.open(image) as archive:
        index = json.load(archive.extractfile("index.json"))  # type: ignore[arg-type]
        manifest = json.load(archive.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))  # type: ignore[arg-type]
        blob = archive.extractfile("blobs/sha256/" + manifest["layers"][0]["digest"][7:]).read()  # type: ignore[union-attr]
    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as layer:
        layer.extractall(target)  # our own image: trusted (and 3.11.2 has no extraction filters)


def bundle(out: Path, name: str, rootfs: Path, args: tuple[str, ...] = ("/bin/true",)) -> None:
    folder = out / name
    folder.mkdir()
    subprocess.run(["crun", "spec"], cwd=folder, check=True)
    config = json.loads((folder / "config.json").read_text())
    config["process"].update(args=list(args), terminal=False)
    config["root"] = {"path": str(rootfs), "readonly": True}
    config["linux"].pop("resources", None)  # no cgroup limits: nothing may be written to the host's cgroups
    (folder / "config.json").write_text(json.dumps(config, indent=1))


def main() -> None:
    out = Path(sys.argv[1])
    image = build_image(out / "image.tar", "localhost/bench:latest", [busybox_layer()])
    rootfs_from(image, out / "rootfs")
    bundle(out, "crun", out / "rootfs")
    bundle(out, "runc", out / "rootfs")
    for runtime in ("crun", "runc"):  # a container to exec into (bench/exec.sh)
        bundle(out, f"{runtime}-sleep", out / "rootfs", ("/bin/sleep", "3600"))
    (out / "true.yaml").write_text(json.dumps(POD))
    (out / "pod2.yaml").write_text(json.dumps(POD2))
    sleeper = json.loads(json.dumps(POD))
    sleeper["metadata"]["name"] = "sleeper"
    sleeper["spec"].update(terminationGracePeriodSeconds=0)
    sleeper["spec"]["containers"][0]["command"] = ["/bin/sleep", "3600"]
    (out / "sleeper.yaml").write_text(json.dumps(sleeper))
    (out / "containers.conf").write_text(CONTAINERS_CONF)
    (out / "containers-kube.conf").write_text(CONTAINERS_CONF.replace("[containers]\n",
                                                                      '[containers]\ncgroups = "disabled"\n'))


if __name__ == "__main__":
    main()
