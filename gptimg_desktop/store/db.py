"""The SQLite connection for the history: pragmas, schema migrations, and recovery from a damaged file.

Schema changes are appended to MIGRATIONS and never edited, so any older history.db opens and upgrades.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

DB_FILENAME = "history.db"
BUSY_TIMEOUT_MS = 5000
# The two result codes that mean the bytes on disk are not a sound database (extended codes share the low byte).
_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


class HistoryConnection(sqlite3.Connection):
    """A sqlite3 connection that also says whether it replaced a damaged file.

    ``recovered_from`` is the path the damaged database was moved to, or None when it opened normally.
    """

    recovered_from: Path | None = None


class DatabaseTooNew(RuntimeError):
    """history.db was written by a newer version of the app, which this version cannot read safely."""


class StoreUnavailable(RuntimeError):
    """The history can't be opened or written right now; the message is one plain sentence saying what to do."""


def describe_store_error(exc: BaseException, path: Path) -> str | None:
    """One plain sentence for the ways opening or writing the history fails on a real machine, else None."""
    folder = Path(path).parent
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return ("The history database is busy: another gptimg or the editor is writing to it. "
                "Try again in a moment.")
    if Path(path).is_dir():
        return f"{path} is a folder, not a history database; move it aside (or set GPTIMG_HOME) and try again."
    if isinstance(exc, PermissionError) or "readonly" in text or "read-only" in text or (
        isinstance(exc, OSError) and getattr(exc, "errno", None) == 30
    ):
        return (f"The data folder {folder} is read-only, so the history can't be saved; make it writable "
                "or set GPTIMG_HOME to a folder you can write to.")
    if (isinstance(exc, OSError) and getattr(exc, "errno", None) == 28) or "disk is full" in text:
        return f"The disk holding {folder} is full; free some space and try again."
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in text:
        return (f"The history database in {folder} can't be opened; check that the folder exists and that "
                "you can write to it, or set GPTIMG_HOME.")
    return None


def utc_timestamp(moment: _dt.datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds, e.g. 2026-05-01T09:30:00.125Z; strings sort in time order."""
    moment = (moment or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception.

    IMMEDIATE takes the write lock up front, so a second process waits (busy_timeout) instead of
    failing half-way through with "database is locked".
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# ---------------------------------------------------------------------------------------------- migrations


def _migrate_to_v1(conn: sqlite3.Connection) -> None:
    """Projects, jobs, versions, the cost ledger and settings."""
    statements = [
        """CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            budget_credits INTEGER,
            budget_usd REAL
        )""",
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id),
            kind TEXT NOT NULL CHECK (kind IN ('generate', 'edit')),
            model TEXT NOT NULL,
            params_json TEXT NOT NULL DEFAULT '{}',
            prompt TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
            parent_version_id TEXT REFERENCES versions(id) ON DELETE SET NULL,
            input_files_json TEXT NOT NULL DEFAULT '[]',
            mask_file TEXT,
            request_ids_json TEXT NOT NULL DEFAULT '[]',
            error TEXT,
            estimate_json TEXT,
            response_file TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        )""",
        """CREATE TABLE versions (
            id TEXT PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES jobs(id),
            project_id INTEGER NOT NULL REFERENCES projects(id),
            parent_id TEXT REFERENCES versions(id) ON DELETE SET NULL,
            index_in_job INTEGER NOT NULL DEFAULT 0,
            file TEXT NOT NULL,
            format TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            size TEXT NOT NULL,
            quality TEXT,
            model TEXT NOT NULL,
            prompt TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            starred INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            credits INTEGER NOT NULL DEFAULT 0,
            thumb_file TEXT
        )""",
        # Ledger rows outlive the jobs, versions and projects they were for: money spent stays spent.
        """CREATE TABLE ledger (
            id INTEGER PRIMARY KEY,
            job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
            version_id TEXT REFERENCES versions(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            images INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            input_text_tokens INTEGER NOT NULL DEFAULT 0,
            input_image_tokens INTEGER NOT NULL DEFAULT 0,
            output_image_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            credits INTEGER NOT NULL DEFAULT 0,
            project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL
        )""",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL)",
        "CREATE INDEX versions_created ON versions(created_at)",
        "CREATE INDEX versions_parent ON versions(parent_id)",
        # (project_id, created_at) also answers plain project_id lookups and orders a project's history.
        "CREATE INDEX versions_project ON versions(project_id, created_at)",
        "CREATE INDEX versions_job ON versions(job_id)",
        "CREATE INDEX jobs_status ON jobs(status)",
        "CREATE INDEX ledger_created ON ledger(created_at)",
        "CREATE INDEX ledger_project ON ledger(project_id)",
        "CREATE INDEX ledger_job ON ledger(job_id)",
        "CREATE INDEX ledger_version ON ledger(version_id)",
    ]
    for sql in statements:
        conn.execute(sql)
    conn.execute("INSERT INTO projects (name, created_at) VALUES ('Default', ?)", (utc_timestamp(),))


