"""``podbay validate``: every object, warning and error of a set of manifests."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TextIO

import yaml

from podbay.runtime.spec.errors import FieldError, FieldWarning
from podbay.runtime.spec.loader import Document, load_paths
from podbay.runtime.spec.schema import encode


def _where(doc: Document, problem: FieldError | FieldWarning) -> str:
    line = doc.line_of(problem.path)
    location = f"{doc.source.file}:{line}" if line else doc.source.file
    if doc.source.item is not None:
        location += f" (items[{doc.source.item}])"
    return location


def _label(doc: Document) -> str:
    if doc.kind and doc.name:
        return f"{doc.kind.lower()}/{doc.name}"
    if doc.kind:
        return doc.kind.lower()
    return f"document {doc.source.document}" if doc.source.document else "input"


def report(documents: Sequence[Document], out: TextIO, err: TextIO, quiet: bool) -> None:
    """Errors and warnings to ``err``; one line per valid object to ``out`` unless quiet."""
    for doc in documents:
        for warning in doc.warnings:
            err.write(f"Warning: {_where(doc, warning)}: {_label(doc)}: {warning}\n")
        for error in doc.errors:
            err.write(f"error: {_where(doc, error)}: {_label(doc)}: {error}\n")
        if doc.ok and not doc.skipped and not quiet:
            out.write(f"{_label(doc)} valid ({doc.source})\n")


def validate_command(paths: list[str], recursive: bool = False, output: str | None = None,
                     out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    result = load_paths(paths, recursive=recursive)
    report(result.documents, out, err, quiet=output in ("yaml", "json"))
    objects = [encode(obj) for obj in result.objects()]
    if output == "yaml":
        out.write(yaml.safe_dump_all(objects, sort_keys=True, default_flow_style=False, explicit_start=True)
                  if objects else "")
    elif output == "json":
        payload = objects[0] if len(objects) == 1 else {"apiVersion": "v1", "kind": "List", "items": objects}
        out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    elif output == "name":
        pass  # the per-object lines above are the names
    invalid = sum(1 for doc in result.documents if not doc.ok)
    if invalid:
        err.write(f"error: {invalid} of {len(result.documents)} document(s) invalid\n")
        return 1
    return 0
