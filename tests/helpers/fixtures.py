"""Fixtures for whole-site tests: a core simulator and an in-process edge agent.

Imported by tests/conftest.py so integration and end-to-end tests share them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from edge_agent.__main__ import build_agent
from edge_agent.agent import Agent
from edge_agent.config import AgentConfig
from shared.config import load
from tests.helpers.site import SitePeer, agent_toml, unique_site, wait_until

TOKEN = "test-token-not-secret"


@dataclass
class Site:
    site_id: str
    sim: CoreSimulator
    mq_url: str
    config_path: Path
    store_path: Path
    agent: Agent | None = None
    #: secrets and overrides the agent sees as its environment (besides the token)
    env: dict[str, str] = field(default_factory=dict)

    def config(self) -> AgentConfig:
        return load(
            AgentConfig,
            self.config_path,
            env={"KDS_CORE_TOKEN": TOKEN, **self.env},
            secrets=None,
        )

    def start_agent(self) -> Agent:
        """Start the agent and wait until it follows the feed (its first resync is done)."""
        agent = self.agent = build_agent(self.config()).start()
        wait_until(lambda: agent.feed.connected and agent.relay.connected, timeout=30)
        return agent

    def stop_agent(self) -> None:
        if self.agent is not None:
            self.agent.close()
            self.agent.store.close()
            self.agent = None

    def peer(self, name: str = "peer") -> SitePeer:
        return SitePeer(self.mq_url, self.site_id, name)


@pytest.fixture
def site_id() -> str:
    """A fresh site id, so tests never see each other's messages on the shared broker."""
    return unique_site()


@pytest.fixture
def core_sim(site_id: str) -> Iterator[CoreSimulator]:
    sim = CoreSimulator(sites={site_id: TOKEN}, seed=7)
    sim.start()
    try:
        yield sim
    finally:
        sim.close()


def make_site(
    sim: CoreSimulator,
    site_id: str,
    mq_url: str,
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    **toml: object,
) -> Site:
    store_path = tmp_path / "edge.sqlite3"
    config_path = tmp_path / "agent.toml"
    config_path.write_text(
        agent_toml(
            site_id=site_id,
            core_url=sim.url,
            mq_url=mq_url,
            store_path=store_path,
            **toml,  # type: ignore[arg-type]
        )
    )
    return Site(site_id, sim, mq_url, config_path, store_path, env=dict(env or {}))


@pytest.fixture
def site(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path
) -> Iterator[Site]:
    """A fresh site on the shared broker, with its agent running in-process."""
    s = make_site(core_sim, site_id, activemq_url, tmp_path)
    s.start_agent()
    try:
        yield s
    finally:
        s.stop_agent()
