"""Site protocol v1 holds with default settings, whatever the project's extensions.

An independent display (``v1_client.py``: stomp.py only, nothing of the project
imported, its own process) takes whole orders through start, bump at each station,
bump at expo and picked up (and, on one more order, every other v1 command: item_done,
item_undo, prioritize, recall at a station and at expo, set_availability), against
the real ActiveMQ and a real ``edge-agent run`` with the default config. The orders
carry recipe allergens on every line, and three a customer's declared allergy: v1
says nothing of allergies, so nothing may be refused for them (the project's own
screens ask for ALLERGY SEEN; the agent does not).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import ROOT, AgentProcess, line_item, wait_until, write_agent_config

pytestmark = [pytest.mark.broker, pytest.mark.slow]

CLIENT = Path(__file__).with_name("v1_client.py")


def _orders(sim: CoreSimulator, site_id: str) -> list[dict[str, object]]:
    recipe = sim.create_order(
        site_id,
        notes="",
        items=[
            line_item("l1", "Classic Burger", "grill", allergens=["gluten", "milk", "sesame"]),
            line_item("l2", "Fries", "fry", allergens=["celery"]),
        ],
    )
    declared_on_order = sim.create_order(
        site_id,
        notes="ALLERGY: peanuts",
        items=[
            line_item("l1", "Pad Thai", "grill", allergens=["peanuts", "egg", "fish"]),
            line_item("l2", "Spring Rolls", "fry", allergens=["gluten", "soy"]),
            line_item("l3", "Iced Tea", "bar"),
        ],
    )
    declared_on_line = sim.create_order(
        site_id,
        notes="",
        items=[
            line_item(
                "l1",
                "Poke Bowl",
                "cold",
                allergens=["fish", "soy"],
                notes="nut allergy, severe",
                modifiers=[{"name": "No sesame", "qty": 1}],
            ),
            line_item("l2", "Smash Burger", "grill", allergens=["gluten"]),
        ],
    )
    return [recipe, declared_on_order, declared_on_line]


def test_a_raw_v1_display_takes_allergen_orders_through_the_whole_flow(
    site_id: str, core_sim: CoreSimulator, activemq_url: str, tmp_path: Path
) -> None:
    # the default config: no allergen_gate, no [allergy] (nothing opted in)
    config, _ = write_agent_config(
        tmp_path, site_id=site_id, core_url=core_sim.url, mq_url=activemq_url
    )
    assert "allergen_gate" not in config.read_text()
    agent = AgentProcess(config, TOKEN, tmp_path / "agent.log").start()
    try:
        orders = _orders(core_sim, site_id)
        everything = core_sim.create_order(
            site_id,
            notes="Allergic to sesame",
            items=[
                line_item("l1", "Smash Burger", "grill", allergens=["gluten", "sesame"]),
                line_item("l2", "Fries", "fry"),
            ],
        )
        sku = everything["items"][0]["sku"]
        proc = subprocess.run(
            [
                sys.executable,
                "-I",  # isolated: not even the project's directory on sys.path
                str(CLIENT),
                "--url",
                activemq_url,
                "--site",
                site_id,
                "--every-command",
                f"{everything['id']}:{sku}",
                *[str(o["id"]) for o in orders],
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        if proc.returncode == 0:
            # the core hears every order through to picked up (the agent's status events)
            wait_until(
                lambda: all(core_sim.order(str(o["id"]))["status"] == "picked_up" for o in orders),
                timeout=30,
            )
    finally:
        agent.stop()
    log = agent.log()
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr[-3000:]}\nagent log:\n{log[-3000:]}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    assert [o["id"] for o in summary["orders"]] == [o["id"] for o in [*orders, everything]]
    assert summary["orders"][-1]["every_command"] is True
    assert summary["orders"][1]["stations"] == ["grill", "fry", "bar"]
    assert "peanuts" in summary["orders"][1]["allergens"]
    # the agent refused nothing and crashed nowhere
    assert "refused" not in log and "Traceback" not in log


def test_the_client_imports_nothing_of_the_project() -> None:
    source = CLIENT.read_text()
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    project = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert not imports & project, imports & project
    assert "stomp" in imports
