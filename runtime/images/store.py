"""The local image store: blobs by digest, image records, layers unpacked once per id mapping.

Layout under ``<data_dir>/images``::

    blobs/sha256/<hex>            every blob, verified against its digest before it is kept
    images/<config hex>.json      one record per image: names, config, layer digests and diff_ids
    layers/<mapping>/<diff hex>/  a layer unpacked for one id mapping, shared by all images
    tmp/                          work in progress; renamed into place when complete

Every write lands in ``tmp`` first and is renamed into place, so an interrupted load never
leaves a blob, record or layer that is later trusted. An exclusive ``flock`` on ``lock``
serialises writers (the CLI and, later, the supervisor).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from podbay.runtime.idmap import IdMapping
from podbay.runtime.images.config import ImageConfig
from podbay.runtime.images.reference import ReferenceError, normalise


class ImageStoreError(Exception):
    pass


@dataclass
class LayerRecord:
    digest: str  # of the blob as stored (possibly compressed)
    diff_id: str  # of the uncompressed tar
    size: int


@dataclass
class ImageRecord:
    id: str  # the config's digest, hex (as podman and docker show it)
    names: list[str]
    config: dict[str, Any]
    layers: list[LayerRecord]
    digest: str = ""  # the manifest's digest, when the image came with one
    repo_digests: list[str] = field(default_factory=list)  # "repository@digest", as it was pulled (and its index)
    created: str = ""
    loaded: float = field(default_factory=time.time)

    @property
    def image_config(self) -> ImageConfig:
        return ImageConfig.from_json(self.config)

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageRecord:
        layers = [LayerRecord(**layer) for layer in data.pop("layers")]
        return cls(layers=layers, **data)


def _meanings(reference: str) -> list[str]:
    """The fully qualified names a reference may mean here: docker's default, then registries.conf's."""
    try:
        names = [normalise(reference)]
    except ReferenceError:
        return []
    from podbay.runtime.images import registries  # noqa: PLC0415

    with contextlib.suppress(registries.RegistriesError, ReferenceError):
        names += [str(c) for c in registries.load().candidates(reference)]
    return list(dict.fromkeys(names))


def _mapping_of(key: str) -> IdMapping:
    """The mapping a layers/<key> folder was unpacked for: the host's, else this user's default one
    (the only other mapping podbay unpacks for; root may remove any folder whatever its owners)."""
    from podbay.runtime.idmap import default_mapping  # noqa: PLC0415

    return IdMapping((), ()) if key == "host" or os.geteuid() == 0 else default_mapping()


def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ImageStoreError(f"unsupported or malformed digest {digest!r} (podbay stores sha256 blobs)")
    return value


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.warnings: list[str] = []  # what unpacking could not reproduce, for the caller to show

    # --- layout --------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / _hex(digest)

    def layer_path(self, diff_id: str, mapping: IdMapping) -> Path:
        return self.root / "layers" / mapping.key / _hex(diff_id)

    def _prepare(self) -> None:
        for sub in ("blobs/sha256", "images", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        # Containers' user namespace roots must traverse to the layers, without listing.
        for path in (self.root.parent, self.root, self.root / "layers"):
            path.mkdir(parents=True, exist_ok=True)
            if path.stat().st_uid == os.geteuid():
                path.chmod(0o711)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self._prepare()
        with open(self.root / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    # --- blobs ---------------------------------------------------------------------------

    def add_blob(self, source: IO[bytes], digest: str | None = None) -> tuple[str, int]:
        """Copy a stream into the store, verifying it against ``digest`` (or naming it by its hash)."""
        import hashlib  # noqa: PLC0415 - not on `podbay run`'s path, which only reads the store
        import tempfile  # noqa: PLC0415

        sha = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=self.root / "tmp", delete=False) as out:
            try:
                while chunk := source.read(1 << 20):
                    sha.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            except BaseException:
                os.unlink(out.name)
                raise
        actual = "sha256:" + sha.hexdigest()
        if digest is not None and actual != digest:
            os.unlink(out.name)
            raise ImageStoreError(f"blob {digest} is corrupt: its content hashes to {actual}")
        os.chmod(out.name, 0o644)
        os.replace(out.name, self.blob_path(actual))
        return actual, size

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def add_bytes(self, data: bytes, digest: str) -> None:
        import io  # noqa: PLC0415

        if not self.has_blob(digest):
            self.add_blob(io.BytesIO(data), digest)

    def partial_path(self, digest: str) -> Path:
        """Where a blob is downloaded to: never trusted, kept to resume, renamed in once verified."""
        return self.root / "tmp" / f"{_hex(digest)}.partial"

    @contextlib.contextmanager
    def blob_lock(self, digest: str) -> Iterator[None]:
        """One writer per blob across processes: a second pull of it waits, then finds it stored."""
        self._prepare()
        with open(self._lock_path(digest), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _lock_path(self, digest: str) -> Path:
        return self.root / "tmp" / f"{_hex(digest)}.lock"

    def _remove_abandoned_downloads(self) -> int:
        """Partial blobs no pull is writing (their lock is free): kept to resume, removed to free space."""
        freed = 0
        for partial in (self.root / "tmp").glob("*.partial"):
            try:
                lock_path = self._lock_path("sha256:" + partial.stem)
            except ImageStoreError:
                continue  # not a name podbay gave
            with open(lock_path, "a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a pull is downloading it now
                with contextlib.suppress(FileNotFoundError):
                    freed += partial.stat().st_size
                    partial.unlink()
        return freed

    def commit_blob(self, partial: Path, digest: str) -> None:
        """A verified download into the store (the caller checked its digest)."""
        with open(partial, "rb") as file:
            os.fsync(file.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, self.blob_path(digest))

    # --- records -------------------------------------------------------------------------

    def _record_path(self, image_id: str) -> Path:
        return self.root / "images" / f"{image_id}.json"

    def records(self) -> list[ImageRecord]:
        folder = self.root / "images"
        if not folder.is_dir():
            return []
        records = [ImageRecord.from_json(json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]
        return sorted(records, key=lambda r: -r.loaded)

    def save(self, record: ImageRecord) -> None:
        """Write a record; its names move away from any other image that had them."""
        for other in self.records():
            if other.id != record.id and set(other.names) & set(record.names):
                other.names = [n for n in other.names if n not in record.names]
                self.write(other)
        existing = self.get_by_id(record.id)
        if existing is not None:
            record.names = list(dict.fromkeys(existing.names + record.names))
        self.write(record)

    def write(self, record: ImageRecord) -> None:
        import tempfile  # noqa: PLC0415

        data = json.dumps(asdict(record), indent=1).encode()
        with tempfile.NamedTemporaryFile(dir=self.root / "tmp", delete=False) as out:
            out.write(data)
        os.chmod(out.name, 0o644)
        os.replace(out.name, self._record_path(record.id))

    def get_by_id(self, image_id: str) -> ImageRecord | None:
        path = self._record_path(image_id)
        return ImageRecord.from_json(json.loads(path.read_text())) if path.is_file() else None

    def find(self, reference: str) -> ImageRecord | None:
        """By name (normalised as docker does, or a short name's registries.conf meanings), by
        ``repository@digest``, by full id, or by a unique id prefix of 3+ characters."""
        wanted = reference.removeprefix("sha256:")
        records = self.records()
        names = _meanings(reference)
        for name in names:
            repository, _, digest = name.partition("@")
            pinned = f"{repository.rsplit(':', 1)[0] if ':' in repository.rsplit('/', 1)[-1] else repository}@{digest}"
            for record in records:
                if (name in record.names if not digest else pinned in record.repo_digests):
                    return record
        for record in records:
            if record.id == wanted:
                return record
        if len(wanted) >= 3:
            matches = [r for r in records if r.id.startswith(wanted)]
            if len(matches) == 1:
                return matches[0]
        return None

    def remove(self, record: ImageRecord) -> None:
        self._record_path(record.id).unlink(missing_ok=True)

    def garbage_collect(self, keep_layers: set[str] = frozenset()) -> int:  # type: ignore[assignment]
        """Remove blobs and unpacked layers no image record refers to (nor ``keep_layers``, diff_ids of
        images that running containers still use) and abandoned partial downloads; returns the bytes
        freed. Call it under ``locked()``."""
        from podbay.runtime.process.userns import UsernsError, remove_tree  # noqa: PLC0415

        records = self.records()
        blobs = {_hex(layer.digest) for r in records for layer in r.layers}
        blobs |= {_hex("sha256:" + r.id) for r in records} | {_hex(r.digest) for r in records if r.digest}
        blobs |= {_hex(d.split("@", 1)[1]) for r in records for d in r.repo_digests if "@" in d}
        diff_ids = {_hex(layer.diff_id) for r in records for layer in r.layers} | {_hex(d) for d in keep_layers}
        freed = 0
        for blob in (self.root / "blobs" / "sha256").glob("*"):
            if blob.name not in blobs:
                freed += blob.stat().st_size
                blob.unlink()
        freed += self._remove_abandoned_downloads()
        for mapping_dir in (self.root / "layers").glob("*"):
            for layer in mapping_dir.glob("*"):
                if layer.name not in diff_ids and not layer.name.startswith("."):
                    try:
                        remove_tree(str(layer), _mapping_of(mapping_dir.name))
                    except (UsernsError, OSError) as err:
                        self.warnings.append(f"could not remove the unpacked layer {layer}: {err}")
        return freed

    # --- layers --------------------------------------------------------------------------

    def ensure_layers(self, record: ImageRecord, mapping: IdMapping) -> list[Path]:
        """The image's layers unpacked for ``mapping``, bottom first; unpacks the missing ones, a few at
        a time (each layer is a folder of its own; in a user namespace each is a worker process)."""
        paths = [self.layer_path(layer.diff_id, mapping) for layer in record.layers]
        missing = [(layer, path) for layer, path in zip(record.layers, paths, strict=True) if not path.is_dir()]
        if len(missing) == 1:
            self._unpack(*missing[0], mapping)
        elif missing:
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

            with ThreadPoolExecutor(min(len(missing), os.cpu_count() or 1, 4)) as pool:
                for future in [pool.submit(self._unpack, layer, path, mapping) for layer, path in missing]:
                    future.result()
        return paths

    def _unpack(self, layer: LayerRecord, final: Path, mapping: IdMapping) -> None:
        import tempfile  # noqa: PLC0415

        from podbay.runtime.images.unpack import LayerError, unpack_layer  # noqa: PLC0415
        from podbay.runtime.process.userns import UsernsError, remove_tree, run_in_userns  # noqa: PLC0415

        final.parent.mkdir(parents=True, exist_ok=True)
        if final.parent.stat().st_uid == os.geteuid():
            final.parent.chmod(0o711)
        work = Path(tempfile.mkdtemp(prefix=f".{final.name[:12]}-", dir=final.parent))
        try:
            blob = str(self.blob_path(layer.digest))
            if mapping.identity:
                result = unpack_layer(blob, str(work))
                diff_id, devices, unmapped = result.diff_id, result.skipped_devices, result.unmapped_owners
            else:
                # The worker is root of the mapping: it must own the folder it fills.
                os.chown(work, mapping.to_host(0), mapping.to_host(0, group=True))
                answer = run_in_userns(mapping, "unpack", blob, str(work))
                diff_id, devices, unmapped = answer["diff_id"], answer["skipped_devices"], answer["unmapped_owners"]
            if devices:
                self.warnings.append(f"layer {layer.digest[:19]}: skipped {len(devices)} device node(s) that "
                                     f"a user namespace cannot create ({', '.join(devices[:3])})")
            if unmapped:
                self.warnings.append(f"layer {layer.digest[:19]}: {unmapped} file(s) belong to ids outside this "
                                     "user namespace's mapping and are owned by the container's root instead")
            if diff_id != layer.diff_id:
                raise ImageStoreError(f"layer {layer.digest} unpacks to {diff_id}, but the image config "
                                      f"says {layer.diff_id}: the image is corrupt")
            try:
                os.rename(work, final)
            except OSError:
                if not final.is_dir():  # else another podbay unpacked it first: use theirs
                    raise
        except (LayerError, UsernsError) as err:
            raise ImageStoreError(f"layer {layer.digest}: {err}") from err
        finally:
            if work.exists():
                try:
                    remove_tree(str(work), mapping)
                except (UsernsError, OSError) as err:  # keep the first error; say what is left
                    self.warnings.append(f"could not remove {work}: {err}")

