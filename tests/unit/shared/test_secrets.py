"""Every source of a secret, through the one lookup both programs use (shared.config).

In order: the environment (``KDS_CORE_TOKEN``), the service manager's credentials
(``$CREDENTIALS_DIRECTORY/core.token``, systemd's ``LoadCredentialEncrypted=``), the
OS keyring (keyrings.alt's file backends here; keyring's ``fail`` backend is what a
headless box without a Secret Service has). Each found secret names its source, and
no value ever reaches a log or a ``repr``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keyring
import pytest

from edge_agent.config import AgentConfig
from kitchen_display.config import DisplayConfig
from shared.config import Secret, load, secret_lookup, secrets_of, store_secret
from shared.errors import ConfigError, SecretError

TOKEN = "tok-3f9a-very-secret"
MQ_PASSWORD = "mq-pw-77e1-secret"
PIN = "903172"
AGENT_TOML = """
site_id = "ams-01"
stations = ["grill", "expo"]
[core]
url = "http://127.0.0.1:8700"
[store]
path = "/tmp/edge.sqlite3"
[mq]
user = "kds-ams-01"
[printers.grill]
url = "http://127.0.0.1:9/print"
"""
DISPLAY_TOML = 'site_id = "ams-01"\ndisplay_id = "grill-1"\nstation = "grill"\n'


@pytest.fixture
def agent_toml(tmp_path: Path) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(AGENT_TOML, encoding="utf-8")
    return path


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``$CREDENTIALS_DIRECTORY``, as systemd makes it for the service."""
    directory = tmp_path / "credentials"
    directory.mkdir(mode=0o700)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    return directory


@pytest.fixture(autouse=True)
def _no_outside_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    for name in ("KDS_CORE_TOKEN", "KDS_MQ_PASSWORD", "KDS_DISPLAY_LEAD_PIN"):
        monkeypatch.delenv(name, raising=False)


def load_agent(path: Path, env: dict[str, str] | None = None) -> AgentConfig:
    """With the default lookup, as ``edge-agent run`` and ``doctor`` load it."""
    return load(AgentConfig, path, env={} if env is None else env)


# --- each source ------------------------------------------------------------------------


def test_from_the_environment(agent_toml: Path, test_keyring: object) -> None:
    cfg = load_agent(agent_toml, {"KDS_CORE_TOKEN": TOKEN, "KDS_MQ_PASSWORD": MQ_PASSWORD})
    assert cfg.core.token.reveal() == TOKEN
    assert cfg.core.token.source == "the environment (KDS_CORE_TOKEN)"
    assert cfg.mq.password.reveal() == MQ_PASSWORD
    assert cfg.mq.password.source == "the environment (KDS_MQ_PASSWORD)"


def test_from_systemd_credentials(
    agent_toml: Path, credentials: Path, test_keyring: object
) -> None:
    # systemd-creds writes the value as given; a trailing newline from `echo` is dropped
    (credentials / "core.token").write_text(TOKEN + "\n", encoding="utf-8")
    (credentials / "printers.grill.api_key").write_text("pos-key-1", encoding="utf-8")
    cfg = load_agent(agent_toml)
    assert cfg.core.token.reveal() == TOKEN
    assert cfg.core.token.source == "the service credentials ($CREDENTIALS_DIRECTORY/core.token)"
    assert cfg.printers["grill"].api_key.reveal() == "pos-key-1"
    assert not cfg.mq.password  # not in the directory, not in the keyring: not set


@pytest.mark.parametrize("backend", ["plaintext", "multipart"])
def test_from_a_keyrings_alt_keyring(agent_toml: Path, test_keyring: object, backend: str) -> None:
    if backend == "multipart":
        # keyrings.alt's wrapper that splits long values over several entries
        from keyrings.alt.multi import MultipartKeyringWrapper

        keyring.set_keyring(MultipartKeyringWrapper(test_keyring, max_password_size=64))
    long_password = MQ_PASSWORD * 20
    store_secret("core.token", TOKEN)
    store_secret("mq.password", long_password)
    cfg = load_agent(agent_toml)
    assert cfg.core.token.reveal() == TOKEN
    assert cfg.core.token.source == "the keyring (service ghost-kds)"
    assert cfg.mq.password.reveal() == long_password
    if backend == "multipart":  # it really was stored in parts
        assert test_keyring.get_password("ghost-kds", "mq.password") != long_password  # type: ignore[attr-defined]


def test_the_display_uses_the_same_chain(
    tmp_path: Path, credentials: Path, test_keyring: object
) -> None:
    (credentials / "display.lead_pin").write_text(PIN, encoding="utf-8")
    path = tmp_path / "display.toml"
    path.write_text(DISPLAY_TOML, encoding="utf-8")
    cfg = load(DisplayConfig, path, env={})
    assert cfg.display.lead_pin.reveal() == PIN
    assert "CREDENTIALS_DIRECTORY" in cfg.display.lead_pin.source


