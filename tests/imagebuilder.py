"""Build small OCI images for tests and the demo, from Debian's busybox-static: never a committed binary.

    python tests/imagebuilder.py OUT.tar --name localhost/podbay-demo:latest [--format oci|oci-dir|docker]

Layers are lists of ``Entry``; ``busybox_layer()`` gives a root filesystem with busybox, its
applets, /etc/passwd (root, app 1000, nobody) and /etc/group.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

BUSYBOX = "/bin/busybox"
PASSWD = ("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
GROUP = "root:x:0:\ntty:x:5:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n"


@dataclass
class Entry:
    path: str
    kind: str = "file"  # file, dir, symlink, hardlink, whiteout, opaque, fifo, chardev
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link: str = ""
    xattrs: dict[str, str] = field(default_factory=dict)


def busybox_static() -> str:
    """Debian's static busybox (a dynamic one would need the host's libc in the image)."""
    try:
        with open(BUSYBOX, "rb") as file:
            head = file.read(1 << 16)
    except OSError:
        head = b""
    if not head.startswith(b"\x7fELF") or b"ld-linux" in head:
        raise RuntimeError(f"{BUSYBOX} is missing or not static: apt-get install busybox-static")
    return BUSYBOX


def busybox_layer(extra: list[Entry] | None = None) -> list[Entry]:
    binary = Path(busybox_static()).read_bytes()
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    folders = ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "home", "proc", "dev", "sys", "var", "run")
    entries = [Entry(d, "dir", mode=0o755) for d in folders]
    entries += [Entry("tmp", "dir", mode=0o1777), Entry("root", "dir", mode=0o700),
                Entry("home/app", "dir", mode=0o755, uid=1000, gid=1000),
                Entry("bin/busybox", data=binary, mode=0o755),
                Entry("etc/passwd", data=PASSWD.encode()), Entry("etc/group", data=GROUP.encode())]
    for applet in applets:
        if applet != "bin/busybox":
            entries.append(Entry(applet, "symlink", link="/bin/busybox"))
    return entries + (extra or [])


def layer_tar(entries: list[Entry]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            name = entry.path
            if entry.kind == "whiteout":
                head, _, base = name.rpartition("/")
                name = f"{head}/.wh.{base}" if head else f".wh.{base}"
            elif entry.kind == "opaque":
                name = f"{name}/.wh..wh..opq"
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = entry.mode, entry.uid, entry.gid, 1700000000
            if entry.xattrs:
                info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in entry.xattrs.items()}
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif entry.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, entry.link
            elif entry.kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, entry.link
            elif entry.kind == "fifo":
                info.type = tarfile.FIFOTYPE
            elif entry.kind == "chardev":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            if entry.kind in ("file", "whiteout", "opaque"):
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
            else:
                tar.addfile(info)
    return out.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_image(out: Path, name: str, layers: list[list[Entry]], *, cmd: list[str] | None = None,
                entrypoint: list[str] | None = None, env: list[str] | None = None, user: str = "",
                workdir: str = "", fmt: str = "oci", compress: bool = True) -> Path:
    """Write an OCI layout (tar or folder) or a docker save tar with these layers."""
    tars = [layer_tar(entries) for entries in layers]
    blobs = [gzip.compress(t, mtime=0) if compress and fmt != "docker" else t for t in tars]
    config = {"architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine),
              "os": "linux", "created": "2026-11-25T00:00:00Z",
              "config": {"Env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                         "Cmd": cmd if cmd is not None else ["sh"], "Entrypoint": entrypoint, "User": user,
                         "WorkingDir": workdir},
              "rootfs": {"type": "layers", "diff_ids": [_digest(t) for t in tars]}}
    config_bytes = json.dumps(config).encode()
    files: dict[str, bytes] = {}
    if fmt == "docker":
        files[f"{_digest(config_bytes)[7:]}.json"] = config_bytes
        for i, blob in enumerate(blobs):
            files[f"layer{i}/layer.tar"] = blob
        files["manifest.json"] = json.dumps([{"Config": f"{_digest(config_bytes)[7:]}.json", "RepoTags": [name],
                                              "Layers": [f"layer{i}/layer.tar" for i in range(len(blobs))]}]).encode()
    else:
        media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": _digest(config_bytes), "size": len(config_bytes)},
                    "layers": [{"mediaType": media, "digest": _digest(b), "size": len(b)} for b in blobs]}
        manifest_bytes = json.dumps(manifest).encode()
        for blob in [config_bytes, manifest_bytes, *blobs]:
            files[f"blobs/sha256/{_digest(blob)[7:]}"] = blob
        files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
        files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": _digest(manifest_bytes),
            "size": len(manifest_bytes), "annotations": {"org.opencontainers.image.ref.name": name}}]}).encode()
    if fmt == "oci-dir":
        if out.exists():
            shutil.rmtree(out)
        for rel, data in files.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)
        return out
    with tarfile.open(out, "w") as tar:
        for rel, data in files.items():
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", default="localhost/busybox:latest")
    parser.add_argument("--format", choices=("oci", "oci-dir", "docker"), default="oci")
    args = parser.parse_args()
    build_image(args.out, args.name, [busybox_layer()], fmt=args.format)
    print(args.out)


if __name__ == "__main__":
    main()
