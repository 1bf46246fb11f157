"""The core simulator: a real HTTP server (standard library only) on loopback that
implements the core API v1 as the edge agent sees it, plus ``/_sim/...`` helpers
for tests and demos. See docs/core-sim.md.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import math
import re
import socket
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from core_sim.errors import ApiError, OrderClosed, OrderNotFound, invalid_body
from core_sim.faults import FaultQueue, make_fault
from core_sim.generator import Brand, OrderGenerator
from core_sim.state import RawText, SimState
from core_sim.traffic import TrafficThread

logger = logging.getLogger("core_sim")

DEFAULT_SITES: dict[str, str] = {"ams-01": "dev-token"}
MAX_WAIT_SECONDS = 30.0
_SEG = r"([^/]+)"

Response = tuple[int, Any, dict[str, str]]
Handler = Callable[["_RequestHandler", tuple[str, ...]], Response]


def _ok(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return status, body, dict(headers or {})


@dataclass(frozen=True)
class RawBody:
    """A response body sent byte for byte (test hooks: a poison order, a broken page)."""

    data: bytes


def _feed_body(orders: list[Any], cursor: str) -> Any:
    """The feed page; entries pushed as raw text are spliced in as they are."""
    if not any(isinstance(entry, RawText) for entry in orders):
        return {"orders": orders, "cursor": cursor}
    parts = [
        entry.data() if isinstance(entry, RawText) else json.dumps(entry).encode()
        for entry in orders
    ]
    tail = b'],"cursor":' + json.dumps(cursor).encode() + b"}"
    return RawBody(b'{"orders":[' + b",".join(parts) + tail)


class _Route:
    """A method + path pattern, its handler and (for site API routes) its fault endpoint."""

    def __init__(
        self, method: str, pattern: str, handler: Handler, endpoint: str | None = None
    ) -> None:
        self.method = method
        self.regex = re.compile(pattern)
        self.handler = handler
        self.endpoint = endpoint


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its simulator and its open connections."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sim: CoreSimulator) -> None:
        self.sim = sim
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def track(self, conn: socket.socket, active: bool) -> None:
        """Remember (or forget) an open client connection."""
        with self._conn_lock:
            if active:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def drop_connections(self) -> None:
        """Shut down every open client connection so handler threads can end."""
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _ClientGone(Exception):
    """The connection closed before the request's body was complete."""


