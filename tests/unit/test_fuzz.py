"""Property tests: any input gives a clean error or a valid model, never an unhandled exception."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podbay.runtime.spec.errors import FieldError
from podbay.runtime.spec.loader import load_text
from podbay.runtime.spec.schema import encode

# PODBAY_FUZZ_EXAMPLES=5000 for a longer hunt than CI's.
EXAMPLES = int(os.environ.get("PODBAY_FUZZ_EXAMPLES", "300"))
MANIFESTS = Path(__file__).resolve().parents[1] / "manifests"
SEEDS = [doc for name in ("full-pod.yaml", "config.yaml", "workloads.yaml")
         for doc in yaml.safe_load_all((MANIFESTS / name).read_text())]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["", "0", "Always", "1Gi", "-1", "yes", "../x", "web"]))
json_values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)), max_leaves=20)


def check(text: str) -> None:
    for doc in load_text(text, "fuzz.yaml"):
        assert all(isinstance(e, FieldError) and str(e) for e in doc.errors)
        if doc.ok and doc.obj is not None:
            # A valid object encodes, and reloads as valid.
            again = load_text(json.dumps(encode(doc.obj)), "again.json")
            assert again[0].ok, [str(e) for e in again[0].errors]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    check(text)


@settings(max_examples=EXAMPLES, deadline=None)
@given(json_values)
def test_arbitrary_json_values(value: Any) -> None:
    check(json.dumps(value))


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.fixed_dictionaries({"apiVersion": st.sampled_from(["v1", "apps/v1", "batch/v1"]),
                              "kind": st.sampled_from(["Pod", "Deployment", "Job", "ConfigMap", "Secret"])},
                             optional={"metadata": json_values, "spec": json_values, "data": json_values}))
def test_arbitrary_objects_of_known_kinds(value: dict[str, Any]) -> None:
    check(json.dumps(value))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, prefix + (index,))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return doc


@settings(max_examples=EXAMPLES * 2, deadline=None)
@given(mutated())
def test_mutated_valid_manifests(doc: Any) -> None:
    check(json.dumps(doc))
    check(yaml.safe_dump(doc))
