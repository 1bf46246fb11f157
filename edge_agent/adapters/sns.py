"""Amazon SNS adapter: customer SMS and the site's notification topic.

Translates boto3/botocore exceptions into :mod:`edge_agent.errors` at this
boundary (``raise ... from exc``), so the outbox can retry or dead-letter:

- SNS answered ``Throttling``, ``ThrottledException``, ``ServiceUnavailable``,
  ``InternalError``, ``InternalFailure``, ``KMSThrottling``, another 5xx or 429:
  :class:`NotifyUnavailable` (retried).
- SNS answered ``InvalidParameter(Value)``, ``NotFound``, ``AuthorizationError``,
  ``OptedOut``, ``EndpointDisabled``, ``InvalidClientTokenId``,
  ``SignatureDoesNotMatch``, another 4xx: :class:`NotifyRejected` naming the code.
- The request never left (``EndpointConnectionError``, ``ConnectTimeoutError``, the
  other connect-phase errors): :class:`NotifyUnavailable`.
- The request was sent but no answer came (``ReadTimeoutError``,
  ``ConnectionClosedError``): :class:`NotifyRejected` "delivery uncertain" (below);
  in :meth:`SnsNotifier.check`, which sends nothing, :class:`NotifyUnavailable`.
- No credentials: :class:`NotifyRejected` with a fix hint.

**At most once beats a duplicate text.** The outbox stores one row per
``(order, kind)`` and retries only what this adapter calls retryable. A send whose
request reached SNS but whose answer never came back may have been delivered: SNS
has no idempotency key for SMS or standard topics, so sending it again could text
the customer twice. Such a send is therefore *not* retried (neither by botocore,
whose own retries are switched off here, nor by the outbox): it is dead-lettered as
"delivery uncertain", visible with ``edge-agent outbox --dead``. FIFO topics do
deduplicate (``MessageDeduplicationId`` = the caller's ``dedup_id``, five minutes),
but the same rule is kept for them, for one behaviour everywhere.

Phone numbers are never logged in full (:func:`mask_phone`), also not inside error
messages; credentials are never logged. botocore's own DEBUG logging (which dumps
request bodies, i.e. phone numbers) is capped at WARNING unless the operator set a
level for the ``botocore`` logger explicitly; its request headers then show the access
key id, which :mod:`shared.redact` masks (the adapter remembers both keys).
"""

from __future__ import annotations

import logging
import re
from types import TracebackType
from typing import Any

import boto3
import botocore.exceptions as bce
from botocore.config import Config

from edge_agent.errors import NotifyRejected, NotifyUnavailable
from shared import redact

log = logging.getLogger("edge.sns")

# Error codes SNS (and the AWS query protocol in front of it) answers with.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalErrorException",
        "InternalFailure",
        "KMSThrottling",
        "KMSThrottlingException",
    }
)
PERMANENT_CODES = frozenset(
    {
        "InvalidParameter",
        "InvalidParameterValue",
        "InvalidParameterException",
        "InvalidParameterValueException",
        "ParameterValueInvalid",
        "NotFound",
        "NotFoundException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "OptedOut",
        "EndpointDisabled",
        "EndpointDisabledException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "InvalidSecurity",
        "KMSDisabled",
        "KMSInvalidState",
        "KMSNotFound",
        "KMSAccessDenied",
        "KMSOptInRequired",
        "PlatformApplicationDisabled",
        "FilterPolicyLimitExceeded",
    }
)

_CREDENTIALS_HINT = (
    "no AWS credentials: store them with `edge-agent set-secret sns.aws_access_key_id` "
    "and `edge-agent set-secret sns.aws_secret_access_key`, or configure the AWS "
    "credential chain (AWS_PROFILE / ~/.aws/credentials / an instance role)"
)

_PHONE_RE = re.compile(r"\+\d{7,15}")
_BOTO_ERRORS = (bce.BotoCoreError, bce.ClientError)


def mask_phone(phone: str) -> str:
    """``+31612345678`` -> ``+3161****678``: enough to tell numbers apart in a log."""
    phone = phone.strip()
    if len(phone) >= 10:
        return f"{phone[:5]}****{phone[-3:]}"
    if len(phone) >= 6:
        return f"{phone[:2]}****{phone[-2:]}"
    return "****"


