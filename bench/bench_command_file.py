"""Benchmark of the display's command file: what keeping the unanswered commands on
disk costs a tap.

::

    python -m bench.bench_command_file [--dir DIR] [--taps 300] [--json out.json]

Every command a cook gives is written to the display's queue file when it comes and
again when its result comes (``kitchen_display.command_queue.QueueFile``: the whole
file rewritten to a temporary file, fsync'd, renamed over the old one), on the Qt
thread. This runs ``--taps`` commands through a real ``CommandQueue`` with its file in
a temporary folder under ``--dir`` (default: the system's temporary folder; give the
display's real state folder's disk to measure that one), each answered when 5 newer
ones wait (a busy screen), and then, with the queue full (500 kept, a long outage), one
more tap. Prints the time of each write (p50, p99, max) and the file's size. Exit
status 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.stats import summary_ms
from kitchen_display.command_queue import MAX_QUEUED_COMMANDS, CommandQueue
from shared.wire import encode, make_command

SITE = "bench-01"
IN_FLIGHT = 5


def _tap(queue: CommandQueue, n: int) -> tuple[str, float]:
    command = make_command(
        "bump", SITE, ticket_id=f"ord_{n}", display_id="grill-1", station="grill"
    )
    started = time.perf_counter()
    queue.add(
        command.command_id,
        "bump",
        f"ord_{n}",
        encode(command),
        {"reply-to": f"/queue/kds.{SITE}.replies.grill-1"},
        number=str(1000 + n),
    )
    return command.command_id, time.perf_counter() - started


def run(folder: Path, taps: int) -> dict[str, object]:
    busy = CommandQueue(path=folder / "busy.json")
    writes: list[float] = []
    waiting: list[str] = []
    for n in range(taps):
        command_id, took = _tap(busy, n)
        writes.append(took)
        waiting.append(command_id)
        if len(waiting) > IN_FLIGHT:
            started = time.perf_counter()
            busy.answered(waiting.pop(0))
            writes.append(time.perf_counter() - started)
    full = CommandQueue(path=folder / "full.json")
    for n in range(MAX_QUEUED_COMMANDS):
        _tap(full, n)
    _id, full_write = _tap(full, MAX_QUEUED_COMMANDS)
    return {
        "folder": str(folder),
        "busy_writes": summary_ms(writes),
        "busy_file_bytes": (folder / "busy.json").stat().st_size,
        "full_write_ms": round(full_write * 1000, 3),
        "full_file_bytes": (folder / "full.json").stat().st_size,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary folder goes")
    parser.add_argument("--taps", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    # the full queue's last tap drops the oldest, as it should: no need to say so here
    logging.getLogger("kds.sync.queue").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        figures = run(Path(folder), args.taps)
    print(json.dumps(figures, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
