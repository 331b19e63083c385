"""``podbay image save -o FILE``: images as an OCI archive (an OCI image layout in a tar), as
``podman save --format oci-archive`` writes it; ``podbay image load``, skopeo and podman read it back.

An image pulled or loaded with its manifest keeps that manifest (and so its digest). One that came
from a docker archive has none: an OCI manifest is written for it, each layer's media type read off
its first bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from podbay.runtime.images.reference import ReferenceError, normalise
from podbay.runtime.images.store import ImageRecord, ImageStore

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
_MAGIC = {b"\x1f\x8b": "+gzip", b"\x28\xb5": "+zstd"}


class SaveError(Exception):
    pass


def _layer_type(path: Path) -> str:
    with open(path, "rb") as blob:
        head = blob.read(2)
    return "application/vnd.oci.image.layer.v1.tar" + _MAGIC.get(head, "")


def manifest_of(store: ImageStore, record: ImageRecord) -> tuple[bytes, str]:
    """The image's manifest bytes and digest: the stored one, or a new OCI manifest."""
    if record.digest and store.has_blob(record.digest):
        return store.read_blob(record.digest), record.digest
    config = "sha256:" + record.id
    manifest = {
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config,
                   "size": store.blob_path(config).stat().st_size},
        "layers": [{"mediaType": _layer_type(store.blob_path(layer.digest)), "digest": layer.digest,
                    "size": store.blob_path(layer.digest).stat().st_size} for layer in record.layers],
    }
    data = json.dumps(manifest, separators=(",", ":")).encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def save_archive(store: ImageStore, images: list[tuple[str, ImageRecord]], output: Path) -> None:
    """Write ``images`` (the name asked for, its record) to ``output``, atomically."""
    entries: list[dict[str, Any]] = []
    blobs: dict[str, Path | bytes] = {}
    for asked, record in images:
        data, digest = manifest_of(store, record)
        blobs[digest] = data
        manifest = json.loads(data)
        for descriptor in [manifest["config"], *manifest["layers"]]:
            path = store.blob_path(descriptor["digest"])
            if not path.is_file():
                raise SaveError(f"{asked}: blob {descriptor['digest']} is missing from the store")
            blobs[descriptor["digest"]] = path
        entry: dict[str, Any] = {"mediaType": MANIFEST_TYPE, "digest": digest, "size": len(data)}
        name = _name(asked, record)
        if name:
            entry["annotations"] = {"io.containerd.image.name": name,
                                    "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}
        entries.append(entry)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    output = output.absolute()
    fd, temporary = tempfile.mkstemp(prefix=f".{output.name}-", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            _add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
            _add_bytes(tar, "index.json", json.dumps(index).encode())
            for digest, content in blobs.items():
                name = "blobs/sha256/" + digest.split(":", 1)[1]
                if isinstance(content, bytes):
                    _add_bytes(tar, name, content)
                else:
                    tar.add(str(content), arcname=name)
        os.replace(temporary, output)
    except OSError as err:
        os.unlink(temporary)
        raise SaveError(f"{output}: {err}") from err
    except BaseException:
        os.unlink(temporary)
        raise


def _name(asked: str, record: ImageRecord) -> str:
    """The name to record: the one asked for when it is one of the image's, else its first."""
    try:
        wanted = normalise(asked)
    except ReferenceError:
        wanted = ""
    if wanted in record.names:
        return wanted
    return record.names[0] if record.names else ""


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
