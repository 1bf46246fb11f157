"""The SNS adapter against moto's standalone server on loopback, plus the error mapping.

What moto cannot do (throttle, answer 5xx or a given error code) is driven through
botocore's ``Stubber`` for the error-mapping table only; connection failures use real
sockets on 127.0.0.1 (a closed port, a server that never answers, one that hangs up).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.stub import Stubber

from edge_agent.adapters.sns import SnsNotifier, mask_phone
from edge_agent.errors import (
    NotifyRejected,
    NotifyUnavailable,
    PermanentError,
    RetryableError,
)
from edge_agent.notify_templates import Templates
from shared import redact
from tests.helpers.moto_server import MotoSns, moto_sns  # noqa: F401
from tests.helpers.net import free_port

PHONE = "+31612345678"
ATTRS = {
    "site": "ams-1",
    "brand": "burger-bros",
    "channel": "UBEREATS",
    "order_id": "ord-123",
    "kind": "ready",
}


@pytest.fixture
def notifier(moto_sns: MotoSns) -> Iterator[SnsNotifier]:  # noqa: F811
    with SnsNotifier(**moto_sns.notifier_kwargs()) as sns:
        yield sns


# -- what moto receives ---------------------------------------------------------------


def test_sms_arrives_with_text_and_number(moto_sns: MotoSns, notifier: SnsNotifier) -> None:  # noqa: F811
    text = Templates().render("ready", brand_id="bb", brand_name="Burger Bros", number="A12")
    message_id = notifier.send_sms(PHONE, text, dedup_id="ord-123:ready", sender_id="GhostKDS")
    assert moto_sns.sms_messages() == [
        {
            "message_id": message_id,
            "phone_number": PHONE,
            "message": "Your Burger Bros order A12 is ready for pick-up",
        }
    ]


def test_sms_is_transactional_with_sender_id(notifier: SnsNotifier) -> None:
    # moto does not record SMS attributes: look at the request itself.
    seen: list[dict[str, object]] = []
    notifier.client.meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: seen.append(dict(params))
    )
    notifier.send_sms(PHONE, "hi", dedup_id="d", sender_id="GhostKDS")
    notifier.send_sms(PHONE, "hi", dedup_id="d2")
    assert seen[0]["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "GhostKDS"},
    }
    assert seen[1]["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
    }


def test_topic_publish_arrives_with_attributes(moto_sns: MotoSns, notifier: SnsNotifier) -> None:  # noqa: F811
    arn = moto_sns.create_topic("kds-ams-1-orders")
    message_id = notifier.publish(
        arn,
        "Your Burger Bros order A12 is ready for pick-up",
        {**ATTRS, "empty": ""},
        dedup_id="ord-123:ready",
        subject="Order A12\nready",
    )
    [sent] = moto_sns.topic_notifications(arn)
    assert sent.message_id == message_id
    assert sent.message == "Your Burger Bros order A12 is ready for pick-up"
    assert sent.subject == "Order A12 ready"
    assert sent.attributes == ATTRS  # the empty one is left out
    assert sent.group_id is None


def test_fifo_topic_gets_dedup_id_and_order_as_group(
    moto_sns: MotoSns,  # noqa: F811
    notifier: SnsNotifier,
) -> None:
    arn = moto_sns.create_topic("kds-ams-1-orders.fifo")
    seen: list[dict[str, object]] = []
    notifier.client.meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: seen.append(dict(params))
    )
    notifier.publish(arn, "ready", ATTRS, dedup_id="ord-123:ready")
    notifier.publish(arn, "ready", ATTRS, dedup_id="ord-123:ready")  # an outbox re-run
    assert [(p["MessageDeduplicationId"], p["MessageGroupId"]) for p in seen] == [
        ("ord-123:ready", "ord-123"),
        ("ord-123:ready", "ord-123"),
    ]
    sent = moto_sns.topic_notifications(arn)
    assert {n.group_id for n in sent} == {"ord-123"}
    # moto 5 does not deduplicate FIFO publishes (real SNS drops the second within 5
    # minutes); if a later moto does, this tells us.
    assert len(sent) in (1, 2)


def test_fifo_without_order_id_is_rejected(moto_sns: MotoSns, notifier: SnsNotifier) -> None:  # noqa: F811
    arn = moto_sns.create_topic("t.fifo")
    with pytest.raises(NotifyRejected, match="order_id"):
        notifier.publish(arn, "x", {"site": "ams-1"}, dedup_id="d")


def test_standard_topic_has_no_dedup_fields(moto_sns: MotoSns, notifier: SnsNotifier) -> None:  # noqa: F811
    arn = moto_sns.create_topic("plain")
    seen: list[dict[str, object]] = []
    notifier.client.meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: seen.append(dict(params))
    )
    notifier.publish(arn, "x", ATTRS, dedup_id="d")
    assert "MessageDeduplicationId" not in seen[0] and "MessageGroupId" not in seen[0]


def test_server_is_reset_between_tests_part_1(moto_sns: MotoSns, notifier: SnsNotifier) -> None:  # noqa: F811
    notifier.send_sms(PHONE, "one", dedup_id="d")
    moto_sns.create_topic("leftover")
    assert len(moto_sns.sms_messages()) == 1


def test_server_is_reset_between_tests_part_2(moto_sns: MotoSns) -> None:  # noqa: F811
    assert moto_sns.sms_messages() == []
    with pytest.raises(KeyError):
        moto_sns.topic_notifications(moto_sns.topic_arn("leftover"))


# -- rejections moto gives for real ---------------------------------------------------


def test_unknown_topic_is_rejected(moto_sns: MotoSns, notifier: SnsNotifier) -> None:  # noqa: F811
    with pytest.raises(NotifyRejected, match="NotFound") as info:
        notifier.publish(moto_sns.topic_arn("nope"), "x", ATTRS, dedup_id="d")
    assert isinstance(info.value, PermanentError)


def test_bad_phone_number_is_rejected_without_logging_it(notifier: SnsNotifier) -> None:
    with pytest.raises(NotifyRejected, match="InvalidParameter") as info:
        notifier.send_sms("+31 6 1234", "x", dedup_id="d")
    assert "1234" not in str(info.value).replace("+31****34", "")


def test_check_good_and_bad(moto_sns: MotoSns, notifier: SnsNotifier) -> None:  # noqa: F811
    arn = moto_sns.create_topic("kds")
    assert "OK" in notifier.check(arn)
    assert "FIFO topic" in notifier.check(moto_sns.create_topic("kds.fifo"))
    assert "2 topic(s) visible" in notifier.check(None)
    with pytest.raises(NotifyRejected, match=r"NotFound.*") as info:
        notifier.check(moto_sns.topic_arn("missing"))
    assert moto_sns.topic_arn("missing") in str(info.value)


# -- no retries by botocore; connection failures ---------------------------------------


class _Listener:
    """A TCP server on 127.0.0.1 that reads a request and then hangs, or hangs up."""

    def __init__(self, *, hang_up: bool) -> None:
        self.hang_up = hang_up
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            if self.hang_up:
                conn.close()
            else:
                self._open.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._open:
            conn.close()
        self._sock.close()


@pytest.fixture
def hanging() -> Iterator[_Listener]:
    listener = _Listener(hang_up=False)
    yield listener
    listener.close()


@pytest.fixture
def hanging_up() -> Iterator[_Listener]:
    listener = _Listener(hang_up=True)
    yield listener
    listener.close()


def _notifier_at(port: int, timeout: float = 0.5) -> SnsNotifier:
    return SnsNotifier(
        region="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        timeout=timeout,
    )


def test_closed_port_is_unavailable() -> None:
    with _notifier_at(free_port()) as sns, pytest.raises(NotifyUnavailable) as info:
        sns.send_sms(PHONE, "x", dedup_id="d")
    assert isinstance(info.value, RetryableError)
    assert "cannot reach SNS" in str(info.value)


def test_lost_answer_is_delivery_uncertain_and_sent_once(hanging: _Listener) -> None:
    with _notifier_at(hanging.port) as sns, pytest.raises(NotifyRejected) as info:
        sns.send_sms(PHONE, "x", dedup_id="ord-1:ready")
    assert "delivery uncertain" in str(info.value)
    assert "not resent to avoid a duplicate text" in str(info.value)
    assert "ReadTimeoutError" in str(info.value)
    assert hanging.connections == 1  # botocore did not retry


def test_hang_up_after_sending_is_delivery_uncertain_and_sent_once(
    hanging_up: _Listener,
) -> None:
    with _notifier_at(hanging_up.port) as sns, pytest.raises(NotifyRejected) as info:
        sns.publish("arn:aws:sns:eu-west-1:1:t", "x", ATTRS, dedup_id="d")
    assert "delivery uncertain" in str(info.value)
    assert hanging_up.connections == 1


def test_check_timeout_is_retryable_not_uncertain(hanging: _Listener) -> None:
    with _notifier_at(hanging.port) as sns, pytest.raises(NotifyUnavailable):
        sns.check("arn:aws:sns:eu-west-1:1:t")
    with _notifier_at(free_port()) as sns, pytest.raises(NotifyUnavailable):
        sns.check(None)


# -- the adapter translates exceptions (error codes moto cannot produce) ---------------


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("Throttling", 400, NotifyUnavailable),
        ("ThrottledException", 429, NotifyUnavailable),
        ("ServiceUnavailable", 503, NotifyUnavailable),
        ("InternalError", 500, NotifyUnavailable),
        ("InternalFailure", 500, NotifyUnavailable),
        ("KMSThrottling", 400, NotifyUnavailable),
        ("SomethingNew", 502, NotifyUnavailable),
        ("InvalidParameter", 400, NotifyRejected),
        ("InvalidParameterValue", 400, NotifyRejected),
        ("NotFound", 404, NotifyRejected),
        ("AuthorizationError", 403, NotifyRejected),
        ("OptedOut", 400, NotifyRejected),
        ("EndpointDisabled", 400, NotifyRejected),
        ("InvalidClientTokenId", 403, NotifyRejected),
        ("SignatureDoesNotMatch", 403, NotifyRejected),
        ("SomethingElse", 400, NotifyRejected),
    ],
)
def test_error_codes_are_translated(
    notifier: SnsNotifier, code: str, status: int, expected: type[Exception]
) -> None:
    with Stubber(notifier.client) as stub:
        stub.add_client_error(
            "publish",
            service_error_code=code,
            service_message=f"Reason: {PHONE} says {code}",
            http_status_code=status,
        )
        with pytest.raises(expected) as info:
            notifier.send_sms(PHONE, "x", dedup_id="ord-1:ready")
    message = str(info.value)
    assert type(info.value) is expected
    assert code in message
    assert PHONE not in message and mask_phone(PHONE) in message
    assert isinstance(info.value.__cause__, Exception)  # raised "from" botocore's error


def test_no_credentials_is_rejected_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with (
        SnsNotifier(region="eu-west-1", endpoint_url=f"http://127.0.0.1:{free_port()}") as sns,
        pytest.raises(NotifyRejected, match="no AWS credentials") as info,
    ):
        sns.send_sms(PHONE, "x", dedup_id="d")
    assert "sns.aws_access_key_id" in str(info.value)
    with pytest.raises(NotifyRejected, match="profile 'nope' not found"):
        SnsNotifier(region="eu-west-1", profile="nope")


def test_half_a_key_pair_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="both"):
        SnsNotifier(region="eu-west-1", aws_access_key_id="k")


# -- logs --------------------------------------------------------------------------------


def test_phone_is_masked_and_credentials_never_logged(
    moto_sns: MotoSns,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with SnsNotifier(**moto_sns.notifier_kwargs()) as sns:
        sns.send_sms(PHONE, "Your order is ready", dedup_id="ord-9:ready")
        with pytest.raises(NotifyRejected):
            sns.send_sms("+31 6 1234 5678", "x", dedup_id="ord-9:bad")
    assert "+3161****678" in caplog.text
    assert "ord-9:ready" in caplog.text
    assert PHONE not in caplog.text
    assert moto_sns.secret_key not in caplog.text
    assert moto_sns.access_key not in caplog.text


def test_botocore_at_debug_never_logs_the_access_key(
    moto_sns: MotoSns,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An operator who sets botocore's logger to DEBUG gets every request's headers,
    ``Authorization: AWS4-HMAC-SHA256 Credential=<access key id>/...`` among them:
    a program's redaction (``shared.redact.install``) masks the key the adapter holds."""
    caplog.set_level(logging.DEBUG)
    botocore_log = logging.getLogger("botocore")
    level = botocore_log.level
    botocore_log.setLevel(logging.DEBUG)
    redact.install()
    try:
        with SnsNotifier(**moto_sns.notifier_kwargs()) as sns:
            sns.send_sms(PHONE, "Your order is ready", dedup_id="ord-9:ready")
    finally:
        redact.uninstall()
        botocore_log.setLevel(level)
    assert "Credential=********/" in caplog.text  # the headers were logged, masked
    assert moto_sns.access_key not in caplog.text
    assert moto_sns.secret_key not in caplog.text


def test_mask_phone() -> None:
    assert mask_phone("+31612345678") == "+3161****678"
    assert mask_phone("+3161234") == "+3****34"
    assert mask_phone("123") == "****"
