"""What every workload controller shares: the view of a pod it owns, and making pods from a template.

Pure: no store, no processes; the controller manager feeds these and carries out what they decide.
"""

from __future__ import annotations

import copy
import json
import math
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

# Kubernetes' rand.String alphabet: no vowels (no words), no confusable 0/1/3 (k8s.io/apimachinery/pkg/util/rand).
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
TEMPLATE_HASH = "pod-template-hash"


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(SUFFIX_ALPHABET) for _ in range(length))


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """apimachinery's SafeEncodeString: each character mapped into the suffix alphabet."""
    return "".join(SUFFIX_ALPHABET[ord(c) % len(SUFFIX_ALPHABET)] for c in text)


def template_hash(template: dict[str, Any], collisions: int = 0) -> str:
    """The ``pod-template-hash``: FNV-32a of the template, encoded as Kubernetes encodes it. Kubernetes
    hashes Go's printed struct, which Python cannot reproduce; this hashes the canonical JSON instead,
    so the values differ from a cluster's but have the same form and behave the same."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collisions:
        data += str(collisions).encode()
    return safe_encode(str(fnv32a(data)))


@dataclass
class PodView:
    """An owned pod as controllers see it."""

    name: str
    uid: str
    labels: dict[str, str]
    phase: str  # Pending, Running, Succeeded, Failed
    ready: bool
    ready_since: float  # when Ready became True (0 when not ready)
    created: float
    deleting: bool = False
    annotations: dict[str, str] = field(default_factory=dict)
    restarts: int = 0  # of its containers, summed
    finished: float = 0.0  # when it ended (Succeeded or Failed)
    exit_codes: list[tuple[str, int]] = field(default_factory=list)  # terminated containers: apps, then inits
    conditions: dict[str, str] = field(default_factory=dict)  # type -> status

    @property
    def active(self) -> bool:
        """Counted toward replicas: not finished and not being deleted (controller.IsPodActive)."""
        return self.phase not in ("Succeeded", "Failed") and not self.deleting

    def available(self, min_ready_seconds: int, now: float) -> bool:
        return self.ready and (min_ready_seconds == 0 or now - self.ready_since >= min_ready_seconds)


def deletion_order(pods: list[PodView]) -> list[PodView]:
    """Which pods to delete first when scaling down, as controller.ActivePods ranks them (simplified to
    one node): not yet running before running, not ready before ready, the newest before the oldest."""
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}
    return sorted(pods, key=lambda p: (phase_rank.get(p.phase, 0), p.ready, -p.created))


def int_or_percent(value: int | str | None, total: int, *, round_up: bool, default: str) -> int:
    """intstr.GetScaledValueFromIntOrPercent: ``25%`` of ``total`` rounded as asked, or the number."""
    chosen = default if value is None else value
    if isinstance(chosen, int):
        return chosen
    text = str(chosen)
    if not text.endswith("%") or not text[:-1].isdigit():
        return int(text) if text.isdigit() else 0
    scaled = int(text[:-1]) * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def owner_reference(kind: str, api_version: str, name: str, uid: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True,
            "blockOwnerDeletion": True}


def pod_from_template(template: dict[str, Any], *, name: str, namespace: str, owner: dict[str, Any],
                      extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A Pod manifest from a workload's pod template, owned by ``owner``."""
    meta = copy.deepcopy(template.get("metadata") or {})
    labels = {**(meta.get("labels") or {}), **(extra_labels or {})}
    metadata = {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()), "labels": labels,
                "ownerReferences": [owner]}
    if meta.get("annotations"):
        metadata["annotations"] = meta["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": copy.deepcopy(template.get("spec") or {})}


def matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels; an empty selector selects nothing
    here, as the workload controllers require one that is not empty."""
    if not selector:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if (operator == "In" and (not present or labels[key] not in values)) or \
                (operator == "NotIn" and present and labels[key] in values) or \
                (operator == "Exists" and not present) or (operator == "DoesNotExist" and present):
            return False
    return True
