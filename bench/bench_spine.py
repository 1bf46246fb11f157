"""Benchmark of the spine: core simulator -> edge agent -> ActiveMQ -> a display-like peer.

::

    python -m bench.bench_spine [--orders 300] [--commands 200] [--json out.json]

Starts its own peers on 127.0.0.1 and stops them again: a real ActiveMQ (Debian's
``activemq``, via ``tests.helpers.activemq``), the core simulator and the edge
agent in this process (as the integration tests build it). Measures, in order:

* baselines on the same broker and disk, measured in the same run:
  A  one STOMP hop (publish to a topic -> subscriber receives), one at a time;
  A' the same hop when the publisher waits for the broker's RECEIPT (as the
     agent's outbox does);
  B  sequential publishes with a RECEIPT each (the agent's publish pattern);
  B' pipelined publishes, one RECEIPT at the end (what batching could reach);
  C  one SQLite commit (WAL, ``synchronous=FULL``, as the agent's store) and the
     same with ``synchronous=NORMAL``, for reference;
* one order at a time (``--sequential``): create one order, wait until its
  ``ticket.updated`` reached the peer, next; against the raw floor measured in the same
  run: one long-poll answer (a parked ``GET .../orders?wait=`` on a fresh connection,
  from the order's creation to the answer read) + one SQLite commit (C) + one STOMP
  hop (A), summed sample by sample, each part ``PACE`` (20 ms) idle before each sample
  as the orders are (F; the same parts back to back are reported beside it as
  ``floor_back_to_back``). With ``--naive-core`` the simulator answers as a
  plain http.server does (no ``TCP_NODELAY``: headers and body in two writes, Nagle
  holds the body): what a core written from the contract alone may do;
* burst: N orders created at the simulator as fast as possible; orders/s until the
  last ``ticket.updated`` for them reached the peer, and order-to-screen latency;
* command round trip: a display-like peer sends ``start``/``item_done``/
  ``item_undo``/``bump`` (4 per ticket, all valid) one at a time and waits for the
  matching ``ticket.updated``;
* peak RSS of this process (agent, simulator and peers share it) and the broker's.

Speed is reported as ratios to the baselines, never as absolute pass/fail. Every
loop is bounded; every wait has a deadline. Exit status 0 unless a peer could not
be started (then 1).
"""

from __future__ import annotations

import argparse
import functools
import gc
import http.client
import itertools
import json
import logging
import os
import platform
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.stats import peak_rss_mib, proc_hwm_mib, ratio, summary_ms
from core_sim.server import CoreSimulator
from edge_agent.__main__ import build_agent
from edge_agent.agent import Agent
from edge_agent.config import AgentConfig
from shared import wire
from shared.config import load
from shared.model import Ticket
from shared.mq import Message, MqClient
from tests.helpers.activemq import ActiveMQ
from tests.helpers.moto_server import MotoSns
from tests.helpers.site import agent_toml

SITE = "bench-01"
TOKEN = "bench-token-not-secret"
SEED = 7
HOP_BODY_BYTES = 1024
WAIT_ONE = 10.0  # deadline for one message / one command
#: idle before each order one at a time (the agent's long poll parked), and before each
#: sample of the floor it is compared with: on this machine (2 vCPUs, a VM) the same
#: operation after 20 ms idle is slower than back to back (a raw hop ~0.35 -> ~0.8 ms,
#: a commit ~0.2 -> ~0.4 ms; docs/bench.md), and one order at a time meets the former.
#: The floor back to back is reported beside it.
PACE = 0.02
log = logging.getLogger("bench")
clock = time.perf_counter


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def connected_client(url: str, name: str) -> MqClient:
    client = MqClient(url, heartbeat_ms=2000, backoff_max=1.0, name=name).start()
    if not client.wait_connected(15):
        client.close()
        raise RuntimeError(f"{name}: broker not reachable at {url}")
    return client


@contextmanager
def closing_all() -> Iterator[list[Callable[[], None]]]:
    """Run the registered closers in reverse order, whatever happens."""
    closers: list[Callable[[], None]] = []
    try:
        yield closers
    finally:
        for close in reversed(closers):
            try:
                close()
            except Exception:
                log.exception("cleanup step failed")


# --- baselines ------------------------------------------------------------------------------


