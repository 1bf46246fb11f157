"""Store trouble is an alarm: a real agent on a real small disk that fills up, on an
ext4 file system that fails and goes read-only, and on a damaged database file.

Nothing the kitchen did is lost (orders and commands wait until the store takes them),
the agent keeps running and says what is wrong on every screen (``agent.alive``
problems), in a metric and in ``doctor``, and carries on by itself once the disk is
fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from shared.model import TicketStatus
from tests.helpers.doctor import doctor_checks, doctor_cli
from tests.helpers.fixtures import TOKEN, make_site
from tests.helpers.site import AgentProcess, SitePeer, wait_until, write_agent_config
from tests.helpers.small_disk import Ext4Image, fill, small_tmpfs
from tests.helpers.udp_listener import UdpListener

pytestmark = pytest.mark.broker

FULL = "kitchen database cannot be written: disk full"
READ_ONLY = "kitchen database cannot be written: read-only"
#: bigger than SQLite's WAL before its automatic checkpoint (1,000 pages, about 4 MiB)
DISK_KIB = 16 * 1024
DAMAGED = "kitchen database is damaged: run edge-agent doctor"


def _alarm(peer: SitePeer, line: str, timeout: float = 30.0) -> None:
    wait_until(lambda: line in peer.problems(), timeout)


@pytest.fixture(autouse=True)
def _doctor_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """``doctor`` (run in this process) finds the core token where a site admin's would."""
    monkeypatch.setenv("KDS_CORE_TOKEN", TOKEN)


def _open_tickets(peer: SitePeer) -> set[str]:
    with peer._lock:
        latest = {s.ticket.id: s for s in peer.states if hasattr(s, "ticket")}
    return {i for i, s in latest.items() if s.ticket.status is not TicketStatus.PICKED_UP}


def test_a_full_disk_is_an_alarm_everywhere_and_nothing_is_lost(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with UdpListener() as udp, small_tmpfs(tmp_path / "disk", DISK_KIB) as disk:
        statsd = f'[statsd]\nhost = "127.0.0.1"\nport = {udp.port}\n'
        site = make_site(core_sim, site_id, activemq_url, disk, extra=statsd)
        site.start_agent()
        try:
            with site.peer() as peer:
                first = core_sim.create_order(site_id)
                peer.latest(first["id"])
                filler = fill(disk)
                # Orders keep coming; soon one does not fit (SQLite's WAL still takes a
                # few small commits on a full disk).
                created = [first["id"]]
                for _ in range(400):
                    created.append(core_sim.create_order(site_id)["id"])
                    if FULL in peer.problems() or (
                        site.agent is not None and site.agent.store.trouble is not None
                    ):
                        break
                _alarm(peer, FULL)
                started = peer.send(
                    "start", ticket_id=first["id"], station=first["items"][0]["station"]
                )
                assert doctor_checks(site.config_path)["store"].status == "FAIL"
                wait_until(lambda: any(r.value == 0 for r in udp.by_name("kds.store.healthy")), 15)
                errors = udp.by_name("kds.store.errors")
                assert any(r.tags.get("kind") == "disk_full" for r in errors), errors
                assert site.agent is not None and site.agent.failure is None

                filler.unlink()  # the site admin frees space: the agent carries on by itself
                assert peer.result(started, timeout=30).ok
                wait_until(lambda: set(created) <= _open_tickets(peer), 30)
                wait_until(lambda: FULL not in peer.problems(), 30)
                assert peer.latest(first["id"]).ticket.status is TicketStatus.IN_PROGRESS
                seqs = sorted(set(peer.seqs()))
                assert seqs == list(range(seqs[0], seqs[-1] + 1))
                wait_until(lambda: udp.by_name("kds.store.healthy")[-1].value == 1, 15)
            after = doctor_checks(site.config_path)[
                "store"
            ]  # no longer FAIL; a 16 MiB disk is "nearly full"
            assert (after.status, after.detail.endswith("the disk is nearly full")) == (
                "WARN",
                True,
            )
        finally:
            site.stop_agent()
    # the command waited and was tried again: no broker reconnect to have it redelivered
    agent_lines = [r.getMessage() for r in caplog.records if r.name.startswith("edge.")]
    assert any(line.startswith("command not stored") for line in agent_lines)
    assert not [line for line in agent_lines if "reconnect" in line]


def _damage(path: Path) -> None:
    """Overwrite the header of a table page in the middle of a closed database file."""
    size = path.stat().st_size
    page = 4096
    middle = (size // page // 2) * page
    with open(path, "r+b") as db:
        db.seek(middle)
        db.write(b"\xff" * 64)


def test_a_damaged_database_is_an_alarm_from_the_start(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path
) -> None:
    site = make_site(core_sim, site_id, activemq_url, tmp_path)
    site.start_agent()
    for _ in range(60):
        core_sim.create_order(site_id, notes="x" * 300)
    assert site.agent is not None
    wait_until(lambda: len(site.agent.store.tickets_json(("accepted",))) == 60, 30)  # type: ignore[union-attr]
    site.stop_agent()
    _damage(site.store_path)

    site.start_agent()
    try:
        with site.peer() as peer:
            _alarm(peer, DAMAGED)
        check = doctor_checks(site.config_path)["store"]
        assert check.status == "FAIL"
        assert "damaged (quick_check)" in check.detail
        assert "move" in check.fix and "aside" in check.fix
    finally:
        site.stop_agent()


def test_a_disk_that_fails_read_only_under_the_agent_is_an_alarm_and_recovers(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path
) -> None:
    with (
        Ext4Image(tmp_path / "disk.img", tmp_path / "disk") as disk,
        SitePeer(activemq_url, site_id) as peer,
    ):
        config, _ = write_agent_config(  # on a good disk: only the database on the bad one
            tmp_path,
            site_id=site_id,
            core_url=core_sim.url,
            mq_url=activemq_url,
            store_dir=disk.where,
        )
        agent = AgentProcess(config, TOKEN, tmp_path / "agent.log").start()
        try:
            first = core_sim.create_order(site_id)
            peer.latest(first["id"], timeout=30)
            disk.fail()  # the kernel remounts it read-only, as for a failing disk
            second = core_sim.create_order(site_id)
            _alarm(peer, READ_ONLY)
            doctor = doctor_cli(config, {"KDS_CORE_TOKEN": TOKEN})
            assert doctor.returncode == 1, doctor.stdout
            assert "read-only" in doctor.stdout and "findmnt" in doctor.stdout, doctor.stdout
            assert agent.proc is not None and agent.proc.poll() is None, agent.log()
            agent.stop()
            disk.repair()  # the site admin: fsck, mount read-write, start the agent
            agent = AgentProcess(config, TOKEN, tmp_path / "agent.log").start()
            peer.latest(second["id"], timeout=30)
            wait_until(lambda: READ_ONLY not in peer.problems(), 30)
            assert {first["id"], second["id"]} <= _open_tickets(peer)
        finally:
            agent.stop()
