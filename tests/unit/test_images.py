"""Image references, the safe layer unpacker, archive loading and the store (no containers)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from podbay.runtime.idmap import HOST
from podbay.runtime.images.load import ArchiveError, load_archive
from podbay.runtime.images.reference import ReferenceError, normalise, short
from podbay.runtime.images.store import ImageStore, ImageStoreError
from podbay.runtime.images.unpack import LayerError, unpack_layer
from tests.imagebuilder import Entry, build_image, layer_tar

ME = {"uid": os.getuid(), "gid": os.getgid()}


@pytest.mark.parametrize(("given", "want"), [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/nginx", "docker.io/library/nginx:latest"),
    ("user/app:v1", "docker.io/user/app:v1"),
    ("localhost/podbay-demo", "localhost/podbay-demo:latest"),
    ("localhost:5000/a/b:c", "localhost:5000/a/b:c"),
    ("Registry/app", "Registry/app:latest"),
    ("ghcr.io/org/img@sha256:" + "a" * 64, "ghcr.io/org/img@sha256:" + "a" * 64),
    ("quay.io/x/y:t@sha256:" + "b" * 64, "quay.io/x/y:t@sha256:" + "b" * 64),
])
def test_references_normalise_as_docker_does(given: str, want: str) -> None:
    assert normalise(given) == want


@pytest.mark.parametrize("bad", ["", "ubuntu/UPPER", "a//b", "name:", "-lead", "x@sha256:short"])
def test_malformed_references_are_refused(bad: str) -> None:
    with pytest.raises(ReferenceError, match="invalid image reference"):
        normalise(bad)


def test_short_splits_repository_and_tag() -> None:
    assert short("localhost:5000/a:b") == ("localhost:5000/a", "b")
    assert short("docker.io/library/x@sha256:" + "c" * 64) == ("docker.io/library/x", "@sha256:" + "c" * 64)


def _blob(tmp_path: Path, entries: list[Entry], compress: bool = False) -> tuple[Path, str]:
    data = layer_tar([Entry(**{**e.__dict__, **ME}) for e in entries])
    path = tmp_path / "layer.blob"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path, "sha256:" + hashlib.sha256(data).hexdigest()


def _target(tmp_path: Path) -> Path:
    target = tmp_path / "layer"
    target.mkdir()
    return target


@pytest.mark.parametrize("compress", [False, True])
def test_unpack_builds_the_layer_and_reports_its_diff_id(tmp_path: Path, compress: bool) -> None:
    blob, diff_id = _blob(tmp_path, [
        Entry("bin", "dir", mode=0o755), Entry("bin/tool", data=b"#!x", mode=0o4755),
        Entry("bin/sh", "symlink", link="/bin/tool"), Entry("bin/again", "hardlink", link="bin/tool"),
        Entry("etc/conf", data=b"a=1", xattrs={"user.note": "hi"}), Entry("run/pipe", "fifo"),
    ], compress)
    target = _target(tmp_path)
    result = unpack_layer(str(blob), str(target))
    assert result.diff_id == diff_id
    assert stat.S_IMODE((target / "bin/tool").stat().st_mode) == 0o4755  # setuid kept (data_filter drops it)
    assert os.readlink(target / "bin/sh") == "/bin/tool"  # absolute symlinks are kept as written
    assert (target / "bin/again").stat().st_ino == (target / "bin/tool").stat().st_ino
    assert os.getxattr(target / "etc/conf", "user.note") == b"hi"
    assert stat.S_ISFIFO((target / "run/pipe").lstat().st_mode)


def test_whiteouts_become_overlay_whiteouts(tmp_path: Path) -> None:
    blob, _ = _blob(tmp_path, [Entry("etc", "dir", mode=0o755), Entry("etc/gone", "whiteout"),
                               Entry("var", "dir", mode=0o755), Entry("var", "opaque")])
    target = _target(tmp_path)
    unpack_layer(str(blob), str(target))
    gone = (target / "etc/gone").lstat()
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert os.getxattr(target / "var", "user.overlay.opaque") == b"y"


@pytest.mark.parametrize(("entries", "message"), [
    ([Entry("../escape", data=b"x")], "escapes the layer"),
    ([Entry("a/../../escape", data=b"x")], "escapes the layer"),
    ([Entry("link", "symlink", link="/tmp"), Entry("link/planted", data=b"x")], "not a directory"),
    ([Entry("up", "symlink", link="../../.."), Entry("up/planted", data=b"x")], "not a directory"),
    ([Entry("hard", "hardlink", link="../../etc/passwd")], "escapes the layer"),
    ([Entry("hard", "hardlink", link="/etc/passwd")], "not in this layer"),
    ([Entry("d", "symlink", link="/etc"), Entry("hard", "hardlink", link="d/passwd")], "not a directory"),
])
def test_unsafe_entries_are_refused(tmp_path: Path, entries: list[Entry], message: str) -> None:
    blob, _ = _blob(tmp_path, entries)
    target = _target(tmp_path)
    with pytest.raises(LayerError, match=message):
        unpack_layer(str(blob), str(target))
    assert not (tmp_path / "escape").exists() and not Path("/tmp/planted").exists()


def test_absolute_entry_names_stay_inside_the_layer(tmp_path: Path) -> None:
    blob, _ = _blob(tmp_path, [Entry("/etc/abs", data=b"inside")])
    target = _target(tmp_path)
    unpack_layer(str(blob), str(target))
    assert (target / "etc/abs").read_bytes() == b"inside"


def test_a_truncated_layer_is_an_error(tmp_path: Path) -> None:
    blob, _ = _blob(tmp_path, [Entry("big", data=b"x" * 10000)])
    blob.write_bytes(blob.read_bytes()[:3000])
    with pytest.raises(LayerError):
        unpack_layer(str(blob), str(_target(tmp_path)))


def _layers() -> list[list[Entry]]:
    return [[Entry("etc", "dir", mode=0o755, **ME), Entry("etc/hello", data=b"hello", **ME)],
            [Entry("etc/second", data=b"2", **ME)]]


@pytest.mark.parametrize("fmt", ["oci", "oci-dir", "docker"])
def test_load_every_archive_format(tmp_path: Path, fmt: str) -> None:
    archive = build_image(tmp_path / f"img.{fmt}", "localhost/formats:1", _layers(), cmd=["/bin/x"],
                          env=["A=1"], user="app", workdir="/w", fmt=fmt)
    store = ImageStore(tmp_path / "store")
    (record,) = load_archive(archive, store)
    assert record.names == ["localhost/formats:1"]
    config = record.image_config
    assert (config.cmd, config.env, config.user, config.working_dir) == (["/bin/x"], ["A=1"], "app", "/w")
    assert store.find("localhost/formats:1") == store.find(record.id[:12]) == record
    layers = store.ensure_layers(record, HOST)
    assert [p.name for p in layers] == [d.split(":")[1] for d in config.diff_ids]
    assert (layers[0] / "etc/hello").read_bytes() == b"hello"


def test_layers_are_shared_between_images(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    first = load_archive(build_image(tmp_path / "a.tar", "localhost/a:1", _layers()), store)[0]
    second = load_archive(build_image(tmp_path / "b.tar", "localhost/b:1", [_layers()[0]], cmd=["other"]), store)[0]
    assert first.id != second.id
    assert store.ensure_layers(first, HOST)[0] == store.ensure_layers(second, HOST)[0]
    assert len(os.listdir(tmp_path / "store/layers/host")) == 2


def test_a_name_moves_to_the_newest_image(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    old = load_archive(build_image(tmp_path / "a.tar", "localhost/app:1", _layers()), store)[0]
    new = load_archive(build_image(tmp_path / "b.tar", "localhost/app:1", _layers(), cmd=["v2"]), store)[0]
    assert store.find("localhost/app:1") == new
    assert store.get_by_id(old.id) is not None and store.get_by_id(old.id).names == []  # type: ignore[union-attr]


def test_a_corrupt_blob_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    folder = build_image(tmp_path / "img", "localhost/bad:1", _layers(), fmt="oci-dir")
    manifest = json.loads((folder / "index.json").read_text())["manifests"][0]["digest"].split(":")[1]
    layer = json.loads((folder / "blobs/sha256" / manifest).read_text())["layers"][0]["digest"].split(":")[1]
    (folder / "blobs/sha256" / layer).write_bytes(b"tampered")
    store = ImageStore(tmp_path / "store")
    with pytest.raises(ArchiveError, match="is corrupt"):
        load_archive(folder, store)
    assert os.listdir(tmp_path / "store/tmp") == []
    assert not (tmp_path / "store/blobs/sha256" / layer).exists()


def test_a_layer_that_does_not_match_its_diff_id_is_refused(tmp_path: Path) -> None:
    archive = build_image(tmp_path / "img.tar", "localhost/x:1", _layers(), fmt="docker")
    store = ImageStore(tmp_path / "store")
    (record,) = load_archive(archive, store)
    record.layers[0].diff_id = "sha256:" + "0" * 64
    with pytest.raises(ImageStoreError, match="the image is corrupt"):
        store.ensure_layers(record, HOST)
    # Nothing under the wrong diff_id, no work folder; the other layer, unpacked beside it, is sound.
    assert os.listdir(tmp_path / "store/layers/host") == [record.layers[1].diff_id.split(":")[1]]


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"), (b"not a tar", "not an image archive"), (b"", "not an image archive"),
])
def test_bad_archives_get_clear_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "archive.tar"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ArchiveError, match=message):
        load_archive(path, ImageStore(tmp_path / "store"))


def test_a_tar_that_is_no_image_says_so(tmp_path: Path) -> None:
    path = tmp_path / "other.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("readme")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ArchiveError, match="neither an OCI image layout"):
        load_archive(path, ImageStore(tmp_path / "store"))
