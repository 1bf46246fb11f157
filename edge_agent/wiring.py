"""Every agent-only adapter, built from the configuration in one place.

``edge-agent run`` (:func:`edge_agent.__main__.build_agent`) and ``edge-agent doctor``
build their core client, printers, SNS notifier, Kafka sink and DogStatsD metrics
with these functions, so the doctor checks exactly what the agent will use. The MQ
client, which the display builds too, comes from
:func:`shared.mq.mq_client_from_settings`. Secrets are already in the configuration
(:func:`shared.config.load` looked them up); they are revealed only here, to the
adapter that needs them.

Builders of optional adapters return ``None`` when the configuration turns them off.
The adapters import their libraries (boto3, kafka-python, datadog) lazily.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, cast

from edge_agent.access import AccessPolicy
from edge_agent.adapters.core_http import CoreClient
from edge_agent.adapters.stomp_relay import StompRelay
from edge_agent.config import AgentConfig, AgingRuleSettings, AgingSettings
from edge_agent.effects import EffectRules
from edge_agent.ports import Printer
from shared import wire
from shared.mq import MqClient, mq_client_from_settings

if TYPE_CHECKING:
    from edge_agent.adapters.kafka import KafkaSink
    from edge_agent.adapters.sns import SnsNotifier
    from edge_agent.adapters.statsd import StatsdMetrics


def core_client(config: AgentConfig, *, timeout: float | None = None) -> CoreClient:
    """The core's HTTP client with the site token (``timeout``: instead of [core]'s)."""
    return CoreClient(
        config.core.url,
        config.site_id,
        config.core.token.reveal(),
        timeout=config.core.timeout_seconds if timeout is None else timeout,
        retry_after_max=config.retry_after_max_seconds,
    )


def agent_mq_client(config: AgentConfig) -> MqClient:
    """The agent's broker connection; its STOMP ``client-id`` names the site and host
    (ActiveMQ refuses a second connection with it, so a probe must not use it)."""
    return mq_client_from_settings(
        config.mq,
        name="edge-mq",
        client_id=f"edge-agent-{config.site_id}-{socket.gethostname()}",
    )


def relay(config: AgentConfig) -> StompRelay:
    """The agent's side of the site protocol on the broker."""
    return StompRelay(agent_mq_client(config), config.site_id)


def printer(config: AgentConfig, station: str) -> Printer:
    """The printer of ``[printers.<station>]``."""
    from edge_agent.adapters.printers import make_printer

    settings = config.printers[station]
    return make_printer(
        station,
        settings.url,
        api_key=settings.api_key.reveal() or None,
        timeout=settings.timeout_seconds,
        retry_after_max=config.retry_after_max_seconds,
    )


def printers(config: AgentConfig) -> dict[str, Printer]:
    """Every configured printer, by station."""
    return {station: printer(config, station) for station in config.printers}


def notifier(config: AgentConfig) -> SnsNotifier | None:
    """Amazon SNS for customer texts and topic notifications; ``None`` when [sns] is off."""
    if not config.sns.enabled:
        return None
    from edge_agent.adapters.sns import SnsNotifier

    sns = config.sns
    return SnsNotifier(
        region=sns.region,
        endpoint_url=sns.endpoint_url or None,
        aws_access_key_id=sns.aws_access_key_id.reveal() or None,
        aws_secret_access_key=sns.aws_secret_access_key.reveal() or None,
        profile=sns.profile or None,
    )


def report_sink(config: AgentConfig) -> KafkaSink | None:
    """Kafka for lifecycle events; ``None`` without a [kafka] bootstrap."""
    if not config.kafka.bootstrap:
        return None
    from edge_agent.adapters.kafka import KafkaSink

    kafka = config.kafka
    # kafka-python's own lines reach the agent's log only as the sink re-logs them (at
    # DEBUG, the last problem quoted in its errors), not also at their own level
    logging.getLogger("kafka").propagate = False
    return KafkaSink(kafka.bootstrap, kafka.topic, timeout=kafka.timeout_seconds)


def metrics(config: AgentConfig) -> StatsdMetrics | None:
    """DogStatsD metrics tagged with the site; ``None`` without a [statsd] host."""
    if not config.statsd.host:
        return None
    from edge_agent.adapters.statsd import StatsdMetrics

    statsd = config.statsd
    return StatsdMetrics(
        statsd.host,
        statsd.port,
        namespace=statsd.namespace,
        constant_tags={"site": config.site_id},
    )


def effect_rules(config: AgentConfig) -> EffectRules:
    """What to print, text and report (the adapters above deliver it)."""
    return EffectRules(
        site_id=config.site_id,
        print_on={station: p.print_on for station, p in config.printers.items()},
        label_stations=tuple(s for s, p in config.printers.items() if p.labels),
        sms=config.sns.sms,
        topic_arn=config.sns.topic_arn,
        render_text=config.sns.texts().render if config.sns.enabled else None,
        report=bool(config.kafka.bootstrap),
    )


def access_policy(config: AgentConfig) -> AccessPolicy:
    return AccessPolicy(
        config.access, config.site_id, expo_station=config.expo_station, stations=config.stations
    )


def site_settings(config: AgentConfig) -> wire.SiteSettings:
    """The settings every screen shares, from the agent's [aging] and expo_station."""

    def rule(r: AgingSettings | AgingRuleSettings) -> wire.AgingRule:
        return wire.AgingRule(
            warn_minutes=r.warn_minutes,
            late_minutes=r.late_minutes,
            promised_warn_minutes=r.promised_warn_minutes,
        )

    aging = config.aging
    return wire.SiteSettings(
        expo_station=config.expo_station,
        allergy_gate=cast(wire.AllergenGate, config.allergen_gate),
        aging=rule(aging),
        aging_brands={k: rule(v) for k, v in aging.brands.items()},
        aging_channels={k: rule(v) for k, v in aging.channels.items()},
        aging_stations={k: rule(v) for k, v in aging.stations.items()},
    )
