"""The local Images API in a process of its own, as demo mode runs it: started and stopped with the app.

Its work (rendering 4K pictures, PNG and base64 encoding) then never shares the editor's interpreter or
memory. The port is free by construction: this process binds a listening socket on port 0 and hands it to
the child, so the URL is known at once and connections wait in the socket's backlog until the child
serves. The child never outlives its parent: it exits when a pipe from the parent closes (which the
kernel does when the parent dies, however it dies) and, on Linux, also through PR_SET_PDEATHSIG.

``faults`` and ``requests`` work as on a DevServer, over the server's /__faults and /__requests.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import socket
import sys
import urllib.request
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Self

from .faults import Fault
from .intake import RecordedRequest
from .introspection import recorded_requests


class DevServerProcess:
    def __init__(self, delay: float = 0.35, host: str = "127.0.0.1", keep_uploads: bool = False) -> None:
        self.host = host
        self.delay = delay
        self.keep_uploads = keep_uploads
        self._process: BaseProcess | None = None
        self._lifeline: Any = None  # our end of the lifeline pipe (Connection, or PipeConnection on Windows)
        self._port = 0
        self.faults = _RemoteFaults(self)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._process is not None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, 0), family=family, backlog=64)
        self._port = sock.getsockname()[1]
        ctx = multiprocessing.get_context("spawn")
        child_end, self._lifeline = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_serve, args=(sock, child_end, os.getpid(), self.host, self.delay, self.keep_uploads),
            name="gptimg-demo-server", daemon=True,
        )
        try:
            self._process.start()
        finally:
            child_end.close()
            sock.close()  # the child has its own copy of the listening socket

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if self._lifeline is not None:
            self._lifeline.close()  # the child's cue to stop serving and exit
            self._lifeline = None
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join(5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        return self._port

    @property
    def root(self) -> str:
        from .server import server_root  # the server module is heavy; the child imports it anyway

        return server_root(self.host, self._port)

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    def __repr__(self) -> str:
        return f"DevServerProcess({self.root}, delay={self.delay}, pid={self.pid})"

    # ------------------------------------------------------------------ introspection, over HTTP
    @property
    def requests(self) -> list[RecordedRequest]:
        payload = self._call("GET", "/__requests")
        return recorded_requests(payload if isinstance(payload, list) else [])

    def _call(self, method: str, path: str, payload: object = None) -> list | dict:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.root + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
        with opener.open(request, timeout=30) as response:
            return json.loads(response.read())


class _RemoteFaults:
    """The child's FaultQueue as far as tests use it: push, extend, clear."""

    def __init__(self, server: DevServerProcess) -> None:
        self._server = server

    def push(self, fault: Fault) -> None:
        self.extend([fault])

    def extend(self, faults: list[Fault]) -> None:
        self._server._call("POST", "/__faults", [f.to_dict() for f in faults])

    def clear(self) -> None:
        self._server._call("DELETE", "/__faults")


def _serve(sock: socket.socket, lifeline: Connection, parent_pid: int, host: str, delay: float,
           keep_uploads: bool) -> None:
    """The child: serve on ``sock`` until ``lifeline`` closes (the parent stopped us or died)."""
    _die_with_parent(parent_pid)
    from .server import DevServer

    server = DevServer(host=host, delay=delay, keep_uploads=keep_uploads, listen_socket=sock)
    server.start()
    try:
        lifeline.recv()  # never sent to: returns (EOFError) when the parent's end closes
    except (EOFError, OSError):
        pass
    finally:
        server.stop()


def _die_with_parent(parent_pid: int) -> None:
    """Linux: the kernel sends SIGTERM when the parent dies (belt and braces with the lifeline pipe)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(0)