def _scrub(text: str, phone: str | None = None) -> str:
    """Remove phone numbers (the given one, and anything that looks like one)."""
    if phone:
        text = text.replace(phone, mask_phone(phone))
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def _quiet_botocore() -> None:
    # botocore logs whole request bodies (phone numbers) at DEBUG.
    for name in ("botocore", "boto3"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


class SnsNotifier:
    """Sends SMS and topic notifications through Amazon SNS (or a compatible endpoint).

    Credentials: ``aws_access_key_id`` + ``aws_secret_access_key`` when given (the
    caller reads them from the keyring), else the standard AWS chain, optionally
    with a named ``profile``. botocore never retries by itself: the outbox owns retries.
    """

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        profile: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if (aws_access_key_id is None) != (aws_secret_access_key is None):
            raise ValueError(
                "sns: give both aws_access_key_id and aws_secret_access_key, or neither"
            )
        if timeout <= 0:
            raise ValueError(f"sns: timeout must be > 0, got {timeout!r}")
        _quiet_botocore()
        # botocore at DEBUG (set by an operator) logs the Authorization header
        redact.remember(aws_access_key_id or "")
        redact.remember(aws_secret_access_key or "")
        self.region = region
        self.endpoint_url = endpoint_url or None
        config = Config(
            region_name=region,
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
            # total_max_attempts=1: the first attempt only. (`max_attempts` counts
            # *retries* in botocore, so max_attempts=1 would still resend once.)
            retries={"total_max_attempts": 1, "mode": "standard"},
            user_agent_extra="ghost-kds-edge-agent",
        )
        try:
            if aws_access_key_id is not None:
                session = boto3.session.Session(
                    aws_access_key_id=aws_access_key_id,
                    aws_secret_access_key=aws_secret_access_key,
                    region_name=region,
                )
            else:
                session = boto3.session.Session(profile_name=profile, region_name=region)
            self._client: Any = session.client("sns", endpoint_url=self.endpoint_url, config=config)
        except bce.ProfileNotFound as exc:
            raise NotifyRejected(
                f"sns: AWS profile {profile!r} not found in ~/.aws/config or credentials"
            ) from exc
        except bce.BotoCoreError as exc:
            raise NotifyRejected(f"sns: cannot set up the SNS client: {exc}") from exc
        self._closed = False

    # -- sending -------------------------------------------------------------------

    def send_sms(
        self, phone: str, text: str, *, dedup_id: str, sender_id: str | None = None
    ) -> str:
        """Text ``phone`` (E.164); returns SNS's message id.

        SNS has no idempotency for SMS: ``dedup_id`` only names the send in the log.
        """
        attributes: dict[str, dict[str, str]] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
        }
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        masked = mask_phone(phone)
        what = f"SMS to {masked} ({dedup_id})"
        try:
            answer = self._client.publish(
                PhoneNumber=phone, Message=text, MessageAttributes=attributes
            )
        except _BOTO_ERRORS as exc:
            raise self._translate(exc, what, sent=True, phone=phone) from exc
        message_id = str(answer["MessageId"])
        log.info("sent %s: message id %s", what, message_id)
        return message_id

    def publish(
        self,
        topic_arn: str,
        text: str,
        attributes: dict[str, str],
        *,
        dedup_id: str,
        subject: str | None = None,
    ) -> str:
        """Publish to a topic with String message attributes; returns the message id.

        Attributes with an empty value are left out (SNS refuses them). On a FIFO
        topic (ARN ending in ``.fifo``) ``MessageDeduplicationId`` is ``dedup_id`` and
        ``MessageGroupId`` the ``order_id`` attribute (so one order's messages stay
        in order).
        """
        params: dict[str, Any] = {
            "TopicArn": topic_arn,
            "Message": text,
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value}
                for name, value in attributes.items()
                if value
            },
        }
        if subject:
            # SNS: ASCII-printable, no line breaks, under 100 characters.
            clean = " ".join(subject.split())
            params["Subject"] = clean.encode("ascii", "replace").decode("ascii")[:99]
        if topic_arn.endswith(".fifo"):
            group = attributes.get("order_id", "")
            if not group:
                raise NotifyRejected(
                    f"sns: FIFO topic {topic_arn} needs an 'order_id' attribute for MessageGroupId"
                )
            params["MessageDeduplicationId"] = dedup_id[:128]
            params["MessageGroupId"] = group[:128]
        what = f"notification to {topic_arn} ({dedup_id})"
        try:
            answer = self._client.publish(**params)
        except _BOTO_ERRORS as exc:
            raise self._translate(exc, what, sent=True) from exc
        message_id = str(answer["MessageId"])
        log.info("published %s: message id %s", what, message_id)
        return message_id

    # -- diagnostics ---------------------------------------------------------------

    def check(self, topic_arn: str | None = None) -> str:
        """For a doctor command: are the credentials good and the topic there?

        Returns one line saying what was checked; raises :class:`NotifyUnavailable`
        (cannot reach SNS) or :class:`NotifyRejected` (credentials, permissions, no
        such topic), naming the problem.
        """
        where = self.endpoint_url or f"SNS {self.region}"
        try:
            if topic_arn:
                answer = self._client.get_topic_attributes(TopicArn=topic_arn)
                attrs = answer.get("Attributes", {})
                kind = "FIFO topic" if attrs.get("FifoTopic") == "true" else "topic"
                confirmed = attrs.get("SubscriptionsConfirmed", "?")
                return f"{where}: {kind} {topic_arn} OK, {confirmed} confirmed subscription(s)"
            answer = self._client.list_topics()
            count = len(answer.get("Topics", []))
            more = "+" if answer.get("NextToken") else ""
            return f"{where}: credentials OK, {count}{more} topic(s) visible"
        except _BOTO_ERRORS as exc:
            what = f"check of {topic_arn}" if topic_arn else "check (list_topics)"
            raise self._translate(exc, f"{what} at {where}", sent=False) from exc

    # -- lifecycle -----------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The underlying boto3 client (for tests, e.g. botocore's ``Stubber``)."""
        return self._client

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()

    def __enter__(self) -> SnsNotifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- error mapping -------------------------------------------------------------

    @staticmethod
    def _translate(
        exc: bce.BotoCoreError | bce.ClientError, what: str, *, sent: bool, phone: str | None = None
    ) -> NotifyUnavailable | NotifyRejected:
        """The agent error for ``exc``; ``sent``: a lost answer may mean delivered."""
        if isinstance(exc, bce.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            message = _scrub(str(error.get("Message", "")), phone)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"sns {what}: {code}" + (f": {message}" if message else "")
            if code in RETRYABLE_CODES:
                return NotifyUnavailable(detail)
            if code in PERMANENT_CODES:
                return NotifyRejected(detail)
            if isinstance(status, int) and (status >= 500 or status == 429):
                return NotifyUnavailable(detail)
            return NotifyRejected(detail)
        if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
            return NotifyRejected(f"sns {what}: {_CREDENTIALS_HINT}")
        if isinstance(exc, bce.ConnectionError):
            # EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError,
            # SSLError: the request never reached SNS.
            return NotifyUnavailable(f"sns {what}: cannot reach SNS: {_scrub(str(exc), phone)}")
        if isinstance(exc, bce.HTTPClientError):
            # ReadTimeoutError, ConnectionClosedError, ...: sent, answer lost.
            reason = f"{type(exc).__name__}: {_scrub(str(exc), phone)}"
            if not sent:
                return NotifyUnavailable(f"sns {what}: {reason}")
            return NotifyRejected(
                f"sns {what}: delivery uncertain ({reason}); SNS may have delivered it, "
                "not resent to avoid a duplicate text"
            )
        if isinstance(exc, bce.ParamValidationError):
            return NotifyRejected(f"sns {what}: invalid request: {_scrub(str(exc), phone)}")
        return NotifyRejected(f"sns {what}: {type(exc).__name__}: {_scrub(str(exc), phone)}")
