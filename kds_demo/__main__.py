"""``kds-demo``: a whole kitchen on one machine with nothing but Python.

Starts, as separate processes, the same programs a site runs:

1. a STOMP broker: the embedded pure-Python ``coilmq`` (default; ``kds_demo.broker``
   mends its frame parser), or an existing broker given with ``--mq-url`` (a local
   ActiveMQ, say);
2. the core simulator (``core-sim``), taking orders at ``--rate`` per minute, with a
   few orders already waiting so tickets show at once;
3. the edge agent (``edge-agent run``);
4. one kitchen display window per ``--stations`` entry (``kitchen-display``).

Everything lives under ``.run/demo/`` (configs, the agent's database, logs).
Ctrl-C stops it all. Nothing here is needed in production.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from shared.config import CONFIG_VERSION

SITE = "demo-01"
TOKEN = "demo-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float, what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"kds-demo: {what} exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"kds-demo: {what} did not open port {port} within {timeout}s")


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir = Path(args.run_dir).resolve()
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.env = {**os.environ, "KDS_CORE_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}

    def _spawn(self, name: str, argv: list[str], *, log: bool = True) -> subprocess.Popen[bytes]:
        out = (self.run_dir / f"{name}.log").open("ab") if log else None
        proc = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if out is not None:
            out.close()
        self.procs.append((name, proc))
        print(f"kds-demo: started {name} (pid {proc.pid}, log {self.run_dir / name}.log)")
        return proc

    def start(self) -> None:
        if self.run_dir.exists() and not self.args.keep:
            shutil.rmtree(self.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        py = sys.executable

        vhost = ""
        mq_url = self.args.mq_url
        if not mq_url:
            port = _free_port()
            # coilmq, with its frame parser mended (kds_demo/broker.py says why)
            argv = [py, "-m", "kds_demo.broker", "-b", "127.0.0.1", "-p", str(port)]
            proc = self._spawn("broker", argv)
            _wait_port(port, 20, "the embedded broker", proc)
            mq_url = f"stomp://127.0.0.1:{port}"
            vhost = socket.getfqdn()  # coilmq accepts only its own host name in CONNECT

        core_port = _free_port()
        proc = self._spawn(
            "core-sim",
            [
                py,
                "-m",
                "core_sim",
                "--port",
                str(core_port),
                "--site",
                SITE,
                "--token-env",
                "KDS_CORE_TOKEN",
                "--rate",
                str(self.args.rate),
                "--seed",
                str(self.args.seed),
            ],
        )
        _wait_port(core_port, 20, "the core simulator", proc)
        core_url = f"http://127.0.0.1:{core_port}"
        for _ in range(self.args.initial_orders):
            request = urllib.request.Request(
                f"{core_url}/_sim/orders",
                data=b"{}",
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                json.load(response)

        stations = [s.strip() for s in self.args.stations.split(",") if s.strip()]
        # heart-beats every 5 s both ways, so a stopped broker shows on every screen
        # within seconds (the embedded one reads them since kds_demo/broker.py)
        heartbeat = 5000
        mq = (
            f'url = "{mq_url}"\nvhost = "{vhost}"\n'
            f"heartbeat_ms = {heartbeat}\nreconnect_max_seconds = 2.0\n"
        )
        agent_cfg = self.run_dir / "agent.toml"
        agent_cfg.write_text(
            f"config_version = {CONFIG_VERSION}\n"
            f'site_id = "{SITE}"\nexpo_station = "expo"\n\n[core]\nurl = "{core_url}"\n'
            f"poll_wait_seconds = 10\n\n[mq]\n{mq}\n[store]\n"
            f'path = "{self.run_dir / "edge.sqlite3"}"\n'
        )
        self._spawn("edge-agent", [py, "-m", "edge_agent", "run", "--config", str(agent_cfg)])

        for index, station in enumerate(stations):
            cfg = self.run_dir / f"display-{station}.toml"
            cfg.write_text(
                f"config_version = {CONFIG_VERSION}\n"
                f'site_id = "{SITE}"\ndisplay_id = "{station}-1"\nstation = "{station}"\n\n'
                f"[mq]\n{mq}\n[display]\nfont_scale = {self.args.font_scale}\n"
            )
            argv = [py, "-m", "kitchen_display", "--config", str(cfg)]
            if self.args.window_size:
                width, height = self.args.window_size
                argv += ["--geometry", f"{width}x{height}+{index * width}+0"]
            else:  # side by side: each display takes its column of the screen
                argv += ["--tile", f"{index + 1}/{len(stations)}"]
            self._spawn(f"display-{station}", argv)
        print(
            f"kds-demo: {len(stations)} display(s) for {', '.join(stations)}; "
            f"orders arrive at {self.args.rate}/min. Ctrl-C to stop."
        )

    def wait(self) -> int:
        displays = [p for name, p in self.procs if name.startswith("display-")]
        while True:
            for name, proc in self.procs:
                if proc.poll() is not None and not name.startswith("display-"):
                    print(f"kds-demo: {name} exited ({proc.returncode}); see its log")
                    return 1
            if displays and all(p.poll() is not None for p in displays):
                print("kds-demo: every display window was closed")
                return 0
            time.sleep(0.5)

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            print(f"kds-demo: stopped {name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kds-demo", description=__doc__.split("\n")[0])
    parser.add_argument("--stations", default="grill,expo", help="one window per station")
    parser.add_argument("--rate", type=float, default=12.0, help="new orders per minute")
    parser.add_argument("--initial-orders", type=int, default=8, help="orders waiting at start")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--font-scale", type=float, default=1.0)
    parser.add_argument(
        "--window-size",
        type=lambda t: tuple(int(v) for v in t.lower().split("x", 1)),
        default=None,
        metavar="WxH",
        help="size of each display window, placed side by side from the left "
        "(default: the screen's available area split into one column per display)",
    )
    parser.add_argument("--mq-url", default="", help="use this STOMP broker instead of coilmq")
    parser.add_argument("--run-dir", default=".run/demo")
    parser.add_argument("--keep", action="store_true", help="keep the previous run's database")
    args = parser.parse_args(argv)
    demo = Demo(args)

    def _stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        demo.start()
        return demo.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
