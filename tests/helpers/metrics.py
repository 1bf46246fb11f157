"""A metrics sink that records the counters incremented (for tests of what is counted)."""

from __future__ import annotations


class RecordingMetrics:
    """Has the agent's metrics interface; ``counted`` lists each increment's name."""

    def __init__(self) -> None:
        self.counted: list[str] = []

    def increment(self, name: str, value: int = 1, tags: dict[str, str] | None = None) -> None:
        self.counted.append(name)

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        return None

    def histogram(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        return None
