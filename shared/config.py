"""Configuration: one TOML file per program, every key overridable from the environment.

Each program declares its configuration as frozen dataclasses with named defaults
(:mod:`edge_agent.config`, :mod:`kitchen_display.config`); :func:`load` reads the
TOML file, applies ``KDS_<SECTION>_<KEY>`` (``KDS_<KEY>`` for top-level keys)
environment overrides, converts and validates every value, and raises one
:class:`~shared.errors.ConfigError` naming the first bad key.

Secret fields (``secret=True`` in their metadata) are never read from the file:
they come from the environment (``KDS_CORE_TOKEN``, for tests and containers),
from the service manager's credentials (``$CREDENTIALS_DIRECTORY/core.token``,
systemd's ``LoadCredentialEncrypted=``) or from the OS keyring
(``edge-agent set-secret core.token``), in that order, and are wrapped in
:class:`Secret` so that ``repr`` and logs never show them; a :class:`Secret` knows
where it came from (``source``), which is what ``edge-agent doctor`` reports.
:func:`secret_lookup` is that chain (after the environment) for every program.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from shared import redact
from shared.errors import ConfigError, SecretError

T = TypeVar("T")

KEYRING_SERVICE = "ghost-kds"
#: the top-level key naming a config file's schema version (``config_version = 1``)
CONFIG_VERSION_KEY = "config_version"


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or logs.

    ``source`` says where it was found ("the keyring (service ghost-kds)"), never
    what it is; it takes no part in equality. Its value is masked in every log line
    of a program that installed :func:`shared.redact.install` (both composition roots).
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str = "") -> None:
        self._value = value
        self.source = source
        redact.remember(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def secret_field(**kwargs: Any) -> Any:
    return dataclasses.field(default=Secret(""), metadata={"secret": True, **kwargs})


def env_name(section: str | None, key: str) -> str:
    parts = ["KDS", *([section] if section else []), key]
    return "_".join(parts).upper().replace("-", "_").replace(".", "_")


#: ``lookup("core.token")``: the secret, or ``None`` when that source has none. A plain
#: string comes "from the secret lookup"; a :class:`Secret` says where it came from.
SecretLookup = Callable[[str], str | Secret | None]


def credentials_lookup(name: str) -> str | None:
    """Read ``name`` from the service manager's credentials, if the program has any.

    systemd passes decrypted credentials (``LoadCredentialEncrypted=core.token:...``)
    as files in ``$CREDENTIALS_DIRECTORY``, readable only by the service: the way
    to keep secrets on a headless box with no desktop keyring.
    """
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / name
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n") or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretError(f"cannot read credential {name}: {exc.strerror}") from exc


def secret_lookup(name: str) -> Secret | None:
    """The default chain after the environment: service-manager credentials, then the
    OS keyring. The one lookup every program (and ``edge-agent doctor``) uses."""
    value = credentials_lookup(name)
    if value is not None:
        return Secret(value, f"the service credentials ($CREDENTIALS_DIRECTORY/{name})")
    value = keyring_lookup(name)
    if value is not None:
        return Secret(value, f"the keyring (service {KEYRING_SERVICE})")
    return None


def keyring_lookup(name: str) -> str | None:
    """Read ``name`` (``core.token``) from the OS keyring; ``None`` when not set."""
    import keyring
    import keyring.errors

    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"keyring unavailable for {name}: {exc}") from exc


def store_secret(name: str, value: str) -> None:
    import keyring
    import keyring.errors

    try:
        keyring.set_password(KEYRING_SERVICE, name, value)
    except keyring.errors.KeyringError as exc:
        raise SecretError(
            f"cannot store {name} in the keyring ({type(exc).__name__}: {exc}); "
            "see README 'Secrets' for a backend that works on a headless box"
        ) from exc


def _convert(value: Any, kind: Any, key: str) -> Any:
    """Convert a TOML or environment value to the field's type, or raise ConfigError."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None or value == "":
            return None
        return _convert(value, args[0], key)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(key, f"must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(key, f"must be an integer, got {value!r}")
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ConfigError(key, f"must be a number, got {value!r}")
    if kind is str:
        if isinstance(value, str):
            return value
        raise ConfigError(key, f"must be a string, got {value!r}")
    if kind is Path:
        if isinstance(value, str) and value:
            return Path(value).expanduser()
        raise ConfigError(key, f"must be a path, got {value!r}")
    if origin is tuple:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(key, f"must be a list, got {value!r}")
        (inner, *_rest) = typing.get_args(kind)
        return tuple(_convert(v, inner, f"{key}[{i}]") for i, v in enumerate(value))
    raise ConfigError(key, f"unsupported setting type {kind!r}")  # pragma: no cover


def _build(
    cls: type[T],
    table: Mapping[str, Any],
    env: Mapping[str, str],
    section: str | None,
    secrets: SecretLookup | None,
) -> T:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in table:
        if key not in fields:
            where = f"{section}.{key}" if section else key
            raise ConfigError(where, "unknown setting (check the spelling; see README)")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        kind = hints[name]
        dotted = f"{section}.{name}" if section else name
        if dataclasses.is_dataclass(kind):
            sub = table.get(name, {})
            if not isinstance(sub, dict):
                raise ConfigError(dotted, "must be a [section] table")
            values[name] = _build(kind, sub, env, dotted, secrets)  # type: ignore[arg-type]
            continue
        if typing.get_origin(kind) is dict:
            values[name] = _build_named(kind, table.get(name, {}), env, dotted, secrets)
            continue
        env_key = env_name(section, name)
        if fld.metadata.get("secret"):
            if name in table:
                raise ConfigError(
                    dotted,
                    f"secrets are not read from config files; use the keyring "
                    f"(set-secret {dotted}) or the {env_key} environment variable",
                )
            required = bool(fld.metadata.get("required"))
            secret = _find_secret(dotted, env_key, env, secrets, required)
            if not secret and required:
                raise ConfigError(
                    dotted, f"no secret set: run set-secret {dotted} or set {env_key}"
                )
            values[name] = secret
            continue
        if env_key in env:
            values[name] = _convert(env[env_key], kind, f"{dotted} (from {env_key})")
        elif name in table:
            values[name] = _convert(table[name], kind, dotted)
        elif fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
            raise ConfigError(dotted, f"required setting is missing (or set {env_key})")
    try:
        result = cls(**values)
    except ConfigError as exc:
        if section and not exc.key.startswith(section):
            # a validator names its own key; put it where it is: printers.grill.url
            raise ConfigError(f"{section}.{exc.key.rsplit('.', 1)[-1]}", exc.problem) from None
        raise
    except (TypeError, ValueError) as exc:  # a validator in __post_init__
        raise ConfigError(section or "config", str(exc)) from None
    return result


def _find_secret(
    dotted: str,
    env_key: str,
    env: Mapping[str, str],
    secrets: SecretLookup | None,
    required: bool,
) -> Secret:
    """The environment first (``KDS_CORE_TOKEN``), then ``secrets`` (the default chain:
    :func:`secret_lookup`); an empty :class:`Secret` when neither has it. A failing
    lookup (no keyring backend) matters only for a required secret."""
    raw = env.get(env_key)
    if raw is not None:
        return Secret(raw, f"the environment ({env_key})")
    if secrets is None:
        return Secret("")
    try:
        found = secrets(dotted)
    except SecretError:
        if required:
            raise
        return Secret("")
    if isinstance(found, Secret):
        return found
    return Secret(found or "", "the secret lookup" if found else "")


def secrets_of(config: object, prefix: str = "") -> Iterator[tuple[str, Secret]]:
    """Every secret setting of a loaded configuration, by dotted name (``core.token``,
    ``printers.grill.api_key``), set or not, in declaration order."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        return
    for fld in dataclasses.fields(config):
        value = getattr(config, fld.name)
        dotted = f"{prefix}{fld.name}"
        if isinstance(value, Secret):
            yield dotted, value
        elif isinstance(value, dict):
            for key in sorted(value):
                yield from secrets_of(value[key], f"{dotted}.{key}.")
        else:
            yield from secrets_of(value, f"{dotted}.")


def _build_named(
    kind: Any,
    table: Any,
    env: Mapping[str, str],
    dotted: str,
    secrets: SecretLookup | None,
) -> dict[str, Any]:
    """``dict[str, Section]``: one ``[dotted.<name>]`` table per entry (``[printers.grill]``).

    Entries may also come from the environment alone: ``KDS_PRINTERS_GRILL_URL``
    creates ``[printers.grill]`` with ``url`` set.
    """
    _key_type, item = typing.get_args(kind)
    if not dataclasses.is_dataclass(item):  # pragma: no cover - a programming error
        raise TypeError(f"{dotted}: only dict[str, <dataclass>] settings are supported")
    if not isinstance(table, dict):
        raise ConfigError(dotted, "must be a table of [sections]")
    result: dict[str, Any] = {}
    for name in _entry_names(item, table, env, dotted):
        sub = table.get(name, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"{dotted}.{name}", "must be a [section] table")
        result[name] = _build(item, sub, env, f"{dotted}.{name}", secrets)  # type: ignore[arg-type]
    return result


def _entry_names(
    item: Any, table: Mapping[str, Any], env: Mapping[str, str], dotted: str
) -> list[str]:
    """The entries of a ``dict[str, Section]`` setting: the file's tables and the
    ``KDS_<DOTTED>_<NAME>_<FIELD>`` variables."""
    names = {str(key) for key in table}
    prefix = env_name(dotted, "")
    field_names = sorted((f.name for f in dataclasses.fields(item)), key=len, reverse=True)
    for env_key in env:
        if not env_key.startswith(prefix):
            continue
        rest = env_key[len(prefix) :]
        for field_name in field_names:
            suffix = "_" + field_name.upper()
            if rest.endswith(suffix) and len(rest) > len(suffix):
                names.add(rest[: -len(suffix)].lower())
                break
    return sorted(names)


def _look_up_secrets(
    cls: Any,
    table: Any,
    env: Mapping[str, str],
    section: str | None,
    secrets: SecretLookup | None,
) -> None:
    """Look up every secret of ``cls`` anyway, ignoring what fails: after a config error,
    so that the error is masked (:mod:`shared.redact`) where it quotes a secret pasted
    into the wrong setting (``heartbeat_ms = "<the broker password>"``)."""
    table = table if isinstance(table, dict) else {}
    hints = typing.get_type_hints(cls)
    for fld in dataclasses.fields(cls):
        kind = hints[fld.name]
        dotted = f"{section}.{fld.name}" if section else fld.name
        sub = table.get(fld.name, {})
        if dataclasses.is_dataclass(kind):
            _look_up_secrets(kind, sub, env, dotted, secrets)
        elif typing.get_origin(kind) is dict:
            _key_type, item = typing.get_args(kind)
            if dataclasses.is_dataclass(item) and isinstance(sub, dict):
                for name in _entry_names(item, sub, env, dotted):
                    _look_up_secrets(item, sub.get(name), env, f"{dotted}.{name}", secrets)
        elif fld.metadata.get("secret"):
            _find_secret(dotted, env_name(section, fld.name), env, secrets, required=False)


def load(
    cls: type[T],
    path: Path | str | None,
    *,
    env: Mapping[str, str] | None = None,
    secrets: SecretLookup | None = secret_lookup,
) -> T:
    """Load ``cls`` from a TOML file (or none) and the environment."""
    env = os.environ if env is None else env
    table: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            with path.open("rb") as fh:
                table = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError("--config", f"no such file: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", f"{path} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError("--config", f"cannot read {path}: {exc.strerror}") from None
    # written on top of every file the first-run setup writes (the schema version);
    # not a setting
    table.pop(CONFIG_VERSION_KEY, None)
    try:
        return _build(cls, table, env, None, secrets)
    except ConfigError:
        _look_up_secrets(cls, table, env, None, secrets)
        raise


def check(condition: bool, key: str, problem: str) -> None:
    """For ``__post_init__`` validators: raise a ConfigError naming ``key``."""
    if not condition:
        raise ConfigError(key, problem)
