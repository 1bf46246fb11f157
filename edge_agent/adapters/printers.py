"""The factory choosing a printer transport for a URL (the interface the agent uses
is :class:`edge_agent.ports.Printer`).

``tcp://host[:port]`` is an ESC/POS network printer (port 9100 by default),
``http://…`` / ``https://…`` the PoS print API. See docs/printing.md.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from edge_agent.adapters.http_util import RETRY_AFTER_MAX
from edge_agent.adapters.printer_escpos import EscPosPrinter
from edge_agent.adapters.printer_http import PosPrintApi
from edge_agent.ports import Printer

ESCPOS_PORT = 9100


def make_printer(
    name: str,
    url: str,
    *,
    api_key: str | None = None,
    timeout: float = 5.0,
    retry_after_max: float = RETRY_AFTER_MAX,
) -> Printer:
    """The printer for ``url``; ``ValueError`` naming the URL if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"printer {name}: bad URL {url!r}: {exc}") from None
    if parts.scheme == "tcp":
        if not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"printer {name}: bad URL {url!r}: expected tcp://host:9100")
        return EscPosPrinter(name, parts.hostname, port or ESCPOS_PORT, timeout)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError(f"printer {name}: bad URL {url!r}: no host")
        return PosPrintApi(
            name, url, api_key=api_key, timeout=timeout, retry_after_max=retry_after_max
        )
    raise ValueError(
        f"printer {name}: unsupported URL {url!r}: expected tcp://host:9100 or http(s)://…"
    )
