"""Proofing a picture or a stored version end to end: read its text (cached per version), compare, record.

Qt-free, so the CLI calls it directly and the editor runs it on a worker thread after a result arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from ..core.errors import InputImageError
from ..core.images import decode_image
from ..core.proofing import ProofReport, Reading, compare, expected_from_prompt
from ..ocr.engine import OcrEngine, shared_engine
from ..store import proofs
from ..store.history import HistoryStore
from ..store.records import Version


class ProofFailed(RuntimeError):
    """A proof could not be made (missing or unreadable image, OCR runtime broken); the message says what to do."""


def read_image_text(image: Image.Image, mode: str = "full", engine: OcrEngine | None = None) -> list[Reading]:
    return (engine or shared_engine()).read(image, mode)


def proof_file(path: Path, expected: Sequence[str], strict: bool = False, mode: str = "full",
               engine: OcrEngine | None = None) -> ProofReport:
    image = _open(path)
    return compare(list(expected), read_image_text(image, mode, engine), strict)


def version_readings(store: HistoryStore, version: Version, mode: str = "full",
                     engine: OcrEngine | None = None) -> list[Reading]:
    """What the OCR reads in a version, from the cache when this engine read it before."""
    engine = engine or shared_engine()
    engine_id = engine.engine_id(mode)
    cached = proofs.cached_readings(store, version.id, engine_id)
    if cached is not None:
        return cached
    readings = engine.read(_open(version.path), mode)
    proofs.save_readings(store, version.id, engine_id, readings)
    return readings


def proof_version(store: HistoryStore, version_id: str, expected: Sequence[str] | None = None,
                  strict: bool = False, mode: str = "full", engine: OcrEngine | None = None) -> ProofReport:
    """Proof a stored version; without ``expected``, the quoted text of its prompt. The result is recorded."""
    version = store.get_version(version_id)
    if version is None:
        raise ProofFailed(f"No version '{version_id}' in the history.")
    lines = list(expected) if expected is not None else expected_from_prompt(version.prompt)
    report = compare(lines, version_readings(store, version, mode, engine), strict)
    proofs.save_proof(store, version.id, report)
    return report


def _open(path: Path) -> Image.Image:
    if not Path(path).is_file():
        raise ProofFailed(f"{path}: no such image file.")
    try:
        return decode_image(Path(path).read_bytes(), Path(path).name)
    except InputImageError as exc:  # bombs, damaged files, non-images: one sentence each
        raise ProofFailed(str(exc)) from None
    except OSError as exc:
        raise ProofFailed(f"{path} could not be read ({exc.strerror or exc}).") from None
