"""MQ adapter: the agent's side of the site protocol on the broker.

Publishes state messages to ``/topic/kds.{site}.state``, answers on ``reply-to``,
and consumes ``/queue/kds.{site}.commands`` with client-individual acks (a command
is acked only after its effect is committed to the store).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from edge_agent.errors import PermanentError
from shared import wire
from shared.errors import MqNotAuthorized
from shared.mq import Message, MqClient, Spawn

log = logging.getLogger("edge.relay")

RECEIPT_TIMEOUT = 10.0


class StompRelay:
    def __init__(self, client: MqClient, site_id: str) -> None:
        self._client = client
        self.site_id = site_id
        self._state_topic = wire.state_topic(site_id)
        self._commands = wire.command_queue(site_id)

    @property
    def connected(self) -> bool:
        return self._client.connected

    def start(self, spawn: Spawn | None = None) -> StompRelay:
        """Connect; ``spawn`` runs the client's connection thread (the agent supervises it)."""
        self._client.start(spawn)
        return self

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> StompRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_state_change(self, callback: Callable[[bool], None]) -> None:
        self._client.on_state_change(callback)

    def publish(self, destination: str, body: bytes, headers: dict[str, str]) -> None:
        """Send one outbox row; raises ``MqError`` when it did not reach the broker.

        A reply the broker's authorization map refuses (a ``reply-to`` this agent may
        not write to) is a ``PermanentError``: dead-lettered, so it never holds up the
        site's state messages behind it. A refused state topic stays an ``MqError``
        (retried): nothing may overtake it, and the broker's ACL has to be fixed.
        """
        try:
            self._client.send(
                destination,
                body,
                headers=headers,
                persistent=True,
                receipt_timeout=RECEIPT_TIMEOUT,
            )
        except MqNotAuthorized as exc:
            refusal = self._refusal(destination, exc)
            if refusal is exc:
                raise
            raise refusal from exc

    def publish_many(
        self, messages: Sequence[tuple[str, bytes, dict[str, str]]]
    ) -> list[Exception | None]:
        """Send outbox rows back to back and wait for their RECEIPTs together (one
        round trip for a pass, not one per row). Per message: ``None`` when the broker
        has it, else the error :meth:`publish` would have raised for it.
        """
        errors = self._client.send_many(messages, receipt_timeout=RECEIPT_TIMEOUT)
        return [
            error if error is None else self._refusal(destination, error)
            for (destination, _body, _headers), error in zip(messages, errors, strict=True)
        ]

    def _refusal(self, destination: str, error: Exception) -> Exception:
        """What a failed publish to ``destination`` is for the outbox: a refused reply
        is permanent (dead-lettered, never holding up the state topic); anything else,
        a refused state message included, stays as it is (retried)."""
        if isinstance(error, MqNotAuthorized) and destination != self._state_topic:
            return PermanentError(str(error))
        return error

    def announce(self, body: bytes) -> None:
        """A best-effort, non-persistent message on the state topic (``agent.alive``)."""
        self._client.send(self._state_topic, body, persistent=False)

    def reply(self, destination: str, body: bytes) -> None:
        """A direct answer (snapshots): non-persistent, and expires if nobody reads it."""
        expires = str(int(time.time() * 1000) + wire.REPLY_TTL_MS)
        self._client.send(destination, body, persistent=False, headers={"expires": expires})

    def reconnect(self, why: str) -> None:
        """Drop and re-open the connection; the broker redelivers unacked commands."""
        self._client.reconnect(why)

    def consume_commands(self, handler: Callable[[Message], None]) -> None:
        self._client.subscribe(
            self._commands,
            handler,
            ack="client-individual",
            headers={"activemq.prefetchSize": "50"},
        )

    def ack(self, message: Message) -> None:
        self._client.ack(message)
