"""``podbay image load``: import an OCI image layout (folder or tar) or a ``docker save`` archive.

Every blob is copied into the store and verified against its digest on the way; the
manifest's layers must match the config's ``rootfs.diff_ids`` once unpacked (checked in
store.ensure_layers). Index entries for other platforms are skipped.
"""

from __future__ import annotations

import json
import platform
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from podbay.runtime.images.reference import ReferenceError, normalise
from podbay.runtime.images.store import ImageRecord, ImageStore, ImageStoreError, LayerRecord

INDEX_TYPES = {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
REF_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


class ArchiveError(Exception):
    pass


def host_platform() -> tuple[str, str]:
    return "linux", _ARCH.get(platform.machine(), platform.machine())


class _Source:
    """Files of a folder or a tar archive, by relative name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar: tarfile.TarFile | None = None
        self.names: set[str] = set()
        if path.is_dir():
            return
        try:
            self.tar = tarfile.open(path)  # noqa: SIM115 - closed by close()
        except (tarfile.TarError, OSError) as err:
            raise ArchiveError(f"{path}: not an image archive (neither a folder nor a tar): {err}") from err
        self.names = {m.name.removeprefix("./") for m in self.tar.getmembers() if m.isfile()}

    def exists(self, name: str) -> bool:
        return (self.path / name).is_file() if self.tar is None else name in self.names

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self.tar is None:
            if not (self.path / name).is_file():
                raise ArchiveError(f"{self.path}: {name} is missing")
            with open(self.path / name, "rb") as file:
                yield file
            return
        member = name if name in self.names else None
        if member is None:
            raise ArchiveError(f"{self.path}: {name} is missing from the archive")
        try:
            extracted = self.tar.extractfile(member) or self.tar.extractfile("./" + member)
        except KeyError:
            extracted = self.tar.extractfile("./" + member)
        if extracted is None:
            raise ArchiveError(f"{self.path}: {name} is not a file")
        yield extracted

    def json(self, name: str) -> Any:
        with self.open(name) as file:
            try:
                return json.loads(file.read())
            except (ValueError, UnicodeDecodeError) as err:
                raise ArchiveError(f"{self.path}: {name} is not valid JSON: {err}") from err

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()


def _blob_name(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if not value or "/" in value or "/" in algorithm:
        raise ArchiveError(f"malformed digest {digest!r}")
    return f"blobs/{algorithm}/{value}"


def _names(raw: list[str], extra: list[str]) -> list[str]:
    names = []
    for name in raw + extra:
        try:
            names.append(normalise(name))
        except ReferenceError as err:
            raise ArchiveError(str(err)) from err
    return list(dict.fromkeys(names))


def load_archive(path: Path, store: ImageStore, tags: list[str] | None = None) -> list[ImageRecord]:
    """Import every image of the archive for this host's platform; returns their records."""
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or folder")
    source = _Source(path)
    try:
        with store.locked():
            if source.exists("manifest.json"):
                return _load_docker(source, store, tags or [])
            if source.exists("index.json"):
                return _load_oci(source, store, tags or [])
            raise ArchiveError(f"{path}: neither an OCI image layout (index.json) nor a docker save "
                               "archive (manifest.json)")
    except ImageStoreError as err:
        raise ArchiveError(f"{path}: {err}") from err
    finally:
        source.close()


def _add(source: _Source, store: ImageStore, name: str, digest: str | None) -> tuple[str, int]:
    with source.open(name) as file:
        return store.add_blob(file, digest)


def _load_docker(source: _Source, store: ImageStore, tags: list[str]) -> list[ImageRecord]:
    records = []
    entries = source.json("manifest.json")
    if not isinstance(entries, list):
        raise ArchiveError(f"{source.path}: manifest.json is not a list")
    for entry in entries:
        config_digest, _ = _add(source, store, entry["Config"], None)
        config = json.loads(store.read_blob(config_digest))
        # docker save layers are plain tars, so each blob's digest is its diff_id.
        layers = [LayerRecord(*_digest_size(_add(source, store, name, None))) for name in entry.get("Layers", [])]
        records.append(_record(store, config_digest, config, layers,
                               names=_names(entry.get("RepoTags") or [], tags)))
    return records


def _digest_size(pair: tuple[str, int]) -> tuple[str, str, int]:
    return pair[0], pair[0], pair[1]


def _load_oci(source: _Source, store: ImageStore, tags: list[str]) -> list[ImageRecord]:
    if source.exists("oci-layout"):
        version = source.json("oci-layout").get("imageLayoutVersion")
        if version != "1.0.0":
            raise ArchiveError(f"{source.path}: unsupported imageLayoutVersion {version!r}")
    records = []
    for descriptor, names in _manifests(source, source.json("index.json"), []):
        digest = descriptor["digest"]
        manifest_digest, _ = _add(source, store, _blob_name(digest), digest)
        manifest = json.loads(store.read_blob(manifest_digest))
        config_digest, _ = _add(source, store, _blob_name(manifest["config"]["digest"]), manifest["config"]["digest"])
        config = json.loads(store.read_blob(config_digest))
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        if len(diff_ids) != len(manifest.get("layers", [])):
            raise ArchiveError(f"{source.path}: manifest {digest} has {len(manifest.get('layers', []))} layers "
                               f"but its config lists {len(diff_ids)} diff_ids")
        layers = []
        for layer, diff_id in zip(manifest.get("layers", []), diff_ids, strict=True):
            blob_digest, size = _add(source, store, _blob_name(layer["digest"]), layer["digest"])
            layers.append(LayerRecord(blob_digest, diff_id, size))
        record = _record(store, config_digest, config, layers, names=_names(names, tags),
                         manifest_digest=manifest_digest)
        records.append(record)
    if not records:
        system, arch = host_platform()
        raise ArchiveError(f"{source.path}: no image for this platform ({system}/{arch})")
    return records


def _manifests(source: _Source, index: dict[str, Any], names: list[str]) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Image manifests of an index for this platform, with the names their annotations give."""
    system, arch = host_platform()
    for descriptor in index.get("manifests", []):
        wanted = descriptor.get("platform")
        if wanted and (wanted.get("os") != system or wanted.get("architecture") != arch):
            continue
        annotations = descriptor.get("annotations") or {}
        own = [_qualify(source, annotations[key]) for key in REF_ANNOTATIONS if key in annotations][:1] or names
        if descriptor.get("mediaType") in INDEX_TYPES:
            yield from _manifests(source, _verified_json(source, descriptor["digest"]), own)
        else:
            yield descriptor, own


def _qualify(source: _Source, name: str) -> str:
    """A bare tag annotation (``latest``) names the image after the archive: ``localhost/<stem>:latest``."""
    if "/" in name or ":" in name:
        return name
    stem = source.path.name.split(".")[0].lower() or "image"
    return f"localhost/{stem}:{name}"


def _verified_json(source: _Source, digest: str) -> Any:
    import hashlib  # noqa: PLC0415

    with source.open(_blob_name(digest)) as file:
        data = file.read()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ArchiveError(f"{source.path}: blob {digest} is corrupt")
    return json.loads(data)


def _record(store: ImageStore, config_digest: str, config: dict[str, Any], layers: list[LayerRecord], *,
            names: list[str], manifest_digest: str = "") -> ImageRecord:
    record = ImageRecord(id=config_digest.split(":", 1)[1], names=names, config=config, layers=layers,
                         digest=manifest_digest, created=str(config.get("created") or ""))
    store.save(record)
    return store.get_by_id(record.id) or record