class HopProbe:
    """A publisher and a subscriber on their own connections, on one topic."""

    def __init__(self, url: str) -> None:
        self.topic = "/topic/bench.hop"
        self._cond = threading.Condition()
        self._seen: dict[int, float] = {}
        self.sub = connected_client(url, "bench-sub")
        self.sub.subscribe(self.topic, self._on_message)
        self.pub = connected_client(url, "bench-pub")
        self._pad = "x" * HOP_BODY_BYTES

    def close(self) -> None:
        self.pub.close()
        self.sub.close()

    def _on_message(self, message: Message) -> None:
        now = clock()
        index = int(json.loads(message.body)["i"])
        with self._cond:
            self._seen[index] = now
            self._cond.notify_all()

    def body(self, index: int) -> bytes:
        return json.dumps({"i": index, "pad": self._pad}).encode()

    def _wait(self, index: int, timeout: float) -> float | None:
        with self._cond:
            self._cond.wait_for(lambda: index in self._seen, timeout)
            return self._seen.get(index)

    def warm_up(self, count: int) -> None:
        """Publish until the subscription is live, then ``count`` more (JIT, caches)."""
        index = -1
        for _ in range(100):
            self.pub.send(self.topic, self.body(index))
            if self._wait(index, 0.2) is not None:
                break
            index -= 1
        else:
            raise RuntimeError("the hop subscriber never received a message")
        for k in range(count):
            self.pub.send(self.topic, self.body(-1000 - k), receipt_timeout=5)

    def hop(self, count: int, *, receipt: bool, first: int, pace: float = 0.0) -> list[float]:
        """One at a time: publish, wait until the subscriber has it (``pace`` seconds
        idle before each)."""
        latencies = []
        for index in range(first, first + count):
            if pace:
                time.sleep(pace)
            began = clock()
            self.pub.send(self.topic, self.body(index), receipt_timeout=5 if receipt else None)
            seen = self._wait(index, WAIT_ONE)
            if seen is None:
                raise RuntimeError(f"hop message {index} not received within {WAIT_ONE}s")
            latencies.append(seen - began)
        return latencies

    def receipted_rate(self, count: int, first: int) -> float:
        """Messages/s, each sent with a RECEIPT wait (the agent's publish pattern)."""
        began = clock()
        for index in range(first, first + count):
            self.pub.send(self.topic, self.body(index), receipt_timeout=5)
        elapsed = clock() - began
        self._wait(first + count - 1, WAIT_ONE)
        return count / elapsed

    def pipelined_rate(self, count: int, first: int) -> float:
        """Messages/s when only the last frame asks for a RECEIPT (frames are in order)."""
        began = clock()
        last = first + count - 1
        for index in range(first, last):
            self.pub.send(self.topic, self.body(index))
        self.pub.send(self.topic, self.body(last), receipt_timeout=5)
        elapsed = clock() - began
        self._wait(last, WAIT_ONE)
        return count / elapsed


def commit_samples(path: Path, synchronous: str, pace: float = 0.0) -> Generator[float, None, None]:
    """One small committed transaction per ``next`` (like one outbox ``mark_done``),
    ``pace`` seconds after the last."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
        for i in itertools.count():
            if pace:
                time.sleep(pace)
            began = clock()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t(v) VALUES (?)", (f"row {i}" * 20,))
            conn.execute("COMMIT")
            yield clock() - began
    finally:
        conn.close()


def take(samples: Generator[float, None, None], count: int) -> list[float]:
    """``count`` samples, then the generator closed (its connections with it)."""
    try:
        return list(itertools.islice(samples, count))
    finally:
        samples.close()


def sqlite_commit(path: Path, count: int, synchronous: str, pace: float = 0.0) -> list[float]:
    """Latency of ``count`` small committed transactions, one after another."""
    return take(commit_samples(path, synchronous, pace), count)


# --- the site ---------------------------------------------------------------------------------


class DisplayPeer:
    """A display-like peer: records state messages and replies, sends commands."""

    def __init__(self, url: str, site_id: str) -> None:
        self.site_id = site_id
        self.reply_queue = f"/queue/kds.{site_id}.replies.bench"
        self.cond = threading.Condition()
        #: ticket id -> [(receive time, seq, ticket)] of every ticket.updated
        self.updates: dict[str, list[tuple[float, int, Ticket]]] = defaultdict(list)
        self.first_seen: dict[str, float] = {}
        self.results: dict[str, tuple[float, wire.CommandResult]] = {}
        self.seqs: list[int] = []
        self.update_bytes: list[int] = []
        self.client = MqClient(url, heartbeat_ms=2000, backoff_max=1.0, name="bench-display")
        self.client.subscribe(wire.state_topic(site_id), self._on_state)
        self.client.subscribe(self.reply_queue, self._on_result)
        self.client.start()
        if not self.client.wait_connected(15):
            self.client.close()
            raise RuntimeError(f"display peer: broker not reachable at {url}")

    def close(self) -> None:
        self.client.close()

    def _on_state(self, message: Message) -> None:
        now = clock()
        parsed = wire.parse_state_message(message.body)
        if isinstance(parsed, wire.AgentAlive):
            return
        with self.cond:
            self.seqs.append(parsed.seq)
            if isinstance(parsed, wire.TicketUpdated):
                tid = parsed.ticket.id
                self.updates[tid].append((now, parsed.seq, parsed.ticket))
                self.first_seen.setdefault(tid, now)
                self.update_bytes.append(len(message.body))
            self.cond.notify_all()

    def _on_result(self, message: Message) -> None:
        now = clock()
        result = wire.parse_result(message.body)
        with self.cond:
            self.results.setdefault(result.command_id, (now, result))
            self.cond.notify_all()

    def send(self, kind: str, command_id: str, **fields: Any) -> None:
        """As the display does: persistent, with reply-to, no receipt wait."""
        command = wire.make_command(
            kind, self.site_id, command_id=command_id, display_id="bench", **fields
        )
        self.client.send(
            wire.command_queue(self.site_id),
            wire.encode(command),
            headers={"reply-to": self.reply_queue},
            persistent=True,
        )

    def call(self, kind: str, command_id: str, timeout: float, **fields: Any) -> bool:
        self.send(kind, command_id, **fields)
        with self.cond:
            return self.cond.wait_for(lambda: command_id in self.results, timeout)

    def wait_command(
        self, ticket_id: str, before: int, command_id: str
    ) -> tuple[tuple[float, int, Ticket] | None, tuple[float, wire.CommandResult] | None]:
        """The first ``ticket.updated`` for the ticket after ``before`` (None if the
        command was refused or nothing came), then the command's reply."""
        updates = self.updates[ticket_id]

        def updated_or_refused() -> bool:
            reply = self.results.get(command_id)
            return len(updates) > before or (reply is not None and not reply[1].ok)

        with self.cond:
            self.cond.wait_for(updated_or_refused, WAIT_ONE)
            update = updates[before] if len(updates) > before else None
            self.cond.wait_for(lambda: command_id in self.results, WAIT_ONE)
            return update, self.results.get(command_id)

    def wait_seen(self, ids: Sequence[str], timeout: float) -> bool:
        wanted = set(ids)
        with self.cond:
            return self.cond.wait_for(lambda: wanted.issubset(self.first_seen), timeout)

    def seq_gaps(self) -> int:
        with self.cond:
            seqs = sorted(self.seqs)
        return sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1)