def _migrate_to_v2(conn: sqlite3.Connection) -> None:
    """The process that runs a job (pid + start marker), so a start-up only interrupts jobs of dead processes."""
    conn.execute("ALTER TABLE jobs ADD COLUMN owner_pid INTEGER")
    conn.execute("ALTER TABLE jobs ADD COLUMN owner_started TEXT")


def _migrate_recovery_and_usage_notes(conn: sqlite3.Connection) -> None:
    """How often finishing a saved paid answer was tried and why it was given up; why a cost is not the
    provider's own figure (estimated: the answer had no usage; capped: the usage it reported can't be real)."""
    conn.execute("ALTER TABLE jobs ADD COLUMN recovery_attempts INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE jobs ADD COLUMN recovery_gave_up TEXT")
    conn.execute("ALTER TABLE ledger ADD COLUMN usage_note TEXT")


def _migrate_sets(conn: sqlite3.Connection) -> None:
    """Sets made from one template and brief, and their items (see store/sets.py); new tables only."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS sets (
            id TEXT PRIMARY KEY,
            template_id TEXT NOT NULL,
            template_name TEXT NOT NULL DEFAULT '',
            brief TEXT NOT NULL DEFAULT '',
            project TEXT NOT NULL,
            plan_json TEXT NOT NULL DEFAULT '{}',
            anchor_item TEXT NOT NULL,
            anchor_approved INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS set_items (
            set_id TEXT NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            anchor INTEGER NOT NULL DEFAULT 0,
            kind TEXT NOT NULL DEFAULT 'edit',
            prompt TEXT NOT NULL DEFAULT '',
            size TEXT NOT NULL DEFAULT 'auto',
            quality TEXT NOT NULL DEFAULT 'auto',
            status TEXT NOT NULL DEFAULT 'planned',
            job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
            version_id TEXT REFERENCES versions(id) ON DELETE SET NULL,
            error TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (set_id, item_id)
        )"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS sets_created ON sets(created_at)")
    conn.execute("CREATE INDEX IF NOT EXISTS set_items_version ON set_items(version_id)")


def _migrate_batches(conn: sqlite3.Connection) -> None:
    """Batch API runs (store/batches.py): each batch, each of its lines' link to a job, and ledger rows marked
    with how they were paid for ("batch" at half price). Independent of other migrations."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS batches (
            id TEXT PRIMARY KEY,
            remote_id TEXT UNIQUE,
            endpoint TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'prepared',
            project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
            input_file TEXT NOT NULL,
            input_file_id TEXT,
            output_file_id TEXT,
            error_file_id TEXT,
            requests INTEGER NOT NULL DEFAULT 0,
            completed INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            errors_json TEXT,
            estimate_usd REAL NOT NULL DEFAULT 0,
            estimate_credits INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            submitted_at TEXT,
            finished_at TEXT,
            collected_at TEXT,
            collector_pid INTEGER,
            collector_started TEXT,
            note TEXT
        )"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS batch_lines (
            batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            custom_id TEXT NOT NULL,
            job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
            line_no INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'imported', 'failed', 'expired', 'cancelled', 'resubmitted')),
            message TEXT,
            PRIMARY KEY (batch_id, custom_id)
        )"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS batch_lines_job ON batch_lines(job_id)")
    conn.execute("CREATE INDEX IF NOT EXISTS batches_created ON batches(created_at)")
    if "via" not in {row[1] for row in conn.execute("PRAGMA table_info(ledger)")}:
        conn.execute("ALTER TABLE ledger ADD COLUMN via TEXT")


def _migrate_original_kind(conn: sqlite3.Connection) -> None:
    """Jobs may be of kind 'original': an opened file recorded as a root version, with no request and no cost.

    SQLite can't alter a CHECK constraint; widening it (old rows stay valid) is the documented writable_schema
    edit, done on the table's own SQL so columns other migrations added are kept.
    """
    old = "CHECK (kind IN ('generate', 'edit'))"
    new = "CHECK (kind IN ('generate', 'edit', 'original'))"
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").fetchone()
    if row is None or old not in row[0]:
        return
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'jobs'",
                     (row[0].replace(old, new),))
        conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")


