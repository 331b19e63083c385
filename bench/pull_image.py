"""The pull benchmark's registry: build an image of random layers (a few hundred MB, gzip as most images
are), start Debian's docker-registry on loopback, push the image with the tests' push code, and leave
the registry running. Prints ``HOST PID`` for bench/pull.sh, which stops it.

``pull_image.py breakdown HOST/REPO:TAG STORE RUNS``: podbay's pull split into download-and-verify and
unpack, as a markdown table (the CLI's total is in the hyperfine run)."""

from __future__ import annotations

import os
import statistics
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.imagebuilder import busybox_layer, layer_tar
from tests.registry import Registry


def random_layer(megabytes: int, seed: int) -> bytes:
    """A tar of 4 MB files of random bytes (incompressible, as a worst case for gzip)."""
    out = BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for index in range(max(megabytes // 4, 1)):
            data = os.urandom(4 << 20)
            info = tarfile.TarInfo(f"data{seed}/{index:04d}.bin")
            info.size = len(data)
            tar.addfile(info, BytesIO(data))
    return out.getvalue()


def serve(folder: Path, megabytes: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    registry = Registry(folder).start()
    layers = [layer_tar(busybox_layer())] + [random_layer(megabytes // 3, n) for n in range(3)]
    registry.push_image("bench/big", "1", layers, how="gzip")
    assert registry.process is not None
    print(registry.host, registry.process.pid)


def breakdown(image: str, store_dir: Path, runs: int) -> None:
    from podbay.runtime.idmap import default_mapping  # noqa: PLC0415
    from podbay.runtime.images.pull import PullOptions, pull  # noqa: PLC0415
    from podbay.runtime.images.store import ImageStore  # noqa: PLC0415

    downloads, unpacks, size = [], [], 0
    for _ in range(runs):
        os.system(f"rm -rf {store_dir}")  # noqa: S605 - our own scratch folder
        store = ImageStore(store_dir)
        began = time.perf_counter()
        record = pull(store, image, PullOptions(tls_verify=False))
        pulled = time.perf_counter()
        with store.locked():
            store.ensure_layers(record, default_mapping())
        unpacks.append(time.perf_counter() - pulled)
        downloads.append(pulled - began)
        size = record.size
    download, unpack = statistics.median(downloads), statistics.median(unpacks)
    print(f"## podbay's pull, split ({runs} runs, image {size / 1e6:.0f} MB compressed)\n")
    print("| phase | median s | throughput |")
    print("|---|---:|---:|")
    print(f"| download + sha256 verify (3 layers at a time) | {download:.2f} | {size / 1e6 / download:.0f} MB/s |")
    print(f"| unpack (gunzip + untar, diff_id check) | {unpack:.2f} | {size / 1e6 / unpack:.0f} MB/s |")
    os.system(f"rm -rf {store_dir}")  # noqa: S605


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        breakdown(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
