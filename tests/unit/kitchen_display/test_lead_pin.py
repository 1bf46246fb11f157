"""The lead PIN's stored form (a salted scrypt hash), its rule, the growing wait after
wrong PINs, and ``kitchen-display set-pin`` with a file keyring."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import keyring
import pytest

from kitchen_display.app import main
from kitchen_display.config import DisplayConfig
from kitchen_display.lead_pin import (
    FIRST_DELAY_SECONDS,
    MAX_DELAY_SECONDS,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    AttemptLimiter,
    PinError,
    PinFormatError,
    check_rule,
    hash_pin,
    parse_stored,
    verify_pin,
)
from shared.config import KEYRING_SERVICE, load

PIN = "482916"


def test_a_hash_checks_its_pin_and_no_other() -> None:
    stored = hash_pin(PIN)
    assert PIN not in stored
    parsed = parse_stored(stored)
    assert verify_pin(parsed, PIN)
    assert verify_pin(parsed, f" {PIN}\n")  # what a keypad or a paste leaves around it
    for wrong in ("482917", "4829160", "48291", "", "abcdef"):
        assert not verify_pin(parsed, wrong), wrong


def test_the_stored_form_names_its_parameters() -> None:
    scheme, n, r, p, salt, digest = hash_pin(PIN).split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, SCRYPT_R, SCRYPT_P)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_pin(PIN), hash_pin(PIN)
    assert first != second
    assert parse_stored(first).salt != parse_stored(second).salt
    assert verify_pin(parse_stored(second), PIN)


def test_a_tampered_hash_never_lets_the_pin_in() -> None:
    scheme, n, r, p, salt, digest = hash_pin(PIN).split("$")
    raw = base64.b64decode(digest)
    other_digest = base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode()
    for changed in (
        "$".join((scheme, n, r, p, salt, other_digest)),  # another hash
        "$".join((scheme, str(int(n) * 2), r, p, salt, digest)),  # other parameters
        "$".join((scheme, n, r, p, base64.b64encode(b"x" * 16).decode(), digest)),
    ):
        assert not verify_pin(parse_stored(changed), PIN)


@pytest.mark.parametrize(
    ("stored", "says"),
    [
        ("123456", "not a hash"),  # a plain-text PIN from before hashing
        ("4321", "not a hash"),
        ("pbkdf2$1$2$3$4$5", "not a hash"),
        ("scrypt$16384$8$1$c2FsdA==", "5 fields"),
        ("scrypt$lots$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44, "unreadable field"),
        ("scrypt$16384$8$1$!!!$" + "A" * 44, "unreadable field"),
        ("scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44, "n=1000"),
        ("scrypt$" + str(2**30) + "$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44, "n=1073741824"),
        ("scrypt$16384$99$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44, "r=99"),
        ("scrypt$16384$8$1$AAAA$" + "A" * 44, "too short"),
    ],
)
def test_a_stored_value_that_is_not_a_sound_hash_is_refused(stored: str, says: str) -> None:
    with pytest.raises(PinFormatError, match=says) as caught:
        parse_stored(stored)
    assert "4321" not in str(caught.value) and "123456" not in str(caught.value)


@pytest.mark.parametrize("pin", ["", "12345", "12345a", "123 456", "١٢٣٤٥٦", "1" * 33, "-12345"])
def test_the_rule_is_six_or_more_digits(pin: str) -> None:
    with pytest.raises(PinError, match="6 to 32 digits"):
        check_rule(pin)
    with pytest.raises(PinError):
        hash_pin(pin)


def test_the_rule_accepts_six_digits_and_more() -> None:
    for pin in ("000000", "1234567890", "9" * 32):
        check_rule(pin)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_pins_earn_a_doubling_wait_capped_and_reset_by_the_right_one() -> None:
    clock = Clock()
    limiter = AttemptLimiter(clock)
    assert limiter.failed() == 0 and limiter.failed() == 0
    assert limiter.wait_seconds() == 0
    delays = []
    for _ in range(10):
        delays.append(limiter.failed())
        clock.now += delays[-1]
    assert delays[:4] == [FIRST_DELAY_SECONDS, 10.0, 20.0, 40.0]
    assert max(delays) == MAX_DELAY_SECONDS == delays[-1]

    limiter.failed()
    clock.now += 100
    assert limiter.wait_seconds() == MAX_DELAY_SECONDS - 100
    limiter.succeeded()
    assert limiter.wait_seconds() == 0 and limiter.failures == 0
    assert limiter.failed() == 0  # three free tries again


def set_pin(monkeypatch: pytest.MonkeyPatch, *argv: str, typed: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    return main(["set-pin", *argv])


def test_set_pin_stores_only_a_hash_the_display_then_checks(
    test_keyring: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert set_pin(monkeypatch, typed=f"{PIN}\n{PIN}\n") == 0
    out, err = capsys.readouterr()
    assert out == "stored display.lead_pin (a salted scrypt hash) in the keyring\n"
    assert PIN not in out + err
    stored = keyring.get_password(KEYRING_SERVICE, "display.lead_pin")
    assert stored is not None and stored.startswith("scrypt$") and PIN not in stored
    config_file = tmp_path / "display.toml"
    config_file.write_text('site_id = "a"\ndisplay_id = "g1"\nstation = "grill"\n')
    config = load(DisplayConfig, config_file, env={})
    assert "keyring" in config.display.lead_pin.source
    assert verify_pin(parse_stored(config.display.lead_pin.reveal()), PIN)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("12345\n12345\n", "a lead PIN is 6 to 32 digits (0-9 only)"),
        ("12345x\n12345x\n", "a lead PIN is 6 to 32 digits (0-9 only)"),
        (f"{PIN}\n{PIN[::-1]}\n", "the two PINs differ"),
        (f"{PIN}\n", "the two PINs differ"),  # stdin ended before the second
    ],
)
def test_set_pin_refuses_a_bad_pin_and_stores_nothing(
    test_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    typed: str,
    says: str,
) -> None:
    assert set_pin(monkeypatch, typed=typed) == 2
    out, err = capsys.readouterr()
    assert err == f"kitchen-display set-pin: {says}; nothing stored\n"
    assert out == ""
    assert keyring.get_password(KEYRING_SERVICE, "display.lead_pin") is None


def test_set_pin_print_gives_the_hash_for_the_environment_or_a_credential(
    test_keyring: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set_pin(monkeypatch, "--print", typed=f"{PIN}\n{PIN}\n") == 0
    out, _err = capsys.readouterr()
    assert verify_pin(parse_stored(out.strip()), PIN)
    assert keyring.get_password(KEYRING_SERVICE, "display.lead_pin") is None


def test_set_pin_says_when_the_keyring_refuses(
    no_keyring: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set_pin(monkeypatch, typed=f"{PIN}\n{PIN}\n") == 2
    err = capsys.readouterr().err
    assert err.startswith("kitchen-display set-pin: cannot store display.lead_pin in the keyring")
    assert err.endswith("; nothing stored\n") and PIN not in err
