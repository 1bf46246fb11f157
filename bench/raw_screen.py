"""A screen as a process of its own that knows only the site protocol (stomp.py and json):
one line on stdout for each state message it receives, with the wall-clock time.

::

    python -m bench.raw_screen HOST PORT STATE_TOPIC [HOP_TOPIC]

Lines: ``ready`` once subscribed, then ``T <ticket id> <seq> <time.time()>`` for each
``ticket.updated`` and ``H <i> <time.time()>`` for each message on ``HOP_TOPIC`` (a raw
publisher's ``{"i": ...}``: the fan-out floor). It runs until stdin closes. Nothing of
the project is imported: on a site each screen is a machine of its own; here five of
them share the bench's two cores, as processes, not as threads of the bench.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import stomp


class _Printer(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    def __init__(self) -> None:
        self.subscribed = threading.Event()

    def on_receipt(self, frame: Any) -> None:
        self.subscribed.set()

    def on_message(self, frame: Any) -> None:
        now = time.time()
        body = json.loads(frame.body)
        if body.get("type") == "ticket.updated":
            line = f"T {body['ticket']['id']} {body['seq']} {now}\n"
        elif "i" in body:
            line = f"H {body['i']} {now}\n"
        else:
            return
        sys.stdout.write(line)
        sys.stdout.flush()


def main(argv: list[str]) -> int:
    host, port, state = argv[0], int(argv[1]), argv[2]
    conn = stomp.Connection12([(host, port)], heartbeats=(10000, 10000))
    printer = _Printer()
    conn.set_listener("print", printer)
    conn.connect(wait=True)
    conn.subscribe(state, id="state", ack="auto")
    if len(argv) > 3:
        conn.subscribe(argv[3], id="hop", ack="auto")
    # the subscriptions are in place once the broker answers a frame sent after them
    conn.send("/topic/bench.raw_screen.noop", "{}", headers={"receipt": "subscribed"})
    if not printer.subscribed.wait(15):
        print("raw_screen: no receipt from the broker in 15 s", file=sys.stderr)
        return 1
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the bench closes it
    conn.disconnect()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
