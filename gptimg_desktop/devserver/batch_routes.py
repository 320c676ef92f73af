"""HTTP endpoints of the local Files and Batch APIs, answered with the real shapes and error JSON.

``POST /v1/files`` (multipart ``purpose`` + ``file``), ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``,
``POST /v1/batches``, ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, ``GET /v1/batches?limit=&after=``,
and ``GET|POST /__batches`` to read or change the speed and batch faults (see batch_faults.py).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..core.batch_format import BATCH_ENDPOINTS, MAX_INPUT_FILE_BYTES
from . import api_errors as errors
from .api_errors import ApiError
from .intake import RecordedRequest, read_body

if TYPE_CHECKING:
    from .batches import BatchService

FILE_PURPOSES = ("batch", "vision", "user_data", "assistants", "fine-tune", "evals")
_FILE = re.compile(r"/v1/files/([^/]+)")
_FILE_CONTENT = re.compile(r"/v1/files/([^/]+)/content")
_BATCH = re.compile(r"/v1/batches/([^/]+)")
_BATCH_CANCEL = re.compile(r"/v1/batches/([^/]+)/cancel")
_CREATE_KEYS = {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"}


def handles(path: str) -> bool:
    return path in ("/v1/files", "/v1/batches", "/__batches") or path.startswith(("/v1/files/", "/v1/batches/"))


def route(handler: Any, record: RecordedRequest, body: bytes) -> None:
    """Answer one request through ``handler`` (the server's request handler); ApiError for failures."""
    service: BatchService = handler.server.dev.batches
    method, path = handler.command, record.path
    if path == "/__batches":
        return _control(handler, service, method, body)
    api_key = handler._api_key(record, azure=False)
    handler._act_early(handler.server.dev.faults.take("batches"), "gpt-image-2", api_key)
    if path == "/v1/files" and method == "POST":
        return handler._send_json(200, _upload(service, record, body).to_dict())
    if method == "GET" and (match := _FILE_CONTENT.fullmatch(path)):
        stored = service.get_file(match.group(1))
        return handler._send_bytes(200, stored.data, "application/octet-stream")
    if method == "GET" and (match := _FILE.fullmatch(path)):
        return handler._send_json(200, service.get_file(match.group(1)).to_dict())
    if path == "/v1/batches" and method == "POST":
        return handler._send_json(200, _create(service, record, body))
    if path == "/v1/batches" and method == "GET":
        return handler._send_json(200, service.listing(_limit(record.query.get("limit")), record.query.get("after")))
    if method == "POST" and (match := _BATCH_CANCEL.fullmatch(path)):
        return handler._send_json(200, service.cancel(match.group(1)))
    if method == "GET" and (match := _BATCH.fullmatch(path)):
        return handler._send_json(200, service.snapshot(service.get(match.group(1))))
    raise errors.invalid_url(method, path)


def _upload(service: BatchService, record: RecordedRequest, body: bytes) -> Any:
    if not record.is_multipart:
        raise ApiError(400, "Uploads must be multipart/form-data with the fields 'purpose' and 'file'.")
    read_body(record, body)
    purpose = record.fields.get("purpose")
    if isinstance(purpose, list):
        purpose = purpose[-1]
    if not purpose:
        raise errors.missing_parameter("purpose")
    if purpose not in FILE_PURPOSES:
        raise errors.invalid_value(f"Invalid value for 'purpose': '{purpose}'. Supported values are: "
                                   f"{', '.join(repr(p) for p in FILE_PURPOSES)}.", "purpose")
    files = [f for f in record.files if f[0] == "file"]
    if not files:
        raise errors.missing_parameter("file")
    _name, filename, _ctype, data = files[-1]
    if purpose == "batch":
        if not filename.lower().endswith(".jsonl"):
            raise errors.invalid_value("A file for purpose 'batch' must be a .jsonl file.", "file")
        if len(data) > MAX_INPUT_FILE_BYTES:
            raise errors.invalid_value("A batch input file holds at most 200 MB.", "file")
    return service.add_file(filename, purpose, data)


def _create(service: BatchService, record: RecordedRequest, body: bytes) -> dict[str, Any]:
    read_body(record, body)
    data = record.json
    if data is None:
        raise errors.bad_json()
    for name in data:
        if name not in _CREATE_KEYS:
            raise errors.unknown_parameter(name)
    for name in ("input_file_id", "endpoint", "completion_window"):
        if data.get(name) is None:
            raise errors.missing_parameter(name)
        if not isinstance(data[name], str):
            raise errors.invalid_type(name, "a string", data[name])
    if data["endpoint"] not in BATCH_ENDPOINTS:
        raise errors.invalid_value(f"Invalid value for 'endpoint': '{data['endpoint']}'. This server's batches take "
                                   f"{' or '.join(BATCH_ENDPOINTS)}.", "endpoint")
    if data["completion_window"] != "24h":
        raise errors.invalid_value(f"Invalid value for 'completion_window': '{data['completion_window']}'. "
                                   "Supported values are: '24h'.", "completion_window")
    metadata = data.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise errors.invalid_type("metadata", "an object", metadata)
        if len(metadata) > 16 or any(not isinstance(k, str) or len(k) > 64 for k in metadata) or any(
            not isinstance(v, str) or len(v) > 512 for v in metadata.values()
        ):
            raise errors.invalid_value("Invalid 'metadata': at most 16 pairs, keys up to 64 and string values up to "
                                       "512 characters.", "metadata")
    batch = service.create(data["input_file_id"], data["endpoint"], metadata)
    return service.snapshot(batch)


def _limit(text: str | None) -> int:
    if text is None:
        return 20
    try:
        value = int(text)
    except ValueError:
        raise errors.invalid_value(f"Invalid value for 'limit': '{text}'.", "limit") from None
    if not 1 <= value <= 100:
        raise errors.invalid_value("Invalid value for 'limit': it must be between 1 and 100.", "limit")
    return value


def _control(handler: Any, service: BatchService, method: str, body: bytes) -> None:
    if method == "POST":
        try:
            service.settings.update(json.loads(body or b"{}"))
        except ValueError as exc:  # JSONDecodeError is a ValueError
            raise errors.invalid_value(str(exc), None) from None
    elif method != "GET":
        raise errors.invalid_url(method, "/__batches")
    return handler._send_json(200, service.settings.to_dict())
