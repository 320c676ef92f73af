"""The one way the provider clients open HTTP: an httpx.Client made on first use, with the settings both share.

Building an httpx.Client loads the CA bundle into an SSL context (about 0.1 s), which the window paid at every
launch before a single request; now the first request pays it, on a worker thread.
"""

from __future__ import annotations

import threading

import httpx

CONNECT_TIMEOUT = 10.0


class LazyHttpClient:
    """An httpx.Client built on first ``get()``; thread-safe, and ``close()`` before any use costs nothing."""

    def __init__(self, *, transport: httpx.BaseTransport | None, timeout: float, keepalive: bool = True) -> None:
        self._transport = transport
        self._timeout = timeout
        self._keepalive = keepalive
        self._client: httpx.Client | None = None
        self._closed = False
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                if self._closed:
                    raise RuntimeError("Cannot send a request, as the client has been closed.")
                self._client = httpx.Client(
                    transport=self._transport,
                    timeout=httpx.Timeout(self._timeout, connect=CONNECT_TIMEOUT),
                    # Without keep-alive every request has a fresh connection, so a cancel hook always sees
                    # the socket it must break.
                    limits=httpx.Limits() if self._keepalive else httpx.Limits(max_keepalive_connections=0),
                    # A redirect could carry the api-key header to another host; report it instead.
                    follow_redirects=False,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None:
            client.close()
