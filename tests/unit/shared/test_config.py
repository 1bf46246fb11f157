"""Configuration loading (shared.config.load) for the agent and the display.

Every refusal is a ConfigError naming the key; secrets never come from the file and
never show in a repr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge_agent.config import AgentConfig
from kitchen_display.config import DisplayConfig
from shared.config import Secret, env_name, keyring_lookup, load, store_secret
from shared.errors import ConfigError
from shared.mq import MqUrl
from shared.settings import DEFAULT_MQ_URL

TOKEN = "tok-very-secret-123"
AGENT_TOML = """
site_id = "ams-01"
stations = ["grill", "fry", "expo"]
expo_station = "expo"

[core]
url = "http://127.0.0.1:8700"
poll_wait_seconds = 5

[store]
path = "/var/lib/ghost-kds/edge.sqlite3"

[mq]
url = "stomp://127.0.0.1:61613"
user = "kds-ams-01"
"""
DISPLAY_TOML = """
site_id = "ams-01"
display_id = "grill-1"
station = "grill"

[display]
fullscreen = true
font_scale = 1.5
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_agent(
    tmp_path: Path,
    text: str = AGENT_TOML,
    env: dict[str, str] | None = None,
    secrets: Any = None,
) -> AgentConfig:
    env = {"KDS_CORE_TOKEN": TOKEN} if env is None else env
    return load(AgentConfig, write(tmp_path, text), env=env, secrets=secrets)


def load_display(tmp_path: Path, text: str = DISPLAY_TOML, **env: str) -> DisplayConfig:
    return load(DisplayConfig, write(tmp_path, text), env=env, secrets=None)


def config_error(call: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.key in str(info.value)
    return info.value


# --- loading -------------------------------------------------------------------------------


def test_agent_file_values_and_defaults(tmp_path: Path) -> None:
    cfg = load_agent(tmp_path)
    assert cfg.site_id == "ams-01"
    assert cfg.stations == ("grill", "fry", "expo")
    assert cfg.expo_station == "expo"
    assert cfg.core.url == "http://127.0.0.1:8700"
    assert cfg.core.poll_wait_seconds == 5
    assert cfg.core.timeout_seconds == 10.0
    assert cfg.core.token.reveal() == TOKEN
    assert cfg.store.path == Path("/var/lib/ghost-kds/edge.sqlite3")
    assert cfg.mq.user == "kds-ams-01"
    assert cfg.mq.heartbeat_ms == 10_000
    assert cfg.mq.password == Secret("")
    assert cfg.outbox.backoff_initial_seconds == 1.0
    assert cfg.void_clear_seconds == 1800.0


def test_agent_env_overrides(tmp_path: Path) -> None:
    env = {
        "KDS_SITE_ID": "rot-02",
        "KDS_CORE_URL": "https://core.example.com",
        "KDS_CORE_TOKEN": TOKEN,
        "KDS_STORE_PATH": str(tmp_path / "edge.db"),
        "KDS_MQ_URL": "stomp+ssl://b-1234.mq.eu-west-1.amazonaws.com:61614",
        "KDS_MQ_HEARTBEAT_MS": " 2500 ",
        "KDS_MQ_PASSWORD": "mq-secret",
        "KDS_STATIONS": "grill, bar",
        "KDS_EXPO_STATION": "",
        "KDS_OUTBOX_GIVE_UP_AFTER_SECONDS": "60",
    }
    cfg = load_agent(tmp_path, env=env)
    assert cfg.site_id == "rot-02"
    assert cfg.core.url == "https://core.example.com"
    assert cfg.store.path == tmp_path / "edge.db"
    assert cfg.mq.url.startswith("stomp+ssl://")
    assert MqUrl.parse(cfg.mq.url) == MqUrl("b-1234.mq.eu-west-1.amazonaws.com", 61614, True)
    assert cfg.mq.heartbeat_ms == 2500
    assert cfg.mq.password.reveal() == "mq-secret"
    assert cfg.stations == ("grill", "bar")
    assert cfg.expo_station == ""
    assert cfg.outbox.give_up_after_seconds == 60.0


def test_agent_from_environment_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KDS_SITE_ID", "ams-01")
    monkeypatch.setenv("KDS_CORE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("KDS_CORE_TOKEN", TOKEN)
    monkeypatch.setenv("KDS_STORE_PATH", str(tmp_path / "s.db"))
    cfg = load(AgentConfig, None, secrets=None)  # env defaults to os.environ
    assert cfg.core.token.reveal() == TOKEN
    assert cfg.mq.url == DEFAULT_MQ_URL


def test_env_names() -> None:
    assert env_name(None, "site_id") == "KDS_SITE_ID"
    assert env_name("mq", "heartbeat_ms") == "KDS_MQ_HEARTBEAT_MS"
    assert env_name("core", "url") == "KDS_CORE_URL"


def test_display_config_and_env_overrides(tmp_path: Path) -> None:
    cfg = load_display(tmp_path)
    assert (cfg.site_id, cfg.display_id, cfg.station) == ("ams-01", "grill-1", "grill")
    assert cfg.display.fullscreen is True and cfg.display.font_scale == 1.5
    assert cfg.mq.url == DEFAULT_MQ_URL
    assert not cfg.is_expo
    assert cfg.reply_queue == "/queue/kds.ams-01.replies.grill-1"
    cfg = load_display(
        tmp_path,
        KDS_SITE_ID="rot-02",
        KDS_STATION="expo",
        KDS_DISPLAY_ID="expo-1",
        KDS_MQ_URL="stomp://broker.local",
        KDS_MQ_HEARTBEAT_MS="0",
        KDS_DISPLAY_FULLSCREEN="off",
    )
    assert (cfg.site_id, cfg.station, cfg.display_id) == ("rot-02", "expo", "expo-1")
    assert cfg.is_expo
    assert cfg.mq.heartbeat_ms == 0
    assert MqUrl.parse(cfg.mq.url) == MqUrl("broker.local", 61613, False)
    assert cfg.display.fullscreen is False


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("No", False)],
)
def test_bool_spellings_from_env(tmp_path: Path, text: str, value: bool) -> None:
    assert load_display(tmp_path, KDS_DISPLAY_FULLSCREEN=text).display.fullscreen is value


