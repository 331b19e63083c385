"""The live state store: pods, their status and events, in SQLite (WAL) under the run dir.

One file, ``<run dir>/state.db``, shared by the CLI, the TUI and the supervisor, each with its
own connection. WAL lets readers go on while one writer writes; every change is one
transaction (``BEGIN IMMEDIATE``), so no reader ever sees half of one. The run dir is a tmpfs
(``/run``, ``$XDG_RUNTIME_DIR``) for most users, so the state goes with a reboot; where it is
not (the ``/tmp`` fallback), the boot id recorded in the store tells: pods of an earlier boot
are marked lost, with that reason, rather than shown as running.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2  # 2: events.field_path
BOOT_ID = "/proc/sys/kernel/random/boot_id"
REBOOTED = "the host restarted since this pod was created: its processes are gone"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pods (
    uid TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    manifest TEXT NOT NULL,   -- the defaulted Pod and the ConfigMaps/Secrets it reads, as JSON
    status TEXT NOT NULL,     -- the pod's status, Kubernetes' shape, as JSON
    runtime TEXT NOT NULL,    -- what the supervisor needs to re-adopt it: pids, start times, folders
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (namespace, name)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pod_uid TEXT NOT NULL,
    type TEXT NOT NULL,       -- Normal or Warning
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    first REAL NOT NULL,
    last REAL NOT NULL,
    count INTEGER NOT NULL,
    field_path TEXT NOT NULL DEFAULT ''  -- the kubelet's involvedObject.fieldPath: spec.containers{web}
);
CREATE INDEX IF NOT EXISTS events_by_pod ON events (pod_uid, last);
"""


class StateError(Exception):
    pass


@dataclass
class PodRecord:
    uid: str
    namespace: str
    name: str
    manifest: dict[str, Any]
    status: dict[str, Any]
    runtime: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    updated: float = 0.0


