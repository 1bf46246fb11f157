"""Benchmark of one kitchen display: what an update and a repaint cost with many tickets.

::

    python -m bench.bench_display [--tickets 50,300,1000] [--updates 300] [--json out.json]

Each screen runs in a process of its own (so its RSS is its own and its start is
cold). Builds real screens (``kitchen_display.app.build_display``: sync, model, window,
delegate, sounds; 1920x1080, Qt's ``offscreen`` platform, which paints into a
real raster backing store) around the in-memory broker and agent of the display's
unit tests (``tests/unit/kitchen_display/fakes.py``), for each of the station,
expo and board views and each number of open tickets. Measured, per screen:

* **update**: one ``ticket.updated`` from its arrival on the Qt thread (the slot the
  MQ receiver thread's queued signal calls) until the screen has applied it and
  painted what changed (``processEvents`` returns with no paint pending), p50/p99
  over ``--updates`` updates of random tickets (a line started or undone; every
  tenth a rush, which moves the card: those are also reported apart, as ``move``);
* **repaint**: a synchronous repaint of the whole card wall (the view's viewport; on
  the board, the board's table) and of the whole window;
* **cold start**: from starting the process to the first frame of the snapshot's
  tickets painted (the interpreter, Qt, building the screen, the snapshot);
* the baseline measured in the same run: the same update and repaint with a
  single open ticket (what the screen costs with no load), so each figure is also
  a ratio;
* RSS of the screen's process after its updates (``VmRSS``) and its peak (``VmHWM``).

Exit status 0. Every wait has a deadline.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

from bench.stats import ratio, summary_ms
from kitchen_display.app import DisplayApp, build_display
from kitchen_display.autopilot import PaintCounter
from kitchen_display.ticket_model import Role
from shared.model import Ticket
from shared.wire import TicketRemoved, TicketUpdated, encode
from tests.unit.kitchen_display.fakes import (
    SITE,
    FakeAgent,
    FakeBroker,
    display_config,
    revise,
    ticket,
)

VIEWS = ("station", "expo", "board")
_STATIONS = ("fry", "salad", "drinks")
_NAMES = ("Classic Burger", "Double Cheese", "Fries", "Onion Rings", "Caesar", "Cola")


def rss_mib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def make_tickets(count: int, rng: random.Random) -> list[Ticket]:
    """``count`` open tickets, each with a grill line and up to three others."""
    now = datetime.now(UTC)
    tickets = []
    for n in range(count):
        lines = [("grill", rng.choice(_NAMES[:2]))]
        lines += [(rng.choice(_STATIONS), rng.choice(_NAMES)) for _ in range(rng.randint(0, 3))]
        tickets.append(
            ticket(
                f"ord_{n:05d}",
                lines=lines,
                placed_at=now - timedelta(seconds=rng.uniform(0, 1500)),
                number=str(1000 + n),
            )
        )
    return tickets


def updates_for(tickets: list[Ticket], count: int, rng: random.Random) -> list[tuple[bool, bytes]]:
    """``count`` ``ticket.updated`` frames (seq 2, 3, ...), each a new version of one
    ticket: its grill line started or undone, every tenth made a rush or normal again
    (``True``: the card moves)."""
    current = {t.id: t for t in tickets}
    frames = []
    for n in range(count):
        base = current[rng.choice(tickets).id]
        if n % 10 == 9:
            new = revise(base, priority="normal" if base.priority.value == "rush" else "rush")
        else:
            status = "pending" if base.items[0].status.value != "pending" else "in_progress"
            new = revise(base, station="grill", item={"status": status})
        current[new.id] = new
        frames.append((n % 10 == 9, encode(TicketUpdated(site_id=SITE, seq=n + 2, ticket=new))))
    return frames


def churn_frames(
    tickets: list[Ticket], orders: int, first_seq: int, rng: random.Random
) -> Iterator[bytes]:
    """``orders`` new orders passing through a screen that keeps ``len(tickets)`` open:
    each arrives (``ticket.updated``), is started at the grill (``ticket.updated``) and
    the oldest open ticket leaves (``ticket.removed``, picked up): three frames per
    order, ``seq`` from ``first_seq``. Made one by one, so the screen's RSS is not the
    frames' (10,000 orders' frames take ~30 MB)."""
    open_ids = collections.deque(t.id for t in tickets)
    now = datetime.now(UTC)
    seq = first_seq
    for n in range(orders):
        lines = [("grill", rng.choice(_NAMES[:2]))]
        lines += [(rng.choice(_STATIONS), rng.choice(_NAMES)) for _ in range(rng.randint(0, 3))]
        new = ticket(f"ord_c{n:06d}", lines=lines, placed_at=now, number=str(20000 + n))
        started = revise(new, station="grill", item={"status": "in_progress"})
        gone = open_ids.popleft()
        open_ids.append(new.id)
        yield encode(TicketUpdated(site_id=SITE, seq=seq, ticket=new))
        yield encode(TicketUpdated(site_id=SITE, seq=seq + 1, ticket=started))
        yield encode(TicketRemoved(site_id=SITE, seq=seq + 2, ticket_id=gone, reason="picked_up"))
        seq += 3


#: of a churn's orders, this many are timed frame by frame (the rest pass in bursts)
TIMED_ORDERS = 300
#: frames applied between two turns of the event loop in the untimed part of a churn
BURST_FRAMES = 30


def settle() -> None:
    """Run the event loop until nothing is posted and no timer is due at once: a
    delayed relayout (a zero-delay timer) and the repaint it asks for (a posted
    update request) take two more turns than the change that caused them; without
    them a move's repaint was counted in the next update."""
    for _ in range(4):
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()