def test_environment_then_credentials_then_keyring(
    agent_toml: Path, credentials: Path, test_keyring: object
) -> None:
    store_secret("core.token", "from-keyring")
    assert load_agent(agent_toml).core.token.reveal() == "from-keyring"
    (credentials / "core.token").write_text("from-credentials", encoding="utf-8")
    assert load_agent(agent_toml).core.token.reveal() == "from-credentials"
    env = {"KDS_CORE_TOKEN": "from-env"}
    assert load_agent(agent_toml, env).core.token.reveal() == "from-env"


def test_secret_lookup_is_the_chain_after_the_environment(
    credentials: Path, test_keyring: object
) -> None:
    assert secret_lookup("core.token") is None
    store_secret("core.token", "k")
    found = secret_lookup("core.token")
    assert isinstance(found, Secret) and found.reveal() == "k"
    assert "keyring" in found.source


# --- when it is not there -----------------------------------------------------------------


def test_missing_required_secret_names_the_key_and_both_fixes(
    agent_toml: Path, credentials: Path, test_keyring: object
) -> None:
    with pytest.raises(ConfigError) as info:
        load_agent(agent_toml)
    assert info.value.key == "core.token"
    assert "set-secret core.token" in info.value.problem
    assert "KDS_CORE_TOKEN" in info.value.problem


def test_no_keyring_backend_is_an_error_only_for_required_secrets(
    agent_toml: Path, no_keyring: object
) -> None:
    with pytest.raises(SecretError) as info:
        load_agent(agent_toml)
    assert "keyring unavailable for core.token" in str(info.value)
    # the token from elsewhere: the optional secrets are simply not set
    cfg = load_agent(agent_toml, {"KDS_CORE_TOKEN": TOKEN})
    assert cfg.core.token.reveal() == TOKEN and not cfg.mq.password


def test_credentials_win_over_a_broken_keyring(
    agent_toml: Path, credentials: Path, no_keyring: object
) -> None:
    (credentials / "core.token").write_text(TOKEN, encoding="utf-8")
    assert load_agent(agent_toml).core.token.reveal() == TOKEN


def test_unreadable_credential_is_a_secret_error(
    agent_toml: Path, credentials: Path, test_keyring: object
) -> None:
    (credentials / "core.token").mkdir()  # not a file: reading it fails
    with pytest.raises(SecretError) as info:
        load_agent(agent_toml)
    assert "cannot read credential core.token" in str(info.value)


def test_empty_credential_file_falls_through_to_the_keyring(
    agent_toml: Path, credentials: Path, test_keyring: object
) -> None:
    (credentials / "core.token").write_text("\n", encoding="utf-8")
    store_secret("core.token", TOKEN)
    assert load_agent(agent_toml).core.token.source == "the keyring (service ghost-kds)"


# --- what is said about them ----------------------------------------------------------------


def test_secrets_of_lists_every_secret_setting(agent_toml: Path) -> None:
    cfg = load_agent(agent_toml, {"KDS_CORE_TOKEN": TOKEN, "KDS_PRINTERS_GRILL_API_KEY": "k"})
    found = dict(secrets_of(cfg))
    assert list(found) == [
        "core.token",
        "mq.password",
        "printers.grill.api_key",
        "sns.aws_access_key_id",
        "sns.aws_secret_access_key",
    ]
    assert found["core.token"].source == "the environment (KDS_CORE_TOKEN)"
    assert not found["mq.password"] and found["mq.password"].source == ""


def test_source_takes_no_part_in_equality() -> None:
    assert Secret("x", "the keyring") == Secret("x", "the environment (KDS_X)")
    assert repr(Secret("x", "the keyring")) == "Secret('********')"


def test_no_value_reaches_a_log_or_a_repr(
    agent_toml: Path,
    credentials: Path,
    test_keyring: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (credentials / "core.token").write_text(TOKEN, encoding="utf-8")
    store_secret("mq.password", MQ_PASSWORD)
    with caplog.at_level(logging.DEBUG):
        cfg = load_agent(agent_toml, {"KDS_PRINTERS_GRILL_API_KEY": PIN})
        logging.getLogger("test").info("config: %s %r", cfg, cfg.core.token)
    assert cfg.core.token.reveal() == TOKEN and cfg.mq.password.reveal() == MQ_PASSWORD
    said = caplog.text + repr(cfg) + str(cfg) + repr(dict(secrets_of(cfg)))
    said += " ".join(secret.source for _, secret in secrets_of(cfg))
    for value in (TOKEN, MQ_PASSWORD, PIN):
        assert value not in said
