"""An independent site-protocol v1 display, written from the contract text alone.

It imports nothing of the project (only stomp.py and the standard library) and runs
as its own process, so nothing of ghost-kds is even loaded beside it. It plays a cook
and an expo through whole orders::

    python tests/e2e/v1_client.py --url stomp://127.0.0.1:61613 --site ams-01 ORDER_ID...

For each order: wait until it is on the state topic, then at each of its stations
``start`` and ``bump``, then ``bump`` at ``expo`` (the ticket must become ``ready``),
then ``picked_up`` (it must be removed). Every command carries only v1 fields and a
STOMP ``reply-to``; every ``command.result`` must be ``ok``. Prints one JSON line
(``{"ok": true, ...}``) and exits 0, or prints what went wrong and exits 1.
"""

from __future__ import annotations

import argparse
import itertools
import json
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import stomp

TIMEOUT = 30.0

T = TypeVar("T")


class V1Display(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    def __init__(self, url: str, site: str) -> None:
        parts = urlsplit(url)
        self.site = site
        self.reply_to = f"/temp-queue/v1-client-{uuid.uuid4().hex[:8]}"
        self.results: dict[str, dict[str, Any]] = {}
        self.tickets: dict[str, dict[str, Any]] = {}
        self.removed: set[str] = set()
        self.ticket_seqs: list[int] = []
        self.problems: list[str] = []
        self.cond = threading.Condition()
        self.conn = stomp.Connection12(
            [(parts.hostname or "127.0.0.1", parts.port or 61613)], heartbeats=(10000, 10000)
        )
        self.conn.set_listener("v1", self)
        self.conn.connect(wait=True)
        self.conn.subscribe(f"/topic/kds.{site}.state", id="state", ack="auto")
        self.conn.subscribe(self.reply_to, id="replies", ack="auto")
        self.queue: queue.Queue[str] = queue.Queue()

    def close(self) -> None:
        self.conn.disconnect()

    def on_message(self, frame: Any) -> None:
        try:
            body = json.loads(frame.body)
        except ValueError:
            with self.cond:
                self.problems.append(f"not JSON: {frame.body[:80]!r}")
            return
        if not isinstance(body, dict) or body.get("v") != 1:
            return  # unknown v: ignored, as the contract says
        kind = body.get("type")
        with self.cond:
            if kind == "command.result":
                self.results[body["command_id"]] = body
                for ticket in body.get("tickets") or ():
                    self.tickets[ticket["id"]] = ticket
            elif kind == "ticket.updated":
                self.ticket_seqs.append(body["seq"])
                self.tickets[body["ticket"]["id"]] = body["ticket"]
            elif kind == "ticket.removed":
                self.ticket_seqs.append(body["seq"])
                self.removed.add(body["ticket_id"])
            # any other type is an extension: a v1 display ignores it
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[], T | None], what: str) -> T:
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"timed out waiting for {what}")
                self.cond.wait(left)

    def command(self, kind: str, station: str, **fields: Any) -> dict[str, Any]:
        command_id = str(uuid.uuid4())
        body = {
            "v": 1,
            "type": kind,
            "site_id": self.site,
            "command_id": command_id,
            "display_id": f"v1-{station}",
            "station": station,
            **fields,
        }
        self.conn.send(
            f"/queue/kds.{self.site}.commands",
            json.dumps(body),
            content_type="application/json",
            headers={"reply-to": self.reply_to},
        )
        result = self.wait_for(lambda: self.results.get(command_id), f"the result of {kind}")
        if not result.get("ok"):
            raise RuntimeError(
                f"{kind} at {station} refused: {result.get('error')}: {result.get('detail')}"
            )
        return result


