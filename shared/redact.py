"""Secret values kept out of every log line, traceback and error message of a program.

Every :class:`shared.config.Secret` made in this process (every secret a program
loaded: the core token, the broker password, the AWS keys, a PoS API key, the lead
PIN's hash) is remembered here (:func:`remember`), and :func:`redact` replaces each
of them in a text, raw and in the forms a log shows them in (URL- and form-encoded,
``repr``/JSON escaped), by :data:`MASK`.

:func:`install`, called once by each program's composition root, redacts every log
record as it is made (a log record factory, so every handler, the ones added later
and logging's last resort included, gets the redacted message and traceback), and
every uncaught exception's traceback (``sys.excepthook``, ``threading.excepthook``).
Third-party loggers at DEBUG (botocore dumps request headers, the AWS access key id
in ``Authorization``) are covered as well as our own.

A value is masked wherever it is from :data:`ANYWHERE_LENGTH` characters on; a shorter
one only where it stands on its own (no letter or digit just before or after it), so
that it does not garble the words that happen to contain it, and none shorter than
:data:`MIN_LENGTH`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"
#: shorter values are not masked: no real secret is this short, and masking "t" or
#: "pw" wherever it stands alone would garble the log (a test's placeholder token)
MIN_LENGTH = 4
#: from this length on a value is masked wherever it is, even glued to other text
ANYWHERE_LENGTH = 8

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
#: bumped whenever the set of values changes: a record redacted under the current one
#: (marked with it, :data:`_MARK`) needs no second pass on its way into a handler
_generation = 0
#: the record attribute that holds the generation a record was redacted under
_MARK = "_kds_redacted"


def remember(value: str) -> None:
    """Mask ``value`` from now on (unless shorter than :data:`MIN_LENGTH`)."""
    global _pattern, _generation
    if len(value) < MIN_LENGTH:
        return
    with _lock:
        if value not in _values:
            _values.add(value)
            _pattern = None
            _generation += 1


def forget_all() -> None:
    """For tests: mask nothing again."""
    global _pattern, _generation
    with _lock:
        _values.clear()
        _pattern = None
        _generation += 1


def _forms(value: str) -> set[str]:
    return {
        value,
        quote(value, safe=""),
        quote_plus(value),
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        repr(value.encode("utf-8", "replace"))[2:-1],
    }


def _alternatives(forms: set[str]) -> str:
    # longest first: a secret that contains another is masked whole
    return "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _values:
            forms = {form for value in _values for form in _forms(value) if form}
            long = {form for form in forms if len(form) >= ANYWHERE_LENGTH}
            short = forms - long
            parts = [f"(?:{_alternatives(long)})"] if long else []
            if short:
                parts.append(rf"(?<![A-Za-z0-9])(?:{_alternatives(short)})(?![A-Za-z0-9])")
            _pattern = re.compile("|".join(parts))
        return _pattern


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by :data:`MASK`."""
    pattern = _compiled()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def generation() -> int:
    """Which set of remembered values :func:`redact` masks now (it changes with the set)."""
    return _generation


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Put the redacted message (and traceback, stack) into ``record``, in place.
    A record already redacted since the last :func:`remember` is left as it is (the
    record factory redacts it, then each handler's filter would again)."""
    current = _generation
    if record.__dict__.get(_MARK) == current:
        return record
    record.__dict__[_MARK] = current
    if _compiled() is None:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it when it formats it
        return record
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


#: what :func:`install` replaced (the record factory, ``sys``'s and ``threading``'s hooks)
_replaced: tuple[Callable[..., logging.LogRecord], Any, Any] | None = None


def install() -> None:
    """Redact every log record and uncaught traceback of this process (idempotent)."""
    global _replaced
    with _lock:
        if _replaced is not None:
            return
        make_record = logging.getLogRecordFactory()
        _replaced = (make_record, sys.excepthook, threading.excepthook)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(make_record(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


def uninstall() -> None:
    """Undo :func:`install` (for tests, which share one process)."""
    global _replaced
    with _lock:
        replaced, _replaced = _replaced, None
    if replaced is not None:
        logging.setLogRecordFactory(replaced[0])
        sys.excepthook, threading.excepthook = replaced[1], replaced[2]


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(redact(f"Exception in thread {name}:\n{text}"))
