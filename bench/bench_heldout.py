"""Order to screen through the agent, held-out style: nothing of the project's own but
the agent.

::

    python -m bench.bench_heldout [--orders 100] [--json out.json]

The core is ``tests/e2e/independent_core.py`` (written from the core API contract
alone, standard library only: a plain ``http.server``), the agent runs as a site runs
it (``python -m edge_agent run``, a process of its own), the screen is a raw stomp.py
subscriber that knows only the site protocol, and the broker is a real ActiveMQ.
Orders are added one at a time; each is timed from being added at the core to its
``ticket.updated`` at the raw screen, ``PACE`` (20 ms) after the last was seen.

The floor, measured in the same run on the same broker and disk, sample by sample
summed: a long poll parked at a core like the agent's answered with one order (a
fresh ``http.client`` connection, from the add to the answer read), one SQLite commit
with the agent's durability (WAL, ``synchronous=FULL``) and one raw stomp.py hop
(publish to a topic -> a subscriber on another connection). Each part runs in a loop
of its own, twice: paced as the orders are (``PACE`` before each sample: the floor the
ratios are taken to) and back to back (``floor_each_alone``: each part's path kept
hot, a stricter baseline than anything one order at a time meets; reported beside
it).

Then commands (``--commands``, 200: start, item_done, item_undo and bump at grill on
the orders just shown, 4 a ticket, all valid), written from the site protocol: sent by
the raw screen to the site's command queue, persistent, with a reply-to, one at a time
``PACE`` after the last was everywhere; each timed from the send to its
``ticket.updated`` on the last of 5 other raw screens, each a process of its own
(``python -m bench.raw_screen``: on a site each screen is a machine of its own; here
they share the two cores). Baselines in the same run, paced alike: the raw hop above
(one subscriber), the same raw publish to those 5 processes (the fan-out), and the
command's floor: its hop to the agent + one commit + the fan-out, sample by sample.
Exit status 0 unless a peer could not be started (then 1).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import stomp

from bench.bench_spine import PACE, commit_samples, floor_samples, stages, take
from bench.stats import ratio, summary_ms
from tests.e2e.independent_core import IndependentCore
from tests.helpers.activemq import ActiveMQ
from tests.helpers.site import AgentProcess, write_agent_config

SITE = "heldout-01"
TOKEN = "heldout-token-not-secret"
STATE = f"/topic/kds.{SITE}.state"
COMMANDS = f"/queue/kds.{SITE}.commands"
clock = time.perf_counter


def order_text(n: int) -> str:
    """One order as the contract's example has it (one grill line)."""
    return json.dumps(
        {
            "id": f"ord_HELD{n:05d}",
            "version": 1,
            "site_id": SITE,
            "brand": {"id": "burger-bros", "name": "Burger Bros"},
            "channel": "ubereats",
            "display_number": f"H-{n:04d}",
            "placed_at": "2026-11-24T18:01:55.000Z",
            "promised_at": "2026-11-24T18:20:00.000Z",
            "priority": "normal",
            "status": "placed",
            "customer": {"name": "Sam", "notify": False},
            "notes": "",
            "items": [
                {
                    "line_id": "l1",
                    "sku": "BB-CLASSIC",
                    "name": "Classic Burger",
                    "qty": 2,
                    "station": "grill",
                    "prep_seconds": 420,
                    "modifiers": [{"name": "No onions", "qty": 1}],
                    "allergens": ["gluten", "milk"],
                    "notes": "well done",
                }
            ],
            "total_cents": 2590,
        }
    )


