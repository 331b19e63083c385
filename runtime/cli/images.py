"""``podbay images`` and ``podbay image load``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from podbay.runtime.images.reference import short
from podbay.runtime.paths import Paths


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.3g} GB"


def _age(seconds: float) -> str:
    for unit, length in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= length:
            return f"{int(seconds // length)} {unit} ago"
    return "Less than a minute ago" if seconds >= 1 else "Now"


def images_command(paths: Paths, quiet: bool = False) -> int:
    from podbay.runtime.images.store import ImageStore  # noqa: PLC0415

    records = ImageStore(paths.images).records()
    if quiet:
        for record in records:
            print(record.id[:12])
        return 0
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "LOADED", "SIZE")]
    for record in records:
        names = record.names or ["<none>:<none>"]
        for name in names:
            repository, tag = short(name) if name != "<none>:<none>" else ("<none>", "<none>")
            rows.append((repository, tag, record.id[:12], _age(time.time() - record.loaded), _size(record.size)))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def load_command(paths: Paths, archive: str, tags: list[str]) -> int:
    from podbay.runtime.idmap import default_mapping  # noqa: PLC0415
    from podbay.runtime.images.load import ArchiveError, load_archive  # noqa: PLC0415
    from podbay.runtime.images.store import ImageStore, ImageStoreError  # noqa: PLC0415

    store = ImageStore(paths.images)
    try:
        records = load_archive(Path(archive), store, tags)
        mapping = default_mapping()
        with store.locked():  # unpack now for the default mapping, so the first run is fast
            for record in records:
                store.ensure_layers(record, mapping)
    except (ArchiveError, ImageStoreError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 125
    for warning in store.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    if mapping.warning:
        print(f"Warning: {mapping.warning}", file=sys.stderr)
    for record in records:
        print(f"Loaded image: {', '.join(record.names) or record.id}")
    return 0
