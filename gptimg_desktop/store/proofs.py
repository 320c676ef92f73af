"""Proofing records in the history: OCR readings cached per version (and engine), and each version's latest proof.

OCR is the slow part (seconds), comparing is instant, so readings are kept and a proof against an edited
expected list never reads the picture again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.proofing import ProofReport, Reading
from .history import HistoryStore


@dataclass(frozen=True)
class ProofSummary:
    """What the history badge shows: ✓ when ok, otherwise the number of problems."""

    version_id: str
    ok: bool
    problems: int
    score: float
    expected: tuple[str, ...]
    strict: bool
    report: dict


def cached_readings(store: HistoryStore, version_id: str, engine: str) -> list[Reading] | None:
    row = store._one(
        "SELECT readings_json FROM ocr_readings WHERE version_id = ? AND engine = ?", (version_id, engine)
    )
    if row is None:
        return None
    try:
        return [Reading.from_json(item) for item in json.loads(row["readings_json"])]
    except (ValueError, TypeError, KeyError):  # a damaged cache entry is read again, not trusted
        return None


def save_readings(store: HistoryStore, version_id: str, engine: str, readings: list[Reading]) -> None:
    text = json.dumps([r.to_json() for r in readings], ensure_ascii=False)
    with store.write_transaction() as conn:
        conn.execute(
            "INSERT INTO ocr_readings (version_id, engine, readings_json, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(version_id, engine) DO UPDATE SET readings_json = excluded.readings_json, "
            "created_at = excluded.created_at",
            (version_id, engine, text, store._now()),
        )


def save_proof(store: HistoryStore, version_id: str, report: ProofReport) -> ProofSummary:
    data = report.to_json()
    with store.write_transaction() as conn:
        conn.execute(
            "INSERT INTO proofs (version_id, expected_json, strict, ok, problems, score, report_json, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(version_id) DO UPDATE SET "
            "expected_json = excluded.expected_json, strict = excluded.strict, ok = excluded.ok, "
            "problems = excluded.problems, score = excluded.score, report_json = excluded.report_json, "
            "created_at = excluded.created_at",
            (version_id, json.dumps(list(report.expected), ensure_ascii=False), int(report.strict), int(report.ok),
             report.problems, report.score, json.dumps(data, ensure_ascii=False), store._now()),
        )
    return ProofSummary(version_id, report.ok, report.problems, report.score, report.expected, report.strict, data)


def proof_summary(store: HistoryStore, version_id: str) -> ProofSummary | None:
    return proof_summaries(store, [version_id]).get(version_id)


def proof_summaries(store: HistoryStore, version_ids: list[str]) -> dict[str, ProofSummary]:
    """The latest proof of each of ``version_ids`` that has one (one query, for the history list)."""
    out: dict[str, ProofSummary] = {}
    for start in range(0, len(version_ids), 500):
        chunk = version_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in store._rows(f"SELECT * FROM proofs WHERE version_id IN ({marks})", chunk):
            try:
                report = json.loads(row["report_json"])
                expected = tuple(json.loads(row["expected_json"]))
            except ValueError:
                continue
            out[row["version_id"]] = ProofSummary(row["version_id"], bool(row["ok"]), int(row["problems"]),
                                                  float(row["score"]), expected, bool(row["strict"]), report)
    return out