class _RequestHandler(BaseHTTPRequestHandler):
    """Parses a request, routes it and writes the JSON answer."""

    server: _HTTPServer
    query: dict[str, list[str]]
    body: bytes
    protocol_version = "HTTP/1.1"
    server_version = "core-sim/1"

    # ------------------------------------------------------------- plumbing
    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle holds
        # the body until the client's delayed ACK (~40 ms on Linux) per request, unless
        # the client reads in quick-ACK mode (the agent does: adapters/http_transport.py).
        if self.server.sim.tcp_nodelay:
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            self.server.track(self.connection, False)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: never headers (they carry the bearer token).
        logger.info('%s "%s %s" %s', self.client_address[0], self.command, self.path, code)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.client_address[0], format % args)

    @property
    def sim(self) -> CoreSimulator:
        return self.server.sim

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        self.query = parse_qs(split.query, keep_blank_values=True)
        self.cut_off = False
        try:
            self.body = self._read_body()
        except _ClientGone:
            # The client went away mid-request (a killed agent): nothing was asked, so
            # nothing is done or remembered (not even an idempotent answer to replay).
            self.close_connection = True
            return
        except ApiError as exc:
            self._send(exc.status, exc.body(), exc.headers)
            return
        try:
            status, body, headers = self._route(split.path)
        except ApiError as exc:
            status, body, headers = exc.status, exc.body(), exc.headers
        except Exception:
            logger.exception("unexpected error handling %s %s", self.command, split.path)
            status, body, headers = 500, {"error": "internal", "detail": "server bug"}, {}
        self._send(status, body, headers)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError as exc:
            self.close_connection = True
            raise ApiError(400, "bad_request", "Content-Length is not a number") from exc
        try:
            body = self.rfile.read(size)
        except OSError as exc:
            raise _ClientGone from exc
        if len(body) < size:
            raise _ClientGone
        return body

    def _send(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        if isinstance(body, RawBody):
            payload = body.data
        else:
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.cut_off:
                # Content-Length promised the whole body: half of it, then hang up
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def _route(self, path: str) -> Response:
        allowed: list[str] = []
        for route in _ROUTES:
            match = route.regex.fullmatch(path)
            if match is None:
                continue
            if route.method != self.command:
                allowed.append(route.method)
                continue
            params = tuple(unquote(g) for g in match.groups())
            if route.endpoint is not None:
                self._authorize(params[0])
                self._apply_faults(route.endpoint)
            return route.handler(self, params)
        if allowed:
            raise ApiError(
                405,
                "method_not_allowed",
                f"use {', '.join(allowed)}",
                {"Allow": ", ".join(allowed)},
            )
        raise ApiError(404, "not_found", f"no such endpoint: {path}")

    # ----------------------------------------------------------- auth, faults
    def _authorize(self, site_id: str) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("missing bearer token")
        sites = self.sim.state.sites
        expected = sites.get(site_id)
        if expected is not None and hmac.compare_digest(token.encode(), expected.encode()):
            return
        if any(hmac.compare_digest(token.encode(), t.encode()) for t in sites.values()):
            raise ApiError(403, "forbidden", f"this token is not valid for site {site_id}")
        raise _unauthorized("unknown token")

    def _apply_faults(self, endpoint: str) -> None:
        faults = self.sim.faults
        slow = faults.take("slow", endpoint)
        if slow is not None:
            self.sim.closing.wait(float(slow.options["delay"]))
        # the request is handled in full; only its answer is cut short (see _send)
        self.cut_off = faults.take("cut_off", endpoint) is not None
        if faults.take("error500", endpoint) is not None:
            raise ApiError(500, "internal", "injected fault: internal server error")
        for kind, status, code in (
            ("error503", 503, "unavailable"),
            ("error429", 429, "rate_limited"),
        ):
            fault = faults.take(kind, endpoint)
            if fault is not None:
                retry = {"Retry-After": str(fault.options["retry_after"])}
                raise ApiError(status, code, f"injected fault: {code}", retry)

    def _json_body(self, default: Any = None) -> Any:
        if not self.body:
            if default is not None:
                return default
            raise invalid_body("body: required")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise invalid_body("body: not valid UTF-8 JSON") from exc

    def _json_object(self) -> dict[str, Any]:
        body = self._json_body(default={})
        if not isinstance(body, dict):
            raise invalid_body("body: must be a JSON object")
        return body

    def _query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    # ------------------------------------------------------------ API handlers
    def health(self, params: tuple[str, ...]) -> Response:
        return _ok({"status": "ok"})

    def feed(self, params: tuple[str, ...]) -> Response:
        site = params[0]
        wait = _parse_wait(self._query_value("wait"))
        cursor = self._query_value("cursor")
        state, faults = self.sim.state, self.sim.faults
        start = state.position_of(site, cursor)
        if cursor and faults.take("expire_cursor", "feed") is not None:
            raise ApiError(410, "cursor_expired", "injected fault: cursor expired")
        if start > 0:
            dup = faults.take("duplicate", "feed")
            if dup is not None:
                start, wait = max(0, start - int(dup.options["back"])), 0.0
        raw_page = faults.take("raw_page", "feed")
        if raw_page is not None:
            return _ok(RawBody(str(raw_page.options["body"]).encode("utf-8", "surrogateescape")))
        orders, next_cursor = state.feed_page(site, start, wait)
        return _ok(_feed_body(orders, next_cursor))

    def open_orders(self, params: tuple[str, ...]) -> Response:
        orders, cursor = self.sim.state.open_snapshot(params[0])
        return _ok({"orders": orders, "cursor": cursor})

    def post_event(self, params: tuple[str, ...]) -> Response:
        site, order_id = params
        key = (self.headers.get("Idempotency-Key") or "").strip()
        if not key:
            raise ApiError(400, "missing_idempotency_key", "Idempotency-Key header is required")
        status, body, replayed = self.sim.state.post_event(site, order_id, key, self.body)
        return _ok(body, status, {"Idempotent-Replayed": "true"} if replayed else {})

    def menu(self, params: tuple[str, ...]) -> Response:
        return _ok(self.sim.state.menu(params[0]))

    def availability(self, params: tuple[str, ...]) -> Response:
        site, sku = params
        body = self._json_body()
        if not isinstance(body, dict):
            raise invalid_body("body: must be a JSON object")
        available = body.get("available")
        if not isinstance(available, bool):
            raise invalid_body("available: required, must be true or false")
        return _ok(self.sim.state.set_availability(site, sku, available))

    # ------------------------------------------------------------ /_sim handlers
    def sim_create(self, params: tuple[str, ...]) -> Response:
        overrides = self._json_object()
        site = overrides.pop("site_id", None)
        return _ok(_sim_call(lambda: self.sim.create_order(site, **overrides)), 201)

    def sim_order(self, params: tuple[str, ...]) -> Response:
        return _ok(_sim_call(lambda: self.sim.order(params[0])))

    def sim_open(self, params: tuple[str, ...]) -> Response:
        site = self._query_value("site_id")
        return _ok({"orders": _sim_call(lambda: self.sim.open_orders(site))})

    def sim_change(self, params: tuple[str, ...]) -> Response:
        order_id, action = params
        if action == "edit":
            args = self._json_object()
            return _ok(_sim_call(lambda: self.sim.edit_order(order_id, **args)))
        change = self.sim.cancel_order if action == "cancel" else self.sim.set_rush
        return _ok(_sim_call(lambda: change(order_id)))

    def sim_events(self, params: tuple[str, ...]) -> Response:
        return _ok({"events": self.sim.events(self._query_value("order_id"))})

    def sim_add_fault(self, params: tuple[str, ...]) -> Response:
        args = self._json_object()
        kind = args.pop("kind", None)
        count = args.pop("count", 1)
        _sim_call(lambda: self.sim.inject_fault(str(kind), count, **args))
        return _ok({"faults": self.sim.faults.pending()}, 201)

    def sim_list_faults(self, params: tuple[str, ...]) -> Response:
        return _ok({"faults": self.sim.faults.pending()})

    def sim_clear_faults(self, params: tuple[str, ...]) -> Response:
        self.sim.clear_faults()
        return _ok({"faults": []})

    def sim_raw(self, params: tuple[str, ...]) -> Response:
        args = self._json_object()
        site = args.get("site_id") or self.sim.state.default_site()
        if isinstance(args.get("text"), str):
            text = args["text"]
            position = _sim_call(lambda: self.sim.push_raw_text(str(site), text))
            return _ok({"position": position}, 201)
        if "object" not in args:
            raise invalid_body("object: required (any JSON value), or text: a string")
        position = _sim_call(lambda: self.sim.push_raw(str(site), args["object"]))
        return _ok({"position": position}, 201)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, {"WWW-Authenticate": 'Bearer realm="core"'})


