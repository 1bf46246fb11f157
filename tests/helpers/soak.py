"""The soak scenario: a whole site as real processes, in steady service for minutes or hours.

Used by ``tests/e2e/test_soak.py`` (3 minutes in the default suite) and by
``scripts/soak --minutes N [--screen]`` (``python -m tests.helpers.soak``).

On a broker it is given (the session's ActiveMQ), :func:`run_soak` starts, each as
its own process with its output in ``RUN_DIR/<name>.log``:

* ``core-sim``: the core simulator, taking new orders at ``orders_per_minute``
  (Poisson arrivals; the core also cancels or edits an open order now and then);
* ``edge-agent``: ``edge-agent run`` against it, printing new grill tickets to a socket
  printer and sending lifecycle events to a Kafka-protocol broker (tansu), both the
  soak's own and counted at the end (none received fails the run);
* ``display-grill`` and ``display-expo``: two ``kitchen-display`` windows with
  ``--autopilot`` (cards cook ``cook_seconds``), so the cooks' commands (allergy
  seen, START, BUMP, expo's BUMP, PICKED UP, OK, SEEN of a VOID) leave through the
  displays' own tap path. Offscreen
  (``QT_QPA_PLATFORM=offscreen``, which still paints shown windows) or, with a
  ``screen``, side by side on an X screen (Xvfb).

Fry, cold and bar are folded into grill (``fold_stations``, as a lead does in quiet
hours), so the grill screen cooks every line and expo bumps an order once every
station is done. A listener on the state topic counts what the kitchen did.

It fails (``SoakReport.failures``) when a process died, a log holds a traceback
(``Traceback (most recent call last)``, ``Fatal Python error``), an ``ERROR`` or
``CRITICAL`` line, a lost connection or a silent agent (the broker stays up), or a Qt
warning that signals a bug (:data:`EXPECTED` lists the known races), a process's RSS grew by
``max_rss_growth`` or more from the first sample after the warm-up to the end (the
agent and the displays; the core simulator's is only reported, :data:`RSS_NOT_JUDGED`),
a display stopped painting or work stopped flowing (too few tickets picked up,
none in the last minute). Waiting is on conditions with deadlines; only sampling
runs on a schedule.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from tests.helpers.kafka_broker import KafkaBroker, consume_all
from tests.helpers.net import free_port
from tests.helpers.site import ROOT, agent_toml, unique_site, wait_until
from tests.helpers.soak_tally import StateTally
from tests.helpers.socket_printer import SocketPrinter

TOKEN = "soak-token-not-secret"
#: fry, cold and bar lines show on the grill screen (the quiet-hours fold)
FOLDS = {"fry": "grill", "cold": "grill", "bar": "grill"}
#: log lines that signal a bug, whatever the program (the broker stays up all along, so a
#: lost connection or a silent agent is one too)
PROBLEM = re.compile(
    r"Traceback \(most recent call last\)|Fatal Python error|"
    r"\b(ERROR|CRITICAL)\b|"
    # on a healthy broker nothing should drop a connection or fall silent
    r"connection lost|heartbeat timeout|has been silent for|not sent: |never sent|"
    r"^(QObject|QWidget|QPainter|QBackingStore|QBasicTimer|QSocketNotifier|QThread)\b"
)
#: problem lines that are the kitchen's real world, not a bug (each with its reason)
EXPECTED = (
    # The kitchen made an order ready while the core cancelled it: the core refuses the
    # late "ready" (409) and the agent dead-letters that event with the reason, as
    # designed. (The agent logs it at ERROR; it is a race, not a fault.)
    re.compile(r"dead-lettered: core answered 409 invalid_transition: order is cancelled"),
)
#: processes whose RSS growth is reported but not judged, and why
RSS_NOT_JUDGED = {
    "core-sim": "a stand-in for the cloud core: it keeps every order, version and event "
    "in memory by design, ~20 KB an order",
}
#: the topic the agent's lifecycle events go to (a tansu broker of the soak's own)
KAFKA_TOPIC = "kds.lifecycle"
#: the autopilot's periodic line: "autopilot: N taps (...); C cards shown; P paints of the cards"
AUTOPILOT_LINE = re.compile(r"autopilot: (\d+) taps \((.*)\); (\d+) cards shown; (-?\d+) paints")


@dataclass
class SoakOptions:
    """What to run, for how long, and the pass marks."""

    mq_url: str
    run_dir: Path
    seconds: float = 180.0
    #: the first RSS sample that counts is taken this long after the displays started
    #: (default: 60 s, or a third of a shorter run)
    warmup_seconds: float | None = None
    orders_per_minute: float = 30.0
    autopilot_seconds: float = 0.5
    #: the grill's cards cook this long before the autopilot bumps them, so the screens
    #: keep ~10 cards (Little's law: 0.5 orders/s x ~20 s)
    cook_seconds: float = 15.0
    #: RSS samples (and CSV rows) every this many seconds
    sample_seconds: float = 10.0
    #: liveness and log checks every this many seconds (a dead process fails fast)
    check_seconds: float = 2.0
    max_rss_growth: float = 0.10
    #: an X display (":93") to show the windows on (side by side); None: offscreen
    screen: Any = None
    #: a screenshot of the whole screen every this many seconds (with ``screen``)
    screenshot_seconds: float = 60.0
    seed: int = 7
    #: the broker's pid, sampled for information (not judged: it is not ours to tune)
    broker_pid: int | None = None
    say: Callable[[str], None] = print

    @property
    def warmup(self) -> float:
        if self.warmup_seconds is not None:
            return self.warmup_seconds
        return min(60.0, self.seconds / 3)


@dataclass
class Proc:
    """One child process and its log."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    #: (seconds since the service started, RSS bytes)
    samples: list[tuple[float, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: lines that matched :data:`EXPECTED` (counted, reported, not failed)
    expected: int = 0
    _scanned: int = 0

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def rss(self) -> int | None:
        try:
            return int(psutil.Process(self.popen.pid).memory_info().rss)
        except psutil.Error:
            return None

    def scan(self) -> list[str]:
        """New problem lines of the log since the last scan (kept in ``problems``)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._scanned)
                chunk = log.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n") + 1  # only whole lines
        self._scanned += end
        found = [
            line
            for line in chunk[:end].decode(errors="replace").splitlines()
            if PROBLEM.search(line) and not any(ok.search(line) for ok in EXPECTED)
        ]
        self.expected += sum(
            1
            for line in chunk[:end].decode(errors="replace").splitlines()
            if any(ok.search(line) for ok in EXPECTED)
        )
        self.problems += found
        return found

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class ProcessFigures:
    name: str
    pid: int
    rss_start: int | None
    rss_end: int | None
    exit_code: int | None
    #: log lines that matched :data:`EXPECTED`
    expected_lines: int = 0
    #: whether its RSS growth is judged (see :data:`RSS_NOT_JUDGED`)
    judged: bool = True

    @property
    def growth(self) -> float | None:
        if not self.rss_start or self.rss_end is None:
            return None
        return (self.rss_end - self.rss_start) / self.rss_start


@dataclass
class SoakReport:
    """What a soak run measured, and why it failed (if it did)."""

    run_dir: Path
    seconds: float
    processes: list[ProcessFigures] = field(default_factory=list)
    tickets: dict[str, int] = field(default_factory=dict)
    autopilot: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    broker_rss: tuple[int | None, int | None] = (None, None)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines = [
            f"soak: {self.seconds:.0f} s of service, run folder {self.run_dir}",
            f"{'process':<16} {'pid':>7} {'RSS start':>10} {'RSS end':>10} {'growth':>8} exit",
        ]
        for p in self.processes:
            growth = f"{p.growth * 100:+.1f}%" if p.growth is not None else "?"
            lines.append(
                f"{p.name:<16} {p.pid:>7} {_mb(p.rss_start):>10} {_mb(p.rss_end):>10} {growth:>8}"
                f" {p.exit_code}" + ("" if p.judged else "  (RSS not judged*)")
            )
        if self.broker_rss != (None, None):
            lines.append(
                f"{'(broker)':<16} {'':>7} {_mb(self.broker_rss[0]):>10} "
                f"{_mb(self.broker_rss[1]):>10}   (not judged)"
            )
        for p in self.processes:
            if not p.judged:
                lines.append(f"* {p.name}: {RSS_NOT_JUDGED.get(p.name, '')}")
        lines.append("tickets: " + ", ".join(f"{k} {v}" for k, v in self.tickets.items()))
        known = [f"{p.name} {p.expected_lines}" for p in self.processes if p.expected_lines]
        if known:
            lines.append("known races logged (EXPECTED, not failed): " + ", ".join(known))
        for name, line in self.autopilot.items():
            lines.append(f"{name}: {line}")
        if self.screenshots:
            lines.append(f"screenshots: {len(self.screenshots)} in {self.run_dir}")
        lines.append("PASSED" if self.ok else f"FAILED: {len(self.failures)} problem(s)")
        return "\n".join(lines)

    def failure_message(self) -> str:
        return "\n\n".join([*self.failures, self.summary()])


def _mb(value: int | None) -> str:
    return f"{value / 1_048_576:.1f} MB" if value is not None else "?"


class SoakSite:
    """Starts and stops the site's processes (see the module docs)."""

    def __init__(self, options: SoakOptions) -> None:
        self.options = options
        self.run_dir = options.run_dir
        self.site_id = unique_site()
        self.procs: list[Proc] = []
        base = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
        self.env = {**base, "KDS_CORE_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
        self.tally: StateTally | None = None
        #: the agent's grill printer and its reporting broker, real sockets both
        self.printer: SocketPrinter | None = None
        self.kafka: KafkaBroker | None = None
        #: what they received, counted when the site stopped
        self.peer_counts: dict[str, int] = {}
        #: when steady service ended (time.monotonic())
        self.service_end = 0.0

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        log_path = self.run_dir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                [sys.executable, *argv],
                cwd=ROOT,
                env=env or self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the runner reaches us, not them
            )
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        self.options.say(f"soak: started {name} (pid {popen.pid}, log {log_path})")
        return proc

    def _wait_log(self, proc: Proc, text: str, timeout: float) -> None:
        def seen() -> bool:
            if not proc.alive:
                raise AssertionError(
                    f"{proc.name} exited with status {proc.popen.returncode} while starting; "
                    f"log tail:\n{proc.tail()}"
                )
            try:
                return text in proc.log_path.read_text(errors="replace")
            except OSError:
                return False

        try:
            wait_until(seen, timeout, interval=0.1)
        except AssertionError as exc:
            if "exited" in str(exc):
                raise
            raise AssertionError(
                f"{proc.name} did not log {text!r} within {timeout}s; log tail:\n{proc.tail()}"
            ) from None

    def start(self) -> None:
        options = self.options
        self.run_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        core = self._spawn(
            "core-sim",
            [
                "-m",
                "core_sim",
                "--port",
                str(port),
                "--site",
                self.site_id,
                "--token-env",
                "KDS_CORE_TOKEN",
                "--rate",
                str(options.orders_per_minute),
                "--seed",
                str(options.seed),
            ],
        )
        self._wait_log(core, "core-sim serving site", 30)
        core_url = f"http://127.0.0.1:{port}"

        self.tally = StateTally(options.mq_url, self.site_id)
        if not self.tally.client.wait_connected(30):
            raise AssertionError(f"soak: the broker at {options.mq_url} is not reachable")

        self.printer = SocketPrinter()
        self.kafka = KafkaBroker(log_path=self.run_dir / "kafka.log")
        self.kafka.start()
        self.kafka.create_topic(KAFKA_TOPIC)
        agent_cfg = self.run_dir / "agent.toml"
        agent_cfg.write_text(
            agent_toml(
                site_id=self.site_id,
                core_url=core_url,
                mq_url=options.mq_url,
                store_path=self.run_dir / "edge.sqlite3",
                extra=(
                    f'[printers.grill]\nurl = "{self.printer.url}"\nprint_on = ["new"]\n\n'
                    f'[kafka]\nbootstrap = "{self.kafka.bootstrap}"\ntopic = "{KAFKA_TOPIC}"\n'
                ),
            )
        )
        agent = self._spawn("edge-agent", ["-m", "edge_agent", "run", "--config", str(agent_cfg)])
        tally = self.tally

        def agent_up() -> bool:
            if not agent.alive:
                raise AssertionError(f"edge-agent exited while starting:\n{agent.tail()}")
            return tally.alive > 0

        wait_until(agent_up, 60, interval=0.1)
        result = tally.call("fold_stations", folds=FOLDS)
        if not result.ok:
            raise AssertionError(f"soak: fold_stations refused: {result}")

        display_env = dict(self.env)
        if options.screen is not None:
            display_env.update(options.screen.env())
        else:
            display_env["QT_QPA_PLATFORM"] = "offscreen"
        stations = ("grill", "expo")
        displays = []
        for index, station in enumerate(stations):
            cfg = self.run_dir / f"display-{station}.toml"
            cfg.write_text(
                f'site_id = "{self.site_id}"\ndisplay_id = "{station}-soak"\n'
                f'station = "{station}"\n\n[mq]\nurl = "{options.mq_url}"\n'
                "heartbeat_ms = 2000\nreconnect_max_seconds = 1.0\n"
            )
            argv = ["-m", "kitchen_display", "--config", str(cfg)]
            argv += ["--autopilot", str(options.autopilot_seconds)]
            argv += ["--autopilot-cook", str(options.cook_seconds)]
            if options.screen is not None:
                argv += ["--tile", f"{index + 1}/{len(stations)}"]
            displays.append(self._spawn(f"display-{station}", argv, display_env))
        for proc in displays:
            self._wait_log(proc, "snapshot:", 60)
            self._wait_log(proc, "autopilot on", 10)

    def stop(self) -> None:
        """Stop every process: displays first (SIGINT: the app quits), then the rest."""
        for proc in reversed(self.procs):
            if not proc.alive:
                continue
            sig = signal.SIGINT if proc.name.startswith("display-") else signal.SIGTERM
            proc.popen.send_signal(sig)
            try:
                proc.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.options.say(f"soak: {proc.name} did not stop within 20 s; killing it")
                proc.popen.kill()
                proc.popen.wait(10)
        if self.tally is not None:
            self.tally.close()
        if self.printer is not None:
            self.peer_counts["tickets printed"] = len(self.printer.jobs)
            self.printer.close()
        if self.kafka is not None:
            if self.kafka.running:
                # every event of the run (a count no run reaches: read until quiet)
                events = consume_all(self.kafka.bootstrap, KAFKA_TOPIC, 10**9, timeout=5)
                self.peer_counts["lifecycle events on Kafka"] = len(events)
            self.kafka.close()


def run_soak(options: SoakOptions) -> SoakReport:
    """Run the scenario for ``options.seconds`` of steady service and judge it."""
    site = SoakSite(options)
    report = SoakReport(run_dir=options.run_dir, seconds=options.seconds)
    try:
        site.start()
        _serve(site, report)
    except AssertionError as exc:
        report.failures.append(str(exc))
    finally:
        site.stop()
    _judge(site, report)
    _write(site, report)
    return report


def _serve(site: SoakSite, report: SoakReport) -> None:
    options = site.options
    say = options.say
    t0 = time.monotonic()
    end = t0 + options.seconds
    next_sample = t0
    next_shot = t0 + min(options.screenshot_seconds, options.seconds / 2)
    broker = _broker(options.broker_pid)
    broker_samples: list[tuple[float, int]] = []
    say(
        f"soak: site {site.site_id} in service for {options.seconds:.0f} s "
        f"(orders {options.orders_per_minute:g}/min, autopilot every "
        f"{options.autopilot_seconds:g} s, cooking {options.cook_seconds:g} s, "
        f"warm-up {options.warmup:.0f} s)"
    )
    while True:
        now = time.monotonic()
        for proc in site.procs:
            if proc.scan():
                raise AssertionError(_problem_text(proc))
            if not proc.alive:
                raise AssertionError(
                    f"{proc.name} (pid {proc.popen.pid}) died after {now - t0:.0f} s "
                    f"with status {proc.popen.returncode}; log tail:\n{proc.tail()}"
                )
        if now >= next_sample or now >= end:
            elapsed = now - t0
            for proc in site.procs:
                rss = proc.rss()
                if rss is not None:
                    proc.samples.append((elapsed, rss))
            if broker is not None:
                try:
                    broker_samples.append((elapsed, int(broker.memory_info().rss)))
                except psutil.Error:
                    broker = None
            next_sample += options.sample_seconds
            counts = site.tally.snapshot() if site.tally else {}
            rss_now = "  ".join(
                f"{p.name} {_mb(p.samples[-1][1] if p.samples else None)}" for p in site.procs
            )
            say(f"soak: {elapsed:5.0f} s  {rss_now}  | picked up {counts.get('picked up', 0)}")
        if options.screen is not None and now >= next_shot:
            shot = options.run_dir / f"screen-{len(report.screenshots) + 1:03d}.png"
            try:
                report.screenshots.append(options.screen.grab(shot))
                say(f"soak: screenshot {shot}")
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                report.failures.append(f"screenshot failed: {exc}")
            next_shot += options.screenshot_seconds
        if now >= end:
            break
        threading.Event().wait(min(options.check_seconds, max(0.0, end - now)))
    site.service_end = time.monotonic()
    if broker_samples:
        warm = [rss for at, rss in broker_samples if at >= options.warmup - 0.5]
        report.broker_rss = (warm[0] if warm else None, broker_samples[-1][1])


def _broker(pid: int | None) -> psutil.Process | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _problem_text(proc: Proc) -> str:
    shown = "\n".join(proc.problems[:10])
    return (
        f"{proc.name} (pid {proc.popen.pid}) logged a problem:\n{shown}\n"
        f"log tail ({proc.log_path}):\n{proc.tail()}"
    )


def _judge(site: SoakSite, report: SoakReport) -> None:
    options = site.options
    warmup = options.warmup
    failed_before = bool(report.failures)
    for proc in site.procs:
        # what the processes logged while stopping counts too
        if proc.scan() and not any(proc.name in f for f in report.failures):
            report.failures.append(_problem_text(proc))
        after = [rss for at, rss in proc.samples if at >= warmup - 0.5]
        start = after[0] if after else None
        end = proc.samples[-1][1] if proc.samples else None
        figures = ProcessFigures(
            proc.name, proc.popen.pid, start, end, proc.popen.poll(), proc.expected
        )
        report.processes.append(figures)
        growth = figures.growth
        figures.judged = proc.name not in RSS_NOT_JUDGED
        if (
            not failed_before
            and figures.judged
            and growth is not None
            and growth >= options.max_rss_growth
        ):
            report.failures.append(
                f"{proc.name}: RSS grew by {growth * 100:.1f}% after the warm-up "
                f"({_mb(start)} at {warmup:.0f} s -> {_mb(end)} at the end; limit "
                f"{options.max_rss_growth * 100:.0f}%); samples: "
                + ", ".join(f"{at:.0f}s {_mb(rss)}" for at, rss in proc.samples)
                + f"\nlog tail:\n{proc.tail(15)}"
            )
    if report.failures:
        _tally(site, report)
        return
    _tally(site, report)
    counts = report.tickets
    expected = options.orders_per_minute * options.seconds / 60
    minimum = max(3, int(expected * 0.3))
    if counts.get("picked up", 0) < minimum:
        report.failures.append(
            f"work did not flow: {counts.get('picked up', 0)} tickets picked up, expected at "
            f"least {minimum} of ~{expected:.0f} orders; counts {counts}"
        )
    last_minute = min(60.0, options.seconds / 3)
    recent = site.tally.pickups_since(site.service_end - last_minute) if site.tally else 0
    counts[f"picked up in the last {last_minute:.0f} s"] = recent
    if recent == 0:
        tails = "\n\n".join(
            f"{p.name} log tail:\n{p.tail(10)}" for p in site.procs if p.name.startswith("display-")
        )
        report.failures.append(
            f"work stopped: no ticket was picked up in the last {last_minute:.0f} s of service; "
            f"counts {counts}\n{tails}"
        )
    counts.update(site.peer_counts)
    for peer in ("tickets printed", "lifecycle events on Kafka"):
        if site.peer_counts.get(peer, 0) == 0:
            report.failures.append(
                f"the agent's {peer}: none; edge-agent log tail:\n"
                + "\n".join(p.tail(15) for p in site.procs if p.name == "edge-agent")
            )
    for proc in site.procs:
        if not proc.name.startswith("display-"):
            continue
        reports = _autopilot_reports(proc)
        if reports:
            report.autopilot[proc.name] = reports[-1][0]
        paints = [paint for _line, paint in reports]
        if len(paints) < 2 or any(b <= a for a, b in itertools.pairwise(paints)):
            report.failures.append(
                f"{proc.name} did not paint all along: paint counts per autopilot report "
                f"{paints}; log tail:\n{proc.tail(15)}"
            )


def _tally(site: SoakSite, report: SoakReport) -> None:
    if site.tally is not None:
        report.tickets = site.tally.snapshot()


def _autopilot_reports(proc: Proc) -> list[tuple[str, int]]:
    found = []
    for line in proc.log_path.read_text(errors="replace").splitlines():
        match = AUTOPILOT_LINE.search(line)
        if match:
            found.append((line[match.start() :], int(match.group(4))))
    return found


def _write(site: SoakSite, report: SoakReport) -> None:
    """``rss.csv`` (one row per sample, RSS in KiB per process) and ``summary.txt``."""
    run_dir = site.run_dir
    if not run_dir.exists():
        return
    names = [p.name for p in site.procs]
    rows: dict[float, dict[str, int]] = {}
    for proc in site.procs:
        for at, rss in proc.samples:
            rows.setdefault(round(at), {})[proc.name] = rss // 1024
    with (run_dir / "rss.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["seconds", *(f"{n} RSS KiB" for n in names)])
        for at in sorted(rows):
            writer.writerow([at, *(rows[at].get(n, "") for n in names)])
    (run_dir / "summary.txt").write_text(report.failure_message() + "\n")
    (run_dir / "summary.json").write_text(
        json.dumps(
            {
                "ok": report.ok,
                "seconds": report.seconds,
                "processes": [
                    {"name": p.name, "pid": p.pid, "rss_start": p.rss_start, "rss_end": p.rss_end}
                    for p in report.processes
                ],
                "tickets": report.tickets,
                "failures": report.failures,
            },
            indent=2,
        )
        + "\n"
    )


# --- scripts/soak ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.helpers.soak --mq-url URL --minutes N [--screen]`` (scripts/soak)."""
    parser = argparse.ArgumentParser(
        prog="scripts/soak", description="Run the soak scenario on a broker for N minutes."
    )
    parser.add_argument("--mq-url", required=True, help="the broker (scripts/soak starts one)")
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of steady service")
    parser.add_argument(
        "--screen",
        action="store_true",
        help="show the displays side by side on Xvfb and save a screenshot every minute",
    )
    parser.add_argument("--screen-size", default="1920x1080", metavar="WxH")
    parser.add_argument("--run-dir", help="default .run/soak/<date-time>")
    parser.add_argument("--rate", type=float, default=30.0, help="new orders per minute")
    parser.add_argument("--autopilot", type=float, default=0.5, metavar="SECONDS")
    parser.add_argument("--cook", type=float, default=15.0, metavar="SECONDS")
    parser.add_argument("--warmup", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument("--max-rss-growth", type=float, default=0.10)
    parser.add_argument("--broker-pid", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = Path(args.run_dir or ROOT / ".run" / "soak" / stamp).absolute()
    run_dir.mkdir(parents=True, exist_ok=True)

    def say(text: str) -> None:
        print(text, flush=True)

    options = SoakOptions(
        mq_url=args.mq_url,
        run_dir=run_dir,
        seconds=args.minutes * 60,
        warmup_seconds=args.warmup,
        orders_per_minute=args.rate,
        autopilot_seconds=args.autopilot,
        cook_seconds=args.cook,
        sample_seconds=args.sample_seconds,
        max_rss_growth=args.max_rss_growth,
        broker_pid=args.broker_pid,
        seed=args.seed,
        say=say,
    )
    if args.screen:
        from tests.helpers.xvfb import Xvfb

        width, height = (int(v) for v in args.screen_size.lower().split("x", 1))
        with Xvfb(width, height) as screen:
            say(f"soak: Xvfb {screen.display} {width}x{height}")
            options.screen = screen
            report = run_soak(options)
    else:
        report = run_soak(options)
    say("")
    say(report.failure_message() if not report.ok else report.summary())
    say(f"soak: rss.csv and summary.txt in {run_dir}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
