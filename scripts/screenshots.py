"""Screenshots of the kitchen display during a realistic rush, for docs/screens/.

    python scripts/screenshots.py [--out docs/screens] [--orders 45] [--theme light]

Runs the real stack on this machine: the core simulator, a STOMP broker (the
embedded coilmq), the edge agent, and the display's windows (station, expo, board)
in one Qt application under Xvfb (started here when there is no $DISPLAY). It places
a Friday-evening rush — 45 open orders across the brands, some rush, recipe allergens
on most, two customers' declared allergies (one seen at grill, one still waiting for
its ALLERGY SEEN tap), an edited order, a cancelled one — bumps a few, then saves each
window, and finally stops the broker to show the offline banner over the last known state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SITE = "ams-01"
TOKEN = "screens-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_display() -> subprocess.Popen[bytes] | None:
    """Start Xvfb when there is no screen, so windows are real X11 windows."""
    if os.environ.get("DISPLAY"):
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("no $DISPLAY and no Xvfb: apt-get install xvfb (scripts/system-deps gui)")
    number = 90 + os.getpid() % 100
    proc = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ["DISPLAY"] = f":{number}"
    time.sleep(0.5)
    return proc


def wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not predicate():
        QApplication.processEvents()
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screens"))
    parser.add_argument("--orders", type=int, default=45)
    parser.add_argument(
        "--theme",
        default="dark",
        choices=("dark", "light", "high-contrast"),
        help="[display] theme",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    xvfb = ensure_display()
    workdir = Path(tempfile.mkdtemp(prefix="kds-screens-"))
    broker_port = free_port()
    broker = subprocess.Popen(
        [sys.executable, "-m", "kds_demo.broker", "-b", "127.0.0.1", "-p", str(broker_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return _run(out, workdir, broker_port, broker, args.orders, args.theme)
    finally:
        if broker.poll() is None:
            broker.terminate()
            broker.wait(10)
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _run(
    out: Path,
    workdir: Path,
    broker_port: int,
    broker: subprocess.Popen[bytes],
    orders: int,
    theme: str,
) -> int:
    from PySide6.QtWidgets import QApplication

    from core_sim.server import CoreSimulator
    from edge_agent.__main__ import build_agent
    from edge_agent.config import AgentConfig
    from kitchen_display.app import DisplayApp, build_display
    from kitchen_display.config import DisplayConfig, DisplaySettings
    from shared import wire
    from shared.config import load
    from shared.model import format_time
    from shared.mq import MqClient
    from shared.settings import MqSettings

    mq_url = f"stomp://127.0.0.1:{broker_port}"
    vhost = socket.getfqdn()  # coilmq accepts only its own host name
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", broker_port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)

    sim = CoreSimulator(sites={SITE: TOKEN}, seed=11).start()
    env = {
        "KDS_SITE_ID": SITE,
        "KDS_CORE_URL": sim.url,
        "KDS_CORE_TOKEN": TOKEN,
        "KDS_CORE_POLL_WAIT_SECONDS": "2",
        "KDS_MQ_URL": mq_url,
        "KDS_MQ_VHOST": vhost,
        "KDS_STORE_PATH": str(workdir / "edge.sqlite3"),
    }
    agent = build_agent(load(AgentConfig, None, env=env, secrets=None)).start()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    displays = []
    try:
        # a lead's tool: bump some tickets so stations show progress
        lead = MqClient(mq_url, vhost=vhost, name="screens-lead").start()
        created = []
        now = datetime.now(UTC)
        for n in range(orders):
            # a rush building up: the oldest order came in 14 minutes ago
            placed = now - timedelta(seconds=(orders - n) * 840 // orders)
            overrides: dict[str, object] = {
                "placed_at": format_time(placed),
                "promised_at": format_time(placed + timedelta(minutes=12 + n % 3 * 4)),
            }
            if n % 9 == 4:
                overrides["priority"] = "rush"
            created.append(sim.create_order(SITE, **overrides))
        # every order on the screens first: an order cancelled before the agent saw it
        # never becomes a ticket (no VOID card), and the wait below would never end
        wait(lambda: len(agent.kitchen.snapshot("x").tickets or ()) >= orders, 60, "the orders")
        grill_orders = [o for o in created if any(i["station"] == "grill" for i in o["items"])]
        sim.edit_order(grill_orders[5]["id"])
        sim.cancel_order(grill_orders[8]["id"])
        # customers' declared allergies: one to be seen at grill, one waiting
        seen_allergy = grill_orders[2]
        sim.edit_order(seen_allergy["id"], notes="Nut allergy, severe")
        sim.edit_order(grill_orders[4]["id"], notes="ALLERGY: peanuts")
        cancelled = grill_orders[8]["id"]

        def edits_arrived() -> bool:
            tickets = {t.id: t for t in agent.kitchen.snapshot("x").tickets or ()}
            return tickets[cancelled].status.value == "cancelled" and all(
                tickets[o["id"]].notes for o in (seen_allergy, grill_orders[4])
            )

        wait(edits_arrived, 60, "the edits and the cancel")

        def send(kind: str, **fields: object) -> None:
            command = wire.make_command(kind, SITE, display_id="lead", **fields)
            lead.send(wire.command_queue(SITE), wire.encode(command))

        wait(lambda: lead.connected, 10, "the broker")

        def do(kind: str, station: str, order: dict[str, object]) -> None:
            send(kind, station=station, ticket_id=str(order["id"]))

        do("ack_allergens", "grill", seen_allergy)
        for order in created[:12:3]:
            if order is seen_allergy:
                continue
            for station in {i["station"] for i in order["items"]}:
                do("bump", station, order)
        for order in created[:4]:  # bagged at expo: waiting for the courier
            if order is not seen_allergy:
                do("bump", "expo", order)
        for order in created[12:20:2]:
            do("start", order["items"][0]["station"], order)

        views = [("station", "grill"), ("expo", "expo"), ("board", "expo")]
        for view, station in views:
            settings = {"font_scale": 1.0, "view": view, "theme": theme}
            config = DisplayConfig(
                site_id=SITE,
                display_id=f"{view}-1",
                station=station,
                mq=MqSettings(url=mq_url, vhost=vhost, heartbeat_ms=0),
                display=DisplaySettings(**settings),  # type: ignore[arg-type]
            )
            client = MqClient(mq_url, vhost=vhost, heartbeat_ms=0, name=view)
            display = build_display(config, client)
            display.window.resize(1920, 1080)
            display.start(show=True)
            displays.append((view, display))
        for view, display in displays:

            def showing(d: DisplayApp = display) -> bool:
                return d.sync.synced and len(d.sync.tickets()) > 0

            wait(showing, 30, f"{view}")
        # let timers tick once so the aging cues are painted
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        for view, display in displays:
            path = out / f"{view}.png"
            display.window.grab().save(str(path))
            print(f"saved {path}")

        # the network drops: the broker goes away, the screens keep the last state
        broker.terminate()
        broker.wait(10)
        station_view = displays[0][1]
        wait(lambda: station_view.window.offline, 30, "the offline banner")
        # a cook keeps working: the bump waits, marked on its card, until the link is back
        first = station_view.model.ticket_at(0)
        if first is not None:
            station_view.window.request("bump", first.id)
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        path = out / "station-offline.png"
        station_view.window.grab().save(str(path))
        print(f"saved {path}")
        lead.close()
    finally:
        for _view, display in displays:
            display.close()
        agent.close()
        agent.store.close()
        sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