# --- errors name the key -------------------------------------------------------------------


def test_missing_site_id(tmp_path: Path) -> None:
    err = config_error(lambda: load_agent(tmp_path, AGENT_TOML.replace('site_id = "ams-01"', "")))
    assert err.key == "site_id"
    assert "KDS_SITE_ID" in str(err)


def test_missing_section_key(tmp_path: Path) -> None:
    text = AGENT_TOML.replace('url = "http://127.0.0.1:8700"', "")
    assert config_error(lambda: load_agent(tmp_path, text)).key == "core.url"
    text = AGENT_TOML.replace('path = "/var/lib/ghost-kds/edge.sqlite3"', "")
    assert config_error(lambda: load_agent(tmp_path, text)).key == "store.path"


def test_missing_display_fields(tmp_path: Path) -> None:
    text = DISPLAY_TOML.replace('station = "grill"', "")
    assert config_error(lambda: load_display(tmp_path, text)).key == "station"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"KDS_MQ_HEARTBEAT_MS": "ten"}, "mq.heartbeat_ms"),
        ({"KDS_MQ_HEARTBEAT_MS": "1.5"}, "mq.heartbeat_ms"),
        ({"KDS_MQ_HEARTBEAT_MS": ""}, "mq.heartbeat_ms"),
        ({"KDS_CORE_POLL_WAIT_SECONDS": "soon"}, "core.poll_wait_seconds"),
        ({"KDS_CORE_TIMEOUT_SECONDS": "fast"}, "core.timeout_seconds"),
        ({"KDS_VOID_CLEAR_SECONDS": "x"}, "void_clear_seconds"),
    ],
)
def test_bad_number_from_env_names_key_and_variable(
    tmp_path: Path, env: dict[str, str], key: str
) -> None:
    err = config_error(lambda: load_agent(tmp_path, env={"KDS_CORE_TOKEN": TOKEN, **env}))
    assert err.key.startswith(key)
    (variable,) = env
    assert variable in str(err)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("poll_wait_seconds = 5", 'poll_wait_seconds = "5"', None),  # strings are converted
        ("poll_wait_seconds = 5", "poll_wait_seconds = 5.5", "core.poll_wait_seconds"),
        ("poll_wait_seconds = 5", "poll_wait_seconds = true", "core.poll_wait_seconds"),
        ("poll_wait_seconds = 5", "poll_wait_seconds = 31", "core.poll_wait_seconds"),
        ("poll_wait_seconds = 5", "timeout_seconds = 0", "core.timeout_seconds"),
        ("poll_wait_seconds = 5", "timeout_seconds = true", "core.timeout_seconds"),
        ('site_id = "ams-01"', "site_id = 5", "site_id"),
        ('site_id = "ams-01"', 'site_id = "ams 01"', "site_id"),
        ('stations = ["grill", "fry", "expo"]', "stations = [1, 2]", "stations[0]"),
        ('stations = ["grill", "fry", "expo"]', "stations = 3", "stations"),
        ('stations = ["grill", "fry", "expo"]', "stations = []", "stations"),
        ('stations = ["grill", "fry", "expo"]', 'stations = ["gr ill"]', "stations"),
        ('user = "kds-ams-01"', "heartbeat_ms = 700000", "mq.heartbeat_ms"),
        ('user = "kds-ams-01"', "heartbeat_ms = -1", "mq.heartbeat_ms"),
        ('user = "kds-ams-01"', "reconnect_max_seconds = 0", "mq.reconnect_max_seconds"),
        ('expo_station = "expo"', 'log_level = "LOUD"', "log_level"),
        ('expo_station = "expo"', "void_clear_seconds = -1", "void_clear_seconds"),
        ('path = "/var/lib/ghost-kds/edge.sqlite3"', 'path = ""', "store.path"),
        ('path = "/var/lib/ghost-kds/edge.sqlite3"', "path = 3", "store.path"),
    ],
)
def test_bad_values_in_file_name_the_key(
    tmp_path: Path, old: str, new: str, key: str | None
) -> None:
    assert old in AGENT_TOML
    text = AGENT_TOML.replace(old, new)
    if key is None:
        assert load_agent(tmp_path, text).core.poll_wait_seconds == 5
        return
    assert config_error(lambda: load_agent(tmp_path, text)).key == key


