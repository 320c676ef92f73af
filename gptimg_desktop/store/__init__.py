"""Local persistence: the SQLite history (jobs, versions, ledger, projects, settings) and content-addressed files."""

from __future__ import annotations

from .db import DatabaseTooNew, HistoryConnection, open_db, utc_timestamp
from .files import ImageFiles, atomic_write, sniff_ext
from .history import (
    DEFAULT_PROJECT,
    HistoryStore,
    InputFile,
    Job,
    JobInputs,
    Project,
    RecordNotFound,
    UsageTotals,
    Version,
    redact_secrets,
    version_to_json,
)
from .paths import config_dir, data_dir, exports_dir, logs_dir, prepare_data_dir

__all__ = [
    "DEFAULT_PROJECT",
    "DatabaseTooNew",
    "HistoryConnection",
    "HistoryStore",
    "ImageFiles",
    "InputFile",
    "Job",
    "JobInputs",
    "Project",
    "RecordNotFound",
    "UsageTotals",
    "Version",
    "atomic_write",
    "config_dir",
    "data_dir",
    "exports_dir",
    "logs_dir",
    "open_db",
    "prepare_data_dir",
    "redact_secrets",
    "sniff_ext",
    "utc_timestamp",
    "version_to_json",
]
