"""The local OpenAI-compatible Images API: an HTTP server on 127.0.0.1 for tests and the app's demo mode.

It answers /v1/images/generations and /v1/images/edits (and Azure deployment paths) with real images,
the real validation and error JSON, SSE streaming and usage, and acts out injected faults.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from ..core.models import MODELS
from . import api_errors as errors
from . import batch_routes, introspection, render, responses
from .api_errors import ApiError
from .batch_faults import BATCH_ENV, settings_from_env
from .batches import BatchService
from .faults import Fault, FaultQueue, fault_error, faults_from_json
from .intake import ImageCall, RecordedRequest, build_call, read_body

FAULTS_ENV = "GPTIMG_DEVSERVER_FAULTS"
VERBOSE_ENV = "GPTIMG_DEVSERVER_VERBOSE"
MAX_BODY_BYTES = 16 * 50 * 1024 * 1024 + 8 * 1024 * 1024  # 16 images under 50 MB, a mask and the fields
MAX_RECORDED = 1000  # demo mode runs for hours; keep the newest requests only
_IMAGE_PATH = re.compile(r"/v1/images/(generations|edits)")
_AZURE_PATH = re.compile(r"/openai/deployments/([^/]+)/images/(generations|edits)")
_MODEL_PATH = re.compile(r"/v1/models/([^/]+)")
_MODEL_CREATED = int(_dt.datetime(2026, 4, 21, tzinfo=_dt.UTC).timestamp())
HTML_GATEWAY_ERROR = b"<html>502 Bad Gateway</html>"


def _verbose() -> bool:
    return bool(os.environ.get(VERBOSE_ENV))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Abort(Exception):
    """Stop answering now and close the connection (client gone, server stopping, cut on purpose)."""


class _Handled(Exception):
    """The answer has been sent in full; nothing more to do for this request."""


class DevServer:
    """The Images API on a loopback port, serving from a background thread.

    ``delay`` is the simulated work per image in seconds (split across partial images when
    streaming). Push ``Fault``s on ``faults``; every request lands in ``requests``, with the bytes of its
    uploaded files unless ``keep_uploads`` is off (demo mode: hours of 4K edits would pile up in memory).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, delay: float = 0.35, allow_transparent: bool = False,
        keep_uploads: bool = True, listen_socket: socket.socket | None = None,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(
                f"The dev server only listens on this computer (127.0.0.1, ::1 or localhost); '{host}' is not allowed."
            )
        self.host = host
        self.delay = delay
        self.allow_transparent = allow_transparent  # the account has the transparent-background preview
        self.keep_uploads = keep_uploads
        self.faults = FaultQueue()
        self.requests: list[RecordedRequest] = []
        self._requested_port = port
        self._listen_socket = listen_socket  # already bound and listening (a parent process chose the port)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self.batches = BatchService(self._stopping, settings_from_env(os.environ.get(BATCH_ENV)))  # Files + Batch API
        self.batches.allow_transparent = allow_transparent

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Listen and serve in a daemon thread; returns once the port accepts connections."""
        if self._httpd is not None:
            return
        env_faults = os.environ.get(FAULTS_ENV)
        if env_faults:
            try:
                self.faults.extend(faults_from_json(env_faults))
            except ValueError as exc:
                raise ValueError(f"{FAULTS_ENV} is not a valid list of faults: {exc}") from None
        self._stopping.clear()
        server_class = _HTTPServer6 if ":" in self.host else _HTTPServer
        if self._listen_socket is not None:
            httpd = server_class((self.host, self._requested_port), _Handler, bind_and_activate=False)
            httpd.socket.close()
            httpd.socket, self._listen_socket = self._listen_socket, None
            httpd.server_address = httpd.socket.getsockname()[:2]
        else:
            httpd = server_class((self.host, self._requested_port), _Handler)
        httpd.dev = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="gptimg-devserver", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, end open connections (and any simulated work) and free the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        if self._httpd is None:
            return self._requested_port
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT``: where /health and /__faults live."""
        return server_root(self.host, self.port)

    @property
    def url(self) -> str:
        """The base URL for an OpenAI client: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.root}/v1"

    def __repr__(self) -> str:
        return f"DevServer({self.root}, delay={self.delay})"

    # ------------------------------------------------------------------ for the handler
    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            if len(self.requests) > MAX_RECORDED:
                del self.requests[: MAX_RECORDED // 2]

    def wait(self, seconds: float) -> None:
        """Simulated work; raises _Abort when the server stops meanwhile."""
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Abort
        if self._stopping.is_set():
            raise _Abort

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    dev: DevServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client disconnects and the like are normal for a test server; stay quiet unless asked.
        if _verbose():
            super().handle_error(request, client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


_LEAN_CHARS = 4096  # longer strings in a recorded JSON body (data-URL images) are replaced by their length


def _lean(value: Any) -> Any:
    """A recorded JSON body without its megabytes: every parameter is kept, long strings become "<N chars>"."""
    if isinstance(value, str):
        return value if len(value) <= _LEAN_CHARS else f"<{len(value)} chars>"
    if isinstance(value, dict):
        return {k: _lean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lean(v) for v in value]
    return value


def server_root(host: str, port: int) -> str:
    """``http://HOST:PORT`` for a local server, with an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gptimg-devserver/1.0"
    timeout = 120  # idle keep-alive connections end after this
    server: _HTTPServer  # pyright: ignore[reportIncompatibleVariableOverride]  (socketserver sets it to ours)

    def setup(self) -> None:
        super().setup()
        self.request_id = ""
        self.started = time.monotonic()
        self.server.dev.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.dev.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        if _verbose():
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self) -> None:
        self.request_id = "req_" + secrets.token_hex(16)
        self.started = time.monotonic()
        self.headers_sent = False
        split = urlsplit(self.path)
        record = RecordedRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        self.server.dev.record(record)
        try:
            body = self._read_body()
            self._route(record, body)
        except ApiError as exc:
            self._send_api_error(exc)
        except _Handled:
            pass
        except (_Abort, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - a bug must answer 500, never kill the server thread
            if _verbose():
                traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self.headers_sent:
                try:
                    self._send_api_error(ApiError(500, "The local server hit an internal error.", type="server_error"))
                except OSError:
                    pass
        finally:
            if not self.server.dev.keep_uploads:  # keep what was sent, not the megabytes
                record.files = [(name, filename, ctype, b"") for name, filename, ctype, _ in record.files]
                record.json = _lean(record.json)

    def _route(self, record: RecordedRequest, body: bytes) -> None:
        path, method = record.path, self.command
        image = _IMAGE_PATH.fullmatch(path)
        azure = _AZURE_PATH.fullmatch(path)
        if image and method == "POST":
            return self._images(record, body, image.group(1))
        if azure and method == "POST":
            return self._images(record, body, azure.group(2), deployment=azure.group(1))
        if method == "GET" and (path == "/v1/models" or _MODEL_PATH.fullmatch(path)):
            return self._models(record, path)
        if method == "GET" and path == "/health":
            return self._send_bytes(200, b"ok", "text/plain; charset=utf-8")
        if path == "/__requests" and method == "GET":
            return self._send_json(200, introspection.requests_payload(list(self.server.dev.requests)))
        if batch_routes.handles(path):
            return batch_routes.route(self, record, body)
        if path == "/__faults" and method in ("GET", "POST", "DELETE"):
            return self._fault_control(method, body)
        raise errors.invalid_url(method, path)

    # ------------------------------------------------------------------ endpoints
    def _images(self, record: RecordedRequest, body: bytes, endpoint: str, deployment: str | None = None) -> None:
        dev = self.server.dev
        if deployment is not None and not record.query.get("api-version"):
            raise errors.missing_api_version()
        api_key = self._api_key(record, azure=deployment is not None)
        read_body(record, body)
        fault = dev.faults.take(endpoint)
        model = _model_hint(record, deployment)
        fault = self._act_early(fault, model, api_key)
        call = build_call(record, endpoint, deployment, dev.allow_transparent)
        if fault is not None and fault.kind == "moderation":
            raise self._fault_error(fault, model, api_key)
        if call.request.stream and (fault is None or fault.kind == "cut_stream"):
            return self._stream(call, fault)
        # A truncated answer is a cut-off JSON body even for a stream request (a proxy gave up).
        b64_images = []
        for index in range(call.request.n):
            dev.wait(dev.delay)
            b64_images.append(responses.encode_b64(call, responses.render_image(call, index)))
        self._send_json(200, responses.images_response(call, b64_images), fault)

    def _act_early(self, fault: Fault | None, model: str, api_key: str) -> Fault | None:
        """Act out faults that answer instead of the model; return the fault if it acts on the answer."""
        if fault is None:
            return None
        if fault.kind == "slow":
            self.server.dev.wait(fault.delay)
            return None
        if fault.kind == "non_json":
            self._send_json(200, None, fault)
            raise _Handled
        if fault.kind in ("moderation", "cut_stream", "truncated"):
            return fault
        raise self._fault_error(fault, model, api_key)

    def _fault_error(self, fault: Fault, model: str, api_key: str) -> ApiError:
        error = fault_error(fault, model=model, request_id=self.request_id, api_key=api_key)
        if error is None:  # a kind acted out elsewhere reached here: a bug in this module
            raise RuntimeError(f"fault kind {fault.kind!r} has no error answer")
        return error

    def _stream(self, call: ImageCall, cut: Fault | None) -> None:
        """Server-sent events: partial images then a completed event per image, chunked, then close."""
        dev = self.server.dev
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self._common_headers()
        self.end_headers()
        self.headers_sent = True
        self.close_connection = True
        partials = call.request.partial_images
        step = dev.delay / (partials + 1)
        sent = 0
        for index in range(call.request.n):
            final = responses.render_image(call, index)
            sent_here = 0
            for partial_index, frame in enumerate(render.partials(final, partials)):
                dev.wait(step)
                if cut is not None and sent >= cut.after_partials:
                    raise _Abort  # no terminating chunk: the client sees an incomplete body
                self._write_event(*responses.partial_event(call, responses.encode_b64(call, frame), partial_index))
                sent += 1
                sent_here += 1
            dev.wait(step)
            if cut is not None:
                raise _Abort
            usage = responses.usage(call, 1, sent_here, with_input=index == 0)
            self._write_event(*responses.completed_event(call, responses.encode_b64(call, final), usage))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _models(self, record: RecordedRequest, path: str) -> None:
        api_key = self._api_key(record, azure=False)
        fault = self.server.dev.faults.take("models")
        fault = self._act_early(fault, "gpt-image-2", api_key)
        listing = [_model_entry(name, spec) for spec in MODELS if not spec.is_shut_down() for name in spec.names()]
        if path == "/v1/models":
            payload: dict[str, Any] = {"object": "list", "data": listing}
        else:
            wanted = path.rsplit("/", 1)[1]
            found = [entry for entry in listing if entry["id"] == wanted]
            if not found:
                raise errors.model_not_found(wanted)
            payload = found[0]
        self._send_json(200, payload, fault)

    def _fault_control(self, method: str, body: bytes) -> None:
        queue = self.server.dev.faults
        if method == "POST":
            try:
                new = faults_from_json(body or b"[]")
            except ValueError as exc:
                raise errors.invalid_value(str(exc), None) from None
            queue.extend(new)
            return self._send_json(200, {"queued": len(new), "pending": len(queue)})
        if method == "DELETE":
            return self._send_json(200, {"cleared": queue.clear()})
        return self._send_json(200, {"pending": [fault.to_dict() for fault in queue.pending()]})

    # ------------------------------------------------------------------ request helpers
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("content-length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "The Content-Length header is not a number.") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would be taken for the next request
            raise errors.too_large(MAX_BODY_BYTES)
        body = self.rfile.read(length)
        if len(body) < length:
            raise _Abort  # the client went away mid-upload
        return body

    def _read_chunked(self) -> bytes:
        chunks = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise ApiError(400, "Malformed chunked request body.") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise errors.too_large(MAX_BODY_BYTES)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(16)

    def _api_key(self, record: RecordedRequest, azure: bool) -> str:
        auth = record.headers.get("authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not key and azure:
            key = record.headers.get("api-key", "").strip()
        if not key:
            raise errors.missing_key()
        if key.startswith("sk-invalid"):
            raise errors.invalid_key(key)
        return key

    # ------------------------------------------------------------------ response helpers
    def _common_headers(self, extra: dict[str, str] | None = None) -> None:
        self.send_header("x-request-id", self.request_id or "req_" + secrets.token_hex(16))
        self.send_header("openai-version", "2020-10-01")
        self.send_header("openai-processing-ms", str(int((time.monotonic() - self.started) * 1000)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)

    def _send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        sent: int | None = None,
    ) -> None:
        """Send a complete response; ``sent`` bytes only (with the full Content-Length) to cut it off."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._common_headers(headers)
        self.end_headers()
        self.headers_sent = True
        self.wfile.write(body if sent is None else body[:sent])
        self.wfile.flush()
        if sent is not None:
            raise _Abort

    def _send_json(self, status: int, payload: Any, fault: Fault | None = None) -> None:
        body = json.dumps(payload).encode()
        kind = fault.kind if fault else None
        fault_status = (fault.status if fault else None) or 200
        if kind == "non_json":
            return self._send_bytes(fault_status, HTML_GATEWAY_ERROR, "text/html; charset=utf-8")
        if kind == "truncated":
            return self._send_bytes(fault_status, body[: max(1, len(body) // 2)], "application/json")
        if kind == "cut_stream":
            return self._send_bytes(status, body, "application/json", sent=len(body) // 2)
        return self._send_bytes(status, body, "application/json")

    def _send_api_error(self, error: ApiError) -> None:
        self._send_bytes(error.status, json.dumps(error.body()).encode(), "application/json", error.headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base class's errors (bad request line, oversized headers) in the API's JSON shape."""
        self.close_connection = True
        self.headers_sent = getattr(self, "headers_sent", False)
        # An unparsable request line leaves the version at HTTP/0.9, which has no status line; answer as 1.1.
        self.request_version = "HTTP/1.1"
        try:
            self._send_api_error(ApiError(code, message or explain or "Bad request."))
        except _Abort:
            pass

    def _write_event(self, name: str, payload: dict[str, Any]) -> None:
        pieces = responses.event_bytes(name, payload)  # no 20 MB json.dumps or copy: see responses.py
        self.wfile.write(b"%x\r\n" % sum(len(p) for p in pieces))
        for piece in pieces:
            self.wfile.write(piece)
        self.wfile.write(b"\r\n")
        self.wfile.flush()


def _model_hint(record: RecordedRequest, deployment: str | None) -> str:
    """The model a request names, for fault messages, without validating anything."""
    value = (record.json or {}).get("model") if record.json is not None else record.fields.get("model")
    if isinstance(value, list):
        value = value[-1]
    return value if isinstance(value, str) and value else deployment or "gpt-image-2"


def _model_entry(name: str, spec: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": name, "object": "model", "created": _MODEL_CREATED, "owned_by": "system"}
    if spec.shutdown is not None:
        entry["shutdown_date"] = spec.shutdown.isoformat()
    return entry


def serve_forever(
    port: int,
    host: str = "127.0.0.1",
    delay: float = 0.35,
    *,
    allow_transparent: bool = False,
    faults: list[Fault] | None = None,
) -> None:
    """Run the dev server in the foreground (``gptimg serve``): print the URL once, stop on Ctrl+C."""
    server = DevServer(host=host, port=port, delay=delay, allow_transparent=allow_transparent)
    server.start()
    server.faults.extend(faults or [])
    print(f"gptimg dev server at {server.url} (any API key works, e.g. 'demo'); press Ctrl+C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