def measure_screen(
    view: str,
    count: int,
    updates: int,
    repaints: int,
    seed: int,
    t0: float | None = None,
    orders: int = 0,
) -> dict[str, Any]:
    """One screen's figures; ``t0``: when its process started (``time.time()``);
    ``orders``: that many orders pass through the screen afterwards (its RSS then)."""
    rng = random.Random(seed)
    broker = FakeBroker()
    agent = FakeAgent(broker)
    tickets = make_tickets(count, rng)
    for t in tickets:
        agent.tickets[t.id] = t
    agent.seq = 1
    station = "expo" if view == "expo" else "grill"
    config = display_config(station, view=view)
    display: DisplayApp = build_display(config, broker.client(f"{view}-1"), sound_player=None)
    try:
        display.window.resize(1920, 1080)
        display.start()
        wait_until(
            lambda: display.sync.synced and len(display.sync.tickets()) == count,
            30,
            f"{view}: snapshot of {count} tickets",
        )
        wait_until(
            lambda: (handle := display.window.windowHandle()) is not None and handle.isExposed(),
            10,
            f"{view}: window shown",
        )
        settle()
        cold_start_s = None if t0 is None else time.time() - t0
        frames = updates_for(tickets, updates, rng)
        paints = PaintCounter(display.view.viewport())
        ticked = [False]  # the 1-second clock ran inside this update

        def on_changed(_tl: object, _br: object, roles: Sequence[int] = ()) -> None:
            if int(Role.ElapsedRole) in list(roles):
                ticked[0] = True

        display.model.dataChanged.connect(on_changed)
        on_frame = display.sync._on_frame  # the slot the receiver thread's signal calls
        gc.collect()
        gc.disable()
        try:
            update_s, move_s, calm_s = [], [], []
            for moves, body in frames:
                ticked[0] = False
                start = time.perf_counter()
                on_frame("state", body)
                settle()
                took = time.perf_counter() - start
                update_s.append(took)
                if moves:
                    move_s.append(took)
                if not ticked[0]:
                    calm_s.append(took)
            if display.sync.last_seq != updates + 1:
                raise RuntimeError(f"{view}: applied up to seq {display.sync.last_seq}")
            viewport = (
                display.window.board.table.viewport()
                if view == "board"
                else display.view.viewport()
            )
            wall_s, window_s = [], []
            for _ in range(repaints):
                start = time.perf_counter()
                viewport.repaint()
                wall_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                display.window.repaint()
                window_s.append(time.perf_counter() - start)
        finally:
            gc.enable()
        churn: dict[str, Any] = {}
        if orders:
            # a day's orders through the screen, then its memory: a leak shows here
            rss_before, rows_before = rss_mib(), display.model.rowCount()
            churn_s: list[float] = []
            by_kind: tuple[list[float], ...] = ([], [], [])  # arrival, start, pick-up
            first = display.sync.last_seq + 1
            for n, body in enumerate(churn_frames(tickets, orders, first, rng)):
                if n < 3 * TIMED_ORDERS:  # an arrival, a start, a pick-up: each timed
                    start = time.perf_counter()
                    on_frame("state", body)
                    settle()
                    churn_s.append(time.perf_counter() - start)
                    by_kind[n % 3].append(churn_s[-1])
                else:  # the rest as a rush brings them: the event loop runs between bursts
                    on_frame("state", body)
                    if n % BURST_FRAMES == 0:
                        settle()
            settle()
            if display.sync.last_seq != first + 3 * orders - 1:
                raise RuntimeError(f"{view}: applied up to seq {display.sync.last_seq}")
            if display.model.rowCount() != rows_before:
                raise RuntimeError(f"{view}: {display.model.rowCount()} rows after the churn")
            gc.collect()
            churn = {
                "orders": orders,
                # arrival, start and pick-up frames of the first TIMED_ORDERS orders
                "frame": summary_ms(churn_s),
                "arrival": summary_ms(by_kind[0]),
                "start": summary_ms(by_kind[1]),
                "pickup": summary_ms(by_kind[2]),
                "rss_mib_before": rss_before,
                "rss_mib_after": rss_mib(),
            }
        return {
            "view": view,
            "tickets": count,
            "rows": display.model.rowCount(),
            "update": summary_ms(update_s),
            "move": summary_ms(move_s),
            # the updates the 1-second clock (every card's timer repainted) did not land in
            "without_tick": summary_ms(calm_s),
            "paints_per_update": round(paints.count / max(1, updates), 2),
            "wall_repaint": summary_ms(wall_s),
            "window_repaint": summary_ms(window_s),
            "cold_start_s": None if cold_start_s is None else round(cold_start_s, 3),
            "rss_mib": rss_mib(),
            "peak_rss_mib": rss_mib("VmHWM"),
            "churn": churn,
        }
    finally:
        display.close()
        agent.mq.close()
        broker.close()
        settle()


