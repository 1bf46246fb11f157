"""The broker's receive thread never waits on the store: it hands each command frame
to the agent's ``commands`` thread (it also services heart-beats, so a long store
write there would cost the connection)."""

from __future__ import annotations

import threading

import pytest

from shared.model import TicketStatus
from tests.helpers.fixtures import Site
from tests.helpers.site import wait_until

pytestmark = pytest.mark.broker


def test_a_held_store_lock_does_not_hold_the_receive_thread(site: Site) -> None:
    agent = site.agent
    assert agent is not None
    with site.peer() as peer:  # subscribed before the order, so it sees its first state
        order = site.sim.create_order(site.site_id)
        station = order["items"][0]["station"]
        peer.latest(order["id"])
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with agent.store.transaction():  # a long write elsewhere in the agent
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold, name="holder")
        holder.start()
        try:
            held.wait(5)
            started = peer.send("start", ticket_id=order["id"], station=station)
            # the receive thread took the frame and handed it on, the store still held
            wait_until(lambda: agent.commands_in_hand() == 1, 15)
            assert started not in peer.results
        finally:
            release.set()
            holder.join(10)
        assert peer.result(started).ok
        assert peer.latest(order["id"]).ticket.status is TicketStatus.IN_PROGRESS
        wait_until(lambda: agent.commands_in_hand() == 0, 15)