class RawScreen(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    """A screen that knows only the site protocol: when each ticket first arrived."""

    def __init__(self, url: str, destination: str) -> None:
        parts = urlsplit(url)
        self.cond = threading.Condition()
        self.first_seen: dict[str, float] = {}
        #: ticket id -> the seq of its first ticket.updated
        self.seqs: dict[str, int] = {}
        self.replies: set[str] = set()
        self.conn = stomp.Connection12(
            [(parts.hostname or "127.0.0.1", parts.port or 61613)], heartbeats=(10000, 10000)
        )
        self.conn.set_listener("raw", self)
        self.conn.connect(wait=True)
        self.conn.subscribe(destination, id="state", ack="auto")

    def on_message(self, frame: Any) -> None:
        now = clock()
        body = json.loads(frame.body)
        with self.cond:
            if body.get("type") == "ticket.updated":
                self.first_seen.setdefault(body["ticket"]["id"], now)
                self.seqs.setdefault(body["ticket"]["id"], int(body["seq"]))
            elif "i" in body:  # the floor's hop
                self.first_seen.setdefault(f"hop-{body['i']}", now)
            elif body.get("type") == "command.result":
                self.replies.add(str(body.get("command_id")))
            self.cond.notify_all()

    def wait(self, key: str, timeout: float) -> float | None:
        with self.cond:
            if not self.cond.wait_for(lambda: key in self.first_seen, timeout):
                return None
            return self.first_seen[key]

    def close(self) -> None:
        self.conn.disconnect()


PARTS = ("long_poll", "commit", "hop")

#: the other screens a command goes to (each a process of its own, as on a site)
OTHER_SCREENS = 5
FANOUT_TOPIC = "/topic/heldout.fanout"


class OtherScreens:
    """``count`` screens as processes of their own (``python -m bench.raw_screen``):
    when each one received each ``seq`` of the state topic and each hop ``i``, in
    wall-clock time (the processes share the system's clock)."""

    def __init__(self, url: str, count: int = OTHER_SCREENS) -> None:
        parts = urlsplit(url)
        self.cond = threading.Condition()
        #: per screen: seq -> (ticket id, time) and hop i -> time
        self.updates: list[dict[int, tuple[str, float]]] = [{} for _ in range(count)]
        self.hops: list[dict[int, float]] = [{} for _ in range(count)]
        self.procs: list[subprocess.Popen[str]] = []
        args = [str(parts.hostname or "127.0.0.1"), str(parts.port or 61613)]
        for n in range(count):
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.raw_screen", *args, STATE, FANOUT_TOPIC],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.procs.append(proc)
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                self.close()
                raise RuntimeError(f"other screen {n}: not subscribed at {url}")
            threading.Thread(target=self._read, args=(n, proc), daemon=True).start()

    def _read(self, n: int, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            kind, *fields = line.split()
            with self.cond:
                if kind == "T":
                    self.updates[n][int(fields[1])] = (fields[0], float(fields[2]))
                elif kind == "H":
                    self.hops[n][int(fields[0])] = float(fields[1])
                self.cond.notify_all()

    def last_seq(self, ticket_id: str) -> list[int]:
        """Per screen: the last seq it has for the ticket (0: none)."""
        with self.cond:
            return [
                max((seq for seq, (tid, _) in seen.items() if tid == ticket_id), default=0)
                for seen in self.updates
            ]

    def all_after(
        self, ticket_id: str, before: list[int], timeout: float
    ) -> tuple[int, float, float] | None:
        """The first update of the ticket after ``before`` on every screen: (its seq,
        when the first screen had it, when the last one did); None if not in time."""

        def first(n: int) -> tuple[int, float] | None:
            after = [
                (seq, at)
                for seq, (tid, at) in self.updates[n].items()
                if tid == ticket_id and seq > before[n]
            ]
            return min(after) if after else None

        with self.cond:
            if not self.cond.wait_for(
                lambda: all(first(n) is not None for n in range(len(self.updates))), timeout
            ):
                return None
            firsts = [first(n) for n in range(len(self.updates))]
        seqs = {f[0] for f in firsts if f is not None}
        times = [f[1] for f in firsts if f is not None]
        return min(seqs), min(times), max(times)

    def hop_seen(self, i: int, timeout: float) -> float | None:
        """When the last screen received hop ``i``."""
        with self.cond:
            if not self.cond.wait_for(lambda: all(i in h for h in self.hops), timeout):
                return None
            return max(h[i] for h in self.hops)

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def fanout_samples(url: str, screens: OtherScreens, pace: float) -> Generator[float, None, None]:
    """One raw publish to the topic the other screens subscribe to, per ``next``: until
    the last of them received it (the fan-out floor on this machine), ``pace`` after
    the last; wall-clock time, as the screens' processes report it."""
    yield from publish_samples(url, FANOUT_TOPIC, screens.hop_seen, pace, now=time.time)


def command_text(k: int, ticket_id: str) -> tuple[str, str]:
    """The k-th command of the plan (start, item_done, item_undo, bump at grill: 4 per
    ticket, all valid), as the site protocol writes it: (command_id, JSON)."""
    kind = ("start", "item_done", "item_undo", "bump")[k % 4]
    command: dict[str, Any] = {
        "v": 1,
        "type": kind,
        "site_id": SITE,
        "command_id": f"heldout-cmd-{k:05d}",
        "display_id": "heldout-pass",
        "ticket_id": ticket_id,
        "station": "grill",
    }
    if kind in ("item_done", "item_undo"):
        command["line_id"] = "l1"
    return command["command_id"], json.dumps(command)


def run_commands(
    screen: RawScreen, screens: OtherScreens, ticket_ids: Sequence[str], count: int
) -> tuple[list[float], list[tuple[float, int, float]], list[float]]:
    """``count`` commands sent one at a time (``PACE`` after the last was everywhere) by
    the raw screen, persistent with a reply-to, as a display sends them; each timed from
    the send to its ``ticket.updated`` on the last of the other screens. Returns those
    latencies, (send, seq, last screen) samples in ``clock`` time, and the spread from
    the first of the other screens to the last."""
    offset = time.time() - clock()
    latencies: list[float] = []
    samples: list[tuple[float, int, float]] = []
    spread: list[float] = []
    reply_to = f"/queue/kds.{SITE}.replies.heldout-pass"
    for k in range(count):
        ticket_id = ticket_ids[k // 4]
        command_id, text = command_text(k, ticket_id)
        before = screens.last_seq(ticket_id)
        time.sleep(PACE)
        began = time.time()
        screen.conn.send(COMMANDS, text, headers={"reply-to": reply_to, "persistent": "true"})
        seen = screens.all_after(ticket_id, before, 10)
        if seen is None:
            raise RuntimeError(f"command {command_id} did not reach the other screens in 10 s")
        seq, first, last = seen
        latencies.append(last - began)
        samples.append((began - offset, seq, last - offset))
        spread.append(last - first)
    return latencies, samples, spread


def publish_samples(
    url: str,
    topic: str,
    seen: Callable[[int, float], float | None],
    pace: float,
    now: Callable[[], float] = clock,
) -> Generator[float, None, None]:
    """One raw stomp.py publish of ``{"i": ...}`` to ``topic`` per ``next``, ``pace``
    seconds after the last: from the send to ``seen(i, timeout)`` (when the subscriber,
    or the last of them, had it, on the ``now`` clock). The first 20 are not yielded:
    until the subscriptions are live and the paths warm."""
    parts = urlsplit(url)
    pub = stomp.Connection12([(parts.hostname or "127.0.0.1", parts.port or 61613)])
    pub.connect(wait=True)
    try:
        for i in itertools.count():
            if pace:
                time.sleep(pace)
            began = now()
            pub.send(topic, json.dumps({"i": i, "pad": "x" * 1024}))
            at = seen(i, 5)
            if at is not None and i >= 20:
                yield at - began
    finally:
        pub.disconnect()


def hop_samples(url: str, pace: float) -> Generator[float, None, None]:
    """One raw stomp.py hop per ``next``: publish -> a subscriber on its own connection,
    ``pace`` seconds after the last."""
    screen = RawScreen(url, "/topic/heldout.hop")
    try:
        yield from publish_samples(
            url, "/topic/heldout.hop", lambda i, timeout: screen.wait(f"hop-{i}", timeout), pace
        )
    finally:
        screen.close()


def long_poll_samples(core: IndependentCore, pace: float) -> Generator[float, None, None]:
    """A long poll parked at the core answered with one order, per ``next``: from the
    add (``pace`` seconds after the poll is parked) to the answer read (a fresh
    connection each, as a careful client would not need)."""
    host, port = "127.0.0.1", int(core.url.rsplit(":", 1)[1])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for n in itertools.count():
        conn = http.client.HTTPConnection(host, port, timeout=10)
        answer: list[float] = []

        def poll(
            conn: http.client.HTTPConnection = conn,
            cursor: str = str(n),
            answer: list[float] = answer,
        ) -> None:
            conn.request("GET", f"/api/v1/sites/{SITE}/orders?cursor={cursor}&wait=5", None, auth)
            conn.getresponse().read()
            answer.append(clock())

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        deadline = time.monotonic() + 5
        while len(core.feed_requests) < n + 1 and time.monotonic() < deadline:
            time.sleep(0.001)  # until the poll is parked at the core
        time.sleep(max(pace, 0.005))
        began = clock()
        core.add(order_text(n))
        thread.join(10)
        conn.close()
        if answer:
            yield answer[0] - began


def ratios_to(result: dict[str, Any], **baselines: dict[str, Any]) -> dict[str, float]:
    """``p50_over_<name>`` and ``p99_over_<name>`` of ``result`` for each baseline."""
    return {
        f"{q}_over_{name}": ratio(result[f"{q}_ms"], base[f"{q}_ms"])
        for name, base in baselines.items()
        for q in ("p50", "p99")
    }


def run(orders: int, commands: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kds-heldout-") as tmp:
        workdir = Path(tmp)
        broker = ActiveMQ(workdir / "activemq", stomp_port=0)
        broker.start()
        try:
            # The floor's parts, each in a loop of its own: paced as the orders are (the
            # floor), and back to back, each part's path kept hot (a stricter baseline)
            parts: dict[float, list[list[float]]] = {}
            for pace in (PACE, 0.0):
                with IndependentCore(SITE, TOKEN) as floor_core:
                    parts[pace] = [
                        take(samples, orders)
                        for samples in (
                            long_poll_samples(floor_core, pace),
                            commit_samples(workdir / f"floor-{pace}.sqlite3", "FULL", pace),
                            hop_samples(broker.url, pace),
                        )
                    ]
            with IndependentCore(SITE, TOKEN) as core:
                config, store = write_agent_config(
                    workdir, site_id=SITE, core_url=core.url, mq_url=broker.url
                )
                agent = AgentProcess(config, TOKEN, workdir / "agent.log").start()
                screen = RawScreen(broker.url, STATE)
                screens = OtherScreens(broker.url)
                try:
                    core.add(order_text(90_000))  # warm-up: the agent follows the feed
                    if screen.wait("ord_HELD90000", 60) is None:
                        raise RuntimeError(
                            "the agent did not bring an order to the screen\n" + agent.log()
                        )
                    latencies: list[float] = []
                    samples: list[tuple[float, int, float]] = []
                    for n in range(orders):
                        time.sleep(PACE)  # one at a time: the agent's long poll is parked
                        began = clock()
                        core.add(order_text(n))
                        seen = screen.wait(f"ord_HELD{n:05d}", 10)
                        if seen is None:
                            raise RuntimeError(f"order {n} did not reach the screen in 10 s")
                        latencies.append(seen - began)
                        samples.append((began, screen.seqs[f"ord_HELD{n:05d}"], seen))
                    # commands from the raw screen to the other screens, then the same
                    # screens' fan-out floor: one raw publish to all of them, paced alike
                    ticket_ids = [f"ord_HELD{n:05d}" for n in range(orders)]
                    to_all, command_samples, spread = run_commands(
                        screen, screens, ticket_ids, min(commands, 4 * orders)
                    )
                    fanout = take(fanout_samples(broker.url, screens, PACE), len(to_all))
                finally:
                    screens.close()
                    screen.close()
                    agent.stop()
                split = stages(store, samples)
                command_split = stages(store, command_samples)
        finally:
            broker.stop()
    latency = summary_ms(latencies)
    to_all_s = summary_ms(to_all)
    hop_s = summary_ms(parts[PACE][2])
    fanout_s = summary_ms(fanout)
    # a command's own floor: its hop to the agent, the agent's commit, the fan-out hop
    command_floor = summary_ms(floor_samples(parts[PACE][2], parts[PACE][1], fanout))
    floor_s = summary_ms(floor_samples(*parts[PACE]))
    alone_s = summary_ms(floor_samples(*parts[0.0]))
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "orders": orders,
        "pace_s": PACE,
        "latency": latency,
        "floor": floor_s,
        "floor_parts": {
            name: summary_ms(part) for name, part in zip(PARTS, parts[PACE], strict=True)
        },
        "floor_each_alone": alone_s,
        "floor_each_alone_parts": {
            name: summary_ms(part) for name, part in zip(PARTS, parts[0.0], strict=True)
        },
        "stages": split,
        "ratios": {
            "p50": ratio(latency["p50_ms"], floor_s["p50_ms"]),
            "p99": ratio(latency["p99_ms"], floor_s["p99_ms"]),
            "p50_over_each_alone": ratio(latency["p50_ms"], alone_s["p50_ms"]),
            "p99_over_each_alone": ratio(latency["p99_ms"], alone_s["p99_ms"]),
        },
        "commands": {
            "count": len(to_all),
            "other_screens": OTHER_SCREENS,
            "to_other_screens": to_all_s,
            "first_to_last_screen": summary_ms(spread),
            "stages": command_split,
            "hop": hop_s,
            "fanout_hop": fanout_s,
            "floor": command_floor,
            "ratios": ratios_to(to_all_s, floor=command_floor, hop=hop_s, fanout=fanout_s),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument(
        "--commands", type=int, default=200, help="commands to the other screens (4 a ticket)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    try:
        out = run(args.orders, args.commands)
    except RuntimeError as exc:
        print(f"bench_heldout: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(out, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
