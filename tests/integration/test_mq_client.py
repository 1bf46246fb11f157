"""MqClient against the real ActiveMQ: what a handler may do while subscriptions replay."""

from __future__ import annotations

import uuid

import pytest

from shared.errors import MqError
from shared.mq import Message, MqClient
from tests.helpers.site import wait_until

pytestmark = pytest.mark.broker


def test_a_handler_can_answer_a_message_delivered_while_subscribing(activemq_url: str) -> None:
    """A command waiting in its queue is delivered as soon as its subscription is made,
    possibly before the client has replayed its other subscriptions; the handler's
    answer (the agent's snapshot reply) must go out, not fail as "not connected"."""
    name = uuid.uuid4().hex[:8]
    commands, replies = f"/queue/t.{name}.commands", f"/queue/t.{name}.replies"
    with MqClient(activemq_url, name="sender").start() as sender:
        assert sender.wait_connected(15)
        for n in range(5):
            sender.send(commands, f'{{"n": {n}}}'.encode(), receipt_timeout=10)

    answered: list[bytes] = []
    failed: list[str] = []
    got: list[bytes] = []
    client = MqClient(activemq_url, name="agent")

    def on_command(message: Message) -> None:
        try:
            client.send(replies, message.body)  # no receipt: this is the receiver thread
            answered.append(message.body)
        except MqError as exc:
            failed.append(str(exc))
        client.ack(message)

    client.subscribe(commands, on_command, ack="client-individual")
    # more subscriptions after it: replaying them takes a receipt each
    for n in range(5):
        client.subscribe(f"/topic/t.{name}.other{n}", lambda _m: None)
    client.subscribe(replies, lambda m: got.append(m.body))
    with client.start():
        wait_until(lambda: len(answered) + len(failed) == 5, timeout=20)
        assert failed == []
        wait_until(lambda: len(got) == 5, timeout=20)


def test_a_send_can_ask_for_its_receipt_without_waiting(activemq_url: str) -> None:
    """``on_receipt`` is told True once the broker took the frame (the display's
    commands); a callback that raises is logged and the connection lives on."""
    queue = f"/queue/t.{uuid.uuid4().hex[:8]}.receipts"
    told: list[bool] = []
    with MqClient(activemq_url, name="sender").start() as client:
        assert client.wait_connected(15)
        client.send(queue, b'{"n": 1}', on_receipt=told.append)
        wait_until(lambda: told == [True], timeout=15)

        def broken(_delivered: bool) -> None:
            raise RuntimeError("a bug in the callback")

        client.send(queue, b'{"n": 2}', on_receipt=broken)
        client.send(queue, b'{"n": 3}', receipt_timeout=10)  # still connected, still answered
        assert client.connected


def test_send_many_pipelines_and_answers_each_message(activemq_url: str) -> None:
    """Back-to-back sends, one wait for all the RECEIPTs: every message is confirmed,
    in order; a client that is not connected answers every message with the error."""
    queue = f"/queue/t.{uuid.uuid4().hex[:8]}.many"
    got: list[bytes] = []
    with MqClient(activemq_url, name="receiver").start() as receiver:
        receiver.subscribe(queue, lambda m: got.append(m.body))
        assert receiver.wait_connected(15)
        with MqClient(activemq_url, name="sender").start() as sender:
            assert sender.wait_connected(15)
            bodies = [f'{{"n": {n}}}'.encode() for n in range(200)]
            errors = sender.send_many([(queue, b, {}) for b in bodies], receipt_timeout=10)
            assert errors == [None] * 200
            wait_until(lambda: len(got) == 200, timeout=20)
            assert got == bodies
    offline = MqClient(activemq_url, name="never-started")
    errors = offline.send_many([(queue, b"{}", {})] * 3, receipt_timeout=1)
    assert len(errors) == 3 and all(isinstance(e, MqError) for e in errors)
