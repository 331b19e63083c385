"""Every valid Kubernetes documentation example must load (examples are read from ../shared, not copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podbay.runtime.spec.loader import load_paths

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "k8s-examples"

# Files in the stored corpus that are not valid Kubernetes, each for the reason given.
NOT_VALID = {
    "pods/inject/envars-file-container.yaml": "found unknown escape character",
    "pods/inject/pod-multiple-secret-env-variable.yaml": "found a tab character that violates indentation",
    "pods/inject/pod-single-secret-env-variable.yaml": "apiVersion: Required value",
    "pods/probe/grpc-liveness.yaml": 'livenessProbe.gRPC: Unknown field: field "gRPC" is not part of this object',
    "pods/security/seccomp/kind.yaml": 'unknown kind "Cluster" in apiVersion "kind.x-k8s.io/v1alpha4"',
    "pods/security/seccomp/profiles/violation.json": "apiVersion: Required value",
    "pods/storage/projected-clustertrustbundle.yaml": 'volumeMounts[0].name: Not found: "token-vol"',
}

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"no Kubernetes examples at {EXAMPLES}")


def test_every_valid_example_loads() -> None:
    result = load_paths([str(EXAMPLES)], recursive=True)
    assert len(result.documents) >= 120
    failures = {}
    for doc in result.documents:
        relative = str(Path(doc.source.file).relative_to(EXAMPLES))
        if doc.errors:
            failures.setdefault(relative, str(doc.errors[0]))
    assert set(failures) == set(NOT_VALID), failures
    for relative, expected in NOT_VALID.items():
        assert expected in failures[relative], (relative, failures[relative])


def test_example_warnings_read_sensibly() -> None:
    result = load_paths([str(EXAMPLES / "pods")], recursive=True)
    warnings = {str(w) for doc in result.documents for w in doc.warnings}
    assert "spec.nodeSelector: ignored on a single node: there is no scheduler: the pod runs on this machine" \
        in warnings
    assert 'PersistentVolume "task-pv-volume" (v1) is skipped: podbay does not run PersistentVolume objects' \
        in warnings
    assert all(": " in w for w in warnings)