@dataclass
class Event:
    pod_uid: str
    type: str
    reason: str
    message: str
    first: float
    last: float
    count: int
    field_path: str = ""

    @property
    def container(self) -> str:
        """The container the event is about (from ``spec.containers{NAME}``), or "" for the pod."""
        return self.field_path.partition("{")[2].rstrip("}")


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """One writer at a time on a connection its threads share: BEGIN IMMEDIATE, COMMIT, ROLLBACK on error."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _boot_id() -> str:
    try:
        with open(BOOT_ID) as file:
            return file.read().strip()
    except OSError:
        return ""


class StateStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        if not path.exists():  # manifests hold Secrets' values: the store is its user's only
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        # isolation_level=None: transactions are ours to open (BEGIN IMMEDIATE), never implicit.
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()  # the supervisor's threads share this connection: one transaction at a time
        self.db.execute("PRAGMA busy_timeout = 30000")
        if self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise StateError(f"{path}: SQLite cannot use write-ahead logging here")
        self.db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: atomic and durable enough for live state
        with self.transaction():
            for statement in _statements(SCHEMA):
                self.db.execute(statement)
            self._check_version()
            self._check_boot()

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db, self.lock)

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
                        (key, value, value))

    def _check_version(self) -> None:
        version = self._meta("schema")
        if version is None:
            self._set_meta("schema", str(SCHEMA_VERSION))
        elif int(version) == 1:  # a store of the previous podbay, kept across an upgrade
            self.db.execute("ALTER TABLE events ADD COLUMN field_path TEXT NOT NULL DEFAULT ''")
            self._set_meta("schema", str(SCHEMA_VERSION))
        elif int(version) > SCHEMA_VERSION:
            raise StateError(f"{self.path} was written by a newer podbay (schema {version}; this one knows "
                             f"{SCHEMA_VERSION})")

    def _check_boot(self) -> None:
        """Pods of an earlier boot are lost: phase Unknown, reason NodeRebooted; of their runtime only the
        ``folders`` to remove when they are deleted stay (pids and descriptors mean nothing any more)."""
        boot = _boot_id()
        recorded = self._meta("boot_id")
        if recorded is not None and recorded != boot:
            for uid, text, runtime in self.db.execute("SELECT uid, status, runtime FROM pods").fetchall():
                status = json.loads(text)
                if status.get("reason") != "NodeRebooted":
                    status.update(phase="Unknown", reason="NodeRebooted", message=REBOOTED)
                kept = {"folders": json.loads(runtime).get("folders", [])}
                self.db.execute("UPDATE pods SET status = ?, runtime = ?, updated = ? WHERE uid = ?",
                                (json.dumps(status), json.dumps(kept), time.time(), uid))
        self._set_meta("boot_id", boot)

    # --- pods --------------------------------------------------------------------------------

    def add_pod(self, record: PodRecord) -> None:
        now = time.time()
        with self.transaction():
            taken = self.db.execute("SELECT uid FROM pods WHERE namespace = ? AND name = ?",
                                    (record.namespace, record.name)).fetchone()
            if taken is not None:
                raise StateError(f'pods "{record.name}" already exists')
            self.db.execute("INSERT INTO pods VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (record.uid, record.namespace, record.name, json.dumps(record.manifest),
                             json.dumps(record.status), json.dumps(record.runtime), now, now))
        record.created = record.updated = now

    def update(self, uid: str, *, status: dict[str, Any] | None = None, runtime: dict[str, Any] | None = None,
               manifest: dict[str, Any] | None = None) -> None:
        with self.transaction():
            if manifest is not None:  # the ephemeralContainers subresource: the one change a pod's spec takes
                self.db.execute("UPDATE pods SET manifest = ?, updated = ? WHERE uid = ?",
                                (json.dumps(manifest), time.time(), uid))
            if status is not None:
                self.db.execute("UPDATE pods SET status = ?, updated = ? WHERE uid = ?",
                                (json.dumps(status), time.time(), uid))
            if runtime is not None:
                self.db.execute("UPDATE pods SET runtime = ?, updated = ? WHERE uid = ?",
                                (json.dumps(runtime), time.time(), uid))

    def remove_pod(self, uid: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM pods WHERE uid = ?", (uid,))
            self.db.execute("DELETE FROM events WHERE pod_uid = ?", (uid,))

    def pod(self, namespace: str, name: str) -> PodRecord | None:
        rows = self._pods("WHERE namespace = ? AND name = ?", (namespace, name))
        return rows[0] if rows else None

    def pods(self, namespace: str | None = None) -> list[PodRecord]:
        if namespace is None:
            return self._pods("ORDER BY namespace, name", ())
        return self._pods("WHERE namespace = ? ORDER BY name", (namespace,))

    def _pods(self, where: str, args: tuple[str, ...]) -> list[PodRecord]:
        with self.lock:
            rows = self.db.execute(f"SELECT uid, namespace, name, manifest, status, runtime, created, updated "
                                   f"FROM pods {where}", args).fetchall()
        return [PodRecord(uid, namespace, name, json.loads(manifest), json.loads(status), json.loads(runtime),
                          created, updated)
                for uid, namespace, name, manifest, status, runtime, created, updated in rows]

    # --- events ------------------------------------------------------------------------------

    def record_event(self, pod_uid: str, type_: str, reason: str, message: str, field_path: str = "") -> None:
        """As the kubelet's recorder: the same event again raises its count and last timestamp."""
        now = time.time()
        with self.transaction():
            row = self.db.execute("SELECT id FROM events WHERE pod_uid = ? AND type = ? AND reason = ? AND "
                                  "message = ? AND field_path = ?",
                                  (pod_uid, type_, reason, message, field_path)).fetchone()
            if row is None:
                self.db.execute("INSERT INTO events (pod_uid, type, reason, message, first, last, count, field_path) "
                                "VALUES (?, ?, ?, ?, ?, ?, 1, ?)", (pod_uid, type_, reason, message, now, now,
                                                                    field_path))
            else:
                self.db.execute("UPDATE events SET last = ?, count = count + 1 WHERE id = ?", (now, row[0]))

    def events(self, pod_uid: str | None = None) -> list[Event]:
        """An object's events (a pod's, a workload's, the node's), or everyone's; the oldest first."""
        where, args = ("WHERE pod_uid = ?", (pod_uid,)) if pod_uid is not None else ("", ())
        with self.lock:
            rows = self.db.execute("SELECT pod_uid, type, reason, message, first, last, count, field_path FROM events "
                                   f"{where} ORDER BY last, id", args).fetchall()
        return [Event(*row) for row in rows]


def _statements(script: str) -> list[str]:
    """The schema's statements, one by one (executescript would commit our transaction)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [statement.strip() for statement in "\n".join(lines).split(";") if statement.strip()]