class OtherScreens:
    """``count`` more screens of the site (plain subscribers to its state topic, one
    connection each): when each one received each ``seq``."""

    def __init__(self, url: str, site_id: str, count: int) -> None:
        self.cond = threading.Condition()
        self.seen: list[dict[int, float]] = [{} for _ in range(count)]
        self.clients: list[MqClient] = []
        for n in range(count):
            client = MqClient(url, heartbeat_ms=2000, backoff_max=1.0, name=f"bench-screen-{n}")
            client.subscribe(wire.state_topic(site_id), functools.partial(self._on_state, n))
            client.start()
            self.clients.append(client)
        if not all(client.wait_connected(15) for client in self.clients):
            self.close()
            raise RuntimeError(f"other screens: broker not reachable at {url}")

    def _on_state(self, n: int, message: Message) -> None:
        now = clock()
        parsed = wire.parse_state_message(message.body)
        if isinstance(parsed, wire.TicketUpdated):
            with self.cond:
                self.seen[n].setdefault(parsed.seq, now)
                self.cond.notify_all()

    def all_have(self, seq: int, timeout: float) -> float | None:
        """When the last of them received ``seq`` (None: not all within ``timeout``)."""
        with self.cond:
            if not self.cond.wait_for(lambda: all(seq in s for s in self.seen), timeout):
                return None
            return max(s[seq] for s in self.seen)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def start_agent(workdir: Path, sim: CoreSimulator, mq_url: str, sns: MotoSns) -> Agent:
    """The agent in this process, texting customers through moto's SNS."""
    config_path = workdir / "agent.toml"
    config_path.write_text(
        agent_toml(
            site_id=SITE,
            core_url=sim.url,
            mq_url=mq_url,
            store_path=workdir / "edge.sqlite3",
            poll_wait=1,
            extra=f'\n[sns]\nendpoint_url = "{sns.url}"\nregion = "{sns.region}"\nsms = true\n',
        )
    )
    env = {
        "KDS_CORE_TOKEN": TOKEN,
        "KDS_SNS_AWS_ACCESS_KEY_ID": sns.access_key,
        "KDS_SNS_AWS_SECRET_ACCESS_KEY": sns.secret_key,
    }
    config = load(AgentConfig, config_path, env=env, secrets=None)
    agent = build_agent(config).start()
    # as `edge-agent run` does once its agent has started (edge_agent/__main__.py): what
    # start-up built, out of the collector's sight. Without it a full collection walks
    # this process's whole heap (agent, simulator, moto, boto3: ~120 ms, seen as one
    # order's 125 ms to the screen), a pause the agent's own process does not have.
    gc.freeze()
    ready = wait_for(
        lambda: agent.relay.connected and agent.store.get_meta("feed_cursor") is not None, 30
    )
    if not ready:
        agent.close()
        agent.store.close()
        raise RuntimeError("the edge agent did not connect to the broker and the core in 30s")
    return agent


