"""Benchmark of the agent's ingest, sustained: orders per second for a whole minute.

::

    python -m bench.bench_ingest [--rate 1000] [--seconds 60] [--json out.json]

Starts its own peers on 127.0.0.1 and stops them again: a real ActiveMQ, the core
simulator (in this process) and the edge agent as a process of its own
(``python -m edge_agent run``, as a site runs it, so its CPU and RSS are its own).
A load thread creates orders at the simulator at ``--rate`` orders/s (a step every
10 ms) for ``--seconds``; a display-like subscriber on the site's state topic notes
when each order's first ``ticket.updated`` arrived. Reported:

* the offered rate and the rate the agent kept: orders whose ``ticket.updated`` was on
  the screen within the minute, per second, and the slowest and median 1-second
  window; the backlog when the load stopped and how long it took to drain;
* order-to-screen latency over the minute (p50/p99), and by quarter of the minute
  (a latency that keeps growing means the agent is falling behind);
* durability: the agent's store, read afterwards, holds every order, each with its
  state message confirmed by the broker; every ``seq`` arrived once, without gaps;
* the core's ``accepted`` events: how many had reached the core when the load stopped,
  and how long until all had (they go after the screens' publish, on purpose);
* the agent's RSS when 10,000 orders were on the screen and at the end (``VmRSS``,
  ``VmHWM``) and its CPU over the minute;
* baselines measured in the same run: a bare HTTP client reading the same orders
  from the core's feed (pages of 100, what the core alone can hand out), and
  pipelined STOMP publishes with one RECEIPT at the end (what the broker alone takes).

The agent stores each page of orders in one transaction (``synchronous=FULL``, so
durable when it commits) and publishes each order's state message, confirmed by a
RECEIPT, before the order counts as sent. Exit status 0 unless a peer could not be
started (then 1).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import logging
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bench_spine import SEED, SITE, TOKEN, HopProbe, accepted_events, closing_all, wait_for
from bench.stats import percentile, ratio, summary_ms
from core_sim.server import CoreSimulator
from shared import wire
from shared.mq import Message, MqClient
from tests.helpers.activemq import ActiveMQ
from tests.helpers.site import AgentProcess, write_agent_config

log = logging.getLogger("bench.ingest")
clock = time.perf_counter
STEP = 0.01  # the load thread creates a batch of orders every 10 ms
MILESTONE = 10_000  # the agent's RSS is read when this many orders are on the screen


def proc_status_mib(pid: int, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from ``/proc/PID/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class ScreenProbe:
    """A display-like subscriber: the first ``ticket.updated`` time of every ticket."""

    def __init__(self, url: str, site_id: str) -> None:
        self.site_id = site_id
        self.reply_queue = f"/queue/kds.{site_id}.replies.bench-ingest"
        self.cond = threading.Condition()
        self.first_seen: dict[str, float] = {}
        self.seqs: list[int] = []
        self.replies: set[str] = set()
        self.client = MqClient(url, heartbeat_ms=2000, backoff_max=1.0, name="bench-screen")
        self.client.subscribe(wire.state_topic(site_id), self._on_state)
        self.client.subscribe(self.reply_queue, self._on_reply)
        self.client.start()
        if not self.client.wait_connected(15):
            self.client.close()
            raise RuntimeError(f"screen probe: broker not reachable at {url}")

    def close(self) -> None:
        self.client.close()

    def _on_state(self, message: Message) -> None:
        now = clock()
        body = json.loads(message.body)
        if body.get("type") not in ("ticket.updated", "ticket.removed"):
            return
        with self.cond:
            self.seqs.append(int(body["seq"]))
            if body["type"] == "ticket.updated":
                self.first_seen.setdefault(body["ticket"]["id"], now)
            self.cond.notify_all()

    def _on_reply(self, message: Message) -> None:
        with self.cond:
            self.replies.add(str(json.loads(message.body).get("command_id")))
            self.cond.notify_all()

    def snapshot(self, timeout: float) -> bool:
        """Ask the agent for a snapshot: its reply proves its consumer is up."""
        command = wire.make_command(
            "snapshot", self.site_id, command_id="bench-ingest-snapshot", display_id="bench"
        )
        self.client.send(
            wire.command_queue(self.site_id),
            wire.encode(command),
            headers={"reply-to": self.reply_queue},
            persistent=True,
        )
        with self.cond:
            return self.cond.wait_for(lambda: command.command_id in self.replies, timeout)

    def on_screen(self) -> int:
        with self.cond:
            return len(self.first_seen)

    def seq_report(self) -> dict[str, int]:
        with self.cond:
            seqs = sorted(self.seqs)
        return {
            "received": len(seqs),
            "duplicates": len(seqs) - len(set(seqs)),
            "gaps": sum(1 for a, b in itertools.pairwise(seqs) if b > a + 1),
        }


class Load(threading.Thread):
    """Creates ``rate`` orders/s at the simulator for ``seconds``, in 10 ms steps."""

    def __init__(self, sim: CoreSimulator, rate: int, seconds: float) -> None:
        super().__init__(name="bench-load", daemon=True)
        self.sim, self.rate, self.seconds = sim, rate, seconds
        self.created: dict[str, float] = {}
        self.began = self.ended = 0.0

    def run(self) -> None:
        self.began = clock()
        due = 0
        while (now := clock()) - self.began < self.seconds:
            target = int((now - self.began) * self.rate)
            while due < target:
                t = clock()
                self.created[self.sim.create_order(SITE)["id"]] = t
                due += 1
            time.sleep(max(0.0, self.began + (due / self.rate) + STEP - clock()))
        self.ended = clock()


def feed_read_rate(sim: CoreSimulator, expected: int) -> dict[str, Any]:
    """A bare ``http.client`` reading the whole feed from its start, pages of 100, on one
    connection: the orders/s the core alone hands out (the agent's ceiling from the core)."""
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=30)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    cursor: str | None = None
    read = 0
    began = clock()
    try:
        while True:
            path = f"/api/v1/sites/{SITE}/orders" + (f"?cursor={cursor}" if cursor else "")
            conn.request("GET", path, headers=auth)
            page = json.loads(conn.getresponse().read())
            read += len(page["orders"])
            cursor = page["cursor"]
            if not page["orders"] or read >= expected:
                break
    finally:
        conn.close()
    seconds = clock() - began
    return {"orders": read, "seconds": round(seconds, 3), "orders_per_s": round(read / seconds, 1)}


