"""Secrets masked in logs, tracebacks and error messages (shared.redact)."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from shared import redact
from shared.config import Secret, load, secret_field
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "mq+Pw/7Rt8Vn2Lk6Jz=S"
SHORT = "k3y9"


@pytest.fixture
def installed() -> Iterator[None]:
    """:func:`redact.install` for this test only (tests share one process)."""
    redact.install()
    try:
        yield
    finally:
        redact.uninstall()


def test_a_secret_is_masked_raw_and_as_a_log_would_show_it() -> None:
    Secret(PASSWORD)
    for shown in (PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD), json.dumps(PASSWORD)):
        text = redact.redact(f"sending passcode:{shown}\\n and more")
        assert PASSWORD not in text and shown not in text, shown
        assert redact.MASK in text
    # glued to other text it is still masked: a secret this long is no coincidence
    assert redact.redact(f"got '{PASSWORD}x'") == f"got '{redact.MASK}x'"


def test_a_repr_of_a_secret_with_quotes_and_backslashes_is_masked() -> None:
    odd = "pa'ss\\wo\"rd-1234"
    Secret(odd)
    for text in (repr(odd), repr(odd.encode()), f"{odd!r:}"):
        assert odd not in redact.redact(text)
        assert redact.MASK in redact.redact(text), text


def test_a_short_secret_only_where_it_stands_alone() -> None:
    Secret(SHORT)
    assert (
        redact.redact(f"token {SHORT}, again:{SHORT}")
        == f"token {redact.MASK}, again:{redact.MASK}"
    )
    assert redact.redact(f"x{SHORT}y") == f"x{SHORT}y"  # part of another word


def test_too_short_a_value_is_never_masked() -> None:
    Secret("pw")
    Secret("")
    assert redact.redact("pw: the password is pw") == "pw: the password is pw"


def test_installed_every_log_record_is_masked_message_and_traceback(
    installed: None, caplog: pytest.LogCaptureFixture
) -> None:
    Secret(PASSWORD)
    log = logging.getLogger("tests.redact.library")  # a library's logger, at DEBUG
    with caplog.at_level(logging.DEBUG):
        log.debug("headers: %s", {"Authorization": f"AWS4 Credential={PASSWORD}/2026"})
        try:
            raise ValueError(f"refused {PASSWORD}")
        except ValueError:
            log.exception("failed with %r", PASSWORD)
    assert PASSWORD not in caplog.text
    assert caplog.text.count(redact.MASK) == 3
    [first, second] = caplog.records
    assert (
        first.getMessage() == f"headers: {{'Authorization': 'AWS4 Credential={redact.MASK}/2026'}}"
    )
    assert second.exc_text is not None and "ValueError: refused ********" in second.exc_text


def test_installed_twice_is_installed_once(installed: None) -> None:
    factory = logging.getLogRecordFactory()
    redact.install()
    assert logging.getLogRecordFactory() is factory


def test_uncaught_exceptions_are_masked(
    installed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    Secret(PASSWORD)
    try:
        raise RuntimeError(f"password {PASSWORD} refused")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)

    def fail() -> None:
        raise RuntimeError(f"thread saw {PASSWORD}")

    thread = threading.Thread(target=fail, name="worker")
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert PASSWORD not in err
    assert "RuntimeError: password ******** refused" in err
    assert "Exception in thread worker" in err and "thread saw ********" in err


def test_a_program_s_uncaught_traceback_is_masked() -> None:
    """A whole process: the composition root installs the redaction first thing."""
    code = (
        "from shared import redact; from shared.config import Secret; redact.install(); "
        f"Secret({PASSWORD!r}); raise SystemError('broker refused ' + {PASSWORD!r})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "SystemError: broker refused ********" in result.stderr
    assert PASSWORD not in result.stderr
    assert base64.b64encode(PASSWORD.encode()).decode() not in result.stderr


@dataclass(frozen=True)
class _Printer:
    url: str = ""
    api_key: Secret = secret_field()


@dataclass(frozen=True)
class _Settings:
    """A setting that is read before the secrets (so it fails before they are found)."""

    retries: int = 1
    password: Secret = secret_field()
    printers: dict[str, _Printer] = field(default_factory=dict)


def test_a_secret_pasted_into_the_wrong_setting_is_masked_in_the_error() -> None:
    """The loader looks every secret up after a config error (here: before it reached
    them), so what a program prints of the error quoting the value is masked."""
    redact.forget_all()
    env = {"KDS_RETRIES": PASSWORD, "KDS_PASSWORD": PASSWORD}
    with pytest.raises(ConfigError) as info:
        load(_Settings, None, env=env, secrets=None)
    assert PASSWORD in str(info.value)  # the error says what was wrong...
    assert redact.redact(str(info.value)) == (
        f"config error: retries (from KDS_RETRIES): must be an integer, got '{redact.MASK}'"
    )  # ...and what a program prints of it does not show the secret


def test_secrets_of_the_lookup_and_of_named_sections_are_masked_after_a_config_error(
    tmp_path: Path,
) -> None:
    redact.forget_all()
    key = "pos-key-5d0c-not-for-logs"
    looked_up: list[str] = []

    def lookup(name: str) -> str | None:
        looked_up.append(name)
        return PASSWORD if name == "password" else None

    config = tmp_path / "settings.toml"
    config.write_text(f'retries = "{PASSWORD} {key}"\n[printers.grill]\nurl = "x"\n')
    env = {"KDS_PRINTERS_BAR_API_KEY": key}
    with pytest.raises(ConfigError) as info:
        load(_Settings, config, env=env, secrets=lookup)
    assert looked_up == ["password", "printers.grill.api_key"]  # bar's is in the environment
    assert redact.redact(str(info.value)).endswith(f"got '{redact.MASK} {redact.MASK}'")
