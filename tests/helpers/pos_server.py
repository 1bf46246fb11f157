"""A fake PoS print API: a real threaded HTTP server on 127.0.0.1 that records jobs.

``PosServer`` answers ``POST`` with ``200 {"status": "printed"}`` and ``GET`` with
``405`` (as a POST-only endpoint would), recording every request (method, path,
headers, body). ``fail_next(status, count, retry_after=…)`` makes the next requests
fail; ``hang_next(count)`` makes them wait (until ``release()`` or ``close()``) so a
client times out; ``go_down()`` closes the port (connection refused) and ``go_up()``
reopens the same port. HTTP/1.0: one request per connection, so ``close()`` never
waits for an idle keep-alive connection.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Failure:
    status: int
    retry_after: str | None
    body: str


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        failure, hang = owner._record(request)
        if hang:
            owner._released.wait(timeout=30)
            return  # the client has given up: answer nothing
        if failure is not None:
            self._answer(failure.status, failure.body, failure.retry_after)
        elif self.command == "POST":
            self._answer(200, json.dumps({"status": "printed"}))
        else:
            self._answer(405, json.dumps({"error": "method_not_allowed"}), allow="POST")

    def _answer(
        self, status: int, body: str, retry_after: str | None = None, allow: str | None = None
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        if allow is not None:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: PosServer


class PosServer:
    """See the module docstring. ``url`` is the print endpoint (``/print``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = "/print") -> None:
        self.host = host
        self.path = path
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._hangs = 0
        self._released = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.go_up()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def jobs(self) -> list[RecordedRequest]:
        """The POSTed requests."""
        return [r for r in self.requests if r.method == "POST"]

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: str | float | None = None,
        body: str = '{"error": "failed"}',
    ) -> None:
        after = None if retry_after is None else str(retry_after)
        with self._lock:
            self._failures.extend(_Failure(status, after, body) for _ in range(count))

    def hang_next(self, count: int = 1) -> None:
        with self._lock:
            self._hangs += count
            self._released.clear()

    def release(self) -> None:
        self._released.set()

    def _record(self, request: RecordedRequest) -> tuple[_Failure | None, bool]:
        with self._lock:
            self._requests.append(request)
            if self._hangs:
                self._hangs -= 1
                return None, True
            return (self._failures.pop(0) if self._failures else None), False

    def go_up(self) -> None:
        if self._server is not None:
            return
        server = _Server((self.host, self.port), _Handler)
        server.owner = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="pos-server"
        )
        self._thread.start()

    def go_down(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        self._released.set()
        server.shutdown()
        server.server_close()  # joins the request threads
        thread.join(timeout=10)

    def close(self) -> None:
        self.go_down()

    def __enter__(self) -> PosServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