def _migrate_add_proofs(conn: sqlite3.Connection) -> None:
    """Text proofing (issue 15): OCR readings cached per version and engine, and each version's latest proof.
    Independent of other migrations: new tables only, created only if missing."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS ocr_readings (
            version_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            engine TEXT NOT NULL,
            readings_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (version_id, engine)
        )"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS proofs (
            version_id TEXT PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
            expected_json TEXT NOT NULL,
            strict INTEGER NOT NULL DEFAULT 0,
            ok INTEGER NOT NULL,
            problems INTEGER NOT NULL,
            score REAL NOT NULL,
            report_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )


# MIGRATIONS[i] upgrades a database at user_version i to i + 1. Append only.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migrate_to_v1,
    _migrate_to_v2,
    _migrate_original_kind,
    _migrate_recovery_and_usage_notes,
    _migrate_sets,
    _migrate_batches,
    _migrate_add_proofs,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema up to SCHEMA_VERSION, one migration per transaction."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise DatabaseTooNew(
            f"The history was saved by a newer version of gptimg-desktop (schema {current}, this one reads up to "
            f"{SCHEMA_VERSION}); update the app to open it."
        )
    while current < SCHEMA_VERSION:
        with transaction(conn):
            # Re-read inside the write lock: another process may have migrated meanwhile.
            current = schema_version(conn)
            if current >= SCHEMA_VERSION:
                break
            MIGRATIONS[current](conn)
            conn.execute(f"PRAGMA user_version = {current + 1}")
        current += 1


# ---------------------------------------------------------------------------------------------- opening


def open_db(path: Path) -> HistoryConnection:
    """Open (creating if needed) the history database at ``path``, checked, configured and migrated.

    A damaged file is moved aside to ``<name>.damaged-<UTC time>`` (with its -wal/-shm files) and a fresh
    database is created; the returned connection's ``recovered_from`` then names the moved file.
    The connection may be used from any thread, one at a time: callers serialise access with a lock.
    """
    path = Path(path)
    if path.is_dir():
        raise StoreUnavailable(describe_store_error(IsADirectoryError(str(path)), path) or str(path))
    try:
        recovered_from = _move_aside(path) if path.exists() and _is_damaged(path) else None
        _create_private(path)
        conn = _connect(path)
    except (sqlite3.OperationalError, OSError) as exc:
        message = describe_store_error(exc, path)
        if message is None:
            raise
        raise StoreUnavailable(message) from None
    conn.recovered_from = recovered_from
    try:
        conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable except for the last commits on power loss
        conn.execute("PRAGMA foreign_keys = ON")
        conn.row_factory = sqlite3.Row
        migrate(conn)
        for suffix in ("-wal", "-shm"):  # created by SQLite with the umask's mode; the history is private
            _chmod_private(path.with_name(path.name + suffix))
    except BaseException as exc:
        conn.close()
        message = describe_store_error(exc, path) if isinstance(exc, sqlite3.OperationalError | OSError) else None
        if message is not None:
            raise StoreUnavailable(message) from None
        raise
    return conn


def _create_private(path: Path) -> None:
    """Create an empty history.db readable by its owner only (0600) before SQLite opens it; fix an old one."""
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # another process created it first
    _chmod_private(path)


def _chmod_private(path: Path) -> None:
    try:
        if path.exists() and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # not ours to change (e.g. a read-only folder); opening reports what matters


def _is_damaged(path: Path) -> bool:
    """Run PRAGMA quick_check on a read-only connection.

    Read-only, because closing a read-write connection to a damaged file can delete its -wal file,
    which may hold the newest commits; the backup must keep it.
    """
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        return conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError as exc:
        if _is_damage(exc):
            return True
        raise
    finally:
        conn.close()


def _connect(path: Path) -> HistoryConnection:
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,  # transactions are explicit (see transaction())
        check_same_thread=False,
        factory=HistoryConnection,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"could not switch history.db to WAL (got {mode})")
    except BaseException:
        conn.close()
        raise
    return conn


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _DAMAGE_CODES
    # Without a code, only the plain DatabaseError class means damage; OperationalError is "locked", "no disk" ….
    return type(exc) is sqlite3.DatabaseError


def _move_aside(path: Path) -> Path:
    """Rename the damaged database and its WAL/SHM files; return the new name of the main file."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{counter}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    path.replace(target)
    return target
