"""Settings sections both programs share (the ``[mq]`` table)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import Secret, check, secret_field
from shared.mq import MqUrl, TlsOptions

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
    #: PEM file of the CA(s) the broker's certificate must chain to (``stomp+ssl://``
    #: only); none: the system's CA store. The broker's host name is always checked.
    ca_file: Path | None = None
    #: client certificate (PEM) and its key, for a broker that wants one
    cert_file: Path | None = None
    key_file: Path | None = None
    #: accept any certificate for any name: only ever for a lab broker; every start logs
    #: a warning and ``edge-agent doctor`` shows it
    insecure_skip_verify: bool = False

    def __post_init__(self) -> None:
        url = MqUrl.parse(self.url)
        check(0 <= self.heartbeat_ms <= 600_000, "mq.heartbeat_ms", "must be 0..600000")
        check(self.reconnect_max_seconds > 0, "mq.reconnect_max_seconds", "must be > 0")
        for key in ("ca_file", "cert_file", "key_file", "insecure_skip_verify"):
            check(
                url.tls or not getattr(self, key),
                f"mq.{key}",
                "is for TLS: mq.url must be stomp+ssl://",
            )
        check(
            self.key_file is None or self.cert_file is not None,
            "mq.key_file",
            "needs mq.cert_file",
        )
        # a missing or unreadable file names its key now, not at the first connect
        if url.tls:
            self.tls.context()

    @property
    def tls(self) -> TlsOptions:
        return TlsOptions(
            ca_file=self.ca_file,
            cert_file=self.cert_file,
            key_file=self.key_file,
            insecure_skip_verify=self.insecure_skip_verify,
        )