def _parse_wait(text: str | None) -> float:
    if text is None or text == "":
        return 0.0
    try:
        wait = float(text)
    except ValueError:
        wait = math.nan
    if not 0 <= wait <= MAX_WAIT_SECONDS:  # also rejects nan
        raise ApiError(400, "bad_wait", "wait must be a number of seconds from 0 to 30")
    return wait


def _sim_call(call: Callable[[], Any]) -> Any:
    """Run a Python helper and map its exceptions to HTTP errors."""
    try:
        return call()
    except OrderNotFound as exc:
        raise ApiError(404, "not_found", f"no order {exc.args[0]}") from exc
    except OrderClosed as exc:
        raise ApiError(409, "invalid_transition", str(exc)) from exc
    except (ValueError, TypeError) as exc:
        raise invalid_body(str(exc)) from exc


_SITE = rf"/api/v1/sites/{_SEG}"
_ROUTES: tuple[_Route, ...] = (
    _Route("GET", r"/api/v1/health", _RequestHandler.health),
    _Route("GET", rf"{_SITE}/orders", _RequestHandler.feed, "feed"),
    _Route("GET", rf"{_SITE}/orders/open", _RequestHandler.open_orders, "open"),
    _Route("POST", rf"{_SITE}/orders/{_SEG}/events", _RequestHandler.post_event, "events"),
    _Route("GET", rf"{_SITE}/menu", _RequestHandler.menu, "menu"),
    _Route(
        "PUT",
        rf"{_SITE}/menu/items/{_SEG}/availability",
        _RequestHandler.availability,
        "availability",
    ),
    _Route("POST", r"/_sim/orders", _RequestHandler.sim_create),
    _Route("GET", r"/_sim/orders", _RequestHandler.sim_open),
    _Route("GET", rf"/_sim/orders/{_SEG}", _RequestHandler.sim_order),
    _Route("POST", rf"/_sim/orders/{_SEG}/(cancel|rush|edit)", _RequestHandler.sim_change),
    _Route("GET", r"/_sim/events", _RequestHandler.sim_events),
    _Route("POST", r"/_sim/faults", _RequestHandler.sim_add_fault),
    _Route("GET", r"/_sim/faults", _RequestHandler.sim_list_faults),
    _Route("DELETE", r"/_sim/faults", _RequestHandler.sim_clear_faults),
    _Route("POST", r"/_sim/raw", _RequestHandler.sim_raw),
)


