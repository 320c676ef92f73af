"""``GET /__requests``: what the server has received, for a test or tool in another process to inspect.

The listing leaves out headers (they hold the API key), uploaded bytes and the server's own ``/__`` paths.
``recorded_requests()`` turns it back into RecordedRequest values.
"""

from __future__ import annotations

from typing import Any

from .intake import RecordedRequest


def requests_payload(records: list[RecordedRequest]) -> list[dict[str, Any]]:
    return [
        {
            "method": r.method,
            "path": r.path,
            "query": r.query,
            "fields": r.fields,
            "files": [[name, filename, ctype] for name, filename, ctype, _data in r.files],
            "json": r.json,
        }
        for r in records
        if not r.path.startswith("/__")
    ]


def recorded_requests(payload: list[dict[str, Any]]) -> list[RecordedRequest]:
    return [
        RecordedRequest(
            method=item["method"],
            path=item["path"],
            query=dict(item.get("query") or {}),
            fields=dict(item.get("fields") or {}),
            files=[(name, filename, ctype, b"") for name, filename, ctype in item.get("files") or []],
            json=item.get("json"),
        )
        for item in payload
    ]
