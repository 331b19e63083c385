"""``podbay pull``: an image from a registry into the store.

1. The reference's meanings (registries.conf: aliases, then the search registries) are tried in order.
2. The manifest: an index or manifest list is resolved to this host's platform (os, architecture,
   variant); Docker schema 2 and OCI manifests are read; schema 1 is refused. Every manifest's bytes
   are checked against the digest that names them (the reference's, the index's, or the registry's
   ``Docker-Content-Digest``).
3. The config, then the layers, a few at a time. Each blob is downloaded under its own lock (two pulls
   of one image fetch each blob once) into ``tmp/<hex>.partial``; a broken connection is retried from
   where it stopped with a ``Range`` request when the server allows; only a blob whose sha256 is its
   digest is renamed into ``blobs/``. A partial file is never used but to resume, so a killed pull, a
   cut network or a full disk leave nothing that is later trusted.
4. The image record (names, repo digests, layers) is written last, under the store's lock.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.images import auth, registries
from podbay.runtime.images.load import host_platform
from podbay.runtime.images.reference import Reference, ReferenceError
from podbay.runtime.images.registry import Client, RegistryError
from podbay.runtime.images.store import ImageRecord, ImageStore, ImageStoreError, LayerRecord

INDEX_TYPES = {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
LAYER_TYPES = {
    "application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
}
PARALLEL_LAYERS = 3
ATTEMPTS = 3  # per blob, resuming each time

Progress = Callable[[str, int, int], None]  # (digest, bytes so far, total bytes)


class PullError(Exception):
    """``transient``: worth trying again later (network, server errors), as opposed to a wrong name."""

    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass
class PullOptions:
    tls_verify: bool = True
    authfile: str = ""
    platform: str = ""  # os/arch[/variant]; default this host's
    progress: Progress | None = None
    secrets: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # a pod's pull secrets' auths
    cancel: threading.Event | None = None  # set by the caller (a pod being deleted): the downloads stop


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pull(store: ImageStore, reference: str, options: PullOptions | None = None) -> ImageRecord:
    options = options or PullOptions()
    try:
        chosen = registries.load()
        candidates = chosen.candidates(reference)
    except ReferenceError as err:
        raise PullError(str(err), transient=False) from err
    except registries.RegistriesError as err:
        raise PullError(f"registries.conf: {err}", transient=False) from err
    errors: list[str] = []
    transient = False
    for candidate in candidates:
        rule = chosen.rule(candidate)
        if rule.blocked:
            errors.append(f"{candidate}: the registry is blocked in registries.conf")
            continue
        try:
            return _pull_one(store, candidate, options, insecure=rule.insecure)
        except RegistryError as err:
            errors.append(f"{candidate}: {err}")
            transient = err.status == 0 or err.status >= 500 or err.status == 429
        except PullError as err:
            errors.append(f"{candidate}: {err}")
            transient = err.transient
    if len(candidates) == 1:
        raise PullError(f"pulling {errors[0]}", transient=transient)
    raise PullError(f"{reference} could not be pulled from any of {len(candidates)} registries: "
                    + "; ".join(errors), transient=False)


def _pull_one(store: ImageStore, ref: Reference, options: PullOptions, *, insecure: bool) -> ImageRecord:
    try:
        credentials, _ = auth.find(ref.domain, ref.repository, options.authfile, options.secrets)
    except auth.AuthError as err:
        raise PullError(str(err), transient=False) from err
    client = Client(ref, credentials, tls_verify=options.tls_verify, insecure=insecure)
    data, media_type, said = client.manifest(ref.identifier)
    top_digest = _digest(data)
    for expected, whose in ((ref.digest, "asked for"), (said, "the registry's Docker-Content-Digest")):
        if expected and top_digest != expected:
            raise PullError(f"the manifest's content hashes to {top_digest}, not {expected} ({whose})",
                            transient=False)
    manifest = _json(data, "manifest")
    repo_digests = [f"{ref.repository}@{top_digest}"]
    blobs_to_keep: list[tuple[bytes, str]] = [(data, top_digest)]
    if media_type in INDEX_TYPES or manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
        descriptor = choose_platform(manifest, options.platform)
        data, media_type, _ = client.manifest(descriptor["digest"])
        if _digest(data) != descriptor["digest"]:
            raise PullError(f"manifest {descriptor['digest']} is corrupt: it hashes to {_digest(data)}")
        manifest = _json(data, "manifest")
        repo_digests.append(f"{ref.repository}@{descriptor['digest']}")
        blobs_to_keep.append((data, descriptor["digest"]))
    if manifest.get("schemaVersion") == 1:
        raise PullError(f"{ref} has a Docker schema 1 manifest, which is deprecated and not supported: "
                        "push it again with a current tool", transient=False)
    config_descriptor = manifest.get("config")
    layers = manifest.get("layers")
    if not _descriptor(config_descriptor) or not isinstance(layers, list) or not all(map(_descriptor, layers)):
        raise PullError(f"{ref}: the manifest's config or layers are not descriptors with a digest and a size",
                        transient=False)
    assert isinstance(config_descriptor, dict)
    for layer in layers:
        if layer.get("mediaType") not in LAYER_TYPES:
            raise PullError(f"{ref}: layer {layer.get('digest')} has media type {layer.get('mediaType')!r}, "
                            "which podbay cannot unpack", transient=False)
    fetch_blob(client, store, config_descriptor["digest"], int(config_descriptor.get("size") or 0))
    config = _json(store.read_blob(config_descriptor["digest"]), "image config")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if len(diff_ids) != len(layers):
        raise PullError(f"{ref}: the manifest has {len(layers)} layers but the config lists {len(diff_ids)} "
                        "diff_ids", transient=False)
    stop = threading.Event()  # the first failure (or Ctrl-C) ends the other downloads at their next chunk
    cancel = options.cancel

    def stopped() -> bool:
        return stop.is_set() or (cancel is not None and cancel.is_set())

    pool = ThreadPoolExecutor(PARALLEL_LAYERS)
    try:
        for future in [pool.submit(fetch_blob, client, store, layer["digest"], int(layer.get("size") or 0),
                                   progress=options.progress, stopped=stopped) for layer in layers]:
            future.result()
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    with store.locked():
        for blob, digest in blobs_to_keep:
            store.add_bytes(blob, digest)
        record = ImageRecord(id=config_descriptor["digest"].split(":", 1)[1],
                             names=[str(ref)] if ref.tag or not ref.digest else [],
                             config=config, digest=repo_digests[-1].split("@", 1)[1], repo_digests=repo_digests,
                             layers=[LayerRecord(layer["digest"], diff_id, int(layer.get("size") or 0))
                                     for layer, diff_id in zip(layers, diff_ids, strict=True)],
                             created=str(config.get("created") or ""))
        existing = store.get_by_id(record.id)
        if existing is not None:
            record.repo_digests = list(dict.fromkeys(existing.repo_digests + record.repo_digests))
        store.save(record)
    return store.get_by_id(record.id) or record


def _descriptor(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("digest"), str) and isinstance(value.get("size", 0), int)


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise PullError(f"the {what} is not valid JSON: {err}", transient=False) from err
    if not isinstance(parsed, dict):
        raise PullError(f"the {what} is not a JSON object", transient=False)
    return parsed


def host_variant() -> str:
    import platform  # noqa: PLC0415

    machine = platform.machine()
    return {"aarch64": "v8", "armv7l": "v7", "armv6l": "v6"}.get(machine, "")


def choose_platform(index: dict[str, Any], wanted: str = "") -> dict[str, Any]:
    """The index entry for ``wanted`` (os/arch[/variant]) or this host: an exact variant first, then
    an entry without a variant (containerd's and podman's order)."""
    system, arch = host_platform()
    variant = host_variant()
    if wanted:
        parts = wanted.split("/")
        system, arch, variant = parts[0], parts[1] if len(parts) > 1 else arch, parts[2] if len(parts) > 2 else ""
    entries = [m for m in index.get("manifests") or [] if isinstance(m, dict) and m.get("digest")]
    matching = [m for m in entries if (m.get("platform") or {}).get("os") == system
                and (m.get("platform") or {}).get("architecture") == arch]
    for entry in matching:
        if (entry.get("platform") or {}).get("variant", "") == variant:
            return entry
    for entry in matching:
        if not (entry.get("platform") or {}).get("variant"):
            return entry
    if matching:
        return matching[0]
    offered = sorted({"/".join(filter(None, ((m.get("platform") or {}).get("os"),
                                            (m.get("platform") or {}).get("architecture"),
                                            (m.get("platform") or {}).get("variant")))) for m in entries})
    raise PullError(f"no image for {system}/{arch}{'/' + variant if variant else ''} in the index (it offers "
                    f"{', '.join(offered) or 'nothing'})", transient=False)


def fetch_blob(client: Client, store: ImageStore, digest: str, size: int, *, progress: Progress | None = None,
               stopped: Callable[[], bool] | None = None) -> None:
    """The blob into the store, verified; done once however many pulls want it at the same time."""
    try:
        if store.has_blob(digest):
            if progress:
                progress(digest, size, size)
            return
        with store.blob_lock(digest):
            if store.has_blob(digest):  # another pull stored it while we waited
                if progress:
                    progress(digest, size, size)
                return
            for attempt in range(ATTEMPTS):
                try:
                    _download(client, store, digest, size, progress=progress, stopped=stopped)
                    return
                except (OSError, RegistryError, http.client.HTTPException, _TruncatedError) as err:
                    if isinstance(err, OSError) and err.errno == errno.ENOSPC:  # no point in trying again
                        raise PullError(f"blob {digest[:19]}: No space left on device under {store.root} (the "
                                        "partial download is resumed by the next pull once there is room)") from err
                    status = err.status if isinstance(err, RegistryError) else 0
                    if attempt == ATTEMPTS - 1 or 0 < status < 500:
                        raise PullError(f"blob {digest[:19]}: {err}") from err
                    time.sleep(0.5 * (attempt + 1))
    except ImageStoreError as err:
        raise PullError(str(err), transient=False) from err


class _TruncatedError(Exception):
    pass


def _download(client: Client, store: ImageStore, digest: str, size: int, *, progress: Progress | None,
              stopped: Callable[[], bool] | None) -> None:
    partial = store.partial_path(digest)
    sha = hashlib.sha256()
    offset = 0
    if partial.exists():
        with open(partial, "rb") as done:
            while chunk := done.read(1 << 20):
                sha.update(chunk)
                offset += len(chunk)
        if size and offset >= size:  # a complete but unverified (or bad) download: start again
            partial.unlink()
            sha, offset = hashlib.sha256(), 0
    response, resumed = client.blob(digest, offset)
    with response:
        if offset and not resumed:  # the server sent the whole blob: start again
            sha, offset = hashlib.sha256(), 0
            partial.unlink(missing_ok=True)
        total = size or int(response.headers.get("Content-Length") or 0) + offset
        with open(partial, "ab") as out:
            while chunk := response.read(1 << 20):
                if stopped is not None and stopped():
                    raise PullError("stopped: the pull was cancelled, or another part of it failed")
                sha.update(chunk)
                out.write(chunk)
                offset += len(chunk)
                if progress:
                    progress(digest, offset, total)
    if size and offset < size:
        raise _TruncatedError(f"the connection closed after {offset} of {size} bytes")
    actual = "sha256:" + sha.hexdigest()
    if actual != digest:
        partial.unlink()
        raise PullError(f"blob {digest} is corrupt: its content hashes to {actual}; nothing was stored",
                        transient=False)
    store.commit_blob(partial, digest)
