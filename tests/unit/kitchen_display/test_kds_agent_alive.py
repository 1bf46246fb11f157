"""agent.alive: a silent gap is healed, a silent agent is shown on screen."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from shared.wire import AgentAlive, encode
from tests.unit.kitchen_display.fakes import SITE, FakeAgent, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def _alive(agent: FakeAgent, seq: int) -> None:
    agent.publish_raw(encode(AgentAlive(site_id=SITE, seq=seq)))


def test_alive_with_a_newer_seq_heals_a_silent_gap(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    display = make_display("grill")
    agent.publish(ticket("ord_a"))  # seq 1
    qtbot.waitUntil(lambda: display.sync.last_seq == 1)
    agent.publish(ticket("ord_lost"), lose=True)  # seq 2 is lost and nothing follows it
    _alive(agent, 2)
    qtbot.waitUntil(lambda: "ord_lost" in [t.id for t in display.model.tickets()])
    assert display.sync.last_seq == 2
    assert len(agent.snapshot_requests()) == 2


def test_alive_at_the_same_seq_changes_nothing(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    display = make_display("grill")
    agent.publish(ticket("ord_a"))
    qtbot.waitUntil(lambda: display.sync.last_seq == 1)
    _alive(agent, 1)
    agent.publish(ticket("ord_b"))  # a later message shows the alive was handled first
    qtbot.waitUntil(lambda: display.sync.last_seq == 2)
    assert len(agent.snapshot_requests()) == 1


def test_agent_seq_going_back_resyncs(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    display = make_display("grill")
    for n in range(3):
        agent.publish(ticket(f"ord_{n}"))
    qtbot.waitUntil(lambda: display.sync.last_seq == 3)
    # the agent's database was replaced: it starts over at seq 1 with other tickets
    agent.tickets.clear()
    agent.seq = 0
    agent.publish(ticket("ord_new"), lose=True)
    _alive(agent, 1)
    qtbot.waitUntil(lambda: [t.id for t in display.model.tickets()] == ["ord_new"])
    assert display.sync.last_seq == 1


def test_silent_agent_shows_banner_until_it_speaks(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    display = make_display("grill", agent_timeout_seconds=1.0)
    assert not display.window.offline
    # broker up, agent silent: after the timeout the screen says so
    qtbot.waitUntil(lambda: display.window.offline, timeout=5000)
    assert "kitchen agent not responding" in display.window.banner.text()
    assert not display.sync.agent_ok
    _alive(agent, agent.seq)
    qtbot.waitUntil(lambda: not display.window.offline)
    assert display.sync.agent_ok


def test_agent_problems_show_until_fixed(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    display = make_display("grill")
    problem = "printer grill: out of paper (2 waiting)"
    agent.publish_raw(encode(AgentAlive(site_id=SITE, seq=agent.seq, problems=(problem,))))
    qtbot.waitUntil(lambda: display.window.problems.isVisible())
    assert problem in display.window.problems.text()
    _alive(agent, agent.seq)
    qtbot.waitUntil(lambda: not display.window.problems.isVisible())
