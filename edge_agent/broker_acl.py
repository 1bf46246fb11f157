"""``edge-agent broker-acl``: the broker's users, groups and authorization for a fleet.

One ActiveMQ broker serves many sites; each program logs in as its own user and may
touch only its own site's destinations (docs/broker-acl.md has the table)::

    edge-agent broker-acl --site ams-01 --site rtm-02:grill-1,expo-1
    edge-agent broker-acl --site ams-01 --out /etc/activemq/instances-available/main
    edge-agent broker-acl --site ams-01 --format amazon-mq [--out DIR]

Names: the agent ``kds-{site}-agent`` (group ``kds-{site}-agents``), each screen
``kds-{site}-{display_id}`` (groups ``kds-{site}-screens`` and its own
``kds-{site}-screen-{display_id}``, the only one that may read its reply queue), and
``kds-admin`` in ``kds-admins`` (everything). Passwords are never printed: stdout has
placeholders; ``--out`` writes ``users.properties`` (random passwords, mode 0600).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from shared.errors import ConfigError

#: screens a site gets when ``--site`` names none (the demo's stations, and a lead)
DEFAULT_DISPLAYS = ("grill-1", "fry-1", "cold-1", "bar-1", "expo-1", "lead-1")
ADMIN_USER = "kds-admin"
ADMIN_GROUP = "kds-admins"
#: Amazon MQ's console group: it has to be in the map or the web console cannot work
AMAZON_CONSOLE_GROUP = "activemq-webconsole"
#: the JAAS configuration name the XML and ``login.config`` share
JAAS_REALM = "activemq"
#: a site or display id: one segment of a destination name (no ``.``, ``*``, ``>``)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: what a broker answers in place of a password on stdout
PLACEHOLDER = "<set by --out: random>"

LOGIN_CONFIG = f"""\
{JAAS_REALM} {{
    org.apache.activemq.jaas.PropertiesLoginModule required
        org.apache.activemq.jaas.properties.user="users.properties"
        org.apache.activemq.jaas.properties.group="groups.properties"
        reload=true;
}};
"""


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    #: the Amazon MQ web console (the admin only)
    console: bool = False


@dataclass(frozen=True)
class Entry:
    """One ``authorizationEntry``: ``kind`` ``queue`` or ``topic`` (a name with
    ActiveMQ's wildcards), or ``temp`` (the one ``tempDestinationAuthorizationEntry``)."""

    kind: str
    name: str
    read: tuple[str, ...]
    write: tuple[str, ...]
    admin: tuple[str, ...]

    def xml(self, extra_admins: Sequence[str] = ()) -> str:
        def groups(names: tuple[str, ...]) -> str:
            return quoteattr(",".join(dict.fromkeys((*names, *extra_admins))))

        where = "" if self.kind == "temp" else f"{self.kind}={quoteattr(self.name)} "
        tag = "tempDestinationAuthorizationEntry" if self.kind == "temp" else "authorizationEntry"
        return (
            f"<{tag} {where}read={groups(self.read)} write={groups(self.write)}"
            f" admin={groups(self.admin)}/>"
        )


@dataclass(frozen=True)
class Site:
    site_id: str
    displays: tuple[str, ...] = DEFAULT_DISPLAYS

    @classmethod
    def parse(cls, text: str) -> Site:
        """``ams-01`` (the default screens) or ``ams-01:grill-1,expo-1``."""
        site_id, _, rest = text.partition(":")
        displays = tuple(d.strip() for d in rest.split(",") if d.strip()) if rest else ()
        site = cls(site_id.strip(), displays or DEFAULT_DISPLAYS)
        site.check()
        return site

    def check(self) -> None:
        if not _NAME.match(self.site_id):
            raise ConfigError(
                "--site", f"site id {self.site_id!r}: letters, digits, _ and - only (1-40)"
            )
        for display in self.displays:
            if not _NAME.match(display):
                raise ConfigError(
                    "--site",
                    f"{self.site_id}: display id {display!r}: letters, digits, _ and - only",
                )
        if "agent" in self.displays:
            raise ConfigError("--site", f"{self.site_id}: a display may not be named 'agent'")
        if len(set(self.displays)) != len(self.displays):
            raise ConfigError("--site", f"{self.site_id}: a display id is listed twice")

    # -- names -------------------------------------------------------------------
    @property
    def agent_user(self) -> str:
        return f"kds-{self.site_id}-agent"

    def screen_user(self, display: str) -> str:
        return f"kds-{self.site_id}-{display}"

    @property
    def agents_group(self) -> str:
        return f"kds-{self.site_id}-agents"

    @property
    def screens_group(self) -> str:
        return f"kds-{self.site_id}-screens"

    def screen_group(self, display: str) -> str:
        return f"kds-{self.site_id}-screen-{display}"

    # -- rights ------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        site, agents, screens = self.site_id, (self.agents_group,), (self.screens_group,)
        both = (*agents, *screens)
        entries = [
            # agent publishes; screens (and the agent's doctor) subscribe; either may be
            # first, so either may create it
            Entry("topic", f"kds.{site}.state", both, agents, both),
            Entry("queue", f"kds.{site}.commands", agents, screens, both),
            # the agent answers every reply queue of its site, v1 clients' too
            Entry("queue", f"kds.{site}.replies.>", (), agents, agents),
            Entry("queue", f"kds.{site}.reply.>", (), agents, agents),
            # edge-agent doctor's probe queue (kds.{site}.doctor.<random>): it reads its
            # probe back to see whether the broker stamps JMSXUserID
            Entry("queue", f"kds.{site}.doctor.>", agents, agents, agents),
        ]
        for display in self.displays:
            own = (self.screen_group(display),)
            entries.append(Entry("queue", f"kds.{site}.replies.{display}", own, (), own))
        return entries


@dataclass(frozen=True)
class Fleet:
    sites: tuple[Site, ...]

    @classmethod
    def parse(cls, specs: Sequence[str]) -> Fleet:
        if not specs:
            raise ConfigError("--site", "name at least one site")
        fleet = cls(tuple(Site.parse(spec) for spec in specs))
        fleet.check()
        return fleet

    def check(self) -> None:
        ids = [site.site_id for site in self.sites]
        if len(set(ids)) != len(ids):
            raise ConfigError("--site", "a site is listed twice")
        names = [user.name for user in self.users()]
        names += [g for site in self.sites for g in self._site_groups(site)]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ConfigError("--site", f"two sites' names collide: {', '.join(twice)}")

    @staticmethod
    def _site_groups(site: Site) -> list[str]:
        return [site.agents_group, site.screens_group, *map(site.screen_group, site.displays)]

    def users(self) -> list[User]:
        users = [User(ADMIN_USER, (ADMIN_GROUP,), console=True)]
        for site in self.sites:
            users.append(User(site.agent_user, (site.agents_group,)))
            for display in site.displays:
                users.append(
                    User(
                        site.screen_user(display),
                        (site.screens_group, site.screen_group(display)),
                    )
                )
        return users

    def groups(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for user in self.users():
            for group in user.groups:
                groups.setdefault(group, []).append(user.name)
        return groups

    def entries(self) -> list[Entry]:
        every = (ADMIN_GROUP, *(g for s in self.sites for g in (s.agents_group, s.screens_group)))
        agents = tuple(site.agents_group for site in self.sites)
        screens = tuple(site.screens_group for site in self.sites)
        entries = [
            Entry("queue", ">", (), (), ()),
            Entry("topic", ">", (), (), ()),
            Entry("topic", "ActiveMQ.Advisory.>", every, every, every),
        ]
        for site in self.sites:
            entries.extend(site.entries())
        # a v1 client's /temp-queue/ reply: the screen makes and reads it, the agent
        # answers it. One entry for every temp destination of the broker (ActiveMQ has
        # no per-name temp entries); only the connection that made one can read it.
        entries.append(Entry("temp", "", screens, agents, screens))
        return entries

    def passwords(self) -> dict[str, str]:
        """A fresh random password per user (32 URL-safe characters: fits Amazon MQ's
        rules, no ``,:=``)."""
        return {user.name: secrets.token_urlsafe(24) for user in self.users()}

    # -- renderings ----------------------------------------------------------------
    def authorization_xml(self, *, indent: str = "", amazon: bool = False) -> str:
        """The ``<authorizationPlugin>`` element; ``kds-admins`` (and on Amazon MQ its
        console group) may do everything everywhere."""
        admins = (ADMIN_GROUP, AMAZON_CONSOLE_GROUP) if amazon else (ADMIN_GROUP,)
        lines = ["<authorizationPlugin>", "  <map>", "    <authorizationMap>"]
        lines.append("      <authorizationEntries>")
        temp = ""
        for entry in self.entries():
            if entry.kind == "temp":
                temp = entry.xml(admins)
            else:
                lines.append(f"        {entry.xml(admins)}")
        lines.append("      </authorizationEntries>")
        lines += ["      <tempDestinationAuthorizationEntry>", f"        {temp}"]
        lines += ["      </tempDestinationAuthorizationEntry>"]
        lines += ["    </authorizationMap>", "  </map>", "</authorizationPlugin>"]
        return "".join(f"{indent}{line}\n" for line in lines)

    def plugins_xml(self, *, indent: str = "") -> str:
        """``<plugins>``: JAAS login (``login.config`` beside activemq.xml) + the map."""
        inner = indent + "  "
        return (
            f"{indent}<plugins>\n"
            f"{inner}<jaasAuthenticationPlugin configuration={quoteattr(JAAS_REALM)}/>\n"
            f"{self.authorization_xml(indent=inner)}"
            f"{indent}</plugins>\n"
        )

    def users_properties(self, passwords: Mapping[str, str] | None = None) -> str:
        """``users.properties``: ``user=password``; placeholders without ``passwords``."""
        lines = ["# ActiveMQ JAAS users (edge-agent broker-acl). Keep it mode 0600."]
        for user in self.users():
            lines.append(f"{user.name}={(passwords or {}).get(user.name, PLACEHOLDER)}")
        return "\n".join(lines) + "\n"

    def groups_properties(self) -> str:
        lines = ["# ActiveMQ JAAS groups (edge-agent broker-acl): group=user,user"]
        lines += [f"{group}={','.join(users)}" for group, users in self.groups().items()]
        return "\n".join(lines) + "\n"

    def broker_auth(self, passwords: Mapping[str, str]) -> BrokerAuth:
        """What a broker needs to enforce this fleet (tests/helpers/activemq.py takes it)."""
        return BrokerAuth(
            users_properties=self.users_properties(passwords),
            groups_properties=self.groups_properties(),
            login_config=LOGIN_CONFIG,
            plugins_xml=self.plugins_xml(indent="    "),
        )

    def activemq_xml(self) -> str:
        """A whole activemq.xml for a site admin (packaging/activemq/activemq.xml)."""
        return ACTIVEMQ_XML.replace("{plugins}", self.plugins_xml(indent="    ").rstrip("\n"))

    def amazon_mq_xml(self) -> str:
        return AMAZON_XML.replace("{plugins}", self.authorization_xml(indent="      ", amazon=True))

    def amazon_mq_commands(self, user_dir: str | None = None) -> str:
        """``aws mq create-user`` per user; with ``user_dir`` each reads its password
        from ``user_dir/<user>.json`` (``--cli-input-json``), else it is prompted for."""
        lines = [
            "#!/bin/sh",
            "# Amazon MQ users for the fleet (edge-agent broker-acl --format amazon-mq).",
            "# User changes apply at the next maintenance window or a reboot of the broker.",
            "set -eu\nBROKER_ID=${BROKER_ID:?set BROKER_ID to the broker id (b-...)}",
        ]
        for user in self.users():
            groups = " ".join(shlex.quote(g) for g in user.groups)
            console = " --console-access" if user.console else " --no-console-access"
            base = (
                f'aws mq create-user --broker-id "$BROKER_ID" --username {user.name}'
                f" --groups {groups}{console}"
            )
            if user_dir is None:
                lines.append(
                    f"printf 'password for {user.name}: ' >&2; stty -echo; read -r pw;"
                    " stty echo; echo >&2"
                )
                lines.append(f'{base} --password "$pw"')
            else:
                lines.append(f"{base} --cli-input-json file://{user_dir}/{user.name}.json")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BrokerAuth:
    """The files and XML that switch a broker's authentication and authorization on."""

    users_properties: str
    groups_properties: str
    login_config: str
    #: the ``<plugins>`` element for inside ``<broker>``
    plugins_xml: str


#: the broker attributes that make JMSXUserID the authenticated user (not spoofable)
JMSX_ATTRIBUTES = 'populateJMSXUserID="true" useAuthenticatedPrincipalForJMSXUserID="true"'

ACTIVEMQ_XML = (
    """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by `edge-agent broker-acl`: ActiveMQ 5.17 for a fleet of kitchen sites.
     users.properties, groups.properties and login.config sit beside this file.
     The STOMP+TLS connector wants conf/broker.p12 and its password in
     conf/credentials.properties (kds.keystore.password=...), both mode 0600. -->
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans
         http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
         http://activemq.apache.org/schema/core
         http://activemq.apache.org/schema/core/activemq-core.xsd">
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer">
    <property name="locations">
      <value>file:${activemq.conf}/credentials.properties</value>
    </property>
  </bean>
  <broker xmlns="http://activemq.apache.org/schema/core"
          brokerName="kds"
          dataDirectory="${activemq.data}"
          persistent="true"
          useJmx="false"
          schedulerSupport="false"
          """
    + JMSX_ATTRIBUTES
    + """>
    <persistenceAdapter>
      <kahaDB directory="${activemq.data}/kahadb"/>
    </persistenceAdapter>
{plugins}
    <sslContext>
      <sslContext keyStore="file:${activemq.conf}/broker.p12" keyStoreType="pkcs12"
                  keyStorePassword="${kds.keystore.password}"/>
    </sslContext>
    <transportConnectors>
      <!-- STOMP only: no OpenWire, so no client can delete a destination -->
      <transportConnector name="stomp+ssl"
          uri="stomp+ssl://0.0.0.0:61614?transport.hbGracePeriodMultiplier=1.5&amp;transport.tcpNoDelay=true"/>
    </transportConnectors>
  </broker>
</beans>
"""
)

AMAZON_XML = (
    """\
<!-- Amazon MQ for ActiveMQ (edge-agent broker-acl --format amazon-mq): in the broker
     configuration, set these attributes on <broker> and put this inside <plugins>.
     Users and groups come from the Amazon MQ API (the commands below), not from XML.
  <broker ... """
    + JMSX_ATTRIBUTES
    + """>
    <plugins> -->
{plugins}<!--  </plugins> -->
"""
)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` created with ``mode`` (a secret is never world-readable,
    not even for a moment)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)


def write_activemq(fleet: Fleet, out: Path) -> list[Path]:
    passwords = fleet.passwords()
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "users.properties": (fleet.users_properties(passwords), 0o600),
        "groups.properties": (fleet.groups_properties(), 0o644),
        "login.config": (LOGIN_CONFIG, 0o644),
        "activemq.xml": (fleet.activemq_xml(), 0o644),
    }
    for name, (text, mode) in files.items():
        _write(out / name, text, mode)
    return [out / name for name in files]


def write_amazon_mq(fleet: Fleet, out: Path) -> list[Path]:
    passwords = fleet.passwords()
    users = out / "users"
    users.mkdir(parents=True, exist_ok=True)
    os.chmod(users, 0o700)
    written = []
    for user in fleet.users():
        body = {
            "Username": user.name,
            "Password": passwords[user.name],
            "Groups": list(user.groups),
            "ConsoleAccess": user.console,
        }
        _write(users / f"{user.name}.json", json.dumps(body, indent=2) + "\n", 0o600)
        written.append(users / f"{user.name}.json")
    _write(out / "amazon-mq-authorization.xml", fleet.amazon_mq_xml())
    _write(out / "create-users.sh", fleet.amazon_mq_commands(str(users)), 0o700)
    return [out / "amazon-mq-authorization.xml", out / "create-users.sh", *written]


def render(fleet: Fleet, fmt: str) -> str:
    """What stdout gets: everything but the passwords."""
    if fmt == "amazon-mq":
        return (
            f"{fleet.amazon_mq_xml()}\n"
            "# --- users (Amazon MQ API; passwords: 12+ characters, none of , : =) ---\n"
            "# each password is on aws's command line while it runs; --out avoids that\n"
            f"{fleet.amazon_mq_commands()}"
        )
    return (
        "# --- users.properties (mode 0600; --out writes random passwords) ---\n"
        f"{fleet.users_properties()}\n"
        "# --- groups.properties ---\n"
        f"{fleet.groups_properties()}\n"
        "# --- login.config ---\n"
        f"{LOGIN_CONFIG}\n"
        f"<!-- activemq.xml: inside <broker {JMSX_ATTRIBUTES}> -->\n"
        f"{fleet.plugins_xml()}"
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "broker-acl", help="ActiveMQ users, groups and authorization for a fleet of sites"
    )
    parser.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="SITE[:DISPLAY,...]",
        help=f"a site and its screens' display ids (default: {','.join(DEFAULT_DISPLAYS)})",
    )
    parser.add_argument("--format", choices=("activemq", "amazon-mq"), default="activemq")
    parser.add_argument(
        "--out", type=Path, help="write the files (with random passwords) into this folder"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fleet = Fleet.parse(args.site)
    if args.out is None:
        print(render(fleet, args.format), end="")
        return 0
    writer = write_amazon_mq if args.format == "amazon-mq" else write_activemq
    for path in writer(fleet, args.out):
        print(f"wrote {path}")
    return 0
