"""The SQLite state store: records, events, atomic concurrent writers, reboots."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from podbay.runtime.state import store as state
from podbay.runtime.state.store import PodRecord, StateError, StateStore


def record(name: str = "web", uid: str = "u1") -> PodRecord:
    return PodRecord(uid, "default", name, {"kind": "Pod"}, {"phase": "Pending"}, {"keeper": 1})


def test_pods_are_added_found_updated_and_removed(tmp_path: Path) -> None:
    db = StateStore(tmp_path / "state.db")
    db.add_pod(record())
    db.add_pod(record("db", "u2"))
    with pytest.raises(StateError, match='pods "web" already exists'):
        db.add_pod(record("web", "u3"))
    db.update("u1", status={"phase": "Running"}, runtime={"keeper": 2})
    again = StateStore(tmp_path / "state.db")  # another connection, as the CLI next to the supervisor
    found = again.pod("default", "web")
    assert found is not None and found.status == {"phase": "Running"} and found.runtime == {"keeper": 2}
    assert [p.name for p in again.pods()] == ["db", "web"] and again.pods("other") == []
    db.remove_pod("u1")
    assert again.pod("default", "web") is None


def test_the_same_event_again_counts_up(tmp_path: Path) -> None:
    db = StateStore(tmp_path / "state.db")
    for _ in range(3):
        db.record_event("u1", "Warning", "BackOff", "Back-off restarting failed container main")
    db.record_event("u1", "Normal", "Started", "Started container main")
    events = db.events("u1")
    assert [(e.reason, e.count) for e in events] == [("BackOff", 3), ("Started", 1)]
    assert events[0].first <= events[0].last


def _count_up(path: str, times: int) -> None:
    db = StateStore(Path(path))
    for _ in range(times):
        db.record_event("u1", "Normal", "Tick", "tick")


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore(path)
    # spawn, not fork: SQLite's locking is not fork-safe once a process has used it (as podbay's processes
    # are started: fork and exec).
    workers = [multiprocessing.get_context("spawn").Process(target=_count_up, args=(str(path), 100)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert [e.count for e in StateStore(path).events("u1")] == [400]


def test_pods_of_an_earlier_boot_are_shown_as_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    boot = tmp_path / "boot_id"
    boot.write_text("first-boot\n")
    monkeypatch.setattr(state, "BOOT_ID", str(boot))
    StateStore(tmp_path / "state.db").add_pod(record())
    assert StateStore(tmp_path / "state.db").pod("default", "web").status == {"phase": "Pending"}  # type: ignore[union-attr]
    boot.write_text("second-boot\n")
    lost = StateStore(tmp_path / "state.db").pod("default", "web")
    assert lost is not None and lost.status["phase"] == "Unknown" and lost.status["reason"] == "NodeRebooted"
    assert lost.runtime == {"folders": []}


def test_a_store_from_a_newer_podbay_is_refused(tmp_path: Path) -> None:
    db = StateStore(tmp_path / "state.db")
    with db.transaction():
        db.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StateError, match="newer podbay"):
        StateStore(tmp_path / "state.db")


def test_events_name_their_container_and_a_schema_1_store_is_upgraded(tmp_path: Path) -> None:
    import sqlite3  # noqa: PLC0415

    path = tmp_path / "state.db"
    old = sqlite3.connect(path)  # the first podbay's store: events without a field path
    old.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "INSERT INTO meta VALUES ('schema', '1');"
                      "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, pod_uid TEXT NOT NULL, "
                      "type TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL, first REAL NOT NULL, "
                      "last REAL NOT NULL, count INTEGER NOT NULL);"
                      "INSERT INTO events (pod_uid, type, reason, message, first, last, count) "
                      "VALUES ('u1', 'Normal', 'Scheduled', 'old', 1, 1, 1);")
    old.close()
    db = StateStore(path)
    db.record_event("u1", "Warning", "Unhealthy", "Liveness probe failed", "spec.containers{web}")
    db.record_event("u1", "Warning", "Unhealthy", "Liveness probe failed", "spec.initContainers{side}")
    events = db.events("u1")
    assert [(e.reason, e.field_path, e.container, e.count) for e in events] == [
        ("Scheduled", "", "", 1), ("Unhealthy", "spec.containers{web}", "web", 1),
        ("Unhealthy", "spec.initContainers{side}", "side", 1)]
    assert db.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == str(state.SCHEMA_VERSION)