def long_poll_answers(sim: CoreSimulator, count: int, pace: float = 0.0) -> list[float]:
    """Seconds from an order's creation to the answer of a long poll parked for it (a
    fresh connection per poll, http.client, no agent): the core's part of the floor
    (the order created ``pace`` seconds after the poll is parked)."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    base = f"/api/v1/sites/{SITE}/orders"

    def get(path: str, timeout: float) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=auth)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"core answered {response.status} to GET {path}")
        result: dict[str, Any] = json.loads(body)
        return result

    cursor = get(f"{base}/open", WAIT_ONE)["cursor"]
    samples: list[float] = []
    for _ in range(count):
        answered: dict[str, Any] = {}

        def poll(since: str, into: dict[str, Any]) -> None:
            page = get(f"{base}?cursor={since}&wait=5", WAIT_ONE)
            into["at"] = clock()
            into["cursor"] = page["cursor"]

        thread = threading.Thread(target=poll, args=(cursor, answered), name="bench-long-poll")
        thread.start()
        # the poll is parked at the core before the order comes
        if not wait_for(lambda: sim.waiting_polls == 1, WAIT_ONE, interval=0.001):
            raise RuntimeError("the long poll did not reach the core within 10 s")
        if pace:
            time.sleep(pace)
        created = clock()
        sim.create_order(SITE)
        thread.join(WAIT_ONE)
        if "at" not in answered:
            raise RuntimeError("a long poll was not answered within 10 s")
        samples.append(answered["at"] - created)
        cursor = answered["cursor"]
    return samples


class PollingDisplay:
    """The polling baseline: a display the way open-source KDSs build it, re-fetching
    the open orders every ``interval`` seconds (``GET .../orders/open`` at the core,
    a fresh connection each time) and noting when it first sees each order."""

    def __init__(self, sim: CoreSimulator, interval: float = 1.0) -> None:
        self._port = sim.port
        self._interval = interval
        self.first_seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-polling-display")
        self._thread.start()

    def _run(self) -> None:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        while not self._stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=WAIT_ONE)
            try:
                conn.request("GET", f"/api/v1/sites/{SITE}/orders/open", headers=auth)
                body = conn.getresponse().read()
                now = clock()
                for order in json.loads(body).get("orders", []):
                    self.first_seen.setdefault(order["id"], now)
            except (OSError, ValueError, KeyError) as exc:
                print(f"polling display: {exc}", file=sys.stderr)
            finally:
                conn.close()
            self._stop.wait(self._interval)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_ONE)


def bench_sequential(sim: CoreSimulator, peer: DisplayPeer, count: int) -> dict[str, Any]:
    """One order at a time: creation at the core -> its first ``ticket.updated``."""
    latencies: list[float] = []
    samples: list[tuple[float, int, float]] = []
    for _ in range(count):
        created = clock()
        order_id = sim.create_order(SITE)["id"]
        if not peer.wait_seen([order_id], WAIT_ONE):
            raise RuntimeError(f"order {order_id} did not reach the screen within 10 s")
        with peer.cond:
            latencies.append(peer.first_seen[order_id] - created)
            samples.append((created, peer.updates[order_id][0][1], peer.first_seen[order_id]))
        time.sleep(PACE)  # one at a time: the agent is idle again, its long poll parked
    return {"orders": count, "latency": summary_ms(latencies), "samples": samples}


def bench_polling(sim: CoreSimulator, count: int, seed: int = SEED) -> dict[str, Any]:
    """The polling baseline on its own (its fetches would weigh on the agent's figures
    in this one process): ``count`` orders, each created at a random moment of the
    poller's second, from creation to the poll that first lists it."""
    rng = random.Random(seed)
    polling = PollingDisplay(sim)
    latencies: list[float] = []
    try:
        for _ in range(count):
            time.sleep(rng.uniform(0.0, 1.0))
            created = clock()
            order_id = sim.create_order(SITE)["id"]
            if not wait_for(functools.partial(polling.first_seen.__contains__, order_id), 3.0):
                raise RuntimeError(f"the polling display did not see {order_id} within 3 s")
            latencies.append(polling.first_seen[order_id] - created)
    finally:
        polling.close()
    return summary_ms(latencies)


def floor_samples(*parts: Sequence[float]) -> list[float]:
    """The floor, sample by sample: the i-th of each part summed (shortest part rules)."""
    return [sum(values) for values in zip(*parts, strict=False)]


def accepted_events(sim: CoreSimulator, ids: set[str]) -> int:
    return sum(
        1
        for e in sim.events()
        if e.get("order_id") in ids and e.get("type") == "status" and e.get("status") == "accepted"
    )


def bench_burst(
    sim: CoreSimulator, peer: DisplayPeer, count: int, timeout: float
) -> dict[str, Any]:
    created: dict[str, float] = {}
    began = clock()
    for _ in range(count):
        t = clock()
        order = sim.create_order(SITE)
        created[order["id"]] = t
    create_seconds = clock() - began
    complete = peer.wait_seen(list(created), timeout)
    with peer.cond:
        seen = {oid: peer.first_seen[oid] for oid in created if oid in peer.first_seen}
    latencies = [seen[oid] - created[oid] for oid in seen]
    with peer.cond:
        samples = [(created[oid], peer.updates[oid][0][1], seen[oid]) for oid in seen]
    span = (max(seen.values()) - began) if seen else float("nan")
    ids = set(created)
    events_complete = wait_for(lambda: accepted_events(sim, ids) >= count, timeout, 0.05)
    events_span = clock() - began
    return {
        "orders": count,
        "on_screen": len(seen),
        "complete": complete,
        "create_seconds": round(create_seconds, 3),
        "span_seconds": round(span, 3),
        "orders_per_s": round(len(seen) / span, 1) if seen else 0.0,
        "latency": summary_ms(latencies),
        "core_accepted_events": accepted_events(sim, ids),
        "core_events_seconds": round(events_span, 3) if events_complete else None,
        "order_ids": list(created),
        "samples": samples,
    }


#: (command_id, kind, fields) of one command to send
PlannedCommand = tuple[str, str, dict[str, Any]]


