"""Who may send which command (``[access]``): roles from the broker's word, not the body's.

Off by default: with no ``[access.screens.*]`` the agent applies every well-formed
command from anyone, as site protocol v1 describes (start logs a warning and
``doctor`` shows it). With screens configured, each command's sender is identified
and checked against its role before anything is applied:

- ``identity = "broker"`` (default): the sender is the broker user ActiveMQ stamps on
  the frame as ``JMSXUserID`` (broker attributes ``populateJMSXUserID="true"`` and
  ``useAuthenticatedPrincipalForJMSXUserID="true"``: the broker overwrites a forged
  header). A frame without it is refused: the broker is not stamping.
- ``identity = "display_id"``: for a broker that does not stamp users; the sender is
  the body's ``display_id``, which any client can write (start and ``doctor`` say so).

Roles (what each may send):

============ =================================================================
``station``  start, bump, recall, ack_allergens, ack_void, reprint at its own
             ``stations`` (and the stations folded into them); item_done,
             item_undo, item_unavailable on those stations' lines; snapshot
``expo``     the same at the expo station, item commands on any line,
             prioritize and picked_up; snapshot
``lead``     everything (folding stations, 86 an item with set_availability)
``tool``     snapshot and set_availability (a stock or PoS integration)
============ =================================================================

A refusal is ``ok: false`` with ``error: "bad_request"`` (v1's closed list of codes)
and the extension field ``reason: "forbidden"``; ``detail`` names the sender, its role
and what it may not do. A refusal is not stored: once the role map is fixed, the same
``command_id`` is applied.

``reply-to`` is honoured for temporary queues (``/temp-queue/...``, which reaches the
agent as ``/remote-temp-queue/...`` from ActiveMQ) and the site's own reply queues
(``/queue/kds.{site}.reply.<name>`` and the displays' ``/queue/kds.{site}.replies.<id>``).
Another site's or any other ``kds.*`` destination is never written to. With access
on, nothing else either; with access off, any other ``/queue/...`` (as v1 allows).
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared import wire
from shared.config import check
from shared.errors import BadRequest
from shared.model import Ticket

log = logging.getLogger("edge.access")

#: the header ActiveMQ stamps with the authenticated sender
USER_HEADER = "JMSXUserID"

IDENTITIES = ("broker", "display_id")

#: a temporary queue: as the sender named it, and as ActiveMQ hands it on to another
#: connection (``/temp-queue/x`` arrives as ``/remote-temp-queue/ID:host-…:1``)
TEMP_QUEUE_PREFIXES = ("/temp-queue/", "/remote-temp-queue/")

#: a site's own reply queues: ``kds.{site}.replies.{display_id}`` (the project's
#: displays) and ``kds.{site}.reply.{name}`` (tools)
REPLY_FAMILIES = ("replies", "reply")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class Role(enum.StrEnum):
    STATION = "station"
    EXPO = "expo"
    LEAD = "lead"
    TOOL = "tool"


class Forbidden(BadRequest):
    """The sender's role may not send this command (``reason: "forbidden"``)."""


@dataclass(frozen=True)
class ScreenGrant:
    """``[access.screens.<display_id>]``: one screen or tool and what it may do."""

    role: str
    #: a station screen's stations (its ``[display] station``, one or more)
    stations: tuple[str, ...] = ()
    #: its broker user; empty: ``kds-<site_id>-<display_id>`` (``edge-agent broker-acl``)
    user: str = ""

    def __post_init__(self) -> None:
        check(
            self.role in tuple(Role),
            "role",
            f"must be one of {', '.join(Role)}, got {self.role!r}",
        )
        check(
            self.role != Role.STATION or bool(self.stations),
            "stations",
            'a station screen needs its stations (stations = ["grill"])',
        )
        check(not self.user or bool(_NAME.match(self.user)), "user", f"bad user {self.user!r}")


@dataclass(frozen=True)
class AccessSettings:
    """``[access]``: command authorisation by role (off while ``screens`` is empty)."""

    #: ``broker``: the ``JMSXUserID`` the broker stamps; ``display_id``: the body's
    identity: str = "broker"
    screens: dict[str, ScreenGrant] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check(
            self.identity in IDENTITIES,
            "access.identity",
            f"must be one of {', '.join(IDENTITIES)}, got {self.identity!r}",
        )

    @property
    def enabled(self) -> bool:
        return bool(self.screens)


@dataclass(frozen=True)
class Sender:
    """Who sent a command, as far as the agent can tell."""

    name: str  # the broker user or the body's display_id; "" when unknown
    display_id: str  # the key in [access.screens]; "" when not listed
    grant: ScreenGrant | None

    def __str__(self) -> str:
        who = self.name or "an unidentified sender"
        if self.grant is None:
            return who
        return f"{who} ({self.grant.role})"