def play(display: V1Display, order_id: str) -> dict[str, Any]:
    ticket = display.wait_for(lambda: display.tickets.get(order_id), f"order {order_id}")
    stations: list[str] = []
    for item in ticket["items"]:
        if item["station"] not in stations:
            stations.append(item["station"])
    allergens = sorted({a for item in ticket["items"] for a in item.get("allergens", [])})
    for station in stations:
        display.command("start", station, ticket_id=order_id)

        def started(s: str = station) -> bool:
            items = display.tickets[order_id]["items"]
            return all(i["status"] != "pending" for i in items if i["station"] == s)

        display.wait_for(started, f"{order_id} started at {station}")
        display.command("bump", station, ticket_id=order_id)
    display.command("bump", "expo", ticket_id=order_id)
    display.wait_for(lambda: display.tickets[order_id]["status"] == "ready", f"{order_id} ready")
    display.command("picked_up", "expo", ticket_id=order_id)
    display.wait_for(lambda: order_id in display.removed, f"{order_id} removed")
    return {"id": order_id, "stations": stations, "allergens": allergens}


def items_at(display: V1Display, order_id: str, station: str) -> list[dict[str, Any]]:
    return [i for i in display.tickets[order_id]["items"] if i["station"] == station]


def play_every_command(display: V1Display, order_id: str, sku: str) -> dict[str, Any]:
    """The other v1 commands on one order, each checked for its v1 effect:
    item_done / item_undo, prioritize, recall at a station and at expo, set_availability."""
    ticket = display.wait_for(lambda: display.tickets.get(order_id), f"order {order_id}")
    first = ticket["items"][0]
    station, line = first["station"], first["line_id"]

    def line_status() -> str:
        items = display.tickets[order_id]["items"]
        status: str = next(i["status"] for i in items if i["line_id"] == line)
        return status

    display.command("item_done", station, ticket_id=order_id, line_id=line)
    display.wait_for(lambda: line_status() == "done", "item_done")
    display.command("item_undo", station, ticket_id=order_id, line_id=line)
    display.wait_for(lambda: line_status() == "in_progress", "item_undo")
    display.command("prioritize", station, ticket_id=order_id, priority="rush")
    display.wait_for(lambda: display.tickets[order_id]["priority"] == "rush", "prioritize rush")
    display.command("prioritize", station, ticket_id=order_id, priority="normal")
    display.wait_for(lambda: display.tickets[order_id]["priority"] == "normal", "prioritize")
    display.command("bump", station, ticket_id=order_id)
    display.wait_for(
        lambda: all(i["status"] == "done" for i in items_at(display, order_id, station)), "bump"
    )
    display.command("recall", station, ticket_id=order_id)
    display.wait_for(
        lambda: all(i["status"] != "done" for i in items_at(display, order_id, station)),
        "recall at the station",
    )
    display.command("bump", "expo", ticket_id=order_id)
    display.wait_for(lambda: display.tickets[order_id]["status"] == "ready", "ready")
    display.command("recall", "expo", ticket_id=order_id)
    display.wait_for(lambda: display.tickets[order_id]["status"] == "in_progress", "recall at expo")
    display.command("bump", "expo", ticket_id=order_id)
    display.wait_for(lambda: display.tickets[order_id]["status"] == "ready", "ready again")
    display.command("picked_up", "expo", ticket_id=order_id)
    display.wait_for(lambda: order_id in display.removed, f"{order_id} removed")
    display.command("set_availability", station, sku=sku, available=False)
    display.command("set_availability", station, sku=sku, available=True)
    return {"id": order_id, "every_command": True}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument(
        "--every-command",
        metavar="ORDER_ID:SKU",
        help="also play every other v1 command on this order (and 86 this sku and back)",
    )
    parser.add_argument("orders", nargs="+")
    args = parser.parse_args()
    display = V1Display(args.url, args.site)
    try:
        snapshot = display.command("snapshot", "expo")
        if not isinstance(snapshot.get("seq"), int) or not isinstance(
            snapshot.get("tickets"), list
        ):
            raise RuntimeError(f"snapshot result without seq/tickets: {snapshot}")
        played = [play(display, order_id) for order_id in args.orders]
        if args.every_command:
            order_id, sku = args.every_command.split(":", 1)
            played.append(play_every_command(display, order_id, sku))
        seqs = display.ticket_seqs
        if any(b <= a for a, b in itertools.pairwise(seqs)):
            raise RuntimeError(f"state seq not increasing: {seqs}")
        if display.problems:
            raise RuntimeError("; ".join(display.problems))
    except Exception as exc:  # report whatever it was, as one line
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    finally:
        display.close()
    print(json.dumps({"ok": True, "orders": played, "state_messages": len(display.ticket_seqs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
