"""A metrics sink that records the counters incremented (for tests of what is counted)."""

from __future__ import annotations

from edge_agent.ports import Tags


class RecordingMetrics:
    """Has the agent's metrics port (``edge_agent.ports.Metrics``); ``counted`` lists
    each increment's name."""

    def __init__(self) -> None:
        self.counted: list[str] = []

    def increment(self, name: str, value: float = 1, tags: Tags = None) -> None:
        self.counted.append(name)

    def gauge(self, name: str, value: float, tags: Tags = None) -> None:
        return None

    def histogram(self, name: str, value: float, tags: Tags = None) -> None:
        return None

    def close(self) -> None:
        return None
