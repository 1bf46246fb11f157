"""``[access]``: commands authorised by the sender's role, and where answers may go."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from edge_agent.access import USER_HEADER, AccessPolicy, AccessSettings, ScreenGrant
from edge_agent.config import AgentConfig
from edge_agent.kitchen import Kitchen
from edge_agent.store import Store
from shared import wire
from shared.config import load
from shared.errors import ConfigError
from shared.model import ItemStatus, TicketStatus
from tests.unit.edge_agent.test_kitchen import ORDER_ID, command, replies
from tests.unit.shared.factories import NOW, SITE, order_dict

SCREENS = {
    "grill-1": ScreenGrant(role="station", stations=("grill",)),
    "fry-1": ScreenGrant(role="station", stations=("fry",)),
    "expo-1": ScreenGrant(role="expo"),
    "lead-1": ScreenGrant(role="lead"),
    "stock": ScreenGrant(role="tool", user="inventory-sync"),
}


def policy(identity: str = "broker") -> AccessPolicy:
    return AccessPolicy(
        AccessSettings(identity=identity, screens=SCREENS),
        SITE,
        expo_station="expo",
        stations=("grill", "fry", "expo"),
    )


@pytest.fixture
def kitchen(store: Store) -> Kitchen:
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW, access=policy())
    kitchen.apply_order(order_dict())
    return kitchen


def send(kitchen: Kitchen, user: str | None, kind: str, **fields: Any) -> wire.CommandResult:
    headers = {USER_HEADER: user} if user is not None else {}
    result = kitchen.handle_command(command(kind, **fields), None, headers)
    assert result is not None
    return result


def refused(result: wire.CommandResult) -> str:
    assert not result.ok, result
    assert (result.error, result.reason) == ("bad_request", "forbidden")
    assert result.detail
    return result.detail


def test_a_station_screen_works_at_its_station_only(kitchen: Kitchen, store: Store) -> None:
    grill = f"kds-{SITE}-grill-1"
    assert send(kitchen, grill, "start", station="grill").ok
    assert send(kitchen, grill, "item_done", station="grill", line_id="l1").ok
    detail = refused(send(kitchen, grill, "bump", station="expo"))
    assert grill in detail and "'expo'" in detail and "grill" in detail
    refused(send(kitchen, grill, "item_done", station="grill", line_id="l2"))  # a fry line
    refused(send(kitchen, grill, "picked_up"))
    refused(send(kitchen, grill, "prioritize", priority="rush"))
    refused(send(kitchen, grill, "fold_stations", folds={"fry": "grill"}))
    refused(send(kitchen, grill, "set_availability", sku="BB-CLASSIC", available=False))
    assert send(kitchen, grill, "snapshot").ok
    assert send(kitchen, grill, "bump", station="grill").ok
    ticket = kitchen._load(ORDER_ID)
    assert ticket is not None and ticket.status is TicketStatus.IN_PROGRESS
    assert {i.line_id: i.status for i in ticket.items}["l2"] is ItemStatus.PENDING


def test_a_folded_station_is_worked_from_the_screen_it_folds_into(kitchen: Kitchen) -> None:
    lead = f"kds-{SITE}-lead-1"
    grill = f"kds-{SITE}-grill-1"
    refused(send(kitchen, grill, "bump", station="fry"))
    assert send(kitchen, lead, "fold_stations", folds={"fry": "grill"}).ok
    assert send(kitchen, grill, "bump", station="fry").ok
    assert send(kitchen, grill, "item_undo", station="grill", line_id="l2").ok
    refused(send(kitchen, f"kds-{SITE}-fry-1", "bump", station="grill"))


def test_expo_bumps_expo_marks_picked_up_and_nothing_of_a_lead(kitchen: Kitchen) -> None:
    expo = f"kds-{SITE}-expo-1"
    refused(send(kitchen, expo, "bump", station="grill"))
    refused(send(kitchen, expo, "fold_stations", folds={}))
    refused(send(kitchen, expo, "set_availability", sku="X", available=False))
    assert send(kitchen, expo, "prioritize", priority="rush").ok
    assert send(kitchen, expo, "item_done", station="expo", line_id="l2").ok
    assert send(kitchen, expo, "bump", station="expo").ok
    ticket = kitchen._load(ORDER_ID)
    assert ticket is not None and ticket.status is TicketStatus.READY
    assert send(kitchen, expo, "picked_up").ok


def test_a_lead_does_everything_and_a_tool_only_snapshots_and_86s(kitchen: Kitchen) -> None:
    lead = f"kds-{SITE}-lead-1"
    assert send(kitchen, lead, "bump", station="grill").ok
    assert send(kitchen, lead, "fold_stations", folds={"fry": "grill"}).ok
    assert send(kitchen, lead, "set_availability", sku="BB-CLASSIC", available=False).ok
    assert send(kitchen, "inventory-sync", "set_availability", sku="X", available=True).ok
    assert send(kitchen, "inventory-sync", "snapshot").ok
    detail = refused(send(kitchen, "inventory-sync", "bump", station="grill"))
    assert "inventory-sync (tool)" in detail
    assert send(kitchen, lead, "bump", station="expo").ok
    assert send(kitchen, lead, "picked_up").ok


def test_the_broker_user_counts_not_the_body(kitchen: Kitchen, caplog: Any) -> None:
    # the body says lead-1; the broker says grill-1 sent it
    grill = f"kds-{SITE}-grill-1"
    with caplog.at_level(logging.WARNING, "edge.kitchen"):
        refused(send(kitchen, grill, "picked_up", display_id="lead-1"))
    assert any("picked_up" in r.getMessage() and grill in r.getMessage() for r in caplog.records)
    detail = refused(send(kitchen, "kds-rtm-02-lead-1", "bump", station="grill"))
    assert "not a screen of site" in detail
    detail = refused(send(kitchen, None, "bump", station="grill", display_id="lead-1"))
    assert USER_HEADER in detail and "populateJMSXUserID" in detail


def test_a_refusal_is_not_stored_so_the_same_command_applies_once_allowed(
    store: Store,
) -> None:
    narrow = AccessPolicy(
        AccessSettings(screens={"lead-1": ScreenGrant(role="station", stations=("grill",))}),
        SITE,
        expo_station="expo",
    )
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW, access=narrow)
    kitchen.apply_order(order_dict())
    raw = command("bump", command_id="c-1", station="expo")
    headers = {USER_HEADER: f"kds-{SITE}-lead-1"}
    first = kitchen.handle_command(raw, None, headers)
    assert first is not None and first.reason == "forbidden"
    kitchen.access = policy()  # the admin fixed the role map and restarted
    second = kitchen.handle_command(raw, None, headers)
    assert second is not None and second.ok


def test_display_id_identity_uses_the_body(store: Store) -> None:
    kitchen = Kitchen(
        store, SITE, expo_station="expo", clock=lambda: NOW, access=policy("display_id")
    )
    kitchen.apply_order(order_dict())
    # a stamped user is not what counts here
    assert send(kitchen, "anyone", "bump", station="grill", display_id="grill-1").ok
    refused(send(kitchen, None, "picked_up", display_id="grill-1"))
    refused(send(kitchen, None, "start", station="grill", display_id="who-knows"))
    assert "display_id" in kitchen.access.describe()


def test_without_access_every_command_is_applied_as_v1_says(store: Store) -> None:
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW)
    kitchen.apply_order(order_dict())
    assert not kitchen.access.enabled
    assert "NOT authorised" in kitchen.access.describe()
    assert send(kitchen, None, "bump", station="expo", display_id="grill-1").ok
    assert send(kitchen, None, "fold_stations", folds={"fry": "grill"}).ok


# --- reply-to ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply_to", "open_site", "secured"),
    [
        ("/temp-queue/answers", True, True),
        ("/remote-temp-queue/ID:vm-42687-1796237881415-3:36:1", True, True),  # as ActiveMQ says
        ("/remote-temp-queue/", False, False),
        (f"/queue/kds.{SITE}.replies.grill-1", True, True),
        (f"/queue/kds.{SITE}.reply.tool-7", True, True),
        ("/queue/my-replies", True, False),  # v1: any /queue/... while access is off
        (f"/queue/kds.{SITE}.commands", False, False),
        ("/queue/kds.rtm-02.replies.grill-1", False, False),
        (f"/queue/kds.{SITE}.replies.", False, False),
        (f"/topic/kds.{SITE}.state", False, False),
        ("/temp-queue/", False, False),
        ("/queue/", False, False),
        ("grill-1", False, False),
    ],
)
def test_reply_to_destinations(reply_to: str, open_site: bool, secured: bool) -> None:
    off = AccessPolicy(AccessSettings(), SITE, expo_station="expo")
    assert (off.reply_refusal(reply_to) is None) is open_site
    assert (policy().reply_refusal(reply_to) is None) is secured


def test_a_refused_reply_to_gets_no_answer_but_the_command_applies(
    store: Store, caplog: Any
) -> None:
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW)
    kitchen.apply_order(order_dict())
    with caplog.at_level(logging.WARNING, "edge.kitchen"):
        result = kitchen.handle_command(
            command("start", station="grill"), "/queue/kds.rtm-02.commands"
        )
    assert result is not None and result.ok
    assert replies(store) == []
    assert any("kds.rtm-02.commands" in r.getMessage() for r in caplog.records)
    result = kitchen.handle_command(command("bump", station="grill"), "/temp-queue/a")
    assert result is not None and result.ok
    ((row, answer),) = replies(store)
    assert row.dest == "/temp-queue/a" and answer.ok


# --- configuration ----------------------------------------------------------------------


def write(tmp_path: Path, access: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        f'site_id = "{SITE}"\n'
        'stations = ["grill", "fry", "expo"]\n'
        '[core]\nurl = "http://127.0.0.1:1"\n'
        f'[store]\npath = "{tmp_path / "edge.sqlite3"}"\n' + access
    )
    return path


def test_the_role_map_loads_from_toml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[access]\nidentity = "broker"\n'
        '[access.screens.grill-1]\nrole = "station"\nstations = ["grill"]\n'
        '[access.screens.lead-1]\nrole = "lead"\nuser = "ams-lead"\n',
    )
    config = load(AgentConfig, path, env={"KDS_CORE_TOKEN": "t"})
    assert config.access.enabled
    assert config.access.screens["grill-1"].stations == ("grill",)
    assert config.access.screens["lead-1"].user == "ams-lead"


@pytest.mark.parametrize(
    ("access", "key"),
    [
        ('[access]\nidentity = "body"\n', "access.identity"),
        ('[access.screens.grill-1]\nrole = "cook"\n', "access.screens.grill-1.role"),
        ('[access.screens.grill-1]\nrole = "station"\n', "access.screens.grill-1.stations"),
        (
            '[access.screens.grill-1]\nrole = "station"\nstations = ["pizza"]\n',
            "access.screens.grill-1.stations",
        ),
        ('[access.screens.lead-1]\nrole = "lead"\nuser = "a b"\n', "access.screens.lead-1.user"),
    ],
)
def test_a_bad_role_map_names_its_key(tmp_path: Path, access: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(AgentConfig, write(tmp_path, access), env={"KDS_CORE_TOKEN": "t"})
    assert caught.value.key == key
