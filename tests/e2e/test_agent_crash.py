"""Kill -9 the edge agent again and again mid-rush: nothing lost, nothing doubled.

The agent runs as a real ``edge-agent run`` process against the core simulator, the
real ActiveMQ and moto's SNS (customers are texted). Orders arrive at the core at a
high rate from a thread; the core cancels some of them; a cook (another thread) bumps
some tickets at every station and at expo (ready: the customer is texted). Meanwhile
the agent is SIGKILLed at random moments (seeded), sometimes while it is still
starting, and started again at once; orders and bumps made while it is dead wait at
the core and in the broker's command queue.

Afterwards: every order the core took is on the board (none is picked up, and a
cancelled one stays as a VOID), once; the core heard no kitchen event twice; no
customer was texted twice; ``seq`` ran without a gap (a seq republished after a crash
always carried the same message); and a display's replica (the display's own
:class:`~kitchen_display.replica.TicketReplica`, fed from the state topic) equals the
agent's state.

The default suite runs :data:`DEFAULT` (100 orders, 5 kills); ``KDS_FAULTS_LONG=1``
(``scripts/faults``) runs :data:`LONG` (500 orders, 20 kills).
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from kitchen_display.replica import TicketReplica
from tests.helpers.fault_tally import long_variant, record
from tests.helpers.fixtures import TOKEN
from tests.helpers.moto_server import MotoSns
from tests.helpers.site import AgentProcess, SitePeer, wait_until, write_agent_config

pytestmark = [pytest.mark.broker, pytest.mark.slow]


@dataclass(frozen=True)
class CrashPlan:
    orders: int
    kills: int
    #: seconds between two new orders at the core
    interval: float = 0.05
    seed: int = 10


DEFAULT = CrashPlan(orders=100, kills=5)
LONG = CrashPlan(orders=500, kills=20, interval=0.08)
PLAN = LONG if long_variant() else DEFAULT


def _is_cancelled(index: int) -> bool:
    return index % 10 == 5


def _is_cooked(index: int) -> bool:
    return index % 4 == 0


class OrderStream:
    """Creates orders at the core at a steady pace from a thread, like a Friday rush.

    Every order's customer asked to be texted (a phone number of its own); every tenth
    order is cancelled by the core a few orders later."""

    def __init__(self, sim: CoreSimulator, site_id: str, plan: CrashPlan) -> None:
        self._sim = sim
        self._site_id = site_id
        self._plan = plan
        self._stop = threading.Event()
        self.ids: list[str] = []
        self.cancelled: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while len(self.ids) < self._plan.orders and not self._stop.wait(self._plan.interval):
            index = len(self.ids)
            customer = {"phone": f"+3161{index:07d}", "notify": True}
            self.ids.append(self._sim.create_order(self._site_id, customer=customer)["id"])
            if index >= 3 and _is_cancelled(index - 3):  # never one the cook bumps
                self._sim.cancel_order(self.ids[index - 3])
                self.cancelled.append(self.ids[index - 3])

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def __enter__(self) -> OrderStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


class Cook(threading.Thread):
    """Bumps every fourth order's ticket at each of its stations, then at expo, once each."""

    def __init__(self, peer: SitePeer, stream: OrderStream) -> None:
        super().__init__(daemon=True)
        self._peer = peer
        self._stream = stream
        self._halt = threading.Event()
        self.cooked: list[str] = []
        self.commands: list[str] = []

    def run(self) -> None:
        while not self._halt.wait(0.05):
            wanted = [i for n, i in enumerate(list(self._stream.ids)) if _is_cooked(n)]
            for ticket_id in wanted:
                if ticket_id in self.cooked or ticket_id in self._stream.cancelled:
                    continue
                updates = self._peer.updates_for(ticket_id)
                if not updates:
                    continue
                self.cooked.append(ticket_id)
                for station in [*updates[0].ticket.stations(), "expo"]:
                    self.commands.append(
                        self._peer.send("bump", station=station, ticket_id=ticket_id)
                    )

    def stop(self) -> None:
        self._halt.set()
        self.join(20)


