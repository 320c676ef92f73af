"""Opening history.db: pragmas, migrations, and recovery from a damaged file."""

from __future__ import annotations

import os
import sqlite3

import pytest

from gptimg_desktop.store import db
from gptimg_desktop.store.db import DatabaseTooNew, open_db, utc_timestamp


def _tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_new_database_is_migrated_and_configured(tmp_path):
    conn = open_db(tmp_path / "history.db")
    try:
        assert conn.recovered_from is None
        assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION >= 1
        assert {"projects", "jobs", "versions", "ledger", "settings"} <= _tables(conn)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        row = conn.execute("SELECT name FROM projects").fetchone()
        assert row["name"] == "Default"  # rows are sqlite3.Row
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"versions_created", "versions_parent", "versions_project", "jobs_status"} <= indexes
    finally:
        conn.close()


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "history.db"
    conn = open_db(path)
    conn.execute("INSERT INTO settings (key, value_json) VALUES ('theme', '\"dark\"')")
    conn.close()

    conn = open_db(path)
    try:
        assert conn.execute("SELECT value_json FROM settings").fetchone()[0] == '"dark"'
        assert conn.execute("SELECT COUNT(*) FROM projects").fetchone()[0] == 1
    finally:
        conn.close()


def test_a_failing_migration_leaves_the_database_at_its_old_version(tmp_path, monkeypatch):
    path = tmp_path / "history.db"
    open_db(path).close()

    def broken_v2(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("bug in migration")

    current = db.SCHEMA_VERSION
    monkeypatch.setattr(db, "MIGRATIONS", [*db.MIGRATIONS, broken_v2])
    monkeypatch.setattr(db, "SCHEMA_VERSION", current + 1)
    with pytest.raises(RuntimeError, match="bug in migration"):
        open_db(path)

    monkeypatch.undo()
    conn = open_db(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == current
        assert "half_done" not in _tables(conn)
        assert conn.recovered_from is None
    finally:
        conn.close()


def test_a_database_from_a_newer_app_is_refused_not_replaced(tmp_path):
    path = tmp_path / "history.db"
    conn = open_db(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()

    with pytest.raises(DatabaseTooNew, match="update the app"):
        open_db(path)
    assert (tmp_path / "history.db").exists()
    assert not [name for name in os.listdir(tmp_path) if "damaged" in name]


def test_garbage_file_is_moved_aside_with_its_wal_and_a_fresh_database_opened(tmp_path):
    path = tmp_path / "history.db"
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    (tmp_path / "history.db-wal").write_bytes(b"old wal")

    conn = open_db(path)
    try:
        backup = conn.recovered_from
        assert backup is not None and backup.name.startswith("history.db.damaged-")
        assert backup.read_bytes() == garbage
        assert backup.with_name(backup.name + "-wal").read_bytes() == b"old wal"
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT name FROM projects").fetchone()[0] == "Default"
    finally:
        conn.close()


def test_a_database_with_damaged_pages_is_recovered(tmp_path):
    path = tmp_path / "history.db"
    conn = open_db(path)
    conn.executemany(
        "INSERT INTO settings (key, value_json) VALUES (?, ?)", [(f"k{i}", '"' + "x" * 200 + '"') for i in range(2000)]
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with open(path, "r+b") as f:
        f.seek(4096 * 3)
        f.write(b"\xa5" * 4096 * 4)

    conn = open_db(path)
    try:
        assert conn.recovered_from is not None and conn.recovered_from.exists()
        assert conn.execute("SELECT COUNT(*) FROM settings").fetchone()[0] == 0
    finally:
        conn.close()


def test_only_corruption_codes_count_as_damage():
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5
    not_a_db = sqlite3.DatabaseError("file is not a database")
    not_a_db.sqlite_errorcode = 26
    corrupt_vtab = sqlite3.DatabaseError("malformed")
    corrupt_vtab.sqlite_errorcode = 11 | (1 << 8)

    assert not db._is_damage(locked)
    assert db._is_damage(not_a_db)
    assert db._is_damage(corrupt_vtab)


def test_timestamps_are_utc_with_milliseconds_and_sort_in_time_order():
    import datetime as dt

    early = dt.datetime(2026, 5, 1, 9, 30, 0, 125_999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    late = early + dt.timedelta(milliseconds=1)

    assert utc_timestamp(early) == "2026-05-01T07:30:00.125Z"
    assert utc_timestamp(early) < utc_timestamp(late)