def stored(store_path: Path, ids: set[str]) -> dict[str, Any]:
    """What the agent's store holds of ``ids`` (read-only, after the run)."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        tickets = {row[0] for row in conn.execute("SELECT id FROM tickets")}
        states = dict(
            conn.execute(
                "SELECT state, COUNT(*) FROM outbox WHERE channel = 'mq' AND kind = 'state' "
                "GROUP BY state"
            ).fetchall()
        )
    finally:
        conn.close()
    return {
        "tickets_stored": len(ids & tickets),
        "tickets_missing": len(ids - tickets),
        "state_rows_by_state": states,
    }


def windows(seen: Sequence[float], began: float, seconds: int) -> list[int]:
    """Orders first on the screen in each 1-second window after ``began``."""
    counts = [0] * seconds
    for t in seen:
        k = int(t - began)
        if 0 <= k < seconds:
            counts[k] += 1
    return counts


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "params": {"rate": args.rate, "seconds": args.seconds, "seed": SEED},
    }
    with tempfile.TemporaryDirectory(prefix="kds-ingest-") as tmp, closing_all() as closers:
        workdir = Path(tmp)
        broker = ActiveMQ(workdir / "activemq", stomp_port=0)
        broker.start()
        closers.append(broker.stop)
        probe = HopProbe(broker.url)
        closers.append(probe.close)
        probe.warm_up(50)
        out["baseline_pipelined_msgs_per_s"] = round(probe.pipelined_rate(2000, first=300_000), 1)
        probe.close()
        closers.remove(probe.close)

        sim = CoreSimulator(sites={SITE: TOKEN}, seed=SEED)
        sim.start()
        closers.append(sim.close)
        config, store_path = write_agent_config(
            workdir, site_id=SITE, core_url=sim.url, mq_url=broker.url
        )
        agent = AgentProcess(config, TOKEN, workdir / "agent.log").start()

        def stop_agent() -> None:
            agent.stop()

        closers.append(stop_agent)
        screen = ScreenProbe(broker.url, SITE)
        closers.append(screen.close)
        if not screen.snapshot(30):
            raise RuntimeError("no snapshot reply from the agent within 30 s\n" + agent.log())
        assert agent.proc is not None
        pid = agent.proc.pid
        warm = [sim.create_order(SITE)["id"] for _ in range(20)]
        if not wait_for(lambda: screen.on_screen() >= len(warm), 30):
            raise RuntimeError("warm-up orders did not reach the screen\n" + agent.log())
        print(f"agent up (pid {pid}), load {args.rate}/s for {args.seconds}s", file=sys.stderr)

        rss_at_start = proc_status_mib(pid, "VmRSS")
        cpu_before = proc_cpu_seconds(pid)
        own_before = proc_cpu_seconds(os.getpid())
        broker_before = proc_cpu_seconds(broker.pid) if broker.pid else 0.0
        load = Load(sim, args.rate, args.seconds)
        load.start()
        rss_at_milestone: float | None = None
        samples: list[dict[str, Any]] = []
        while load.is_alive():
            time.sleep(1.0)
            on = screen.on_screen() - len(warm)
            samples.append({"t": round(clock() - load.began, 1), "on_screen": on})
            if rss_at_milestone is None and on >= MILESTONE:
                rss_at_milestone = proc_status_mib(pid, "VmRSS")
        load.join()
        cpu_minute = proc_cpu_seconds(pid) - cpu_before
        own_minute = proc_cpu_seconds(os.getpid()) - own_before
        broker_minute = (proc_cpu_seconds(broker.pid) - broker_before) if broker.pid else 0.0
        minute = load.ended - load.began
        created = dict(load.created)
        ids = set(created)
        backlog = len(ids) - sum(1 for oid in ids if oid in screen.first_seen)
        core_events_in_minute = accepted_events(sim, ids)
        drained = wait_for(lambda: all(oid in screen.first_seen for oid in ids), 300, 0.1)
        drain_s = clock() - load.ended
        # the core's "accepted" events go after the screens' publish: how far behind
        core_done = wait_for(lambda: accepted_events(sim, ids) >= len(ids), 300, 0.5)
        core_drain_s = clock() - load.ended
        if rss_at_milestone is None:
            rss_at_milestone = proc_status_mib(pid, "VmRSS")
        with screen.cond:
            seen = {oid: screen.first_seen[oid] for oid in ids if oid in screen.first_seen}
        in_minute = [t for t in seen.values() if t <= load.ended]
        per_second = windows(in_minute, load.began, int(minute))
        latency = [seen[oid] - created[oid] for oid in seen]
        by_quarter = []
        for q in range(4):
            lo, hi = load.began + q * minute / 4, load.began + (q + 1) * minute / 4
            part = [seen[oid] - t for oid, t in created.items() if lo <= t < hi and oid in seen]
            by_quarter.append(summary_ms(part))
        out["ingest"] = {
            "offered_orders": len(ids),
            "offered_per_s": round(len(ids) / minute, 1),
            "on_screen_in_minute": len(in_minute),
            "kept_per_s": round(len(in_minute) / minute, 1),
            "window_min_per_s": min(per_second) if per_second else 0,
            "window_p50_per_s": percentile(per_second, 50) if per_second else 0,
            "backlog_at_end": backlog,
            "drained": drained,
            "drain_seconds": round(drain_s, 2),
            "latency": summary_ms(latency),
            "latency_by_quarter": by_quarter,
            "core_accepted_events_in_minute": core_events_in_minute,
            "core_events_drained": core_done,
            "core_events_drain_seconds": round(core_drain_s, 2),
            "samples": samples,
        }
        out["agent"] = {
            "pid": pid,
            "rss_mib_start": rss_at_start,
            "rss_mib_at_10000_orders": rss_at_milestone,
            "rss_mib_end": proc_status_mib(pid, "VmRSS"),
            "peak_rss_mib": proc_status_mib(pid, "VmHWM"),
            "cpu_share_of_one_core": round(cpu_minute / minute, 3),
        }
        # the machine's two cores over the minute: who had them
        out["cpu_cores_used"] = {
            "agent": round(cpu_minute / minute, 2),
            "core_simulator_load_and_screen_probe": round(own_minute / minute, 2),
            "broker": round(broker_minute / minute, 2),
            "machine_cores": os.cpu_count(),
        }
        out["seq"] = screen.seq_report()
        # all confirmed: give the outbox the time to record the last RECEIPTs
        wait_for(lambda: stored(store_path, ids)["tickets_stored"] == len(ids), 30, 0.2)
        out["feed_read_baseline"] = feed_read_rate(sim, len(ids) + len(warm))
        stop_agent()
        closers.remove(stop_agent)
        out["durability"] = stored(store_path, ids)
        out["agent_exit_log_errors"] = [
            line for line in agent.log().splitlines() if " ERROR " in line
        ][:10]
    out["ratios"] = {
        "kept_over_offered": ratio(out["ingest"]["kept_per_s"], out["ingest"]["offered_per_s"]),
        "kept_over_feed_read": ratio(
            out["ingest"]["kept_per_s"], out["feed_read_baseline"]["orders_per_s"]
        ),
        "kept_over_pipelined_publish": ratio(
            out["ingest"]["kept_per_s"], out["baseline_pipelined_msgs_per_s"]
        ),
    }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="orders created per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        report = run(args)
    except RuntimeError as exc:
        print(f"bench_ingest: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
