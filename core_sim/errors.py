"""Error types of the core simulator and their HTTP mapping."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """An error answered as ``{"error": code, "detail": detail}`` with an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, str]:
        """The JSON error body."""
        return {"error": self.code, "detail": self.detail}


class OrderNotFound(KeyError):
    """No order with that id (in that site)."""


class OrderClosed(ValueError):
    """The order is picked up or cancelled, so the core cannot change it any more."""


def invalid_body(detail: str) -> ApiError:
    """A ``422 invalid_body`` error; ``detail`` starts with the offending field's name."""
    return ApiError(422, "invalid_body", detail)
