"""Proofing in the editor: proof results as they arrive (off the GUI thread), remember each version's proof,
and turn a proof's wrong lines into a masked edit that fixes them ("Fix text")."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.proofing import expected_from_prompt, fix_region, fix_text_prompt
from ..store import proofs as proof_records
from ..store.history import HistoryStore
from ..store.proofs import ProofSummary
from .background import run_background

log = logging.getLogger("gptimg.editor")


@dataclass(frozen=True)
class FixPlan:
    """A masked edit that corrects the wrong lines: the mask (255 = edit) and the prompt."""

    mask: np.ndarray
    prompt: str
    lines: tuple[str, ...]


class ProofController(QObject):
    """Runs proofs on the thread pool and keeps the latest summary of each version."""

    proofStarted = Signal(str)  # version id
    proofReady = Signal(str, object)  # version id, ProofSummary
    proofFailed = Signal(str, str)  # version id, one sentence

    def __init__(self, store: HistoryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._summaries: dict[str, ProofSummary] = {}
        self._looked_up: set[str] = set()  # versions whose stored proof was read already (found or not)
        self._running: set[str] = set()

    def is_running(self, version_id: str) -> bool:
        return version_id in self._running

    def summary(self, version_id: str | None) -> ProofSummary | None:
        if not version_id:
            return None
        if version_id not in self._summaries and version_id not in self._looked_up:
            self.summaries([version_id])
        return self._summaries.get(version_id)

    def summaries(self, version_ids: list[str]) -> dict[str, ProofSummary]:
        """The stored proofs of these versions; each version is read from the history once (a 10,000-version
        history reloads without 20 queries every time)."""
        missing = [v for v in version_ids if v not in self._summaries and v not in self._looked_up]
        if missing:
            self._summaries.update(proof_records.proof_summaries(self.store, missing))
            self._looked_up.update(missing)
        return {v: self._summaries[v] for v in version_ids if v in self._summaries}

    def should_auto_proof(self, prompt: str) -> bool:
        """A result is proofed by itself when its prompt quotes text it must carry."""
        return bool(expected_from_prompt(prompt))

    def proof(self, version_id: str, expected: list[str] | None = None, strict: bool = False) -> None:
        """Read and check a version's text on a worker thread; proofReady or proofFailed follows."""
        if version_id in self._running:
            return
        self._running.add(version_id)
        self.proofStarted.emit(version_id)
        store = self.store

        def work() -> ProofSummary:
            from ..jobs.proofing import proof_version

            proof_version(store, version_id, expected, strict)
            summary = proof_records.proof_summary(store, version_id)
            if summary is None:
                raise RuntimeError("the proof was not recorded")
            return summary

        run_background(work, lambda result, error: self._done(version_id, result, error))

    def _done(self, version_id: str, summary: ProofSummary | None, error: str) -> None:
        try:
            self._running.discard(version_id)
            if error or summary is None:
                self.proofFailed.emit(version_id, f"Proofing failed: {error or 'no result'}.")
                return
            self._summaries[version_id] = summary
            self.proofReady.emit(version_id, summary)
        except RuntimeError:  # the window closed while the proof ran
            log.debug("proof finished after its controller was deleted")

    @staticmethod
    def fix_plan(summary: ProofSummary, width: int, height: int) -> FixPlan | None:
        """A mask over every wrong line that has a box (padded), and a prompt that spells each right text."""
        mask = np.zeros((height, width), np.uint8)
        prompts: list[str] = []
        lines: list[str] = []
        for line in summary.report.get("lines", []):
            if line.get("ok") or not line.get("box"):
                continue
            x0, y0, x1, y1 = fix_region(tuple(int(v) for v in line["box"][:4]), width, height)  # type: ignore[arg-type]
            mask[y0:y1, x0:x1] = 255
            prompts.append(fix_text_prompt(line["expected"], line.get("found")))
            lines.append(line["expected"])
        if not lines:
            return None
        return FixPlan(mask, "\n".join(prompts), tuple(lines))
