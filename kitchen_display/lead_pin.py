"""The lead PIN as it is stored, checked and throttled (plain Python, no Qt).

A lead PIN is at least :data:`MIN_DIGITS` ASCII digits. Only a salted scrypt hash of
it is ever stored (keyring ``display.lead_pin``, the service credential or
``KDS_DISPLAY_LEAD_PIN``), in a self-describing form::

    scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>

:func:`hash_pin` makes that form (``kitchen-display set-pin`` stores it) and
:func:`verify_pin` checks a typed PIN against it in constant time. A stored value
that is not that form (a plain-text PIN from before hashing) is refused with
:class:`PinFormatError`, never compared: the admin sets the PIN again.

:class:`AttemptLimiter` is the growing delay: :data:`FREE_ATTEMPTS` wrong PINs in a
row, then a wait of :data:`FIRST_DELAY_SECONDS` that doubles with every further wrong
PIN, up to :data:`MAX_DELAY_SECONDS`; the right PIN resets it.

:func:`set_pin_command` is ``kitchen-display set-pin``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import getpass
import hashlib
import hmac
import re
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.config import store_secret
from shared.errors import KdsError, SecretError

#: the fewest digits a lead PIN may have
MIN_DIGITS = 6
#: the most digits (a typing slip, not a PIN, beyond this)
MAX_DIGITS = 32
#: scrypt's cost parameters for new hashes: n=2**14, r=8 takes 16 MiB and 60-110 ms
#: on the test machine (bench/bench_lead_pin.py, docs/bench.md)
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
#: the name that starts the stored form
SCHEME = "scrypt"
#: what a stored form may ask for at most (a tampered one must not eat the memory)
MAX_SCRYPT_N = 2**20
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16

#: wrong PINs in a row before the first delay
FREE_ATTEMPTS = 3
#: the first delay; each further wrong PIN doubles it
FIRST_DELAY_SECONDS = 5.0
#: the delay never grows beyond this
MAX_DELAY_SECONDS = 300.0

_DIGITS = re.compile(rf"[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}")


class PinError(KdsError):
    """A lead PIN does not follow the rule (too short, not only digits)."""


class PinFormatError(KdsError):
    """A stored lead PIN is not a hash this program can check (plain text, tampered)."""


def check_rule(pin: str) -> None:
    """Raise :class:`PinError` unless ``pin`` is :data:`MIN_DIGITS`..:data:`MAX_DIGITS`
    digits 0-9."""
    if not _DIGITS.fullmatch(pin):
        raise PinError(f"a lead PIN is {MIN_DIGITS} to {MAX_DIGITS} digits (0-9 only)")


@dataclass(frozen=True)
class StoredPin:
    """The parsed stored form."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def derive(self, pin: str) -> bytes:
        return _scrypt(pin, self.salt, self.n, self.r, self.p, len(self.digest))

    def __str__(self) -> str:
        return "$".join(
            (SCHEME, str(self.n), str(self.r), str(self.p), _b64(self.salt), _b64(self.digest))
        )


def hash_pin(pin: str) -> str:
    """The stored form of ``pin`` (a new random salt each time); :class:`PinError` when
    it breaks the rule."""
    check_rule(pin)
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return str(StoredPin(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, digest))


def parse_stored(stored: str) -> StoredPin:
    """Parse the stored form, or raise :class:`PinFormatError` saying what is wrong
    (never showing the value: it may be a plain-text PIN)."""
    parts = stored.strip().split("$")
    if parts[0] != SCHEME:
        raise PinFormatError(
            "the stored lead PIN is not a hash (a plain-text PIN from an older version?): "
            "set it again with kitchen-display set-pin"
        )
    if len(parts) != 6:
        raise PinFormatError(f"the stored lead PIN hash has {len(parts)} fields, not 6")
    _scheme, n_text, r_text, p_text, salt_text, digest_text = parts
    try:
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt = base64.b64decode(salt_text, validate=True)
        digest = base64.b64decode(digest_text, validate=True)
    except (ValueError, binascii.Error):
        raise PinFormatError("the stored lead PIN hash is damaged (unreadable field)") from None
    if not (2 <= n <= MAX_SCRYPT_N and n & (n - 1) == 0):
        raise PinFormatError(f"the stored lead PIN hash has n={n}, not a power of 2 in range")
    if not (1 <= r <= MAX_SCRYPT_R and 1 <= p <= MAX_SCRYPT_P):
        raise PinFormatError(f"the stored lead PIN hash has r={r}, p={p}: out of range")
    if len(salt) < SALT_BYTES or len(digest) < HASH_BYTES:
        raise PinFormatError("the stored lead PIN hash is damaged (salt or hash too short)")
    return StoredPin(n, r, p, salt, digest)


def verify_pin(stored: StoredPin, typed: str) -> bool:
    """Whether ``typed`` is the PIN ``stored`` was made from (constant-time compare)."""
    typed = typed.strip()
    if not _DIGITS.fullmatch(typed):
        return False
    return hmac.compare_digest(stored.derive(typed), stored.digest)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # scrypt needs 128 * n * r bytes; ask for that plus room (OpenSSL's default cap is 32 MiB)
    maxmem = 128 * n * r * (p + 1) + 2**20
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class AttemptLimiter:
    """Wrong PINs in a row and the wait they earned; ``clock`` is ``time.monotonic``
    (tests pass their own)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.failures = 0
        self._until = 0.0

    def wait_seconds(self) -> float:
        """How long until the next PIN may be tried (0: now)."""
        return max(0.0, self._until - self._clock())

    def failed(self) -> float:
        """Count a wrong PIN; return the wait it starts (0 for the first few)."""
        self.failures += 1
        extra = self.failures - FREE_ATTEMPTS
        if extra < 0:
            return 0.0
        delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2.0 ** min(extra, 32))
        self._until = self._clock() + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self._until = 0.0


#: the secret's name: keyring entry, service credential (``KDS_DISPLAY_LEAD_PIN``)
SECRET_NAME = "display.lead_pin"


def set_pin_command(argv: Sequence[str]) -> int:
    """``kitchen-display set-pin [--print]``: ask for the PIN twice (a hidden prompt, or
    two lines on stdin), then store its hash in the keyring, or print it."""
    parser = argparse.ArgumentParser(
        prog="kitchen-display set-pin",
        description=f"Set the lead PIN ({MIN_DIGITS}+ digits); only its salted hash is stored.",
    )
    parser.add_argument(
        "--print",
        action="store_true",
        help="print the hash instead of storing it in the keyring "
        "(for KDS_DISPLAY_LEAD_PIN or a service credential display.lead_pin)",
    )
    args = parser.parse_args(argv)
    try:
        first = _read(f"New lead PIN ({MIN_DIGITS} or more digits): ")
        check_rule(first)
        if _read("The same PIN again: ") != first:
            raise PinError("the two PINs differ")
        stored = hash_pin(first)
        if not args.print:
            store_secret(SECRET_NAME, stored)
    except (PinError, SecretError) as exc:
        print(f"kitchen-display set-pin: {exc}; nothing stored", file=sys.stderr)
        return 2
    if args.print:
        print(stored)
    else:
        print(f"stored {SECRET_NAME} (a salted scrypt hash) in the keyring")
    return 0


def _read(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")
