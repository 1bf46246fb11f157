"""``Retry-After`` within [1 s, 60 s]: the edge values (edge_agent/adapters/http_util.py)."""

from __future__ import annotations

import pytest

from edge_agent.adapters.http_util import (
    RETRY_AFTER_MAX,
    RETRY_AFTER_MIN,
    bounded_retry_after,
    parse_retry_after,
)

NOW = 1_790_000_000.0  # 2026-09-21T14:13:20Z
NOW_HTTP = "Mon, 21 Sep 2026 14:13:20 GMT"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 7 ", 7.0),
        ("2.5", 2.5),
        ("0", RETRY_AFTER_MIN),  # a 0 must not make a busy loop
        ("0.001", RETRY_AFTER_MIN),
        ("60", 60.0),
        ("61", RETRY_AFTER_MAX),
        ("86400", RETRY_AFTER_MAX),  # a day: at most a minute
        ("86401", None),  # beyond a day: a broken header, the caller's own backoff
        ("1e12", None),
        ("1e400", None),  # inf
        ("inf", None),
        ("-inf", None),
        ("nan", None),
        ("NaN", None),
        ("-1", None),
        ("-0.5", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("soon", None),
        ("5 s", None),
        ("0x10", None),
        ("Mon, 21 Sep 2026 14:13:50 GMT", 30.0),  # a date 30 s from now
        ("Mon, 21 Sep 2026 16:13:20 GMT", RETRY_AFTER_MAX),  # two hours from now
        (NOW_HTTP, RETRY_AFTER_MIN),  # now
        ("Wed, 21 Oct 2015 07:28:00 GMT", RETRY_AFTER_MIN),  # the past means now
        ("Fri, 31 Dec 9999 23:59:59 GMT", None),  # far future
        ("Tue, 22 Sep 2026 14:13:21 GMT", None),  # a day and a second
        ("Mon, 21 Sep 2026 14:13:50 -0000", 30.0),  # no zone: UTC
        ("Mon, 32 Foo 2026 99:99:99 GMT", None),
        ("Mon, 21 Sep 99999999999 14:13:50 GMT", None),
    ],
)
def test_parse_retry_after_edge_values(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_a_lower_maximum_applies_and_never_goes_below_the_minimum() -> None:
    assert parse_retry_after("86400", maximum=2.0, now=NOW) == 2.0
    assert parse_retry_after("0", maximum=2.0, now=NOW) == RETRY_AFTER_MIN
    assert bounded_retry_after(30.0, maximum=0.1) == RETRY_AFTER_MIN


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(None, None), (0.0, 1.0), (30.0, 30.0), (86_400.0, 60.0), (1e12, None), (-1.0, None)],
)
def test_bounded_retry_after(seconds: float | None, expected: float | None) -> None:
    assert bounded_retry_after(seconds) == expected
