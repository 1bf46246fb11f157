"""Many sites on one broker: what each site costs ActiveMQ, measured, to extrapolate.

::

    .venv/bin/python -m bench.bench_scale [--sites 25,50,100] [--seconds 60] [--json out.json]

Starts a real ActiveMQ (Debian's, ``tests.helpers.activemq``, 1 GiB heap) and, for each
number of sites, that many simulated sites, each with the kitchen's traffic at a
Friday peak:

* an **agent**: one STOMP connection, consuming its site's command queue, publishing
  ``ticket.updated``-sized (1.1 KB) persistent messages to its state topic at
  ``--state-per-site`` messages/s, each with a RECEIPT (the agent's pattern), and a
  non-persistent ``agent.alive`` every 5 s;
* **three screens**: one connection each, subscribed to the state topic, sending a
  persistent command (300 B) to the command queue at ``--commands-per-site`` per
  second between them.

Over ``--seconds`` it measures the broker JVM's CPU (``utime + stime`` from
``/proc``, as a share of one core) and RSS, and counts what the screens and agents
received (the load really went through: every published message reaches three
screens). The baseline is the same broker with no site, measured first in the same
run; per-site figures are the slope between the runs. Everything runs on this
machine's 2 cores: the simulated clients (Python, one process) share them with the
broker, so the broker's CPU per site is a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared import wire
from shared.mq import Message, MqClient
from tests.helpers.activemq import ActiveMQ

STATE_BODY = b"x" * 1100
COMMAND_BODY = b"y" * 300
ALIVE_EVERY = 5.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def jvm_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


class Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, _message: Message | None = None) -> None:
        with self._lock:
            self.value += 1


class Site:
    """One simulated site: an agent connection and three screen connections."""

    def __init__(self, url: str, site_id: str, received: Counter, commands: Counter) -> None:
        self.site_id = site_id
        self.topic = wire.state_topic(site_id)
        self.queue = wire.command_queue(site_id)
        self.agent = MqClient(url, heartbeat_ms=10_000, name=f"agent-{site_id}")
        self.agent.subscribe(self.queue, commands.add)
        self.screens = []
        for n in range(3):
            screen = MqClient(url, heartbeat_ms=10_000, name=f"screen-{site_id}-{n}")
            screen.subscribe(self.topic, received.add)
            self.screens.append(screen)
        for client in (self.agent, *self.screens):
            client.start()

    def connected(self, timeout: float) -> bool:
        return all(c.wait_connected(timeout) for c in (self.agent, *self.screens))

    def close(self) -> None:
        for client in (self.agent, *self.screens):
            client.close()


def drive(
    sites: list[Site], seconds: float, state_rate: float, command_rate: float, rng: random.Random
) -> dict[str, int]:
    """Send each site's traffic for ``seconds``, spread evenly; counts what was sent."""
    published = confirmed = commands = alive = failed = 0
    lock = threading.Lock()

    def on_receipt(ok: bool) -> None:
        nonlocal confirmed, failed
        with lock:
            if ok:
                confirmed += 1
            else:
                failed += 1

    total_rate = len(sites) * (state_rate + command_rate)
    interval = 1.0 / total_rate if total_rate else seconds
    share = state_rate / (state_rate + command_rate) if total_rate else 1.0
    start = time.monotonic()
    next_alive = start
    step = 0
    while (now := time.monotonic()) - start < seconds:
        if now >= next_alive:
            for site in sites:
                site.agent.send(site.topic, b'{"type": "agent.alive"}', persistent=False)
                alive += 1
            next_alive += ALIVE_EVERY
        site = sites[step % len(sites)]
        step += 1
        if rng.random() < share:
            site.agent.send(site.topic, STATE_BODY, persistent=True, on_receipt=on_receipt)
            published += 1
        else:
            screen = site.screens[step % 3]
            screen.send(site.queue, COMMAND_BODY, persistent=True)
            commands += 1
        wait = start + step * interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    return {
        "state_published": published,
        "state_confirmed": confirmed,
        "state_failed": failed,
        "commands_sent": commands,
        "alive_sent": alive,
    }


def measure(
    broker: ActiveMQ, count: int, seconds: float, state_rate: float, command_rate: float
) -> dict[str, Any]:
    pid = broker.pid
    assert pid is not None
    received, commands = Counter(), Counter()
    sites = [
        Site(broker.url, f"s{n:04d}-{uuid.uuid4().hex[:4]}", received, commands)
        for n in range(count)
    ]
    try:
        if sites and not all(site.connected(60) for site in sites):
            raise RuntimeError(f"{count} sites: not every connection came up within 60 s")
        time.sleep(2.0)  # the subscriptions settle before the window opens
        cpu0, t0 = jvm_cpu_seconds(pid), time.monotonic()
        if sites:
            sent = drive(sites, seconds, state_rate, command_rate, random.Random(count))
        else:
            sent = {}
            time.sleep(seconds)
        cpu1, t1 = jvm_cpu_seconds(pid), time.monotonic()
        time.sleep(2.0)  # what is in flight arrives
        return {
            "sites": count,
            "connections": 4 * count,
            "destinations": 2 * count,
            "seconds": round(t1 - t0, 1),
            "broker_cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
            "broker_rss_mib": rss_mib(pid),
            "messages_per_s_in": round(
                (sent.get("state_published", 0) + sent.get("commands_sent", 0)) / (t1 - t0), 1
            ),
            "screen_deliveries": received.value,
            "commands_received": commands.value,
            **sent,
        }
    finally:
        for site in sites:
            site.close()


def run(
    counts: Sequence[int], seconds: float, state_rate: float, command_rate: float
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kds-scale-") as tmp:
        broker = ActiveMQ(Path(tmp) / "activemq", max_heap="1G")
        broker.start()
        try:
            rows = [measure(broker, 0, seconds, state_rate, command_rate)]
            print(_line(rows[0]), flush=True)
            for count in counts:
                rows.append(measure(broker, count, seconds, state_rate, command_rate))
                print(_line(rows[-1]), flush=True)
        finally:
            broker.stop()
    base = rows[0]
    for row in rows[1:]:
        n = row["sites"]
        row["cpu_pct_per_site"] = round(
            (row["broker_cpu_pct_of_one_core"] - base["broker_cpu_pct_of_one_core"]) / n, 3
        )
        row["rss_mib_per_site"] = round((row["broker_rss_mib"] - base["broker_rss_mib"]) / n, 3)
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "params": {
            "seconds": seconds,
            "state_per_site_per_s": state_rate,
            "commands_per_site_per_s": command_rate,
            "broker_heap": "1G",
        },
        "runs": rows,
    }


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['sites']:5d} sites ({row['connections']:5d} connections): broker CPU "
        f"{row['broker_cpu_pct_of_one_core']:6.1f}% of a core, RSS {row['broker_rss_mib']:7.1f} "
        f"MiB, {row['messages_per_s_in']:7.1f} msg/s in, "
        f"{row['screen_deliveries']} deliveries to screens"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default="25,50,100")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--state-per-site", type=float, default=0.5)
    parser.add_argument("--commands-per-site", type=float, default=0.25)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.sites.split(",") if c]
    report = run(counts, args.seconds, args.state_per_site, args.commands_per_site)
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
