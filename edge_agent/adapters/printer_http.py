"""The PoS's own print API over HTTP (docs/printing.md, "The PoS print API v1").

``POST {url}`` with one JSON job per request, ``Idempotency-Key: <job_id>`` and
``Authorization: Bearer <api_key>`` (when a key is configured; never logged, and
masked in the PoS's answers quoted in errors: some quote the key they refused).

Answers: any 2xx is printed (or queued by the PoS, its business). ``408``, ``409``
(the same key is still being processed), ``429``, ``5xx``, timeouts and network errors
are :class:`PrinterUnavailable` with ``retry_after`` from ``Retry-After`` (seconds or
an HTTP date, within [1 s, ``retry_after_max``]: :mod:`edge_agent.adapters.http_util`);
``401``/``403`` too (a wrong key is fixed in the keyring, and the job must not be lost
meanwhile). Every other ``4xx`` is :class:`PrinterRejected`: the job
is dead-lettered with the PoS's answer.

``check()`` is ``GET {url}``: 2xx, or 405 (the endpoint exists but only takes POST),
means reachable.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from edge_agent.adapters.http_transport import quickack_transport
from edge_agent.adapters.http_util import RETRY_AFTER_MAX, retry_after
from edge_agent.errors import PrinterRejected, PrinterUnavailable
from edge_agent.printing import Receipt
from shared import redact

log = logging.getLogger("edge.printer")

API_VERSION = 1
#: retried: timeouts, conflicts (same Idempotency-Key in flight), throttling, bad key
RETRY_STATUSES = frozenset({401, 403, 408, 409, 429})


def job_body(printer: str, receipt: Receipt, job_id: str) -> dict[str, Any]:
    """The PoS print API v1 request body of one job."""
    return {
        "v": API_VERSION,
        "job_id": job_id,
        "printer": printer,
        "kind": receipt.kind,
        "title": receipt.title,
        "lines": [
            {
                "text": line.text,
                "bold": line.bold,
                "invert": line.invert,
                "size": line.size,
                "align": line.align,
                "indent": line.indent,
            }
            for line in receipt.lines
        ],
        "qr": receipt.qr,
        "cut": receipt.cut,
    }


class PosPrintApi:
    """A printer reached through the PoS's print API (``http(s)://…``)."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        api_key: str | None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry_after_max: float = RETRY_AFTER_MAX,
    ) -> None:
        self.name = name
        self.url = url
        self._retry_after_max = retry_after_max
        headers = {"Accept": "application/json", "User-Agent": "ghost-kds-edge-agent/0.1"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
            redact.remember(api_key)
        self._http = httpx.Client(
            headers=headers,
            timeout=timeout,
            transport=transport if transport is not None else quickack_transport(),
        )

    def __repr__(self) -> str:
        return f"PosPrintApi({self.name!r}, {self.url!r})"

    # --- interface --------------------------------------------------------------------

    def print(self, receipt: Receipt, *, job_id: str) -> None:
        """POST the job; raise :class:`PrinterUnavailable` (retry) or
        :class:`PrinterRejected` (dead-letter) unless the PoS answers 2xx."""
        response = self._request(
            "POST",
            json=job_body(self.name, receipt, job_id),
            headers={"Idempotency-Key": job_id},
        )
        status = response.status_code
        if 200 <= status < 300:
            log.info(
                "printed %s job %s (%s) on %s: %d",
                receipt.kind,
                job_id,
                receipt.title,
                self._where,
                status,
            )
            return
        detail = self._detail(response)
        if status in RETRY_STATUSES or status >= 500:
            raise PrinterUnavailable(
                f"{self._where}: PoS answered {status}{detail}",
                retry_after=retry_after(response, maximum=self._retry_after_max),
            )
        if 300 <= status < 400:
            raise PrinterUnavailable(f"{self._where}: PoS answered {status} (redirect){detail}")
        raise PrinterRejected(f"{self._where}: PoS refused job {job_id}: {status}{detail}")

    def check(self) -> str:
        """``GET {url}``: ``"reachable (HTTP 200)"``, or :class:`PrinterUnavailable`."""
        response = self._request("GET")
        status = response.status_code
        if 200 <= status < 300 or status == 405:
            return f"reachable (HTTP {status})"
        if status in (401, 403):
            raise PrinterUnavailable(f"{self._where}: API key refused ({status})")
        raise PrinterUnavailable(f"{self._where}: PoS answered {status}{self._detail(response)}")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PosPrintApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ---------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"printer {self.name} ({self.url})"

    def _request(self, method: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, self.url, **kwargs)
        except httpx.TimeoutException as exc:
            raise PrinterUnavailable(f"{self._where}: {method} timed out") from exc
        except httpx.HTTPError as exc:
            raise PrinterUnavailable(
                f"{self._where}: {method} failed: {type(exc).__name__}: {exc}"
            ) from exc

    @staticmethod
    def _detail(response: httpx.Response) -> str:
        text = redact.redact(response.text.strip().replace("\n", " "))
        return f": {text[:200]}" if text else ""