def _wait_for_all(what: str, expected: set[str], actual: Callable[[], set[str]]) -> None:
    """Wait until ``actual()`` holds every one of ``expected``; fail naming the missing."""
    try:
        wait_until(lambda: actual() >= expected, timeout=90)
    except AssertionError:
        missing = sorted(expected - actual())
        raise AssertionError(f"{what}: {len(missing)} missing, e.g. {missing[:5]}") from None


def _working(peer: SitePeer | None, stream: OrderStream, more: int) -> Callable[[], bool]:
    """A condition: ``more`` new orders at the core and, with ``peer``, the agent has
    published something since now; or the stream is done (then: at once)."""
    seen, made = (len(peer.seqs()) if peer else 0), len(stream.ids)
    return lambda: (
        stream.done
        or (len(stream.ids) >= made + more and (peer is None or len(peer.seqs()) > seen))
    )


def _uncertain_texts(store: Path) -> set[str]:
    """Orders whose text was in flight at a kill (dead-lettered, never resent)."""
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT key FROM outbox WHERE channel = 'notify' AND state = 'dead' "
            "AND last_error LIKE 'delivery uncertain%'"
        )
        return {str(key).split(":")[1] for (key,) in rows}


def _stored_ticket_ids(store: Path) -> list[str]:
    with sqlite3.connect(store) as db:
        return [row[0] for row in db.execute("SELECT id FROM tickets")]


def _sns_config(moto_sns: MotoSns) -> tuple[str, dict[str, str]]:
    extra = f"""
[sns]
endpoint_url = "{moto_sns.url}"
region = "{moto_sns.region}"
sms = true
"""
    secrets = {
        "KDS_SNS_AWS_ACCESS_KEY_ID": moto_sns.access_key,
        "KDS_SNS_AWS_SECRET_ACCESS_KEY": moto_sns.secret_key,
    }
    return extra, secrets


