"""Errors shared by the edge agent and the kitchen display.

Every error the project raises on purpose derives from :class:`KdsError`, so a
caller that wants "anything we know about" catches one class. The tree::

    KdsError
    +-- ConfigError            a setting is missing or wrong (names the key)
    +-- SecretError            the keyring has no usable secret / backend
    +-- WireError              a message or order failed validation
    |   +-- UnsupportedVersion the envelope's "v" is not one we speak
    +-- CommandRefused         a command was understood but cannot be applied
    |   +-- InvalidTransition  the ticket cannot move that way (error "invalid_transition")
    |   +-- UnknownTicket      no open ticket with that id   (error "unknown_ticket")
    |   +-- UnknownLine        no line with that id          (error "unknown_line")
    |   +-- BadRequest         fields missing or wrong       (error "bad_request")
    +-- MqError                the broker cannot be reached or refused a frame
        +-- MqNotConnected     a send was attempted while disconnected
        +-- MqCertificateError the broker's TLS certificate was refused (chain or name)
        +-- MqRefused          the broker's authentication/authorization said no
            +-- MqLoginRefused     wrong user name or password (``user``)
            +-- MqNotAuthorized    the user may not read/write/create ``destination``

``CommandRefused.code`` is the site-protocol error code sent in a
``command.result``.
"""

from __future__ import annotations


class KdsError(Exception):
    """Base class of every error this project raises deliberately."""


class ConfigError(KdsError):
    """A configuration key is missing or has a bad value.

    ``key`` is the dotted key (``core.url``) so the message can name it.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config error: {key}: {problem}")
        self.key = key
        self.problem = problem


class SecretError(KdsError):
    """A secret could not be read from (or written to) the OS keyring."""


class WireError(KdsError):
    """A message, frame or order did not pass validation.

    ``field`` names the first offending field where known (``items.0.qty``).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnsupportedVersion(WireError):
    """The envelope's ``v`` is not a version this build understands."""


class CommandRefused(KdsError):
    """A well-formed command that cannot be applied to the current state."""

    code = "internal"


class InvalidTransition(CommandRefused):
    code = "invalid_transition"


class UnknownTicket(CommandRefused):
    code = "unknown_ticket"


class UnknownLine(CommandRefused):
    code = "unknown_line"


class BadRequest(CommandRefused):
    code = "bad_request"


class MqError(KdsError):
    """The message broker could not be reached or refused an operation."""


class MqNotConnected(MqError):
    """A send was attempted while the client has no live connection."""


class MqCertificateError(MqError):
    """The broker's TLS certificate was refused: an unknown CA, another host's name,
    expired. Not a network problem: retrying will not help until the certificate or
    ``[mq] ca_file`` changes."""


class MqRefused(MqError):
    """The broker refused this user something (ActiveMQ's JAAS and authorization map).
    Not a network problem: retrying will not help until the broker's users, groups or
    authorization entries (``edge-agent broker-acl``) or ``[mq] user`` change.

    ``user`` is the user the broker names; ``detail`` the broker's own words."""

    def __init__(self, message: str, *, user: str, detail: str) -> None:
        super().__init__(message)
        self.user = user
        self.detail = detail


class MqLoginRefused(MqRefused):
    """The broker refused the login: unknown user or wrong password (or none given)."""


class MqNotAuthorized(MqRefused):
    """The user may not ``action`` (``read from``, ``write to``, ``create``) the
    ``destination`` (ActiveMQ's form: ``queue://kds.ams-01.commands``)."""

    def __init__(
        self, message: str, *, user: str, detail: str, action: str, destination: str
    ) -> None:
        super().__init__(message, user=user, detail=detail)
        self.action = action
        self.destination = destination
