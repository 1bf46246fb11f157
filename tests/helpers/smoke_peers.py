"""The frozen agent's other peers for ``scripts/smoke``: an ESC/POS socket printer and a
Kafka-protocol broker (tansu), started from the project's .venv.

    python -m tests.helpers.smoke_peers DIR

writes ``DIR/extra.toml`` (the agent config's ``[printers.grill]`` and ``[kafka]``
tables), then ``DIR/ready``, and runs until SIGTERM or SIGINT. It then writes
``DIR/summary.json``: ``{"printer_jobs": N, "kafka_messages": M}``, what the printer
received and what a consumer of another client library (confluent-kafka) reads back
from the topic. So the smoke test sees the frozen bundle's printing (python-escpos,
Pillow) and reporting (kafka-python) reach real sockets, not only its outbox say so.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from tests.helpers.kafka_broker import KafkaBroker, consume_all
from tests.helpers.socket_printer import SocketPrinter

TOPIC = "kds.lifecycle"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.helpers.smoke_peers DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with SocketPrinter() as printer, KafkaBroker(log_path=out / "kafka.log") as kafka:
        kafka.create_topic(TOPIC, partitions=1)
        (out / "extra.toml").write_text(
            f'[printers.grill]\nurl = "{printer.url}"\nprint_on = ["new"]\n\n'
            f'[kafka]\nbootstrap = "{kafka.bootstrap}"\ntopic = "{TOPIC}"\n'
            "timeout_seconds = 5\n",
            encoding="utf-8",
        )
        (out / "ready").write_text("ready\n", encoding="utf-8")
        stop.wait()
        summary = {
            "printer_jobs": len(printer.jobs),
            "kafka_messages": len(consume_all(kafka.bootstrap, TOPIC, 1, timeout=5)),
        }
    (out / "summary.json").write_text(json.dumps(summary) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
