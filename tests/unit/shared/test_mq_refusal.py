"""ActiveMQ's refusals read into the project's errors (the broker's exact words, as
tests/integration/test_broker_acl.py sees them)."""

from __future__ import annotations

from shared.errors import MqError, MqLoginRefused, MqNotAuthorized, MqRefused
from shared.mq import refusal


def test_not_authorized() -> None:
    error = refusal(
        "User kds-ams-01-grill-1 is not authorized to write to: queue://kds.rtm-02.commands"
    )
    assert isinstance(error, MqNotAuthorized) and isinstance(error, MqRefused)
    assert isinstance(error, MqError)
    assert (error.user, error.action, error.destination) == (
        "kds-ams-01-grill-1",
        "write to",
        "queue://kds.rtm-02.commands",
    )
    assert (
        str(error)
        == "MQ refused: user kds-ams-01-grill-1 may not write to queue://kds.rtm-02.commands"
    )
    read = refusal("User x is not authorized to read from: topic://kds.a.state")
    assert isinstance(read, MqNotAuthorized) and read.action == "read from"
    create = refusal("User x is not authorized to create: queue://kds.a.replies.y")
    assert isinstance(create, MqNotAuthorized) and create.action == "create"


def test_login_refused() -> None:
    error = refusal("User name [kds-ams-01-agent] or password is invalid.")
    assert isinstance(error, MqLoginRefused)
    assert error.user == "kds-ams-01-agent"
    assert str(error) == (
        "MQ refused the login of user kds-ams-01-agent: unknown user or wrong password"
    )
    anonymous = refusal("User name [null] or password is invalid.")
    assert isinstance(anonymous, MqLoginRefused) and anonymous.user == ""
    assert "(no user name given)" in str(anonymous)


def test_other_errors_are_not_refusals() -> None:
    assert refusal("Unexpected ActiveMQ exception") is None
    assert refusal("") is None
