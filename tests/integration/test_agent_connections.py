"""The agent's side effects when their peer is down, then back: delivered once.

Through the real outbox, with real peers on loopback: a socket printer that goes
offline and comes back, an SNS endpoint (moto's server) that is not there yet when
the order is ready and starts later on the same port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from shared.model import TicketStatus
from tests.helpers.fixtures import Site, make_site
from tests.helpers.moto_server import ACCESS_KEY, REGION, SECRET_KEY, MotoSns
from tests.helpers.net import free_port
from tests.helpers.site import line_item, wait_until
from tests.helpers.socket_printer import SocketPrinter

pytestmark = pytest.mark.broker


@pytest.fixture
def printer() -> Iterator[SocketPrinter]:
    with SocketPrinter() as p:
        yield p


@pytest.fixture
def sns_port() -> int:
    return free_port()


@pytest.fixture
def site(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    printer: SocketPrinter,
    sns_port: int,
) -> Iterator[Site]:
    extra = f"""
[printers.grill]
url = "{printer.url}"
print_on = ["new"]

[sns]
endpoint_url = "http://127.0.0.1:{sns_port}"
region = "{REGION}"
sms = true
"""
    env = {
        "KDS_SNS_AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "KDS_SNS_AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    s = make_site(core_sim, site_id, activemq_url, tmp_path, env=env, extra=extra)
    s.start_agent()
    try:
        yield s
    finally:
        s.stop_agent()


def _pending(site: Site, channel: str) -> int:
    assert site.agent is not None
    return site.agent.store.outbox_depths().get(channel, (0, None))[0]


def test_offline_printer_gets_the_job_once_when_back(site: Site, printer: SocketPrinter) -> None:
    printer.go_offline()
    order = site.sim.create_order(site.site_id, items=[line_item("l1", "Burger", "grill")])
    # the job waits in the outbox, retried, while the printer is off
    wait_until(lambda: site.agent is not None and site.agent.store.ticket_json(order["id"]))
    wait_until(
        lambda: (
            any(
                r["channel"] == "print" and r["attempts"] >= 2
                for r in site.agent.store.outbox_rows()
            )
            if site.agent
            else False
        ),
        timeout=20,
    )
    assert printer.jobs == []
    printer.go_online()
    [job] = printer.wait_for_jobs(1, timeout=20)
    assert order["display_number"] in job.text
    wait_until(lambda: _pending(site, "print") == 0)
    assert len(printer.jobs) == 1


def test_paper_out_waits_then_prints_once(site: Site, printer: SocketPrinter) -> None:
    printer.set_state("paper_out")
    order = site.sim.create_order(site.site_id, items=[line_item("l1", "Burger", "grill")])
    wait_until(
        lambda: (
            site.agent is not None
            and any(
                r["channel"] == "print" and "paper" in (r["last_error"] or "")
                for r in site.agent.store.outbox_rows()
            )
        ),
        timeout=20,
    )
    assert printer.jobs == []
    printer.set_state("online")
    [job] = printer.wait_for_jobs(1, timeout=20)
    assert order["display_number"] in job.text


def test_reprint_from_a_display_prints_again(site: Site, printer: SocketPrinter) -> None:
    with site.peer() as peer:
        order = site.sim.create_order(site.site_id, items=[line_item("l1", "Burger", "grill")])
        peer.latest(order["id"])
        printer.wait_for_jobs(1, timeout=20)
        result = peer.call("reprint", station="grill", ticket_id=order["id"], kind="ticket")
        assert result.ok
        jobs = printer.wait_for_jobs(2, timeout=20)
        assert jobs[0].text == jobs[1].text
        refused = peer.call("reprint", station="fry", ticket_id=order["id"], kind="ticket")
        assert refused.error == "bad_request"


def test_sns_down_then_back_texts_once(site: Site, sns_port: int) -> None:
    # moto keeps one state per process: a number of our own tells our texts apart
    phone = "+3161" + str(sns_port).rjust(7, "0")
    with site.peer() as peer:
        order = site.sim.create_order(
            site.site_id,
            customer={"name": "Ana", "phone": phone, "notify": True},
            items=[line_item("l1", "Burger", "grill")],
        )
        peer.latest(order["id"])
        assert peer.call("bump", station="expo", ticket_id=order["id"]).ok
        wait_until(lambda: peer.latest(order["id"]).ticket.status is TicketStatus.READY)
        # nothing listens on the SNS endpoint yet: the text waits, retried
        wait_until(
            lambda: (
                site.agent is not None
                and any(
                    r["channel"] == "notify" and r["attempts"] >= 1 and r["state"] == "pending"
                    for r in site.agent.store.outbox_rows()
                )
            ),
            timeout=20,
        )
    moto = MotoSns(port=sns_port)
    try:

        def ours() -> list[dict[str, str]]:
            return [m for m in moto.sms_messages() if m["phone_number"] == phone]

        messages = wait_until(ours, timeout=30)
        wait_until(lambda: _pending(site, "notify") == 0)
        assert len(ours()) == 1
        assert order["display_number"] in messages[0]["message"]
    finally:
        moto.stop()


def test_screens_hear_about_an_offline_printer(site: Site, printer: SocketPrinter) -> None:
    printer.go_offline()
    with site.peer() as peer:
        site.sim.create_order(site.site_id, items=[line_item("l1", "Burger", "grill")])

        def printer_problem() -> list[str]:
            latest = peer.alive[-1].problems if peer.alive else ()
            return [p for p in latest if p.startswith("printer grill")]

        [line] = wait_until(printer_problem, timeout=20)
        assert "1 waiting" in line
        printer.go_online()
        wait_until(lambda: not printer_problem(), timeout=20)
