"""moto's standalone server on loopback, as a fake Amazon SNS for the tests.

One server per test session (started on first use, stopped at the end of the
session), reset before every test (``POST /moto-api/reset``). What was sent is read
back from ``GET /moto-api/data.json`` (moto 5.x), whose ``sns`` part looks like::

    {"sns": {
        "SMS":   [{"message_id": "...", "phone_number": "+31612345678", "message": "..."}],
        "Topic": [{"arn": "arn:aws:sns:eu-west-1:123456789012:name", "name": "name",
                   "fifo_topic": false, "content_based_deduplication": false, ...,
                   "sent_notifications": [
                       [message_id, message, subject_or_null,
                        {"attr": {"Type": "String", "Value": "..."}},
                        group_id_or_null]]}],
        "Subscription": [], "PlatformApplication": [], "PlatformEndpoint": []}}

moto records neither the SMS attributes (SMSType, SenderID) nor a FIFO message's
deduplication id, and it does not deduplicate FIFO publishes.

Usage: ``from tests.helpers.moto_server import moto_sns`` in a conftest or test module.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "eu-west-1"
ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"  # moto accepts any credentials
ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass(frozen=True)
class Notification:
    """One message moto's topic received."""

    message_id: str
    message: str
    subject: str | None
    attributes: dict[str, str]  # name -> value (all String here)
    group_id: str | None


class MotoSns:
    """A running moto server and the helpers to inspect it."""

    def __init__(self, port: int = 0) -> None:
        # werkzeug logs every request at INFO; keep test output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.region = REGION
        self.access_key = ACCESS_KEY
        self.secret_key = SECRET_KEY
        self._client: Any = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        ).client("sns", endpoint_url=self.url, config=Config(retries={"total_max_attempts": 1}))

    def stop(self) -> None:
        self._client.close()
        self._server.stop()
        inner = getattr(self._server, "_server", None)
        if inner is not None:
            inner.server_close()  # stop() leaves the listening socket open

    # -- control -------------------------------------------------------------------

    def _request(self, path: str, *, method: str = "GET") -> bytes:
        request = urllib.request.Request(
            self.url + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body: bytes = response.read()
            return body

    def reset(self) -> None:
        """Forget every topic and message (all moto backends)."""
        self._request("/moto-api/reset", method="POST")

    def data(self) -> dict[str, Any]:
        """moto's whole state, ``/moto-api/data.json``."""
        result: dict[str, Any] = json.loads(self._request("/moto-api/data.json"))
        return result

    # -- SNS -----------------------------------------------------------------------

    def sms_messages(self) -> list[dict[str, str]]:
        """Every SMS sent: ``{"message_id", "phone_number", "message"}``, oldest first."""
        return list(self.data().get("sns", {}).get("SMS", []))

    def topic_notifications(self, topic_arn: str) -> list[Notification]:
        """Every message published to ``topic_arn``, oldest first."""
        for topic in self.data().get("sns", {}).get("Topic", []):
            if topic["arn"] == topic_arn:
                return [
                    Notification(
                        message_id=entry[0],
                        message=entry[1],
                        subject=entry[2],
                        attributes={k: v["Value"] for k, v in (entry[3] or {}).items()},
                        group_id=entry[4] if len(entry) > 4 else None,
                    )
                    for entry in topic["sent_notifications"]
                ]
        raise KeyError(f"moto has no topic {topic_arn}")

    def create_topic(self, name: str, *, fifo: bool | None = None) -> str:
        """Create a topic (FIFO if the name ends in ``.fifo``); returns its ARN."""
        fifo = name.endswith(".fifo") if fifo is None else fifo
        attributes = {"FifoTopic": "true", "ContentBasedDeduplication": "false"} if fifo else {}
        arn: str = self._client.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return arn

    def delete_topic(self, arn: str) -> None:
        """Delete a topic: a publish to it is then refused (``NotFound``)."""
        self._client.delete_topic(TopicArn=arn)

    def topic_arn(self, name: str) -> str:
        """The ARN a topic of that name has (or would have) in moto."""
        return f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}"

    def notifier_kwargs(self) -> dict[str, Any]:
        """Constructor arguments for ``SnsNotifier`` talking to this server."""
        return {
            "region": self.region,
            "endpoint_url": self.url,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
        }


_STASH_KEY = pytest.StashKey[MotoSns]()


@pytest.fixture
def moto_sns(request: pytest.FixtureRequest) -> Iterator[MotoSns]:
    """The session's moto server (started on first use), reset for this test."""
    config = request.config
    server = config.stash.get(_STASH_KEY, None)
    if server is None:
        server = MotoSns()
        config.stash[_STASH_KEY] = server
        config.add_cleanup(server.stop)
    server.reset()
    yield server
