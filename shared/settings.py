"""Settings sections both programs share (the ``[mq]`` table)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Secret, check, secret_field
from shared.mq import MqUrl

DEFAULT_MQ_URL = "stomp://127.0.0.1:61613"


@dataclass(frozen=True)
class MqSettings:
    """``[mq]``: the STOMP broker (Amazon MQ for ActiveMQ in production)."""

    url: str = DEFAULT_MQ_URL
    user: str = ""
    password: Secret = secret_field()
    #: STOMP heart-beat in both directions, milliseconds (0 turns them off)
    heartbeat_ms: int = 10_000
    #: the STOMP ``host`` header; empty means the broker's host name
    vhost: str = ""
    #: longest wait between reconnect attempts, seconds
    reconnect_max_seconds: float = 10.0

    def __post_init__(self) -> None:
        MqUrl.parse(self.url)
        check(0 <= self.heartbeat_ms <= 600_000, "mq.heartbeat_ms", "must be 0..600000")
        check(self.reconnect_max_seconds > 0, "mq.reconnect_max_seconds", "must be > 0")
