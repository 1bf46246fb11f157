"""An independent core server, written from the core API contract (v1) alone.

It imports nothing of the project (only the standard library), so the agent is tried
against a server that is not the project's own simulator. It serves one site:

- ``GET /api/v1/health``; ``GET .../orders/open`` (nothing open: follow from the start);
- ``GET .../orders?cursor=&wait=``: the entries added so far, oldest first, at most 100
  a page, as the exact JSON text they were added with (so a test can send what a broken
  core would), long-polled up to ``wait`` seconds;
- ``POST .../orders/{id}/events`` (idempotent by ``Idempotency-Key``),
  ``GET .../menu``, ``PUT .../menu/items/{sku}/availability``;
- ``401`` without the site's bearer token, ``403`` for another site.

Faults are queued per endpoint (``fault("feed", 429, retry_after="0")``) and answered
before anything else; every feed request is timed (``feed_requests``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class IndependentCore:
    def __init__(self, site_id: str, token: str) -> None:
        self.site_id = site_id
        self.token = token
        self._cond = threading.Condition()
        self._entries: list[str] = []
        self._faults: dict[str, deque[tuple[int, dict[str, str]]]] = {}
        #: ``time.monotonic()`` of every feed request, answered or not
        self.feed_requests: list[float] = []
        #: events by idempotency key, in the order they first came
        self.events: dict[str, dict[str, Any]] = {}
        core = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                core._serve(self, "GET")

            def do_POST(self) -> None:
                core._serve(self, "POST")

            def do_PUT(self) -> None:
                core._serve(self, "PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> IndependentCore:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> IndependentCore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what a test does -----------------------------------------------------------

    def add(self, *texts: str) -> None:
        """Feed entries, each the exact JSON text of one order."""
        with self._cond:
            self._entries.extend(texts)
            self._cond.notify_all()

    def fault(self, endpoint: str, status: int, *, count: int = 1, retry_after: str = "") -> None:
        """The next ``count`` requests to ``endpoint`` (``feed``, ``events``) get ``status``."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self._cond:
            queue = self._faults.setdefault(endpoint, deque())
            queue.extend([(status, headers)] * count)
            self._cond.notify_all()

    def faults_left(self, endpoint: str) -> int:
        with self._cond:
            return len(self._faults.get(endpoint, ()))

    # --- serving --------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(request.path)
        parts = [p for p in url.path.split("/") if p]
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if parts == ["api", "v1", "health"]:
            return self._answer(request, 200, '{"status": "ok"}')
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._answer(request, 401, '{"error": "unauthorized"}')
        if len(parts) < 4 or parts[:3] != ["api", "v1", "sites"]:
            return self._answer(request, 404, '{"error": "not_found"}')
        if parts[3] != self.site_id:
            return self._answer(request, 403, '{"error": "forbidden"}')
        rest = parts[4:]
        endpoint = "feed" if rest == ["orders"] else "events" if rest[-1:] == ["events"] else ""
        if endpoint == "feed":
            self.feed_requests.append(time.monotonic())
        fault = self._take_fault(endpoint)
        if fault is not None:
            status, headers = fault
            return self._answer(request, status, '{"error": "injected"}', headers)
        if method == "GET" and rest == ["orders", "open"]:
            return self._answer(request, 200, '{"orders": [], "cursor": "0"}')
        if method == "GET" and endpoint == "feed":
            query = parse_qs(url.query)
            return self._feed(request, query.get("cursor", ["0"])[0], query.get("wait", ["0"])[0])
        if method == "POST" and endpoint == "events":
            key = request.headers.get("Idempotency-Key") or ""
            try:
                event = json.loads(body)
            except ValueError:
                return self._answer(request, 422, '{"error": "malformed"}')
            with self._cond:
                self.events.setdefault(key, {"order_id": rest[1], **event})
            return self._answer(request, 201, '{"accepted": true}')
        if method == "GET" and rest == ["menu"]:
            return self._answer(request, 200, '{"brands": []}')
        if method == "PUT" and rest[:2] == ["menu", "items"]:
            return self._answer(request, 200, "{}")
        return self._answer(request, 404, '{"error": "not_found"}')

    def _take_fault(self, endpoint: str) -> tuple[int, dict[str, str]] | None:
        with self._cond:
            queue = self._faults.get(endpoint)
            return queue.popleft() if queue else None

    def _feed(self, request: BaseHTTPRequestHandler, cursor: str, wait: str) -> None:
        try:
            start, seconds = int(cursor), min(max(int(wait), 0), 30)
        except ValueError:
            return self._answer(request, 400, '{"error": "bad_request"}')
        deadline = time.monotonic() + seconds
        with self._cond:
            while len(self._entries) <= start and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            page = self._entries[start : start + 100]
        text = '{"orders": [' + ", ".join(page) + f'], "cursor": "{start + len(page)}"}}'
        self._answer(request, 200, text)

    @staticmethod
    def _answer(
        request: BaseHTTPRequestHandler,
        status: int,
        text: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = text.encode("utf-8", "surrogateescape")
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)
