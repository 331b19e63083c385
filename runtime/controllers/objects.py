"""The applied objects (Deployments, ReplicaSets, Jobs, StatefulSets, DaemonSets, ConfigMaps, Secrets): what
etcd holds in a cluster, here an SQLite file in the data folder, so that desired state outlives a reboot
(the state store of live pods lives in the run folder and does not).

``apply`` compares with what was applied last (kept, as kubectl does, in the annotation
``kubectl.kubernetes.io/last-applied-configuration``), not with the stored object, which controllers
annotate too: the same file again changes nothing (``unchanged``); a different one replaces what it
declares, keeps what others added (a Deployment's revision annotation), and bumps
``metadata.generation`` when the spec changed (``configured``). Controllers write ``status`` and the
objects they own; ``ownerReferences`` tie them together.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from podbay.runtime.lifecycle.status import now_text
from podbay.runtime.state.store import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    uid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    manifest TEXT NOT NULL,   -- the object with its metadata (uid, generation, creationTimestamp), as JSON
    status TEXT NOT NULL,     -- what its controller last observed, as JSON
    UNIQUE (kind, namespace, name)
);
"""
SERVER_FIELDS = ("uid", "generation", "creationTimestamp", "resourceVersion", "managedFields", "selfLink")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class ObjectError(Exception):
    pass


def existing_store(path: Path) -> ObjectStore | None:
    """The store at ``path`` when something was ever applied; None before (reading never creates it)."""
    return ObjectStore(path) if path.exists() else None


def _desired(manifest: dict[str, Any]) -> dict[str, Any]:
    """What apply compares: the object without status and the metadata the server owns."""
    out = {k: v for k, v in manifest.items() if k != "status"}
    out["metadata"] = {k: v for k, v in (manifest.get("metadata") or {}).items() if k not in SERVER_FIELDS}
    return out


class ObjectStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # Secrets' values: its user's only
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute("PRAGMA journal_mode = WAL")
        with self.transaction():
            self.db.execute(SCHEMA)

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db, self.lock)

    def close(self) -> None:
        self.db.close()

    # --- reads -----------------------------------------------------------------------------------

    def _rows(self, where: str, args: tuple[str, ...]) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute(f"SELECT manifest, status FROM objects {where} ORDER BY namespace, name",
                                   args).fetchall()
        out = []
        for manifest, status in rows:
            obj = json.loads(manifest)
            obj["status"] = json.loads(status)
            out.append(obj)
        return out

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        rows = self._rows("WHERE kind = ? AND namespace = ? AND name = ?", (kind, namespace, name))
        return rows[0] if rows else None

    def by_uid(self, uid: str) -> dict[str, Any] | None:
        rows = self._rows("WHERE uid = ?", (uid,))
        return rows[0] if rows else None

    def select(self, kind: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        clauses, args = [], []
        if kind:
            clauses.append("kind = ?")
            args.append(kind)
        if namespace:
            clauses.append("namespace = ?")
            args.append(namespace)
        return self._rows(("WHERE " + " AND ".join(clauses)) if clauses else "", tuple(args))

    def owned_by(self, owner_uid: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [obj for obj in self.select(kind) if owner_uid in owner_uids(obj)]

    # --- writes ----------------------------------------------------------------------------------

    def apply(self, manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create or update from a client's object: ("created" | "configured" | "unchanged", the object)."""
        meta = manifest.get("metadata") or {}
        kind, name, namespace = manifest["kind"], meta["name"], meta.get("namespace") or "default"
        with self.transaction():
            row = self.db.execute("SELECT manifest, status FROM objects WHERE kind = ? AND namespace = ? AND "
                                  "name = ?", (kind, namespace, name)).fetchone()
            if row is None:
                return "created", self._new(manifest, namespace, applied=True)
            stored, status = json.loads(row[0]), json.loads(row[1])
            before = json.loads((stored["metadata"].get("annotations") or {}).get(LAST_APPLIED) or "{}")
            wanted = _applied(manifest, namespace)
            if before == wanted:
                stored["status"] = status
                return "unchanged", stored
            updated = copy.deepcopy(wanted)
            updated["metadata"].update({k: stored["metadata"][k] for k in SERVER_FIELDS if k in stored["metadata"]})
            # Annotations others added (not in the last applied file) stay.
            others = {k: v for k, v in (stored["metadata"].get("annotations") or {}).items()
                      if k not in (before.get("metadata") or {}).get("annotations", {}) and k != LAST_APPLIED}
            updated["metadata"]["annotations"] = {**others, **(wanted["metadata"].get("annotations") or {}),
                                                  LAST_APPLIED: json.dumps(wanted, sort_keys=True)}
            if _spec(stored) != _spec(manifest):
                updated["metadata"]["generation"] = int(stored["metadata"].get("generation", 1)) + 1
            self.db.execute("UPDATE objects SET manifest = ? WHERE uid = ?",
                            (json.dumps(updated), stored["metadata"]["uid"]))
            updated["status"] = status
            return "configured", updated

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """An object a controller makes (a Deployment's ReplicaSet); refused when the name is taken."""
        namespace = (manifest.get("metadata") or {}).get("namespace") or "default"
        with self.transaction():
            return self._new(manifest, namespace, applied=False)

    def _new(self, manifest: dict[str, Any], namespace: str, *, applied: bool) -> dict[str, Any]:
        obj = copy.deepcopy(_desired(manifest))
        meta = obj["metadata"]
        if applied:
            meta.setdefault("annotations", {})[LAST_APPLIED] = json.dumps(_applied(manifest, namespace),
                                                                          sort_keys=True)
        meta.update({"namespace": namespace, "uid": str(uuid.uuid4()), "generation": 1,
                     "creationTimestamp": now_text()})
        try:
            self.db.execute("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?)",
                            (meta["uid"], obj["kind"], namespace, meta["name"], json.dumps(obj), "{}"))
        except sqlite3.IntegrityError as err:
            raise ObjectError(f'{obj["kind"].lower()}s "{meta["name"]}" already exists') from err
        obj["status"] = {}
        return obj

    def update(self, obj: dict[str, Any], *, bump: bool = False) -> None:
        """Write back an object's manifest (``bump``: its spec changed, as a scale does)."""
        stored = {k: v for k, v in obj.items() if k != "status"}
        if bump:
            stored["metadata"]["generation"] = int(stored["metadata"].get("generation", 1)) + 1
            obj["metadata"]["generation"] = stored["metadata"]["generation"]
        with self.transaction():
            self.db.execute("UPDATE objects SET manifest = ? WHERE uid = ?",
                            (json.dumps(stored), obj["metadata"]["uid"]))

    def set_status(self, uid: str, status: dict[str, Any]) -> None:
        with self.transaction():
            self.db.execute("UPDATE objects SET status = ? WHERE uid = ?", (json.dumps(status), uid))

    def delete(self, uid: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM objects WHERE uid = ?", (uid,))


def _applied(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    """What a client applied, as it is compared next time."""
    wanted = _desired(manifest)
    wanted["metadata"]["namespace"] = namespace
    annotations = {k: v for k, v in (wanted["metadata"].get("annotations") or {}).items() if k != LAST_APPLIED}
    if annotations:
        wanted["metadata"]["annotations"] = annotations
    else:
        wanted["metadata"].pop("annotations", None)
    normalised: dict[str, Any] = json.loads(json.dumps(wanted))
    return normalised


def _spec(manifest: dict[str, Any]) -> Any:
    return {k: v for k, v in manifest.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def owner_uids(obj: dict[str, Any]) -> list[str]:
    return [str(ref.get("uid")) for ref in (obj.get("metadata") or {}).get("ownerReferences") or []]


def controller_uid(obj: dict[str, Any]) -> str:
    """The uid of the object's managing controller (the ownerReference with ``controller: true``)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return ""
