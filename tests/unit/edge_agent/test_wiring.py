"""edge_agent.wiring: each adapter built once from the configuration (for run and doctor)."""

from __future__ import annotations

import socket
from pathlib import Path

from edge_agent import wiring
from edge_agent.adapters.kafka import KafkaSink
from edge_agent.adapters.printer_escpos import EscPosPrinter
from edge_agent.adapters.printer_http import PosPrintApi
from edge_agent.adapters.sns import SnsNotifier
from edge_agent.adapters.statsd import StatsdMetrics
from edge_agent.config import AgentConfig
from edge_agent.ports import Metrics, Notifier, Printer, ReportSink
from shared.config import load

BASE = """
site_id = "ams-01"
stations = ["grill", "fry", "expo"]
[core]
url = "http://127.0.0.1:8700"
timeout_seconds = 7
[store]
path = "/tmp/edge.sqlite3"
[mq]
url = "stomp://127.0.0.1:61613"
user = "kds-ams-01"
"""
EVERYTHING = """
[printers.grill]
url = "tcp://127.0.0.1:9100"
print_on = ["new", "ready"]
labels = true
[printers.fry]
url = "http://127.0.0.1:9/print"
[sns]
endpoint_url = "http://127.0.0.1:9"
sms = true
topic_arn = "arn:aws:sns:eu-west-1:123456789012:pickups"
[kafka]
bootstrap = "127.0.0.1:9092"
[statsd]
host = "127.0.0.1"
"""
ENV = {
    "KDS_CORE_TOKEN": "t",
    "KDS_MQ_PASSWORD": "pw",
    "KDS_SNS_AWS_ACCESS_KEY_ID": "a",
    "KDS_SNS_AWS_SECRET_ACCESS_KEY": "s",
}


def config(tmp_path: Path, extra: str = "", top: str = "") -> AgentConfig:
    path = tmp_path / "agent.toml"
    path.write_text(top + BASE + extra, encoding="utf-8")
    env = {**ENV, "KDS_PRINTERS_FRY_API_KEY": "k"} if "[printers.fry]" in extra else ENV
    return load(AgentConfig, path, env=env, secrets=None)


def test_what_is_not_configured_is_not_built(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert wiring.printers(cfg) == {}
    assert wiring.notifier(cfg) is None
    assert wiring.report_sink(cfg) is None
    assert wiring.metrics(cfg) is None
    rules = wiring.effect_rules(cfg)
    assert (rules.print_on, rules.label_stations, rules.sms, rules.report) == ({}, (), False, False)
    assert rules.render_text is None


def test_every_adapter_has_its_port(tmp_path: Path) -> None:
    cfg = config(tmp_path, EVERYTHING)
    printers = wiring.printers(cfg)
    notifier = wiring.notifier(cfg)
    sink = wiring.report_sink(cfg)
    metrics = wiring.metrics(cfg)
    try:
        assert isinstance(printers["grill"], EscPosPrinter)
        assert isinstance(printers["fry"], PosPrintApi)
        assert all(isinstance(p, Printer) for p in printers.values())
        assert isinstance(notifier, SnsNotifier) and isinstance(sink, KafkaSink)
        assert isinstance(metrics, StatsdMetrics)
        ports: list[tuple[object, type]] = [
            (notifier, Notifier),
            (sink, ReportSink),
            (metrics, Metrics),
        ]
        for adapter, port in ports:
            wanted = {n for n in dir(port) if not n.startswith("_")}
            assert wanted <= set(dir(adapter)), (type(adapter).__name__, port.__name__)
    finally:
        adapters: list[Printer | Notifier | ReportSink | Metrics | None] = [
            *printers.values(),
            notifier,
            sink,
            metrics,
        ]
        for adapter in adapters:
            if adapter is not None:
                adapter.close()
    rules = wiring.effect_rules(cfg)
    assert rules.print_on == {"grill": ("new", "ready"), "fry": ("new",)}
    assert rules.label_stations == ("grill",)
    assert rules.sms and rules.report and rules.topic_arn.endswith(":pickups")
    assert rules.render_text is not None


def test_clients_take_their_settings(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    with wiring.core_client(cfg) as core, wiring.core_client(cfg, timeout=2.0) as probe:
        assert core.site_id == probe.site_id == "ams-01"
    mq = wiring.agent_mq_client(cfg)
    assert mq._client_id == f"edge-agent-ams-01-{socket.gethostname()}"
    assert (mq._user, mq._password, mq._name) == ("kds-ams-01", "pw", "edge-mq")
    relay = wiring.relay(cfg)
    assert relay.site_id == "ams-01" and not relay.connected


def test_site_settings_carry_the_aging_rules(tmp_path: Path) -> None:
    extra = """
[aging]
warn_minutes = 4
late_minutes = 9
[aging.stations.grill]
late_minutes = 12
"""
    settings = wiring.site_settings(config(tmp_path, extra, top='allergen_gate = "enforce"\n'))
    assert settings.allergy_gate == "enforce" and not settings.allergen_gate
    assert (settings.aging.warn_minutes, settings.aging.late_minutes) == (4, 9)
    assert settings.aging_stations["grill"].late_minutes == 12
    assert settings.expo_station == "expo"