def test_section_given_as_a_value(tmp_path: Path) -> None:
    text = 'mq = "stomp://x"\n' + AGENT_TOML.replace("[mq]", "[outbox]").replace(
        'url = "stomp://127.0.0.1:61613"\nuser = "kds-ams-01"', ""
    )
    err = config_error(lambda: load_agent(tmp_path, text))
    assert err.key == "mq"
    assert "table" in str(err)


def test_outbox_backoff_relation(tmp_path: Path) -> None:
    text = AGENT_TOML + "\n[outbox]\nbackoff_initial_seconds = 10\nbackoff_max_seconds = 5\n"
    assert config_error(lambda: load_agent(tmp_path, text)).key == "outbox.backoff_max_seconds"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"KDS_DISPLAY_FULLSCREEN": "maybe"}, "display.fullscreen"),
        ({"KDS_DISPLAY_FONT_SCALE": "huge"}, "display.font_scale"),
        ({"KDS_DISPLAY_FONT_SCALE": "9"}, "display.font_scale"),
        ({"KDS_DISPLAY_LATE_MINUTES": "1"}, "display.late_minutes"),
        ({"KDS_DISPLAY_CONFIRM_SECONDS": "0"}, "display.confirm_seconds"),
        ({"KDS_DISPLAY_QUEUE_MAX_AGE_SECONDS": "5"}, "display.queue_max_age_seconds"),
        ({"KDS_STATION": "gr ill"}, "station"),
        ({"KDS_DISPLAY_ID": ""}, "display_id"),
    ],
)
def test_display_errors_name_the_key(tmp_path: Path, env: dict[str, str], key: str) -> None:
    assert config_error(lambda: load_display(tmp_path, **env)).key.startswith(key)


def test_bad_bool_in_file(tmp_path: Path) -> None:
    for value in ('"maybe"', "1", "0.0"):
        text = DISPLAY_TOML.replace("fullscreen = true", f"fullscreen = {value}")
        assert config_error(lambda t=text: load_display(tmp_path, t)).key == "display.fullscreen"


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    err = config_error(lambda: load_agent(tmp_path, 'sit_id = "typo"\n' + AGENT_TOML))
    assert err.key == "sit_id"
    assert "unknown" in str(err)


