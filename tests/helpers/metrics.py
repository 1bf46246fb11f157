"""A metrics sink that records the counters incremented (for tests of what is counted)."""

from __future__ import annotations

from edge_agent.ports import NoMetrics, Tags


class RecordingMetrics(NoMetrics):
    """Has the agent's metrics port (``edge_agent.ports.Metrics``); ``counted`` lists
    each increment's name, ``tagged`` each one's name with its tags."""

    def __init__(self) -> None:
        self.counted: list[str] = []
        self.tagged: list[tuple[str, dict[str, str]]] = []

    def increment(self, name: str, value: float = 1, tags: Tags = None) -> None:
        self.counted.append(name)
        self.tagged.append((name, dict(tags or {})))