@pytest.mark.timeout(900 if long_variant() else 300)
def test_sigkills_mid_rush_lose_and_duplicate_nothing(
    site_id: str,
    core_sim: CoreSimulator,
    activemq_url: str,
    moto_sns: MotoSns,
    tmp_path: Path,
) -> None:
    plan = PLAN
    rng = random.Random(plan.seed)
    extra, secrets = _sns_config(moto_sns)
    config, store = write_agent_config(
        tmp_path, site_id=site_id, core_url=core_sim.url, mq_url=activemq_url, extra=extra
    )

    def start_agent() -> AgentProcess:
        return AgentProcess(config, TOKEN, tmp_path / "agent.log", env=secrets).start()

    agent = start_agent()
    peer = SitePeer(activemq_url, site_id, "recorder")
    # a display's replica, seeded by a snapshot before the first order
    replica = TicketReplica()
    first_snapshot = peer.send("snapshot")
    replica.snapshot_requested(first_snapshot)
    replica.apply_snapshot(peer.result(first_snapshot, timeout=30))
    kills = early_kills = kills_mid_stream = 0
    try:
        with OrderStream(core_sim, site_id, plan) as stream:
            cook = Cook(peer, stream)
            cook.start()
            step = max(1, plan.orders // (plan.kills + 1))
            for _ in range(plan.kills):
                if rng.random() < 0.2:
                    early_kills += 1  # while it starts up (or just after)
                else:
                    # mid-work: it has published since it was started, and some more
                    # orders have come in
                    wait_until(_working(peer, stream, rng.randint(1, step)), timeout=60)
                agent.kill()
                kills += 1
                kills_mid_stream += not stream.done
                # dead for a moment: orders keep coming, bumps wait in the broker
                wait_until(_working(None, stream, rng.randint(0, 3)))
                agent = start_agent()
            wait_until(lambda: stream.done, timeout=120)
            cook.stop()
        created = list(stream.ids)
        assert len(created) == plan.orders

        # every order the core took is on the board (or finished: ready, VOID), once
        def snapshot_ids() -> set[str]:
            result = peer.call("snapshot", timeout=30)
            assert result.tickets is not None
            return {t.id for t in result.tickets}

        _wait_for_all("on the board", set(created), snapshot_ids)
        stored = _stored_ticket_ids(store)
        assert sorted(stored) == sorted(set(created)), "lost or unknown tickets"
        assert len(stored) == len(set(stored))

        # every bump was answered, and every cooked ticket became ready
        for command_id in cook.commands:
            assert peer.result(command_id, timeout=60).ok, command_id
        cooked = set(cook.cooked)

        def ready_ids() -> set[str]:
            return {
                e["order_id"]
                for e in core_sim.events()
                if e.get("type") == "status" and e.get("status") == "ready"
            }

        _wait_for_all("ready at the core", cooked, ready_ids)

        # the core heard every order accepted (but those it cancelled first: it refuses
        # a late "accepted", 409), and no kitchen event twice under different
        # idempotency keys
        def accepted_ids() -> set[str]:
            return {
                e["order_id"]
                for e in core_sim.events()
                if e.get("type") == "status" and e.get("status") == "accepted"
            }

        _wait_for_all("accepted at the core", set(created) - set(stream.cancelled), accepted_ids)
        events = Counter(
            (e["order_id"], e.get("type"), e.get("status"), e.get("station"), e.get("line_id"))
            for e in core_sim.events()
        )
        doubled_events = {k: n for k, n in events.items() if n > 1}
        assert not doubled_events

        # each customer texted at most once per thing that happened (ready or cancelled):
        # a text in flight when the agent was killed is never resent (it may have gone
        # out); it is dead-lettered as uncertain instead, for a person to look at
        phone = {order_id: f"+3161{n:07d}" for n, order_id in enumerate(created)}
        to_text = cooked | set(stream.cancelled)

        def accounted() -> set[str]:
            sent = {m["phone_number"] for m in moto_sns.sms_messages()}
            return {i for i in to_text if phone[i] in sent} | _uncertain_texts(store)

        _wait_for_all("texted or dead-lettered as uncertain", to_text, accounted)
        texts = Counter((m["phone_number"], m["message"]) for m in moto_sns.sms_messages())
        doubled_texts = {k: n for k, n in texts.items() if n > 1}
        assert not doubled_texts
        assert len(texts) <= len(to_text)
        uncertain = _uncertain_texts(store)
        not_sent = {i for i in uncertain if phone[i] not in {p for p, _ in texts}}

        # seq continued without a gap; a repeated seq (republished after a crash)
        # always carries the same message
        final = peer.call("snapshot", timeout=30)
        final_seq = final.seq
        assert final_seq is not None and final.tickets is not None
        wait_until(lambda: max(peer.seqs()) >= final_seq, timeout=30)
        by_seq: dict[int, set[bytes]] = {}
        for message in list(peer.states):
            by_seq.setdefault(message.seq, set()).add(message.model_dump_json().encode())
        assert sorted(by_seq) == list(range(1, final_seq + 1))
        assert all(len(bodies) == 1 for bodies in by_seq.values())
        republished = len(peer.states) - len(by_seq)

        # a display fed from the topic shows exactly the agent's state
        for message in list(peer.states):
            update = replica.receive(message)
            assert not update.needs_snapshot, (message.seq, update.outcome)
        assert replica.last_seq == final_seq
        agent_state = {t.id: t for t in final.tickets}
        assert {t.id: t for t in replica.tickets()} == agent_state

        record(
            "sigkill",
            "tests/e2e/test_agent_crash.py::test_sigkills_mid_rush_lose_and_duplicate_nothing",
            orders=len(created),
            kills=kills,
            kills_while_starting=early_kills,
            kills_while_orders_arrived=kills_mid_stream,
            cancelled_by_core=len(stream.cancelled),
            cooked_to_ready=len(cooked),
            bumps=len(cook.commands),
            texts=len(texts),
            texts_in_flight_at_a_kill=len(uncertain),
            texts_in_flight_not_sent=len(not_sent),
            seq=final_seq,
            republished_same_seq=republished,
            lost=len(set(created) - set(stored)),
            duplicated=len(stored)
            - len(set(stored))
            + sum(n - 1 for n in doubled_events.values())
            + sum(n - 1 for n in doubled_texts.values()),
        )
    finally:
        peer.close()
        code = agent.stop()
        assert code == 0, agent.log()[-3000:]
