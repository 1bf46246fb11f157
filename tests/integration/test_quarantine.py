"""Every refused order is visible: a problem line on every screen (``agent.alive``), the
``quarantine`` doctor row, and ``edge-agent quarantine list|show|release|dismiss`` run
as a site admin runs it (a real process on the running agent's store)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core_sim.server import CoreSimulator
from edge_agent.doctor import run_checks
from shared.model import TicketStatus
from tests.helpers.fixtures import TOKEN, Site, make_site
from tests.helpers.site import SitePeer, wait_until

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]


def _cli(site: Site, *argv: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_agent",
            "quarantine",
            *argv,
            "--config",
            str(site.config_path),
        ],
        cwd=ROOT,
        env={**base, "KDS_CORE_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _shown(peer: SitePeer, text: str) -> bool:
    """Whether the latest ``agent.alive`` carries a problem line containing ``text``."""
    return bool(peer.alive) and any(text in p for p in peer.alive[-1].problems)


def _without_items(site: Site, order_id: str) -> dict[str, Any]:
    template = copy.deepcopy(site.sim.create_order(site.site_id))
    del template["items"]
    return {**template, "id": order_id, "display_number": "D-1042"}


def test_a_refused_order_is_on_every_screen_until_dismissed(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KDS_CORE_TOKEN", TOKEN)  # for the doctor, run in-process
    with site.peer() as peer:
        site.sim.push_raw(site.site_id, _without_items(site, "ord_NOITEMS"))
        line = "order D-1042 refused: items: Field required"
        wait_until(lambda: _shown(peer, line))
        (check,) = [c for c in run_checks(site.config_path, timeout=1) if c.name == "quarantine"]
        assert check.status == "FAIL" and "edge-agent quarantine list" in check.fix
        assert "order D-1042: items: Field required" in check.detail

        listed = _cli(site, "list")
        assert listed.returncode == 0, listed.stderr
        (row,) = [r for r in listed.stdout.splitlines() if "D-1042" in r]
        assert "WAITING" in row and "items: Field required" in row
        qid = row.split()[0]
        shown = _cli(site, "show", qid)
        assert shown.returncode == 0 and '"id": "ord_NOITEMS"' in shown.stdout
        assert "field: items" in shown.stdout

        dismissed = _cli(site, "dismiss", qid)
        assert dismissed.returncode == 0 and "dismissed" in dismissed.stdout
        count = len(peer.alive)
        wait_until(lambda: len(peer.alive) > count + 1 and not _shown(peer, "D-1042"))
        assert "dismissed" in _cli(site, "list").stdout
        (check,) = [c for c in run_checks(site.config_path, timeout=1) if c.name == "quarantine"]
        assert check.status == "ok"


def test_release_applies_an_order_the_lenient_rules_accept_and_says_why_not_otherwise(
    site: Site,
) -> None:
    assert site.agent is not None
    store = site.agent.store
    # as an older, stricter agent refused them: a channel in capitals, a zero quantity
    upper = {**copy.deepcopy(site.sim.create_order(site.site_id)), "id": "ord_UPPER"}
    upper["channel"] = "UberEats"
    zero = {**copy.deepcopy(upper), "id": "ord_ZERO", "channel": "web"}
    zero["items"][0]["qty"] = 0
    ids = {
        name: store.quarantine(o["id"], 1, "channel", "old refusal", json.dumps(o))
        for name, o in (("upper", upper), ("zero", zero))
    }
    with site.peer() as peer:
        released = _cli(site, "release", str(ids["upper"]))
        assert released.returncode == 0, released.stdout + released.stderr
        assert "released: created" in released.stdout
        ticket = peer.latest("ord_UPPER").ticket
        assert ticket.status is TicketStatus.ACCEPTED and ticket.channel == "ubereats"

        refused = _cli(site, "release", str(ids["zero"]))
        assert refused.returncode == 1
        assert "still refused" in refused.stdout and "items.0.qty" in refused.stdout
        again = _cli(site, "release", str(ids["upper"]))
        assert again.returncode == 1 and "released already" in again.stdout
        assert _cli(site, "show", "999999").returncode == 1
        missing_id = _cli(site, "release")
        assert missing_id.returncode == 2 and "id" in missing_id.stderr
    assert [q["resolved"] for q in store.quarantined()] == ["released", None]


def test_the_line_goes_after_quarantine_shown_seconds(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KDS_CORE_TOKEN", TOKEN)  # for the doctor, run in-process
    monkeypatch.setenv("KDS_QUARANTINE_SHOWN_SECONDS", "2")
    site = make_site(
        core_sim, site_id, activemq_url, tmp_path, env={"KDS_QUARANTINE_SHOWN_SECONDS": "2"}
    )
    site.start_agent()
    try:
        with site.peer() as peer:
            site.sim.push_raw(site.site_id, _without_items(site, "ord_BRIEF"))
            wait_until(lambda: _shown(peer, "order D-1042 refused"))
            count = len(peer.alive)
            wait_until(lambda: len(peer.alive) > count and not _shown(peer, "D-1042"))
        assert site.agent is not None
        (entry,) = site.agent.store.quarantined()
        assert entry["resolved"] is None  # off the screens, still listed for the admin
        checks = run_checks(site.config_path, timeout=1)
        (check,) = [c for c in checks if c.name == "quarantine"]
        assert check.status == "WARN" and not check.failed
        assert "1 refused orders waiting (0 on the screens)" in check.detail
    finally:
        site.stop_agent()
