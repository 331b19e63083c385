"""Apply one OCI layer (a tar stream) to an empty folder, safely, as overlayfs expects it.

- Entry names are relative and never contain ``..``; an entry is never written through a
  symlink (every parent component is checked with ``lstat``); hardlinks must point at an
  earlier entry of the same layer. Anything else is refused with the entry's name.
- Symlink *targets* are kept as written, absolute ones included: they are resolved inside
  the container's root at run time, never by podbay.
- OCI whiteouts become overlayfs whiteouts: ``.wh.NAME`` a 0/0 character device (which
  Linux lets an unprivileged user create), ``.wh..wh..opq`` the opaque xattr, both
  ``user.overlay.opaque`` (for ``userxattr`` mounts in a user namespace) and, where allowed,
  ``trusted.overlay.opaque``.
- Device nodes that cannot be created (in a user namespace) are skipped and counted.
- Owners outside the user namespace's mapping (a single-id rootless mapping, or ids above
  65535) cannot be set: such entries keep the namespace root as owner and are counted,
  as podman's ``ignore_chown_errors`` does.
- Owners are the tar's ids: the caller runs this inside a user namespace whose mapping
  shifts them (see idmap.py), or as root for the host mapping.

The target is a fresh private folder that only this process writes to, so checking each
path component with ``lstat`` before use is enough: nothing can swap it meanwhile.
Standard library only: this runs in the user namespace worker process.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tarfile
from dataclasses import dataclass, field
from typing import IO

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTRS = ("user.overlay.opaque", "trusted.overlay.opaque")


class LayerError(Exception):
    pass


@dataclass
class UnpackResult:
    diff_id: str
    skipped_devices: list[str] = field(default_factory=list)
    unmapped_owners: int = 0


class _HashingReader:
    """Reads the decompressed stream and hashes it: the hash is the layer's diff_id."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha.update(data)
        return data


def open_decompressed(path: str) -> IO[bytes]:
    """A layer blob as its uncompressed tar stream (gzip or plain; zstd needs the zstandard package)."""
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    magic = raw.read(4)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":
        import gzip  # noqa: PLC0415

        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if magic == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard  # noqa: PLC0415
        except ImportError as err:
            raw.close()
            raise LayerError("zstd-compressed layer: install the zstandard package to use it") from err
        return zstandard.ZstdDecompressor().stream_reader(raw)
    return raw


def clean_name(name: str) -> str:
    """``./usr//bin/`` -> ``usr/bin``; refuses ``..`` and names that are empty after cleaning (except the root)."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise LayerError(f"entry {name!r} escapes the layer (contains '..')")
    return "/".join(parts)


class _Applier:
    def __init__(self, root: str) -> None:
        self.root = root
        self.dir_times: list[tuple[str, tuple[float, float]]] = []
        self.result = UnpackResult(diff_id="")

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    def ensure_parents(self, rel: str) -> None:
        """Every parent of ``rel`` must be a real directory inside the layer (created if missing)."""
        current = self.root
        for part in rel.split("/")[:-1]:
            current = os.path.join(current, part)
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                os.mkdir(current, 0o755)
                continue
            if not stat.S_ISDIR(mode):
                raise LayerError(f"entry {rel!r} would be written through {current[len(self.root) + 1:]!r}, "
                                 f"which is not a directory (a symlink?)")

    def remove(self, path: str) -> None:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISDIR(mode):
            import shutil  # noqa: PLC0415

            shutil.rmtree(path)
        else:
            os.unlink(path)

    def apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        rel = clean_name(member.name)
        base = rel.rsplit("/", 1)[-1]
        if rel:
            self.ensure_parents(rel)
        if base == OPAQUE_MARKER:
            parent = self.path(rel.rsplit("/", 1)[0] if "/" in rel else "")
            for name in OPAQUE_XATTRS:
                try:
                    os.setxattr(parent, name, b"y", follow_symlinks=False)
                except OSError as err:
                    if name.startswith("user."):
                        raise LayerError(f"cannot mark {rel!r} opaque: {err.strerror}") from err
            return
        if base.startswith(WHITEOUT_PREFIX):
            target = self.path(rel[: len(rel) - len(base)] + base[len(WHITEOUT_PREFIX):])
            self.remove(target)
            os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(0, 0))
            return
        path = self.path(rel)
        if member.isdir():
            if rel and not (os.path.lexists(path) and stat.S_ISDIR(os.lstat(path).st_mode)):
                self.remove(path)
                os.mkdir(path, 0o700)
        else:
            self.remove(path)
            if not self.create(tar, member, rel, path):
                return
        self.set_metadata(member, path)

    def create(self, tar: tarfile.TarFile, member: tarfile.TarInfo, rel: str, path: str) -> bool:
        if member.isreg():
            source = tar.extractfile(member)
            assert source is not None
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
        elif member.issym():
            os.symlink(member.linkname, path)
        elif member.islnk():
            target_rel = clean_name(member.linkname)
            target = self.path(target_rel)
            if not target_rel or not os.path.lexists(target):
                raise LayerError(f"hardlink {rel!r} points at {member.linkname!r}, which is not in this layer")
            self.ensure_parents(target_rel)
            os.link(target, path, follow_symlinks=False)
            return False  # a hardlink shares its target's metadata
        elif member.isfifo():
            os.mkfifo(path, 0o600)
        elif member.ischr() or member.isblk():
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            try:
                os.mknod(path, 0o600 | kind, os.makedev(member.devmajor, member.devminor))
            except PermissionError:
                self.result.skipped_devices.append(rel)
                return False
        else:
            raise LayerError(f"entry {rel!r} has an unsupported type {member.type!r}")
        return True

    def set_metadata(self, member: tarfile.TarInfo, path: str) -> None:
        try:
            os.chown(path, member.uid, member.gid, follow_symlinks=False)
        except OSError as err:
            if err.errno != errno.EINVAL:  # EINVAL: the id has no mapping in this user namespace
                raise
            self.result.unmapped_owners += 1
        for key, value in (member.pax_headers or {}).items():
            if key.startswith("SCHILY.xattr."):
                name = key[len("SCHILY.xattr."):]
                try:
                    os.setxattr(path, name, value.encode("utf-8", "surrogateescape"), follow_symlinks=False)
                except OSError as err:
                    if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                        raise
        if member.issym():
            os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
            return
        # chmod after chown: chown clears the setuid and setgid bits.
        os.chmod(path, stat.S_IMODE(member.mode))
        if member.isdir():
            self.dir_times.append((path, (member.mtime, member.mtime)))
        else:
            os.utime(path, (member.mtime, member.mtime))


def unpack_layer(blob: str, target: str) -> UnpackResult:
    """Apply the layer in file ``blob`` into the empty folder ``target``; returns its diff_id."""
    applier = _Applier(target)
    with open_decompressed(blob) as stream:
        reader = _HashingReader(stream)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    try:
                        applier.apply(tar, member)
                    except OSError as err:
                        raise LayerError(f"entry {member.name!r}: {err.strerror}") from err
        except tarfile.TarError as err:
            raise LayerError(f"not a valid layer tar: {err}") from err
        while reader.read(1 << 20):  # the tar's trailing padding is part of the diff_id
            pass
    for path, times in reversed(applier.dir_times):
        os.utime(path, times)
    applier.result.diff_id = "sha256:" + reader.sha.hexdigest()
    return applier.result
