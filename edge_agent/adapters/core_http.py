"""HTTP adapter to the core server (contract: docs/protocols.md, "Core API").

Translates httpx's exceptions and the core's status codes into
:mod:`edge_agent.errors` at this boundary: network trouble, 5xx, 408 and 429
become :class:`CoreUnavailable` (with ``Retry-After``, bounded by
:func:`~edge_agent.adapters.http_util.parse_retry_after`), 401/403
:class:`CoreAuthError`, 410 on the feed :class:`CursorExpired`, other 4xx
:class:`CoreRejected`. The token is sent as a bearer header and never logged; the core's
answers quoted in errors have it masked.

Requests go straight to the transport (``quickack_transport()``, or the one a test
passes), not through :class:`httpx.Client`: the client's URL merging, cookie jar, auth
and redirect machinery cost ~40 % of a status POST's CPU (one per step of every
ticket, on the interpreter the feed and the screens' publish share: 790 -> 500 us per
POST, docs/bench.md). The core API needs none of it: no cookies, no redirects (a 3xx
was never followed), one bearer header.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from edge_agent.adapters.feed_json import PageUndecodable, decode_page
from edge_agent.adapters.http_transport import quickack_transport
from edge_agent.adapters.http_util import RETRY_AFTER_MAX, retry_after
from edge_agent.errors import (
    CoreAuthError,
    CoreRejected,
    CoreUnavailable,
    CursorExpired,
)
from shared import redact

log = logging.getLogger("edge.core")


@dataclass(frozen=True)
class FeedPage:
    orders: list[Any]
    cursor: str


class CoreClient:
    """The agent's view of the core API for one site."""

    def __init__(
        self,
        base_url: str,
        site_id: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry_after_max: float = RETRY_AFTER_MAX,
    ) -> None:
        self.site_id = site_id
        self._retry_after_max = retry_after_max
        redact.remember(token)
        self._site_path = f"/api/v1/sites/{quote(site_id, safe='')}"
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": "ghost-kds-edge-agent/0.1",
        }
        self.transport = transport if transport is not None else quickack_transport()
        self._timeout = timeout

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> CoreClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls ----------------------------------------------------------------------

    def health(self) -> bool:
        body = self._json(self._request("GET", "/api/v1/health"))
        return isinstance(body, dict) and body.get("status") == "ok"

    def fetch_orders(self, cursor: str | None, wait: int = 0) -> FeedPage:
        params: dict[str, Any] = {"wait": wait}
        if cursor:
            params["cursor"] = cursor
        response = self._request(
            "GET", f"{self._site_path}/orders?{urlencode(params)}", timeout=self._timeout + wait
        )
        return self._page(response)

    def fetch_open(self) -> FeedPage:
        return self._page(self._request("GET", f"{self._site_path}/orders/open"))

    def post_event(self, order_id: str, event: dict[str, Any], idempotency_key: str) -> Any:
        response = self._request(
            "POST",
            f"{self._site_path}/orders/{quote(order_id, safe='')}/events",
            body=event,
            headers={"Idempotency-Key": idempotency_key},
        )
        return self._json(response)

    def set_availability(self, sku: str, available: bool) -> Any:
        response = self._request(
            "PUT",
            f"{self._site_path}/menu/items/{quote(sku, safe='')}/availability",
            body={"available": available},
        )
        return self._json(response)

    def menu(self) -> Any:
        return self._json(self._request("GET", f"{self._site_path}/menu"))

    # --- plumbing -------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """``path`` (with its query) under the base URL; ``body`` sent as JSON."""
        sent = dict(self._headers)
        content: bytes | None = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode("utf-8")
            sent["Content-Type"] = "application/json"
        if headers:
            sent.update(headers)
        seconds = self._timeout if timeout is None else timeout
        request = httpx.Request(
            method,
            self._base_url + path,
            headers=sent,
            content=content,
            extensions={
                "timeout": {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
            },
        )
        path = path.split("?", 1)[0]  # errors name the path, not the cursor
        try:
            response = self.transport.handle_request(request)
            response.request = request
            response.read()
        except httpx.TimeoutException as exc:
            raise CoreUnavailable(f"{method} {path}: timed out") from exc
        except httpx.HTTPError as exc:
            raise CoreUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if log.isEnabledFor(logging.DEBUG):  # the path only: never a header, never the query
            log.debug("%s %s: %d", method, path, status)
        if status < 400:
            return response
        code, detail = self._error_body(response)
        where = f"{method} {path}"
        if status in (401, 403):
            raise CoreAuthError(status, code or "unauthorized", detail)
        if status == 410:
            raise CursorExpired(f"{where}: cursor expired ({detail or code})")
        if status in (408, 429) or status >= 500:
            raise CoreUnavailable(
                f"{where}: {status} {code}".rstrip(),
                retry_after=retry_after(response, maximum=self._retry_after_max),
            )
        raise CoreRejected(status, code or f"http_{status}", detail)

    @staticmethod
    def _error_body(response: httpx.Response) -> tuple[str, str]:
        try:
            body = response.json()
        except ValueError:
            return "", redact.redact(response.text)[:200]
        if not isinstance(body, dict):
            return "", ""
        return redact.redact(str(body.get("error", ""))), redact.redact(str(body.get("detail", "")))

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise CoreUnavailable(f"core answered {response.status_code} with non-JSON") from exc

    def _page(self, response: httpx.Response) -> FeedPage:
        # order by order: one undecodable order is quarantined, not the whole page
        try:
            orders, cursor = decode_page(response.content)
        except PageUndecodable as exc:
            raise CoreUnavailable(f"feed page undecodable: {exc}") from exc
        if not isinstance(orders, list) or not isinstance(cursor, str):
            raise CoreUnavailable("feed page lacks 'orders' (list) or 'cursor' (string)")
        return FeedPage(orders, cursor)
