"""A hostile Images API on 127.0.0.1 for the tests: it answers each request with exactly the bytes a test
scripts (lying headers, trickled bodies, crafted JSON), so the client is tested the way a broken network or an
attacker would test it."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from PIL import Image

Handler = Callable[[socket.socket, bytes], None]


class HostileServer:
    """Accepts connections on 127.0.0.1; each request (headers and body read whole) goes to ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = _read_request(conn)
                self.requests.append(request)
                self.handler(conn, request)
            except OSError:
                pass  # the client hung up: that is what many tests want


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def response(status: int, body: bytes, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"content-type: {content_type}", f"content-length: {len(body)}",
             "connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def send(payload: bytes, **kwargs: Any) -> Handler:
    """A handler that answers every request with ``response(...)`` of ``payload``."""
    status = kwargs.pop("status", 200)

    def handle(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(response(status, payload, **kwargs))

    return handle


def png(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 40, 40), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


def images_body(images: list[bytes], usage: dict | None | str = "default", **extra: Any) -> bytes:
    """A JSON ImagesResponse with ``images`` as base64; ``usage`` "default" is a plausible small usage."""
    payload: dict[str, Any] = {"created": int(time.time()),
                               "data": [{"b64_json": base64.b64encode(i).decode()} for i in images]}
    if usage == "default":
        payload["usage"] = {"input_tokens": 20, "output_tokens": 4000, "total_tokens": 4020,
                            "input_tokens_details": {"text_tokens": 20, "image_tokens": 0},
                            "output_tokens_details": {"image_tokens": 4000, "text_tokens": 0}}
    elif usage is not None:
        payload["usage"] = usage
    payload.update(extra)
    return json.dumps(payload).encode()


def sse(events: list[dict]) -> bytes:
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
