"""What every part of the history store shares: the one SQLite connection behind one lock, transactions, the
clock, and the lookups each part needs (projects by name, jobs by id)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .db import transaction, utc_timestamp
from .files import ImageFiles

_SECRET_KEY_WORDS = ("api_key", "apikey", "secret", "token", "password")
_SECRET_VALUE_RE = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}|\bBearer\s+[A-Za-z0-9_\-.]{16,}", re.IGNORECASE)


def redact_secrets(text: str) -> str:
    """``text`` with anything shaped like an API key or bearer token replaced, for errors kept in history."""
    return _SECRET_VALUE_RE.sub("[hidden]", text)


def _check_not_secret(key: str, value: Any) -> None:
    if any(word in key.lower() for word in _SECRET_KEY_WORDS):
        raise ValueError(f"The setting '{key}' looks like a secret; API keys belong in the system keyring.")
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and _SECRET_VALUE_RE.search(item):
            raise ValueError(f"The value for '{key}' looks like an API key; API keys belong in the system keyring.")
        if isinstance(item, Mapping):
            for sub_key, sub_value in item.items():
                if any(word in str(sub_key).lower() for word in _SECRET_KEY_WORDS):
                    raise ValueError(f"The setting '{key}' contains a secret; API keys belong in the system keyring.")
                stack.append(sub_value)
        elif isinstance(item, list | tuple):
            stack.extend(item)


class RecordNotFound(LookupError):
    """A job, version or project named in a call does not exist in this history."""


class StoreBase:
    """The connection and its lock; HistoryStore opens them, the parts (projects, jobs, versions) use them."""

    root: Path
    files: ImageFiles
    db_path: Path
    _clock: Callable[[], _dt.datetime]
    _lock: threading.RLock
    _conn: sqlite3.Connection

    def _now(self) -> str:
        return utc_timestamp(self._clock())

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock, transaction(self._conn) as conn:
            yield conn

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Any]:
        """The connection inside one read transaction, so several queries see the same history even while
        another process writes (WAL snapshot). For store modules that read many tables at once (bundles)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[Any]:
        """The connection inside one write transaction, rolled back on any exception. For store modules that
        insert many rows that must land together or not at all (bundles)."""
        with self._tx() as conn:
            yield conn

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def _one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchone()

    def _project_id(self, name: str, create: bool = False) -> int:
        row = self._conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        if row:
            return row["id"]
        if not create:
            raise RecordNotFound(f"There is no project named '{name}'.")
        cur = self._conn.execute("INSERT INTO projects (name, created_at) VALUES (?, ?)", (name, self._now()))
        assert cur.lastrowid is not None  # an INSERT into a rowid table always sets it
        return cur.lastrowid

    def _require_job(self, job_id: str) -> Any:
        row = self._conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise RecordNotFound(f"There is no job {job_id} in the history.")
        return row
