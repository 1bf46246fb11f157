"""`edge-agent broker-acl`: the names, the rights and the files it writes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from edge_agent.__main__ import main
from edge_agent.broker_acl import DEFAULT_DISPLAYS, LOGIN_CONFIG, PLACEHOLDER, Fleet, Site
from shared.errors import ConfigError


def _entry(fleet: Fleet, kind: str, name: str) -> tuple[set[str], set[str], set[str]]:
    [entry] = [e for e in fleet.entries() if e.kind == kind and e.name == name]
    return set(entry.read), set(entry.write), set(entry.admin)


def test_names_and_default_screens() -> None:
    site = Site.parse("ams-01")
    assert site.displays == DEFAULT_DISPLAYS
    assert Site.parse("rtm-02:grill-1, expo-1").displays == ("grill-1", "expo-1")
    fleet = Fleet.parse(["ams-01:grill-1"])
    users = {u.name: u.groups for u in fleet.users()}
    assert users == {
        "kds-admin": ("kds-admins",),
        "kds-ams-01-agent": ("kds-ams-01-agents",),
        "kds-ams-01-grill-1": ("kds-ams-01-screens", "kds-ams-01-screen-grill-1"),
    }


def test_rights_per_user_type() -> None:
    fleet = Fleet.parse(["ams-01:grill-1,fry-1", "rtm-02:grill-1"])
    agents, screens = "kds-ams-01-agents", "kds-ams-01-screens"
    assert _entry(fleet, "topic", "kds.ams-01.state") == (
        {agents, screens},
        {agents},
        {agents, screens},
    )
    assert _entry(fleet, "queue", "kds.ams-01.commands") == (
        {agents},
        {screens},
        {agents, screens},
    )
    for wildcard in ("replies.>", "reply.>"):
        assert _entry(fleet, "queue", f"kds.ams-01.{wildcard}") == (set(), {agents}, {agents})
    # doctor reads its probe back (did the broker stamp JMSXUserID?)
    assert _entry(fleet, "queue", "kds.ams-01.doctor.>") == ({agents}, {agents}, {agents})
    own = "kds-ams-01-screen-grill-1"
    assert _entry(fleet, "queue", "kds.ams-01.replies.grill-1") == ({own}, set(), {own})
    # no entry of site ams-01 names a group of rtm-02
    for entry in fleet.entries():
        if "ams-01" in entry.name:
            assert not [g for g in (*entry.read, *entry.write, *entry.admin) if "rtm-02" in g]
    read, write, admin = _entry(fleet, "temp", "")
    assert read == admin == {screens, "kds-rtm-02-screens"}
    assert write == {agents, "kds-rtm-02-agents"}
    assert _entry(fleet, "topic", "ActiveMQ.Advisory.>")[0] >= {agents, screens, "kds-admins"}
    xml = fleet.authorization_xml()
    assert '<authorizationEntry queue="&gt;" read="kds-admins" write="kds-admins"' in xml
    assert "<tempDestinationAuthorizationEntry read=" in xml
    assert "activemq-webconsole" not in xml
    assert 'admin="kds-admins,activemq-webconsole"' in fleet.authorization_xml(amazon=True)


@pytest.mark.parametrize(
    "specs",
    [[], ["a.b"], ["ams:x>"], ["ams:agent"], ["ams", "ams"], ["ams:g,g"], ["a:b-agent", "a-b"]],
)
def test_bad_fleets_are_refused(specs: list[str]) -> None:
    with pytest.raises(ConfigError):
        Fleet.parse(specs)


def test_stdout_has_no_password(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["broker-acl", "--site", "ams-01:grill-1"]) == 0
    out = capsys.readouterr().out
    assert f"kds-ams-01-agent={PLACEHOLDER}" in out
    assert 'populateJMSXUserID="true" useAuthenticatedPrincipalForJMSXUserID="true"' in out
    assert "<jaasAuthenticationPlugin" in out
    assert main(["broker-acl", "--site", "ams-01:grill-1", "--format", "amazon-mq"]) == 0
    out = capsys.readouterr().out
    assert "jaasAuthenticationPlugin" not in out
    assert (
        'aws mq create-user --broker-id "$BROKER_ID" --username kds-ams-01-grill-1'
        " --groups kds-ams-01-screens kds-ams-01-screen-grill-1 --no-console-access"
        ' --password "$pw"'
    ) in out


def test_out_writes_private_passwords(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["broker-acl", "--site", "ams-01:grill-1", "--out", str(tmp_path)]) == 0
    users = tmp_path / "users.properties"
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    passwords = dict(line.split("=", 1) for line in users.read_text().splitlines() if "=" in line)
    assert set(passwords) == {"kds-admin", "kds-ams-01-agent", "kds-ams-01-grill-1"}
    assert all(len(p) >= 32 and PLACEHOLDER not in p for p in passwords.values())
    out = capsys.readouterr().out
    assert not [p for p in passwords.values() if p in out]
    assert "<plugins>" in (tmp_path / "activemq.xml").read_text()
    assert "PropertiesLoginModule" in (tmp_path / "login.config").read_text()

    amazon = tmp_path / "amazon"
    assert (
        main(
            [
                "broker-acl",
                "--site",
                "ams-01:grill-1",
                "--format",
                "amazon-mq",
                "--out",
                str(amazon),
            ]
        )
        == 0
    )
    body = json.loads((amazon / "users" / "kds-ams-01-agent.json").read_text())
    assert body["Groups"] == ["kds-ams-01-agents"] and len(body["Password"]) >= 12
    assert not set(",:=") & set(body["Password"])
    assert stat.S_IMODE((amazon / "users" / "kds-ams-01-agent.json").stat().st_mode) == 0o600
    script = (amazon / "create-users.sh").read_text()
    assert body["Password"] not in script
    assert f"--cli-input-json file://{amazon}/users/kds-ams-01-agent.json" in script


def test_packaged_example_is_the_generators_output() -> None:
    packaged = Path(__file__).resolve().parents[3] / "packaging" / "activemq"
    fleet = Fleet.parse(["ams-01"])
    assert (packaged / "activemq.xml").read_text() == fleet.activemq_xml()
    assert (packaged / "groups.properties").read_text() == fleet.groups_properties()
    assert (packaged / "login.config").read_text() == LOGIN_CONFIG
