"""The local Files and Batch APIs' state: uploaded files, and batches that run through the real statuses.

A batch validates its whole input file (JSONL shape, unique ``custom_id``, ``url`` == endpoint, each body through
the Images API's own intake validation) and fails with ``errors.data[]`` when a line is wrong; otherwise a worker
thread runs its lines, writes the output and error files (lines in shuffled order, as the real service may) and
finishes as completed, expired or cancelled. Speed and faults come from ``batch_faults.BatchSettings``.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..core.batch_format import BATCH_ENDPOINTS, MAX_IMAGE_URL_CHARS, MAX_REQUESTS_PER_BATCH
from . import responses
from .api_errors import ApiError
from .batch_faults import BatchFault, BatchSettings
from .intake import RecordedRequest, build_call

EXPIRES_SECONDS = 24 * 3600


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes = field(repr=False)
    created_at: int = field(default_factory=lambda: int(time.time()))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose}


@dataclass
class LineError:
    code: str
    message: str
    param: str | None
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "param": self.param, "line": self.line}


@dataclass
class Batch:
    id: str
    endpoint: str
    input_file_id: str
    metadata: dict[str, str] | None
    faults: list[BatchFault]
    status: str = "validating"
    created_at: int = field(default_factory=lambda: int(time.time()))
    times: dict[str, int | None] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    errors: list[LineError] = field(default_factory=list)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        stamp = self.times.get
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": {"object": "list", "data": [e.to_dict() for e in self.errors]} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "in_progress_at": stamp("in_progress_at"),
            "expires_at": self.created_at + EXPIRES_SECONDS,
            "finalizing_at": stamp("finalizing_at"),
            "completed_at": stamp("completed_at"),
            "failed_at": stamp("failed_at"),
            "expired_at": stamp("expired_at"),
            "cancelling_at": stamp("cancelling_at"),
            "cancelled_at": stamp("cancelled_at"),
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "metadata": self.metadata,
        }


class BatchService:
    """Files and batches of one DevServer. Thread-safe: handler threads and batch workers share it."""

    def __init__(self, stopping: threading.Event, settings: BatchSettings | None = None) -> None:
        self.settings = settings or BatchSettings()
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, Batch] = {}
        self.allow_transparent = False
        self._order: list[str] = []  # batch ids, oldest first
        self._stopping = stopping
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ files
    def add_file(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        stored = StoredFile("file-" + secrets.token_hex(12), filename, purpose, data)
        with self._lock:
            self.files[stored.id] = stored
        return stored

    def get_file(self, file_id: str) -> StoredFile:
        with self._lock:
            stored = self.files.get(file_id)
        if stored is None:
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        return stored

    # ------------------------------------------------------------------ batches
    def create(self, input_file_id: str, endpoint: str, metadata: dict[str, str] | None) -> Batch:
        stored = self.get_file(input_file_id)
        if stored.purpose != "batch":
            raise ApiError(400, f"The file {input_file_id} has purpose '{stored.purpose}'; a batch needs a file "
                                "uploaded with purpose 'batch'.", param="input_file_id", code="invalid_value")
        batch = Batch("batch_" + secrets.token_hex(12), endpoint, input_file_id, metadata, self.settings.take_faults())
        with self._lock:
            self.batches[batch.id] = batch
            self._order.append(batch.id)
        threading.Thread(target=self._run, args=(batch, stored.data), name=f"devserver-{batch.id}", daemon=True).start()
        return batch

    def get(self, batch_id: str) -> Batch:
        with self._lock:
            batch = self.batches.get(batch_id)
        if batch is None:
            raise ApiError(404, f"No batch found with id '{batch_id}'.", param="batch_id")
        return batch

    def snapshot(self, batch: Batch) -> dict[str, Any]:
        with self._lock:
            return batch.to_dict()

    def cancel(self, batch_id: str) -> dict[str, Any]:
        batch = self.get(batch_id)
        with self._lock:
            if batch.status in ("validating", "in_progress"):
                batch.status = "cancelling"
                batch.times["cancelling_at"] = int(time.time())
                batch.cancel_requested.set()
            elif batch.status not in ("cancelling", "cancelled"):
                raise ApiError(400, f"Cannot cancel a batch with status '{batch.status}'.", param="batch_id",
                               code="invalid_state")
            return batch.to_dict()

    def listing(self, limit: int, after: str | None) -> dict[str, Any]:
        with self._lock:
            ids = list(reversed(self._order))
            if after is not None:
                if after not in ids:
                    raise ApiError(404, f"No batch found with id '{after}'.", param="after")
                ids = ids[ids.index(after) + 1 :]
            page = [self.batches[i].to_dict() for i in ids[:limit]]
        return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None, "has_more": len(ids) > limit}

    # ------------------------------------------------------------------ the worker
    def _set(self, batch: Batch, status: str, **counts: int) -> None:
        with self._lock:
            if batch.status == "cancelling" and status not in ("cancelled",):
                return
            batch.status = status
            batch.times[f"{status}_at"] = int(time.time())
            for name, value in counts.items():
                setattr(batch, name, value)

    def _sleep(self, seconds: float, batch: Batch | None = None) -> bool:
        """Wait; True when the server stops (or, with ``batch``, the batch is cancelled) meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            if self._stopping.is_set() or (batch is not None and batch.cancel_requested.is_set()):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 0.02))

    def _run(self, batch: Batch, data: bytes) -> None:
        settings = self.settings
        if self._sleep(settings.validate_seconds) or self._stopping.is_set():
            return
        lines, errors = self.validate(data, batch.endpoint)
        if batch.cancel_requested.is_set():
            return self._finish(batch, [], [self._skipped(line, "batch_cancelled") for line in lines], "cancelled")
        if errors:
            with self._lock:
                batch.errors = errors[:100]
            self._set(batch, "failed")
            return
        self._set(batch, "in_progress", total=len(lines))
        outputs: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        outcome = "completed"
        hold = next((f for f in batch.faults if f.kind == "hold"), None)
        expire = next((f for f in batch.faults if f.kind == "expire"), None)
        for index, line in enumerate(lines):
            done = len(outputs) + len(failures)
            if expire is not None and done >= expire.after_lines:
                outcome = "expired"
            elif hold is not None and done >= hold.after_lines:
                waited = self._sleep(hold.expire_after if hold.expire_after is not None else 1e9, batch)
                if not waited:
                    outcome = "expired"
            if outcome == "expired" or self._sleep(settings.line_seconds, batch):
                break
            record = self._execute(batch, line, index + 1)
            (outputs if record["response"] and record["response"]["status_code"] == 200 else failures).append(record)
            with self._lock:
                batch.completed, batch.failed = len(outputs), len(failures)
        if self._stopping.is_set():
            return
        if batch.cancel_requested.is_set():
            outcome = "cancelled"
        rest = lines[len(outputs) + len(failures) :]
        if outcome != "completed":
            code = "batch_cancelled" if outcome == "cancelled" else "batch_expired"
            failures += [self._skipped(line, code) for line in rest]
        else:
            self._set(batch, "finalizing")
            self._sleep(settings.finalize_seconds)
        self._finish(batch, outputs, failures, outcome)

    def _finish(self, batch: Batch, outputs: list[dict[str, Any]], failures: list[dict[str, Any]], status: str) -> None:
        rng = random.Random(batch.id)  # any order, as the real service: clients must match by custom_id
        rng.shuffle(outputs)
        rng.shuffle(failures)
        output_id = self._write(batch, "output", outputs)
        error_id = self._write(batch, "error", failures)
        with self._lock:
            batch.output_file_id, batch.error_file_id = output_id, error_id
            batch.completed, batch.failed = len(outputs), len(failures)
        self._set(batch, status)

    def _write(self, batch: Batch, kind: str, records: list[dict[str, Any]]) -> str | None:
        if not records:
            return None
        data = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
        return self.add_file(f"{batch.id}_{kind}.jsonl", f"batch_{kind}", data).id

    def _execute(self, batch: Batch, line: dict[str, Any], number: int) -> dict[str, Any]:
        request_id = "req_" + secrets.token_hex(16)
        fault = next((f for f in batch.faults if f.hits(line["custom_id"], number)), None)
        try:
            if fault is not None:
                raise ApiError(fault.status, fault.message, type="image_generation_user_error", code=fault.code)
            call = build_call(self._recorded(line), line["url"].rsplit("/", 1)[1], None, self.allow_transparent)
            b64 = [responses.encode_b64(call, responses.render_image(call, i)) for i in range(call.request.n)]
            response = {"status_code": 200, "request_id": request_id, "body": responses.images_response(call, b64)}
        except ApiError as exc:
            response = {"status_code": exc.status, "request_id": request_id, "body": exc.body()}
        return {"id": "batch_req_" + secrets.token_hex(12), "custom_id": line["custom_id"], "response": response,
                "error": None}

    @staticmethod
    def _skipped(line: dict[str, Any], code: str) -> dict[str, Any]:
        message = ("This request was not executed because the batch was cancelled." if code == "batch_cancelled"
                   else "This request could not be executed before the completion window expired.")
        return {"id": "batch_req_" + secrets.token_hex(12), "custom_id": line["custom_id"], "response": None,
                "error": {"code": code, "message": message}}

    # ------------------------------------------------------------------ validation
    def validate(self, data: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[LineError]]:
        """Every line of an input file checked; the lines, and an error per bad line (1-based numbers)."""
        lines: list[dict[str, Any]] = []
        errors: list[LineError] = []
        seen: set[str] = set()
        raw_lines = data.split(b"\n")
        if raw_lines and raw_lines[-1] == b"":
            raw_lines.pop()
        if not raw_lines:
            return [], [LineError("empty_file", "The input file is empty.", None, 1)]
        if len(raw_lines) > MAX_REQUESTS_PER_BATCH:
            return [], [LineError("too_many_requests", f"A batch takes at most {MAX_REQUESTS_PER_BATCH:,} requests.",
                                  None, MAX_REQUESTS_PER_BATCH + 1)]
        for number, raw in enumerate(raw_lines, start=1):
            try:
                line = self._check_line(raw, number, endpoint, seen)
            except _LineProblem as problem:
                errors.append(LineError(problem.code, problem.message, problem.param, number))
                continue
            lines.append(line)
        return lines, errors

    def _check_line(self, raw: bytes, number: int, endpoint: str, seen: set[str]) -> dict[str, Any]:
        try:
            line = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _LineProblem("invalid_json_line", f"Line {number} is not valid JSON.") from None
        if not isinstance(line, dict):
            raise _LineProblem("invalid_json_line", f"Line {number} is not a JSON object.")
        unknown = sorted(set(line) - {"custom_id", "method", "url", "body"})
        if unknown:
            raise _LineProblem("unknown_parameter", f"Unknown parameter: '{unknown[0]}'.", unknown[0])
        custom_id = line.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            raise _LineProblem("missing_required_parameter", "Each line needs a non-empty string 'custom_id'.",
                               "custom_id")
        if custom_id in seen:
            raise _LineProblem("duplicate_custom_id", f"The custom_id '{custom_id}' is used by more than one line; "
                               "each line needs its own.", "custom_id")
        seen.add(custom_id)
        if line.get("method") != "POST":
            raise _LineProblem("invalid_method", "The method must be 'POST'.", "method")
        if line.get("url") != endpoint:
            raise _LineProblem("mismatched_endpoint", f"The url '{line.get('url')}' does not match the batch's "
                               f"endpoint '{endpoint}'; every line must use it.", "url")
        if not isinstance(line.get("body"), dict):
            raise _LineProblem("missing_required_parameter", "Each line needs a JSON object 'body'.", "body")
        line["body"] = self._resolve_files(line["body"])
        try:
            build_call(self._recorded(line), endpoint.rsplit("/", 1)[1], None, self.allow_transparent)
        except ApiError as exc:
            raise _LineProblem(exc.code or "invalid_request", exc.message, exc.param) from None
        return line

    def _resolve_files(self, body: dict[str, Any]) -> dict[str, Any]:
        """``{"file_id"}`` image references as data URLs of the stored files; long data URLs refused."""
        body = dict(body)
        refs: list[tuple[str, int | None, Any]] = [("images", i, ref) for i, ref in enumerate(body.get("images") or []) if isinstance(body["images"], list)]
        if isinstance(body.get("mask"), dict):
            refs.append(("mask", None, body["mask"]))
        for name, index, ref in refs:
            if not isinstance(ref, dict):
                continue
            param = f"{name}[{index}]" if index is not None else name
            url = ref.get("image_url")
            if isinstance(url, str) and len(url) > MAX_IMAGE_URL_CHARS:
                raise _LineProblem("string_above_max_length", f"Invalid '{param}.image_url': string too long. Expected "
                                   f"a string with maximum length {MAX_IMAGE_URL_CHARS}, but got {len(url)}.",
                                   f"{param}.image_url")
            if set(ref) == {"file_id"} and isinstance(ref["file_id"], str):
                try:
                    stored = self.get_file(ref["file_id"])
                except ApiError:
                    raise _LineProblem("invalid_value", f"Invalid '{param}.file_id': no such file.",
                                       f"{param}.file_id") from None
                resolved = {"image_url": _as_data_url(stored)}
                if index is None:
                    body["mask"] = resolved
                else:
                    body["images"] = [*body["images"][:index], resolved, *body["images"][index + 1 :]]
        return body

    @staticmethod
    def _recorded(line: dict[str, Any]) -> RecordedRequest:
        return RecordedRequest("POST", line["url"], headers={"content-type": "application/json"}, json=line["body"])


class _LineProblem(Exception):
    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


def _as_data_url(stored: StoredFile) -> str:
    import base64

    kind = "png"
    if stored.data[:3] == b"\xff\xd8\xff":
        kind = "jpeg"
    elif stored.data[8:12] == b"WEBP" or re.search(r"\.webp$", stored.filename):
        kind = "webp"
    return f"data:image/{kind};base64," + base64.b64encode(stored.data).decode()


__all__ = ["BATCH_ENDPOINTS", "Batch", "BatchService", "StoredFile"]