class AccessPolicy:
    """The checks of ``[access]`` for one site (plain logic: no I/O)."""

    def __init__(
        self,
        settings: AccessSettings,
        site_id: str,
        *,
        expo_station: str | None,
        stations: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.site_id = site_id
        self.expo_station = expo_station or ""
        for display_id, grant in settings.screens.items():
            for station in grant.stations:
                check(
                    not stations or station in stations,
                    f"access.screens.{display_id}.stations",
                    f"{station!r} is not one of stations {list(stations)}",
                )
            check(
                grant.role != Role.EXPO or bool(self.expo_station),
                f"access.screens.{display_id}.role",
                "expo: the site has no expo_station",
            )
        self._by_user = {self.user_of(d, g): d for d, g in settings.screens.items()}

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def user_of(self, display_id: str, grant: ScreenGrant) -> str:
        return grant.user or f"kds-{self.site_id}-{display_id}"

    def describe(self) -> str:
        """One line for the start log and ``doctor``."""
        if not self.enabled:
            return (
                "commands are NOT authorised: [access] lists no screens, so any client "
                "that reaches the broker can command this site"
            )
        count = len(self.settings.screens)
        if self.settings.identity == "broker":
            return (
                f"commands authorised by role for {count} screens; the sender is the broker "
                f"user ({USER_HEADER} stamped by the broker)"
            )
        return (
            f"commands authorised by role for {count} screens; the sender is the body's "
            f"display_id, which the broker does not vouch for ([access] identity = "
            f'"display_id")'
        )

    # --- reply destinations -------------------------------------------------------------

    def reply_refusal(self, reply_to: str) -> str | None:
        """Why the agent will not answer at ``reply_to``, or None when it will."""
        for temp in TEMP_QUEUE_PREFIXES:
            if reply_to.startswith(temp) and len(reply_to) > len(temp):
                return None
        for family in REPLY_FAMILIES:
            own = f"/queue/kds.{self.site_id}.{family}."
            if reply_to.startswith(own) and len(reply_to) > len(own):
                return None
        if reply_to.startswith("/queue/kds."):
            return "a kds.* destination that is not this site's reply queue"
        if self.enabled:
            return (
                f"with [access] on, answers go only to /temp-queue/... or "
                f"/queue/kds.{self.site_id}.replies.<name>"
            )
        if reply_to.startswith("/queue/") and len(reply_to) > len("/queue/"):
            return None
        return "not a /temp-queue/... or /queue/... destination"

    # --- senders and their rights -----------------------------------------------------

    def sender(self, headers: Mapping[str, str], command: wire.AnyCommand) -> Sender:
        if self.settings.identity == "broker":
            name = headers.get(USER_HEADER, "")
            display_id = self._by_user.get(name, "")
        else:
            name = command.display_id
            display_id = name if name in self.settings.screens else ""
        grant = self.settings.screens.get(display_id) if display_id else None
        return Sender(name, display_id, grant)

    def check(
        self,
        sender: Sender,
        command: wire.AnyCommand,
        ticket: Ticket | None,
        folds: Mapping[str, str],
    ) -> None:
        """Raise :class:`Forbidden` unless ``sender`` may send ``command``."""
        if not self.enabled:
            return
        grant = sender.grant
        if grant is None:
            if self.settings.identity == "broker" and not sender.name:
                raise Forbidden(
                    f"the broker did not say who sent this {command.type} ({USER_HEADER} "
                    f'missing): set populateJMSXUserID="true" on the broker, or [access] '
                    f'identity = "display_id"'
                )
            raise Forbidden(f"{sender} is not a screen of site {self.site_id} ([access])")
        role = Role(grant.role)
        if role is Role.LEAD or isinstance(command, wire.SnapshotCommand):
            return
        what = command.type
        if role is Role.TOOL:
            if isinstance(command, wire.SetAvailabilityCommand):
                return
            raise Forbidden(f"{sender} may only send snapshot and set_availability, not {what}")
        if isinstance(command, wire.FoldStationsCommand | wire.SetAvailabilityCommand):
            raise Forbidden(f"{sender} may not send {what}: only a lead may")
        mine = self._stations(role, grant, folds)
        if isinstance(command, wire.PickedUpCommand | wire.PrioritizeCommand):
            if role is Role.EXPO:
                return
            raise Forbidden(f"{sender} may not send {what}: only expo or a lead may")
        if isinstance(
            command, wire.ItemDoneCommand | wire.ItemUndoCommand | wire.ItemUnavailableCommand
        ):
            if role is Role.EXPO or ticket is None:
                return  # expo works on whole orders; an unknown ticket is refused anyway
            item = next((i for i in ticket.items if i.line_id == command.line_id), None)
            if item is None or item.station in mine:
                return  # an unknown line is refused as unknown_line
            raise Forbidden(
                f"{sender} may not send {what} for line {command.line_id} at station "
                f"{item.station!r} (it works at {', '.join(sorted(mine))})"
            )
        station = command.station
        if station and station not in mine:
            raise Forbidden(
                f"{sender} may not send {what} at station {station!r} "
                f"(it works at {', '.join(sorted(mine))})"
            )

    def _stations(self, role: Role, grant: ScreenGrant, folds: Mapping[str, str]) -> set[str]:
        own = (self.expo_station,) if role is Role.EXPO else grant.stations
        folded = {source for source, into in folds.items() if into in own}
        return {*own, *folded}
