"""Where both programs log: stderr (journald keeps it under systemd) and a rotating
file in the platform's log folder, for a site admin's support bundle.

The folder, first found wins:

1. ``$KDS_LOG_DIR`` (set it to override everything);
2. ``$LOGS_DIRECTORY``: systemd's ``LogsDirectory=ghost-kds`` (``/var/log/ghost-kds``);
3. :func:`platformdirs.user_log_path` ``("ghost-kds")``: ``~/.local/state/ghost-kds/log``
   on Linux, ``%LOCALAPPDATA%\\ghost-kds\\Logs`` on Windows.

``<program>.log`` there rotates at :data:`MAX_BYTES` and keeps :data:`BACKUPS` old
files (5 files of 5 MB). Every line is masked (:mod:`shared.redact`) on both handlers.
A folder that cannot be written costs one warning on stderr, never the program.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from shared import redact

APP_NAME = "ghost-kds"
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 4
#: chatty libraries kept at WARNING unless the program asks otherwise
QUIET_LOGGERS = ("stomp.py", "httpx", "httpcore")

#: where the service's files are (``LogsDirectory=ghost-kds``): an admin's shell, which
#: has no ``$LOGS_DIRECTORY``, still finds them for a support bundle
SYSTEM_LOG_DIR = Path("/var/log") / APP_NAME

log = logging.getLogger("kds.logs")

#: the handlers :func:`setup` added, so a second call (a test) replaces them
_ours: list[logging.Handler] = []


def log_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder the log files go to (see the module's docstring)."""
    env = os.environ if env is None else env
    for name in ("KDS_LOG_DIR", "LOGS_DIRECTORY"):
        value = env.get(name, "")
        if value:
            # systemd may pass several folders separated by ':'; ours is the first
            return Path(value.split(":")[0]).expanduser()
    import platformdirs

    return Path(platformdirs.user_log_path(APP_NAME, appauthor=False))


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (as logging's own
    last resort does), not the one it found at :func:`setup`: a caller that swaps it
    (a test's capture, closed afterwards) never leaves a handler on a closed file."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class _OnceFormatter(logging.Formatter):
    """Formats a record once for all the handlers that share it (the console and the
    file; the file's rollover check would format it a third time). The text is kept on
    the record with the redaction it was made under: a record masked again since (a
    secret remembered in between) is formatted again."""

    def format(self, record: logging.LogRecord) -> str:
        kept = record.__dict__.get("_kds_line")
        current = redact.generation()
        if kept is not None and kept[0] is self and kept[1] == current:
            return str(kept[2])
        text = super().format(record)
        record.__dict__["_kds_line"] = (self, current, text)
        return text


class _RotatingFile(logging.handlers.RotatingFileHandler):
    """Rotates at ``maxBytes`` like its base, knowing the file's size from what it has
    written rather than asking the file system. The base class calls ``stat`` twice and
    ``seek``/``tell`` for every record (~15 % of the agent's feed thread at 1,000
    orders/s went to logging). The size is read once, at each open. A file truncated by
    someone else is rotated early, never late; one appended to by someone else grows
    past ``maxBytes`` by what they wrote, until the next rotation."""

    def __init__(self, filename: Path, *, maxBytes: int, backupCount: int) -> None:
        self._size = 0
        #: the bytes of the record being emitted (its line and newline), worked out once
        #: by the rollover check and counted once it is written
        self._line = 0
        self._regular = True
        super().__init__(filename, maxBytes=maxBytes, backupCount=backupCount, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        stream = super()._open()
        self._size = stream.seek(0, os.SEEK_END)
        # never rotate anything but a regular file (the base class's bpo-45401 check)
        self._regular = os.path.isfile(self.baseFilename)
        return stream

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if self.stream is None:
            self.stream = self._open()
        self._line = len(self.format(record).encode("utf-8", "replace")) + 1
        if self.maxBytes <= 0 or not self._regular:
            return False
        return self._size + self._line >= self.maxBytes

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)  # the rollover check first: it rotates when the line would not fit
        self._size += self._line


class _RedactFilter(logging.Filter):
    """Masks the record again on its way into a handler (a record made before
    :func:`shared.redact.install`, or a secret remembered since it was made)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact.redact_record(record)
        return True


def setup(
    program: str,
    level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    quiet: tuple[str, ...] = QUIET_LOGGERS,
) -> Path | None:
    """Log ``program``'s records at ``level`` to stderr and to its rotating file;
    the file's path, or ``None`` when the folder cannot be written (then one warning).
    The ``quiet`` loggers stay at WARNING whatever the level."""
    root = logging.getLogger()
    for handler in _ours:
        root.removeHandler(handler)
        handler.close()
    _ours.clear()
    formatter = _OnceFormatter(FORMAT)
    console: logging.Handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handlers: list[logging.Handler] = [console]
    file = log_dir(env) / f"{program}.log"
    path: Path | None = file
    problem = ""
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handlers.append(_RotatingFile(file, maxBytes=MAX_BYTES, backupCount=BACKUPS))
    except OSError as exc:
        problem = f"cannot write log files in {file.parent} ({exc.strerror or exc}); "
        path = None
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_RedactFilter())
        root.addHandler(handler)
        _ours.append(handler)
    set_level(level)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    if problem:
        log.warning("%slogging to stderr only; set KDS_LOG_DIR to a writable folder", problem)
    return path


def set_level(level: str | int) -> None:
    """The root logger's level (``"debug"``, ``"INFO"`` or a number)."""
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
    logging.getLogger().setLevel(level if isinstance(level, int) else logging.INFO)


def log_files(program: str | None = None, env: Mapping[str, str] | None = None) -> list[Path]:
    """The log files there are in :func:`log_dir` and :data:`SYSTEM_LOG_DIR`, by folder,
    then by program and age (newest first): for a support bundle."""
    pattern = f"{program}.log*" if program else "*.log*"
    found: list[Path] = []
    folders = [log_dir(env)]
    if SYSTEM_LOG_DIR.resolve() != folders[0].resolve():
        folders.append(SYSTEM_LOG_DIR)
    for folder in folders:
        try:
            files = [p for p in folder.glob(pattern) if p.is_file()]
        except OSError:
            continue
        found += sorted(files, key=lambda p: (p.name.split(".log")[0], p.name))
    return found
