"""Benchmark of checking the lead PIN: what one tap on the PIN prompt's button costs
the display's Qt thread.

::

    python -m bench.bench_lead_pin [--checks 30] [--json out.json]

``kitchen_display.kiosk.LeadGate`` checks a typed PIN against its stored scrypt hash
(``kitchen_display.lead_pin.verify_pin``, n=2**14, r=8, p=1) on the Qt thread, once
per tap. This hashes one PIN and times ``--checks`` checks of the right PIN and as
many of a wrong one (the same work: a wrong PIN is not cheaper to refuse). Prints
p50, p99 and max of each and the process's peak RSS. Exit status 0.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from bench.stats import peak_rss_mib, summary_ms
from kitchen_display.lead_pin import (
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    hash_pin,
    parse_stored,
    verify_pin,
)

PIN = "482916"


def run(checks: int) -> dict[str, object]:
    stored = parse_stored(hash_pin(PIN))
    timings: dict[str, list[float]] = {"right": [], "wrong": []}
    for _ in range(checks):
        for name, typed in (("right", PIN), ("wrong", "000000")):
            started = time.perf_counter()
            verify_pin(stored, typed)
            timings[name].append(time.perf_counter() - started)
    return {
        "scrypt": {"n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
        "right_pin": summary_ms(timings["right"]),
        "wrong_pin": summary_ms(timings["wrong"]),
        "peak_rss_mib": peak_rss_mib(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = run(args.checks)
    print(json.dumps(figures, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