class CoreSimulator:
    """A simulated core server on loopback, with a Python API for tests.

    >>> with CoreSimulator().start() as sim:
    ...     order = sim.create_order()
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        sites: Mapping[str, str] | None = None,
        rate_per_min: float = 0.0,
        seed: int = 1,
        brands: Sequence[Brand | str] | None = None,
        expire_cursors_after: float | None = None,
        change_probability: float = 0.1,
        tcp_nodelay: bool = True,
    ) -> None:
        self.host = host
        #: False: answers go out as a plain http.server's do, headers and body in two
        #: writes held by Nagle (what a core written from the contract alone may do; the
        #: benchmark's ``--naive-core``)
        self.tcp_nodelay = tcp_nodelay
        self.requested_port = port
        self.rate_per_min = rate_per_min
        self.seed = seed
        self.change_probability = change_probability
        generator = OrderGenerator(seed, brands)
        self.state = SimState(dict(sites or DEFAULT_SITES), generator, expire_cursors_after)
        self.faults = FaultQueue()
        self.closing = threading.Event()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._traffic: TrafficThread | None = None

    # ----------------------------------------------------------- lifecycle
    def start(self) -> CoreSimulator:
        """Bind, serve in a daemon thread and start background traffic; returns self."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = _HTTPServer((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="core-sim-http",
            daemon=True,
        )
        self._thread.start()
        if self.rate_per_min > 0:
            self._traffic = TrafficThread(
                self.state, self.rate_per_min, self.seed, self.change_probability
            )
            self._traffic.start()
        return self

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8700``."""
        return f"http://{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        """How many client connections are open (a request on one is being handled or
        the client keeps it alive)."""
        if self._server is None:
            return 0
        with self._server._conn_lock:
            return len(self._server._connections)

    def close(self) -> None:
        """Stop traffic, answer pending long polls, stop serving and close all sockets."""
        self.closing.set()
        if self._traffic is not None:
            self._traffic.stop()
            self._traffic = None
        self.state.close()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.drop_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> CoreSimulator:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------- core-side changes
    def create_order(self, site_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        """Generate an order (nested ``overrides`` merge into it) and append it to the feed."""
        return self.state.create_order(site_id or self.state.default_site(), overrides)

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """Cancel an open order as the core would: new version on the feed."""
        return self.state.cancel_order(order_id)

    def set_rush(self, order_id: str) -> dict[str, Any]:
        """Flag an open order as rush: new version on the feed."""
        return self.state.set_rush(order_id)

    def edit_order(
        self,
        order_id: str,
        *,
        set_qty: Mapping[str, int] | None = None,
        add_items: Iterable[Mapping[str, Any]] = (),
        remove_lines: Iterable[str] = (),
        **fields: Any,
    ) -> dict[str, Any]:
        """Edit an open order: ``set_qty={"l1": 3}``, ``add_items=[{"sku": ..., "qty": 1}]``,
        ``remove_lines=["l2"]``, any other keyword replaces/merges that field. With no
        arguments the first line's quantity goes up by one. New version on the feed."""
        return self.state.edit_order(
            order_id,
            set_qty=set_qty,
            add_items=add_items,
            remove_lines=remove_lines,
            fields=fields,
        )

    def push_raw(self, site_id: str, obj: Any) -> int:
        """Append any JSON value (e.g. a malformed order) to a site's feed; its log position."""
        return self.state.push_raw(site_id, obj)

    def push_raw_text(self, site_id: str, text: str) -> int:
        """Append one feed entry as raw text, spliced into the page as is (a poison
        order: nested too deep, a huge number; lone surrogates go out as those bytes,
        ``"\\udcff"`` as the invalid UTF-8 byte ``0xff``); its log position."""
        return self.state.push_raw(site_id, RawText(text))

    # ------------------------------------------------------------- inspection
    def order(self, order_id: str) -> dict[str, Any]:
        """Current state of an order, including status changes made by kitchen events."""
        return self.state.order(order_id)

    def open_orders(self, site_id: str | None = None) -> list[dict[str, Any]]:
        """Orders not picked up or cancelled (all sites when ``site_id`` is None)."""
        return self.state.open_orders(site_id)

    def events(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """Accepted kitchen events (first delivery per Idempotency-Key), oldest first."""
        return self.state.events(order_id)

    @property
    def waiting_polls(self) -> int:
        """How many feed requests are inside their long-poll wait right now."""
        with self.state.cond:
            return self.state.waiting_polls

    # ----------------------------------------------------------------- faults
    def inject_fault(self, kind: str, count: int = 1, **kw: Any) -> None:
        """Queue a fault for the next ``count`` matching API requests (see docs)."""
        self.faults.add(make_fault(kind, count, **kw))

    def clear_faults(self) -> None:
        """Forget all pending faults."""
        self.faults.clear()