def test_unknown_section_is_named(tmp_path: Path) -> None:
    err = config_error(lambda: load_agent(tmp_path, AGENT_TOML + "\n[cores]\nurl = 'x'\n"))
    assert err.key == "cores"


def test_unknown_key_in_section_is_named(tmp_path: Path) -> None:
    text = AGENT_TOML.replace("poll_wait_seconds = 5", "poll_wait_secs = 5")
    assert config_error(lambda: load_agent(tmp_path, text)).key == "core.poll_wait_secs"
    text = DISPLAY_TOML + "colour = 'red'\n"
    assert config_error(lambda: load_display(tmp_path, text)).key == "display.colour"


def test_agent_sections_are_unknown_to_the_display(tmp_path: Path) -> None:
    text = DISPLAY_TOML.replace("[display]", "[core]\nurl = 'http://x'\n[display]")
    assert config_error(lambda: load_display(tmp_path, text)).key == "core"


@pytest.mark.parametrize(
    ("section_line", "line", "key", "variable"),
    [
        ("[core]", f'token = "{TOKEN}"', "core.token", "KDS_CORE_TOKEN"),
        ("[mq]", 'password = "hunter2"', "mq.password", "KDS_MQ_PASSWORD"),
    ],
)
def test_secret_in_file_is_refused(
    tmp_path: Path, section_line: str, line: str, key: str, variable: str
) -> None:
    text = AGENT_TOML.replace(section_line, f"{section_line}\n{line}")
    err = config_error(lambda: load_agent(tmp_path, text))
    assert err.key == key
    assert "secret" in str(err) and variable in str(err)
    assert TOKEN not in str(err) and "hunter2" not in str(err)


def test_secret_in_display_file_is_refused(tmp_path: Path) -> None:
    text = DISPLAY_TOML + '\n[mq]\npassword = "hunter2"\n'
    assert config_error(lambda: load_display(tmp_path, text)).key == "mq.password"


@pytest.mark.parametrize("env", [{}, {"KDS_CORE_TOKEN": ""}])
def test_missing_token(tmp_path: Path, env: dict[str, str]) -> None:
    err = config_error(lambda: load_agent(tmp_path, env=env))
    assert err.key == "core.token"
    assert "set-secret core.token" in str(err) and "KDS_CORE_TOKEN" in str(err)


def test_missing_token_when_lookup_has_none(tmp_path: Path) -> None:
    err = config_error(lambda: load_agent(tmp_path, env={}, secrets=lambda name: None))
    assert err.key == "core.token"


@pytest.mark.parametrize(
    "url", ["ftp://core.example.com", "core.example.com", "https://", "stomp://core:1", ""]
)
def test_bad_core_url(tmp_path: Path, url: str) -> None:
    env = {"KDS_CORE_TOKEN": TOKEN, "KDS_CORE_URL": url}
    assert config_error(lambda: load_agent(tmp_path, env=env)).key == "core.url"


@pytest.mark.parametrize(
    "url",
    ["http://broker:61613", "tcp://broker:61613", "broker:61613", "stomp://", "stomp://h:99999"],
)
def test_bad_mq_url(tmp_path: Path, url: str) -> None:
    env = {"KDS_CORE_TOKEN": TOKEN, "KDS_MQ_URL": url}
    assert config_error(lambda: load_agent(tmp_path, env=env)).key == "mq.url"
    assert config_error(lambda: load_display(tmp_path, KDS_MQ_URL=url)).key == "mq.url"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("stomp://127.0.0.1:61613", MqUrl("127.0.0.1", 61613, False)),
        ("stomp://broker", MqUrl("broker", 61613, False)),
        ("stomp+ssl://broker", MqUrl("broker", 61614, True)),
        ("stomp+tls://broker:7000", MqUrl("broker", 7000, True)),
        ("ssl://broker", MqUrl("broker", 61614, True)),
    ],
)
def test_mq_url_parse(url: str, expected: MqUrl) -> None:
    assert MqUrl.parse(url) == expected


def test_expo_station_must_be_a_station(tmp_path: Path) -> None:
    text = AGENT_TOML.replace('expo_station = "expo"', 'expo_station = "pass"')
    err = config_error(lambda: load_agent(tmp_path, text))
    assert err.key == "expo_station"
    assert "pass" in str(err)
    no_expo = AGENT_TOML.replace('expo_station = "expo"', 'expo_station = ""')
    assert load_agent(tmp_path, no_expo).expo_station == ""