def screen_in_process(
    view: str, count: int, updates: int, repaints: int, orders: int = 0
) -> dict[str, Any]:
    """``measure_screen`` in a new process (its own RSS, a cold start)."""
    argv = [sys.executable, "-m", "bench.bench_display", "--screen", f"{view}:{count}"]
    argv += ["--updates", str(updates), "--repaints", str(repaints), "--t0", repr(time.time())]
    argv += ["--orders", str(orders)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{view} with {count} tickets: exit {done.returncode}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(
    counts: Sequence[int],
    updates: int,
    repaints: int,
    views: Sequence[str],
    orders: int = 0,
    orders_at: int = 300,
) -> dict[str, Any]:
    """Every screen; the one of each view with ``orders_at`` open tickets then has
    ``orders`` orders pass through it."""
    results: list[dict[str, Any]] = []
    for view in views:
        base = screen_in_process(view, 1, updates, repaints)
        results.append(base)
        print(_line(base), flush=True)
        for count in counts:
            churn = orders if count == orders_at else 0
            row = screen_in_process(view, count, updates, repaints, churn)
            for key in ("update", "wall_repaint", "window_repaint"):
                row[f"{key}_x_base"] = {
                    "p50": ratio(row[key]["p50_ms"], base[key]["p50_ms"]),
                    "p99": ratio(row[key]["p99_ms"], base[key]["p99_ms"]),
                }
            results.append(row)
            print(_line(row), flush=True)
    return {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "qpa": os.environ.get("QT_QPA_PLATFORM"),
        },
        "updates_per_screen": updates,
        "repaints_per_screen": repaints,
        "screens": results,
        "peak_rss_mib": max(row["peak_rss_mib"] for row in results),
    }


def _line(row: dict[str, Any]) -> str:
    u, m, w, win = row["update"], row["move"], row["wall_repaint"], row["window_repaint"]
    return (
        f"{row['view']:8s} {row['tickets']:5d} tickets ({row['rows']:4d} rows): "
        f"update p50 {u['p50_ms']:6.2f} p99 {u['p99_ms']:6.2f} ms "
        f"(moves p50 {m['p50_ms']:6.2f} max {m['max_ms']:6.2f}; "
        f"without the clock p99 {row['without_tick']['p99_ms']:6.2f} "
        f"n={row['without_tick']['n']}) | "
        f"wall repaint p50 {w['p50_ms']:6.2f} p99 {w['p99_ms']:6.2f} | "
        f"window p50 {win['p50_ms']:6.2f} p99 {win['p99_ms']:6.2f} | "
        f"cold start {row['cold_start_s']} s | RSS {row['rss_mib']} MiB"
        + (
            f" | {c['orders']} orders through: frame p50 {c['frame']['p50_ms']:.2f} "
            f"p99 {c['frame']['p99_ms']:.2f} ms, RSS {c['rss_mib_before']} -> "
            f"{c['rss_mib_after']} MiB"
            if (c := row.get("churn"))
            else ""
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", default="50,300,1000")
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--repaints", type=int, default=50)
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--screen", help="view:tickets: measure one screen here, print JSON")
    parser.add_argument("--t0", type=float, help="when this process was started")
    parser.add_argument(
        "--orders",
        type=int,
        default=10_000,
        help="orders through each view's 300-ticket screen afterwards (its RSS then)",
    )
    args = parser.parse_args(argv)
    if args.screen:
        view, count = args.screen.split(":")
        app = QApplication.instance() or QApplication(sys.argv[:1])
        row = measure_screen(
            view, int(count), args.updates, args.repaints, int(count), args.t0, args.orders
        )
        del app
        print(json.dumps(row))
        return 0
    counts = [int(c) for c in args.tickets.split(",") if c]
    views = [v for v in args.views.split(",") if v]
    report = run(counts, args.updates, args.repaints, views, args.orders)
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
