"""``core-sim``: run the core simulator from the command line until SIGINT/SIGTERM.

Example: ``core-sim --port 8700 --site ams-01 --token-env KDS_CORE_TOKEN --rate 6``.
The token is read from the named environment variable (``dev-token`` when unset)
and is never printed or logged.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from core_sim.server import CoreSimulator

DEFAULT_TOKEN = "dev-token"


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="core-sim", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8700, help="port (0 picks a free one)")
    parser.add_argument("--site", default="ams-01", help="site id served")
    parser.add_argument(
        "--token-env",
        default="KDS_CORE_TOKEN",
        help=f"environment variable holding the site's bearer token (default {DEFAULT_TOKEN!r})",
    )
    parser.add_argument("--rate", type=float, default=6.0, help="new orders per minute (0: none)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generator")
    parser.add_argument(
        "--expire-cursors-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="answer 410 to cursors older than this",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until SIGINT or SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    token = os.environ.get(args.token_env) or DEFAULT_TOKEN
    sim = CoreSimulator(
        host=args.host,
        port=args.port,
        sites={args.site: token},
        rate_per_min=args.rate,
        seed=args.seed,
        expire_cursors_after=args.expire_cursors_after,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sim.start()
        print(f"core-sim serving site {args.site} at {sim.url}", flush=True)
        stop.wait()
    finally:
        sim.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logging.getLogger("core_sim").info("core-sim stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