def test_bad_toml_syntax(tmp_path: Path) -> None:
    err = config_error(lambda: load_agent(tmp_path, AGENT_TOML + "\nthis is = = not toml\n"))
    assert err.key == "--config"
    assert "TOML" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    err = config_error(lambda: load(AgentConfig, missing, env={}, secrets=None))
    assert err.key == "--config"
    assert str(missing) in str(err)


def test_config_path_is_a_directory(tmp_path: Path) -> None:
    err = config_error(lambda: load(AgentConfig, tmp_path, env={}, secrets=None))
    assert err.key == "--config"


# --- secrets -------------------------------------------------------------------------------


def test_secret_never_shows_itself() -> None:
    secret = Secret(TOKEN)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert TOKEN not in text
        assert "********" in text
    assert secret.reveal() == TOKEN
    assert bool(secret) and not Secret("")
    assert repr(Secret("")) == "Secret('')"
    assert secret == Secret(TOKEN) and secret != Secret("other") and secret != TOKEN
    assert hash(secret) == hash(Secret(TOKEN))


def test_repr_of_whole_config_hides_secrets(tmp_path: Path) -> None:
    cfg = load_agent(tmp_path, env={"KDS_CORE_TOKEN": TOKEN, "KDS_MQ_PASSWORD": "hunter2"})
    for text in (repr(cfg), str(cfg), repr(cfg.core), repr(cfg.mq)):
        assert TOKEN not in text and "hunter2" not in text
    assert "Secret('********')" in repr(cfg)


def test_secrets_from_lookup_callable(tmp_path: Path) -> None:
    asked: list[str] = []

    def lookup(name: str) -> str | None:
        asked.append(name)
        return {"core.token": "from-lookup", "mq.password": "mq-from-lookup"}.get(name)

    cfg = load_agent(tmp_path, env={}, secrets=lookup)
    assert cfg.core.token.reveal() == "from-lookup"
    assert cfg.mq.password.reveal() == "mq-from-lookup"
    assert sorted(asked) == [
        "core.token",
        "mq.password",
        "sns.aws_access_key_id",
        "sns.aws_secret_access_key",
    ]


def test_environment_wins_over_lookup(tmp_path: Path) -> None:
    cfg = load_agent(tmp_path, env={"KDS_CORE_TOKEN": "env"}, secrets=lambda name: "lookup")
    assert cfg.core.token.reveal() == "env"
    assert cfg.mq.password.reveal() == "lookup"


def test_lookup_failure_only_matters_for_required_secrets(tmp_path: Path) -> None:
    from shared.errors import SecretError

    def broken(name: str) -> str | None:
        raise SecretError(f"no keyring for {name}")

    cfg = load_agent(tmp_path, env={"KDS_CORE_TOKEN": TOKEN}, secrets=broken)
    assert cfg.mq.password == Secret("")
    with pytest.raises(SecretError):
        load_agent(tmp_path, env={}, secrets=broken)


def test_keyring_store_and_lookup(test_keyring: object, tmp_path: Path) -> None:
    assert keyring_lookup("core.token") is None
    store_secret("core.token", "kr-token")
    store_secret("mq.password", "kr-password")
    assert keyring_lookup("core.token") == "kr-token"
    cfg = load_agent(tmp_path, env={}, secrets=keyring_lookup)
    assert cfg.core.token.reveal() == "kr-token"
    assert cfg.mq.password.reveal() == "kr-password"
    # keyring_lookup is the default source of secrets
    assert load(AgentConfig, write(tmp_path, AGENT_TOML), env={}).core.token.reveal() == "kr-token"
    assert "kr-token" not in repr(cfg)


def test_keyring_without_the_secret(test_keyring: object, tmp_path: Path) -> None:
    err = config_error(lambda: load_agent(tmp_path, env={}, secrets=keyring_lookup))
    assert err.key == "core.token"


# --- TLS: the core over https, the broker's certificate ------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://core.example.com", "http://10.0.0.5:8700", "http://128.0.0.1", "http://[::2]:80"],
)
def test_core_url_must_be_https_off_this_machine(tmp_path: Path, url: str) -> None:
    env = {"KDS_CORE_TOKEN": TOKEN, "KDS_CORE_URL": url}
    err = config_error(lambda: load_agent(tmp_path, env=env))
    assert err.key == "core.url"
    assert "https://" in err.problem and url in err.problem