def command_plan(peer: DisplayPeer, ticket_ids: Sequence[str], count: int) -> list[PlannedCommand]:
    """4 valid commands per ticket: start, item_done, item_undo, bump at its first line's
    station. Deterministic: same tickets (same seed), same order."""
    plan: list[PlannedCommand] = []
    for k in range(count):
        tid = ticket_ids[k // 4]
        with peer.cond:
            ticket = peer.updates[tid][0][2]
        line = ticket.items[0]
        kind = ("start", "item_done", "item_undo", "bump")[k % 4]
        fields: dict[str, Any] = {"ticket_id": tid, "station": line.station}
        if kind in ("item_done", "item_undo"):
            fields["line_id"] = line.line_id
        plan.append((f"bench-cmd-{k:05d}", kind, fields))
    return plan


def bench_commands(
    peer: DisplayPeer, plan: list[PlannedCommand], others: OtherScreens | None = None
) -> dict[str, Any]:
    to_screen: list[float] = []
    to_all: list[float] = []
    to_reply: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    samples: list[tuple[float, int, float]] = []
    refused = missing = 0
    for command_id, kind, fields in plan:
        tid = fields["ticket_id"]
        with peer.cond:
            before = len(peer.updates[tid])
        began = clock()
        peer.send(kind, command_id, **fields)
        update, reply = peer.wait_command(tid, before, command_id)
        if reply is not None:
            to_reply.append(reply[0] - began)
            if not reply[1].ok:
                refused += 1
        if update is None:
            missing += 1
            continue
        to_screen.append(update[0] - began)
        if others is not None:
            last = others.all_have(update[1], WAIT_ONE)
            if last is not None:
                to_all.append(last - began)
        samples.append((began, update[1], update[0]))
        by_kind[kind].append(update[0] - began)
    return {
        "commands": len(plan),
        "refused": refused,
        "no_update": missing,
        "to_screen": summary_ms(to_screen),
        "to_reply": summary_ms(to_reply),
        "to_other_screens": summary_ms(to_all),
        "other_screens": len(others.clients) if others is not None else 0,
        "by_kind_p50_ms": {k: summary_ms(v)["p50_ms"] for k, v in sorted(by_kind.items())},
        "samples": samples,
    }


def raw_sns_publish(sns: MotoSns, count: int) -> list[float]:
    """Seconds for one SMS published with boto3 straight to SNS (moto), one at a time, on
    a warm client: SNS's part of the bump-to-SNS floor."""
    client: Any = boto3.session.Session(
        aws_access_key_id=sns.access_key,
        aws_secret_access_key=sns.secret_key,
        region_name=sns.region,
    ).client("sns", endpoint_url=sns.url, config=Config(retries={"total_max_attempts": 1}))
    took: list[float] = []
    try:
        for k in range(count + 5):
            began = clock()
            client.publish(PhoneNumber=f"+3168{k:07d}", Message="Your order is ready")
            if k >= 5:  # the first few build the connection and boto's caches
                took.append(clock() - began)
    finally:
        client.close()
    return took


def bench_sns(
    sim: CoreSimulator, peer: DisplayPeer, sns: MotoSns, store_path: Path, count: int
) -> dict[str, Any]:
    """Expo bumps, one at a time, each of a fresh order whose customer agreed to texts:
    from sending the bump to SNS having stored the "ready" text.

    SNS's answer is the moment: moto stores the message before it answers the
    publish, and the agent records the answer (the notify row's ``done_at``) at once.
    Afterwards moto's own record (``/moto-api/data.json``) must hold each text once."""
    offset = time.time() - clock()
    to_sns, to_commit, commit_to_sns, to_screen = [], [], [], []
    phones: list[str] = []
    missing = 0
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        for k in range(count):
            phone = f"+3169{k:07d}"
            customer = {"name": "Bench", "phone": phone, "notify": True}
            order_id = sim.create_order(SITE, customer=customer)["id"]
            if not peer.wait_seen([order_id], WAIT_ONE):
                raise RuntimeError(f"order {order_id} did not reach the screen within 10 s")
            time.sleep(0.02)  # one at a time: the agent is idle again
            with peer.cond:
                before = len(peer.updates[order_id])
            command_id = f"bench-sns-{k:04d}"
            began = clock()
            peer.send("bump", command_id, ticket_id=order_id, station="expo")
            update, _reply = peer.wait_command(order_id, before, command_id)
            key = f"sns:{order_id}:ready:sms"
            row: list[Any] = []

            def answered(key: str = key, row: list[Any] = row) -> bool:
                found = conn.execute(
                    "SELECT created_at, done_at FROM outbox WHERE channel = 'notify' AND key = ?",
                    (key,),
                ).fetchone()
                row[:] = found or []
                return bool(found) and found[1] is not None

            if update is None or not wait_for(answered, WAIT_ONE, 0.005):
                missing += 1
                continue
            committed, done = row[0] - offset, row[1] - offset
            to_sns.append(done - began)
            to_commit.append(committed - began)
            commit_to_sns.append(done - committed)
            to_screen.append(update[0] - began)
            phones.append(phone)
    finally:
        conn.close()
    texts: dict[str, int] = defaultdict(int)
    for sms in sns.sms_messages():
        texts[sms["phone_number"]] += 1
    return {
        "bumps": count,
        "no_text": missing,
        "texts_stored_once": sum(1 for p in phones if texts.get(p) == 1),
        "texts_duplicated": sum(1 for p in phones if texts.get(p, 0) > 1),
        "to_sns": summary_ms(to_sns),
        "to_commit": summary_ms(to_commit),
        "commit_to_sns": summary_ms(commit_to_sns),
        "ready_on_screen": summary_ms(to_screen),
    }


def stages(store_path: Path, samples: list[tuple[float, int, float]]) -> dict[str, Any]:
    """Split (start, seq, on screen) samples at the agent's commit of the state row.

    Reads the agent's outbox read-only: ``created_at`` is when the change (and the
    ``ticket.updated`` row for ``seq``) was committed, ``done_at`` when the broker's
    RECEIPT for it came back. Wall-clock times are mapped onto ``perf_counter``.
    """
    offset = time.time() - clock()
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        rows = {
            key: (created, done)
            for key, created, done in conn.execute(
                "SELECT key, created_at, done_at FROM outbox "
                "WHERE channel = 'mq' AND kind = 'state'"
            )
        }
    finally:
        conn.close()
    to_commit, commit_to_receipt, commit_to_screen = [], [], []
    for began, seq, on_screen in samples:
        row = rows.get(f"state:{seq}")
        if row is None or row[1] is None:
            continue
        committed, receipted = row[0] - offset, row[1] - offset
        to_commit.append(committed - began)
        commit_to_receipt.append(receipted - committed)
        commit_to_screen.append(on_screen - committed)
    return {
        "to_commit": summary_ms(to_commit),
        "commit_to_receipt": summary_ms(commit_to_receipt),
        "commit_to_screen": summary_ms(commit_to_screen),
    }


# --- the run ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    random.seed(SEED)
    wall = clock()
    out: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "params": {
            "orders": args.orders,
            "commands": args.commands,
            "hop_messages": args.hop,
            "seed": SEED,
            "sequential": args.sequential,
            "naive_core": args.naive_core,
            "sns_bumps": args.sns,
        },
        "rss_mib": {"start": peak_rss_mib()},
    }
    with tempfile.TemporaryDirectory(prefix="kds-bench-") as tmp, closing_all() as closers:
        workdir = Path(tmp)
        broker = ActiveMQ(workdir / "activemq", stomp_port=0)
        t = clock()
        broker.start()
        closers.append(broker.stop)
        out["broker_start_seconds"] = round(clock() - t, 2)
        print(f"broker up on {broker.url} in {out['broker_start_seconds']}s", file=sys.stderr)

        # Baselines: the same broker, the same disk, this run.
        probe = HopProbe(broker.url)
        closers.append(probe.close)
        probe.warm_up(50)
        hop = probe.hop(args.hop, receipt=False, first=0)
        hop_receipt = probe.hop(args.hop // 2, receipt=True, first=100_000)
        rate_receipt = probe.receipted_rate(args.orders, first=200_000)
        rate_pipelined = probe.pipelined_rate(args.orders, first=300_000)
        hop_paced = (
            probe.hop(args.sequential, receipt=False, first=400_000, pace=PACE)
            if args.sequential
            else []
        )
        probe.close()
        closers.remove(probe.close)
        commit_full = sqlite_commit(workdir / "probe-full.sqlite3", 200, "FULL")
        commit_normal = sqlite_commit(workdir / "probe-normal.sqlite3", 200, "NORMAL")
        # the floor of one order at a time, its parts paced as the orders are
        commit_paced = (
            sqlite_commit(workdir / "probe-paced.sqlite3", args.sequential, "FULL", PACE)
            if args.sequential
            else []
        )
        out["baseline"] = {
            "A_hop": summary_ms(hop),
            "A_hop_with_receipt": summary_ms(hop_receipt),
            "B_receipted_msgs_per_s": round(rate_receipt, 1),
            "B_pipelined_msgs_per_s": round(rate_pipelined, 1),
            "C_sqlite_commit_full": summary_ms(commit_full),
            "C_sqlite_commit_normal": summary_ms(commit_normal),
        }
        out["rss_mib"]["after_baselines"] = peak_rss_mib()
        print("baselines done", file=sys.stderr)

        # The site: simulator, agent (in this process), a display-like peer.
        sim = CoreSimulator(sites={SITE: TOKEN}, seed=SEED, tcp_nodelay=not args.naive_core)
        sim.start()
        closers.append(sim.close)
        # the core's part of the floor, before the agent follows the feed
        poll_answers = long_poll_answers(sim, args.sequential) if args.sequential else []
        poll_paced = long_poll_answers(sim, args.sequential, PACE) if args.sequential else []
        sns = MotoSns()
        closers.append(sns.stop)
        sns_raw = raw_sns_publish(sns, args.sns)
        agent = start_agent(workdir, sim, broker.url, sns)
        closers.append(agent.store.close)
        closers.append(agent.close)
        peer = DisplayPeer(broker.url, SITE)
        closers.append(peer.close)
        # The snapshot's reply proves the peer's subscriptions and the agent's consumer live.
        if not peer.call("snapshot", "bench-snapshot", 15):
            raise RuntimeError("no snapshot reply from the agent within 15s")
        warm = [sim.create_order(SITE)["id"] for _ in range(5)]
        if not peer.wait_seen(warm, 15):
            raise RuntimeError("warm-up orders did not reach the screen within 15s")

        if args.sequential:
            out["sequential"] = bench_sequential(sim, peer, args.sequential)
            out["sequential"]["pace_s"] = PACE
            out["sequential"]["floor"] = summary_ms(
                floor_samples(poll_paced, commit_paced, hop_paced)
            )
            out["sequential"]["floor_parts"] = {
                "long_poll": summary_ms(poll_paced),
                "commit": summary_ms(commit_paced),
                "hop": summary_ms(hop_paced),
            }
            out["sequential"]["floor_back_to_back"] = summary_ms(
                floor_samples(poll_answers, commit_full, hop)
            )
            out["sequential"]["floor_long_poll"] = summary_ms(poll_answers)
            print("one order at a time done", file=sys.stderr)
            out["sequential"]["polling_1s"] = bench_polling(sim, min(args.sequential, 30))
            print("polling display done", file=sys.stderr)

        burst = bench_burst(sim, peer, args.orders, timeout=40)
        out["rss_mib"]["after_burst"] = peak_rss_mib()
        print("burst done", file=sys.stderr)

        plan = command_plan(peer, burst.pop("order_ids"), args.commands)
        others = OtherScreens(broker.url, SITE, 5)
        closers.append(others.close)
        commands = bench_commands(peer, plan, others)
        print("commands done", file=sys.stderr)

        if args.sns:
            out["sns"] = bench_sns(sim, peer, sns, agent.store.path, args.sns)
            out["sns"]["raw_publish"] = summary_ms(sns_raw)
            out["sns"]["floor"] = summary_ms(floor_samples(hop, commit_full, sns_raw))
            print("bump to SNS done", file=sys.stderr)

        if "sequential" in out:
            out["sequential"]["stages"] = stages(agent.store.path, out["sequential"].pop("samples"))
        burst["stages"] = stages(agent.store.path, burst.pop("samples"))
        commands["stages"] = stages(agent.store.path, commands.pop("samples"))
        out["burst"] = burst
        out["commands"] = commands
        with peer.cond:
            sizes = list(peer.update_bytes)
        out["ticket_updated_mean_bytes"] = round(sum(sizes) / len(sizes)) if sizes else 0
        out["seq_gaps"] = peer.seq_gaps()
        out["outbox"] = agent.store.outbox_stats()
        out["rss_mib"]["end"] = peak_rss_mib()
        out["rss_mib"]["broker_peak"] = proc_hwm_mib(broker.pid)

    base_a = out["baseline"]["A_hop"]
    out["ratios"] = {
        "command_p50_over_A_p50": ratio(out["commands"]["to_screen"]["p50_ms"], base_a["p50_ms"]),
        "command_p99_over_A_p99": ratio(out["commands"]["to_screen"]["p99_ms"], base_a["p99_ms"]),
        "burst_rate_over_B": ratio(
            out["burst"]["orders_per_s"], out["baseline"]["B_receipted_msgs_per_s"]
        ),
        "burst_rate_over_B_pipelined": ratio(
            out["burst"]["orders_per_s"], out["baseline"]["B_pipelined_msgs_per_s"]
        ),
        "burst_p50_over_A_p50": ratio(out["burst"]["latency"]["p50_ms"], base_a["p50_ms"]),
    }
    if "sns" in out:
        for pct in ("p50", "p99"):
            out["ratios"][f"sns_{pct}_over_floor_{pct}"] = ratio(
                out["sns"]["to_sns"][f"{pct}_ms"], out["sns"]["floor"][f"{pct}_ms"]
            )
    if "sequential" in out:
        seq = out["sequential"]
        for pct in ("p50", "p99"):
            out["ratios"][f"sequential_{pct}_over_floor_{pct}"] = ratio(
                seq["latency"][f"{pct}_ms"], seq["floor"][f"{pct}_ms"]
            )
    leftover = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    out["threads_left"] = leftover
    out["wall_seconds"] = round(clock() - wall, 1)
    return out


def table(out: dict[str, Any]) -> str:
    b, c, r = out["baseline"], out["commands"], out["ratios"]
    burst = out["burst"]
    seq = out.get("sequential", {})
    rows = [
        ("A  STOMP hop, publish -> subscriber", _lat(b["A_hop"]), "1.00 (baseline)"),
        (
            "A' hop, publisher waits for RECEIPT",
            _lat(b["A_hop_with_receipt"]),
            f"{ratio(b['A_hop_with_receipt']['p50_ms'], b['A_hop']['p50_ms'])}x A (p50)",
        ),
        (
            "Command send -> ticket.updated",
            _lat(c["to_screen"]),
            f"{r['command_p50_over_A_p50']}x A p50, {r['command_p99_over_A_p99']}x A p99",
        ),
        ("Command send -> command.result", _lat(c["to_reply"]), ""),
        (
            f"Command send -> {c['other_screens']} other screens",
            _lat(c["to_other_screens"]),
            f"{ratio(c['to_other_screens']['p99_ms'], b['A_hop']['p99_ms'])}x A p99",
        ),
        (
            "B  publishes with RECEIPT each",
            f"{b['B_receipted_msgs_per_s']:.0f} msg/s",
            "1.00 (baseline)",
        ),
        (
            "B' pipelined, one RECEIPT at end",
            f"{b['B_pipelined_msgs_per_s']:.0f} msg/s",
            f"{ratio(b['B_pipelined_msgs_per_s'], b['B_receipted_msgs_per_s'])}x B",
        ),
        (
            f"Burst {burst['orders']} orders -> screen",
            f"{burst['orders_per_s']:.0f} orders/s",
            f"{r['burst_rate_over_B']}x B, {r['burst_rate_over_B_pipelined']}x B'",
        ),
        (
            "Burst order-to-screen latency",
            _lat(burst["latency"]),
            f"{r['burst_p50_over_A_p50']}x A p50",
        ),
        *(
            [
                (
                    "F  floor: long poll + commit + hop, paced",
                    _lat(out["sequential"]["floor"]),
                    "1.00 (baseline)",
                ),
                (
                    "F' the same parts back to back",
                    _lat(out["sequential"]["floor_back_to_back"]),
                    f"{ratio(seq['floor_back_to_back']['p50_ms'], seq['floor']['p50_ms'])}x F p50",
                ),
                (
                    "One order at a time -> screen",
                    _lat(out["sequential"]["latency"]),
                    f"{r['sequential_p50_over_floor_p50']}x F p50, "
                    f"{r['sequential_p99_over_floor_p99']}x F p99",
                ),
                (
                    "P  a display polling every 1 s",
                    _lat(out["sequential"]["polling_1s"]),
                    f"{ratio(seq['polling_1s']['p50_ms'], seq['latency']['p50_ms'])}x"
                    " the agent's p50",
                ),
            ]
            if "sequential" in out
            else []
        ),
        *(
            [
                ("S  raw SNS publish (boto3 -> moto)", _lat(out["sns"]["raw_publish"]), ""),
                (
                    "FS floor: hop + commit + SNS publish",
                    _lat(out["sns"]["floor"]),
                    "1.00 (baseline)",
                ),
                (
                    "Expo bump -> text stored at SNS",
                    _lat(out["sns"]["to_sns"]),
                    f"{r['sns_p50_over_floor_p50']}x FS p50, {r['sns_p99_over_floor_p99']}x FS p99",
                ),
            ]
            if "sns" in out
            else []
        ),
        ("C  SQLite commit, synchronous=FULL", _lat(b["C_sqlite_commit_full"]), ""),
        ("C  SQLite commit, synchronous=NORMAL", _lat(b["C_sqlite_commit_normal"]), ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{'measure':<{width}}  {'result':<30}  ratio", "-" * (width + 50)]
    lines += [f"{name:<{width}}  {value:<30}  {rat}" for name, value, rat in rows]
    rss = out["rss_mib"]
    lines += [
        "",
        f"burst: {burst['on_screen']}/{burst['orders']} on screen in {burst['span_seconds']}s "
        f"(created in {burst['create_seconds']}s); core got {burst['core_accepted_events']} "
        f"'accepted' events in {burst['core_events_seconds']}s",
        *(
            [_stages("one at a time ", out["sequential"]["stages"], "create")]
            if "sequential" in out
            else []
        ),
        _stages("burst stages  ", burst["stages"], "create"),
        _stages("command stages", c["stages"], "send"),
        *(
            [
                f"bump to SNS: {out['sns']['texts_stored_once']}/{out['sns']['bumps']} texts "
                f"stored once ({out['sns']['texts_duplicated']} twice, "
                f"{out['sns']['no_text']} missing); send -> notify row committed "
                f"{_lat(out['sns']['to_commit'])}, committed -> SNS answered "
                f"{_lat(out['sns']['commit_to_sns'])}; ready on screen "
                f"{_lat(out['sns']['ready_on_screen'])}"
            ]
            if "sns" in out
            else []
        ),
        f"commands: {c['commands']} sent, {c['refused']} refused, {c['no_update']} without "
        f"update; p50 by kind (ms): {c['by_kind_p50_ms']}",
        f"ticket.updated mean size {out['ticket_updated_mean_bytes']} B; seq gaps seen: "
        f"{out['seq_gaps']}",
        f"peak RSS (MiB): start {rss['start']}, after baselines {rss['after_baselines']}, "
        f"after burst {rss['after_burst']}, end {rss['end']}; broker JVM peak "
        f"{rss['broker_peak']}",
        f"wall time {out['wall_seconds']}s (broker start {out['broker_start_seconds']}s); "
        f"{out['machine']['cpus']} CPUs; threads left: {out['threads_left'] or 'none'}",
    ]
    return "\n".join(lines)


def _stages(title: str, s: dict[str, Any], start: str) -> str:
    return (
        f"{title}: {start} -> committed {_lat(s['to_commit'])}; committed -> RECEIPT "
        f"{_lat(s['commit_to_receipt'])}; committed -> screen {_lat(s['commit_to_screen'])}"
    )


def _lat(s: dict[str, Any]) -> str:
    return f"p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_spine", description=__doc__)
    parser.add_argument("--orders", type=int, default=300, help="burst size (default 300)")
    parser.add_argument("--commands", type=int, default=200, help="commands (default 200)")
    parser.add_argument("--hop", type=int, default=500, help="baseline A messages (default 500)")
    parser.add_argument(
        "--sequential", type=int, default=100, help="orders one at a time (default 100; 0: off)"
    )
    parser.add_argument(
        "--sns", type=int, default=50, help="expo bumps to an SNS text (default 50; 0: off)"
    )
    parser.add_argument(
        "--naive-core",
        action="store_true",
        help="the simulator answers without TCP_NODELAY, as a plain http.server does",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= 5000:
        parser.error("--orders must be 1..5000")
    if not 0 <= args.commands <= 4 * args.orders:
        parser.error("--commands must be 0..4 x --orders (4 valid commands per ticket)")
    if not 0 <= args.sequential <= 1000:
        parser.error("--sequential must be 0..1000")
    if not 0 <= args.sns <= 1000:
        parser.error("--sns must be 0..1000")
    if not 10 <= args.hop <= 10_000:
        parser.error("--hop must be 10..10000")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("stomp.py").setLevel(logging.ERROR)
    try:
        out = run(args)
    except RuntimeError as exc:
        print(f"bench_spine: {exc}", file=sys.stderr)
        return 1
    print(table(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
