"""Helpers for spec tests: build manifests as dicts and load them through the real loader."""

from __future__ import annotations

import copy
import json
from typing import Any

from podbay.runtime.spec.loader import Document, load_text


def pod(**spec: Any) -> dict[str, Any]:
    """A minimal valid Pod; keyword arguments are merged into its spec."""
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }
    manifest["spec"].update(copy.deepcopy(spec))
    return manifest


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "c", "image": "busybox:1.36", **fields}


def load(manifest: dict[str, Any] | str) -> Document:
    """Load exactly one document (dicts go through JSON, which is valid YAML)."""
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    docs = load_text(text, "test.yaml")
    assert len(docs) == 1, docs
    return docs[0]


def errors(manifest: dict[str, Any] | str) -> list[str]:
    return [str(e) for e in load(manifest).errors]


def warnings(manifest: dict[str, Any] | str) -> list[str]:
    return [str(w) for w in load(manifest).warnings]


def loaded(manifest: dict[str, Any] | str) -> Any:
    """The defaulted model object of a manifest that must be valid."""
    doc = load(manifest)
    assert doc.ok, [str(e) for e in doc.errors]
    return doc.obj