@pytest.mark.parametrize(
    "url",
    [
        "https://core.example.com",
        "http://127.0.0.1:8700",
        "http://127.4.5.6",
        "http://localhost:8700",
        "http://LOCALHOST",
        "http://[::1]:8700",
    ],
)
def test_core_url_may_be_http_on_loopback(tmp_path: Path, url: str) -> None:
    env = {"KDS_CORE_TOKEN": TOKEN, "KDS_CORE_URL": url}
    assert load_agent(tmp_path, env=env).core.url == url


@pytest.fixture(scope="module")
def pems(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA certificate, client certificate, client key), made with openssl."""
    from tests.helpers.tls import CertAuthority

    ca = CertAuthority.create(tmp_path_factory.mktemp("pems"), "config test CA")
    client = ca.issue("client", ["kds-client"])
    return ca.cert, client.cert, client.key


TLS_MQ = "stomp+ssl://broker.example.com:61614"


def test_mq_tls_keys_from_file_and_environment(
    tmp_path: Path, pems: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = pems
    text = AGENT_TOML.replace('url = "stomp://127.0.0.1:61613"', f'url = "{TLS_MQ}"')
    text += f'cert_file = "{cert}"\nkey_file = "{key}"\n'
    agent = load_agent(tmp_path, text, env={"KDS_CORE_TOKEN": TOKEN, "KDS_MQ_CA_FILE": str(ca)})
    assert (agent.mq.ca_file, agent.mq.cert_file, agent.mq.key_file) == (ca, cert, key)
    assert agent.mq.insecure_skip_verify is False
    display = load_display(tmp_path, KDS_MQ_URL=TLS_MQ, KDS_MQ_CA_FILE=str(ca))
    assert display.mq.tls.ca_file == ca
    assert load_display(tmp_path).mq.ca_file is None  # default: the system's CA store


@pytest.mark.parametrize(
    ("env", "key", "words"),
    [
        ({"KDS_MQ_CA_FILE": "/nonexistent/ca.pem"}, "mq.ca_file", "/nonexistent/ca.pem"),
        ({"KDS_MQ_CA_FILE": "{key}"}, "mq.ca_file", "cannot read CA certificates"),
        ({"KDS_MQ_CERT_FILE": "{ca}"}, "mq.cert_file", "no PEM private key"),
        ({"KDS_MQ_CERT_FILE": "{key}"}, "mq.cert_file", "no PEM certificate"),
        ({"KDS_MQ_CERT_FILE": "/nonexistent/c.pem"}, "mq.cert_file", "cannot read"),
        (
            {"KDS_MQ_CERT_FILE": "{cert}", "KDS_MQ_KEY_FILE": "{ca}"},
            "mq.key_file",
            "no PEM private key",
        ),
        ({"KDS_MQ_KEY_FILE": "{key}"}, "mq.key_file", "needs mq.cert_file"),
        ({"KDS_MQ_INSECURE_SKIP_VERIFY": "maybe"}, "mq.insecure_skip_verify", "true or false"),
        ({"KDS_MQ_URL": "stomp://b:61613", "KDS_MQ_CA_FILE": "{ca}"}, "mq.ca_file", "stomp+ssl"),
        (
            {"KDS_MQ_URL": "stomp://b:61613", "KDS_MQ_INSECURE_SKIP_VERIFY": "true"},
            "mq.insecure_skip_verify",
            "stomp+ssl",
        ),
    ],
)
def test_bad_mq_tls_key_is_named(
    tmp_path: Path, pems: tuple[Path, Path, Path], env: dict[str, str], key: str, words: str
) -> None:
    ca, cert, pem_key = pems
    values = {k: v.format(ca=ca, cert=cert, key=pem_key) for k, v in env.items()}
    values = {"KDS_MQ_URL": TLS_MQ, **values}
    err = config_error(lambda: load_display(tmp_path, **values))
    assert err.key.split(" ")[0] == key  # "(from KDS_...)" when the variable is the bad value
    assert words in err.problem
    agent_err = config_error(lambda: load_agent(tmp_path, env={"KDS_CORE_TOKEN": TOKEN, **values}))
    assert agent_err.key.split(" ")[0] == key
