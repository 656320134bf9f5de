"""Configuration of the proxy: one declared schema, four layers, every problem at once.

Every setting is one row: a field of a section dataclass declared with ``setting(...)``
(kind, default, secret?, the modes that require it, a one-line doc).  Adding a key is
adding such a row; the loader, the environment variable names, the masking of secrets,
the mode checks and the README table all come from the rows (``SCHEMA``).

Layers, later ones win: built-in defaults -> TOML file -> environment variables
``BXML_MIGRATE_<SECTION>_<KEY>`` -> an explicit ``overrides`` mapping (for tests).  An
empty value (``""`` in the file or the environment, ``None`` in overrides) means
"not set": the built-in default applies.  Nothing is read at import time.

Problems are collected, not raised one by one: ``load_config`` raises one
``ConfigError`` with a line per problem, each naming ``section.key`` and its
environment variable.  Secret values never appear in ``repr``/``str`` or in errors.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import hmac
import json
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

from adapter.config_kinds import (
    MASK,
    Boolean,
    BxmlDocument,
    HostList,
    Integer,
    Kind,
    Seconds,
    StateUrl,
    Text,
    Url,
    mask_url_password,
)

ENV_PREFIX = "BXML_MIGRATE_"
DEFAULT_STATE_URL = "sqlite:///./bxml-migrate.db"
DEFAULT_FALLBACK_BXML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    "<Bxml><SpeakSentence>We are sorry, an application error occurred. Goodbye.</SpeakSentence>"
    "<Hangup/></Bxml>"
)
_SIGNING_KEY_LABEL = b"bxml-migrate/signing-key/v1"


class Mode(StrEnum):
    """A proxy mode; each is usable when its settings are complete."""

    CATAPULT = "catapult"  # unchanged Catapult v1 apps (issue 4)
    TWIML = "twiml"  # unchanged TwiML apps (issue 5)


CATAPULT, TWIML = Mode.CATAPULT, Mode.TWIML


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        head = f"invalid configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([head, *(f"  {line}" for line in self.problems)]))


@dataclass(frozen=True)
class Setting:
    """One row of the schema."""

    section: str
    name: str
    kind: Kind
    default: Any
    secret: bool
    required_for: frozenset[Mode]
    doc: str

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env_var(self) -> str:
        return f"{ENV_PREFIX}{self.section.upper()}_{self.name.upper()}"

    def show(self, value: object) -> str:
        """``value`` as it may appear in messages and logs (secrets masked)."""
        if value is None:
            return "None"
        if self.secret:
            return MASK
        return self.kind.show(value)


def setting(
    kind: Kind,
    default: Any = None,
    *,
    secret: bool = False,
    required_for: Sequence[Mode] = (),
    doc: str = "",
) -> Any:
    """Declare a setting as a dataclass field (the section and name come from the class)."""
    spec = {"kind": kind, "secret": secret, "required_for": frozenset(required_for), "doc": doc}
    return field(default=default, metadata={"setting": spec})


class Section:
    """Base of the section dataclasses: schema access and a repr with secrets masked."""

    NAME: ClassVar[str]

    @classmethod
    def settings(cls) -> tuple[Setting, ...]:
        rows = []
        for f in fields(cls):  # type: ignore[arg-type]
            spec = f.metadata["setting"]
            rows.append(Setting(cls.NAME, f.name, default=f.default, **spec))
        return tuple(rows)

    def redacted(self) -> dict[str, Any]:
        """The values of this section, secrets masked (for logs and ``serve`` start-up)."""
        out: dict[str, Any] = {}
        for row in self.settings():
            value = getattr(self, row.name)
            if value is not None and row.secret:
                out[row.name] = MASK
            elif isinstance(row.kind, Url | StateUrl) and value is not None:
                out[row.name] = mask_url_password(value)
            else:
                out[row.name] = list(value) if isinstance(value, tuple) else value
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{row.name}={row.show(getattr(self, row.name))}" for row in self.settings())
        return f"{type(self).__name__}({shown})"

    __str__ = __repr__


# ---------------------------------------------------------------------------------------------
# The schema.  One row per key; ``required_for`` names the modes that cannot run without it.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ServerConfig(Section):
    NAME = "server"
    public_url: str | None = setting(
        Url(base=True),
        required_for=(CATAPULT, TWIML),
        doc="How Bandwidth and the legacy apps reach the proxy, e.g. https://proxy.example.com",
    )
    signing_key: str | None = setting(
        Text(min_length=32),
        secret=True,
        doc="HMAC key of the signed references in proxy URLs (default: derived from the other secrets)",
    )
    max_request_bytes: int = setting(
        Integer(minimum=1024, maximum=64 * 1024 * 1024),
        1024 * 1024,
        doc="Largest request body the proxy accepts",
    )


@dataclass(frozen=True, repr=False)
class BandwidthConfig(Section):
    NAME = "bandwidth"
    api_url: str = setting(
        Url(base=True), "https://voice.bandwidth.com/api/v2", doc="Bandwidth Voice API v2 base URL"
    )
    account_id: str | None = setting(Text(), required_for=(CATAPULT,), doc="Bandwidth account id")
    username: str | None = setting(Text(), required_for=(CATAPULT,), doc="v2 API user name")
    password: str | None = setting(Text(), secret=True, required_for=(CATAPULT,), doc="v2 API password")
    application_id: str | None = setting(
        Text(), doc="v2 voice application for calls the v1 app creates (POST /v1/users/{u}/calls)"
    )
    callback_username: str | None = setting(
        Text(), doc="Basic auth user Bandwidth presents on callbacks (unset: callbacks unauthenticated)"
    )
    callback_password: str | None = setting(Text(), secret=True, doc="Basic auth password of the callbacks")
    timeout: float = setting(Seconds(maximum=60), 10.0, doc="Timeout of each request to the Bandwidth API")
    retry_budget: float = setting(
        Seconds(maximum=14), 5.0, doc="Time retries of one API request may take in all (429/5xx, Retry-After)"
    )


@dataclass(frozen=True, repr=False)
class CatapultConfig(Section):
    NAME = "catapult"
    user_id: str | None = setting(
        Text(pattern=r"u-\S+", pattern_hint="a v1 user id (u-...)"),
        required_for=(CATAPULT,),
        doc="v1 user id the legacy app authenticates with",
    )
    api_token: str | None = setting(Text(), secret=True, required_for=(CATAPULT,), doc="v1 API token")
    api_secret: str | None = setting(Text(), secret=True, required_for=(CATAPULT,), doc="v1 API secret")
    callback_url: str | None = setting(
        Url(), required_for=(CATAPULT,), doc="Where the v1 app receives its events"
    )
    event_timeout: float = setting(Seconds(maximum=60), 10.0, doc="Timeout of each v1 event delivery")


@dataclass(frozen=True, repr=False)
class TwimlConfig(Section):
    NAME = "twiml"
    app_url: str | None = setting(Url(), required_for=(TWIML,), doc="Voice URL of the TwiML app")
    app_method: str = setting(Text(choices=("POST", "GET"), upper=True), "POST", doc="Method for app_url")
    account_sid: str | None = setting(
        Text(pattern=r"AC[0-9a-fA-F]{32}", pattern_hint="a Twilio account SID (AC + 32 hex digits)"),
        required_for=(TWIML,),
        doc="AccountSid sent to the app",
    )
    auth_token: str | None = setting(
        Text(), secret=True, required_for=(TWIML,), doc="Key of X-Twilio-Signature on requests to the app"
    )
    timeout: float = setting(
        Seconds(maximum=14), 10.0, doc="Time the app has to answer (Bandwidth waits about 15 s)"
    )
    max_response_bytes: int = setting(
        Integer(minimum=1024, maximum=16 * 1024 * 1024), 1024 * 1024, doc="Largest app response accepted"
    )
    fallback_bxml: str = setting(
        BxmlDocument(), DEFAULT_FALLBACK_BXML, doc="BXML answered when the app or the translation fails"
    )
    status_callback: str | None = setting(Url(), doc="Status callback URL when the TwiML sets none")
    status_callback_method: str = setting(
        Text(choices=("POST", "GET"), upper=True), "POST", doc="Method for status_callback"
    )


@dataclass(frozen=True, repr=False)
class StateConfig(Section):
    NAME = "state"
    url: str = setting(StateUrl(), DEFAULT_STATE_URL, doc="sqlite:///path, sqlite:// or redis://host:port/db")
    key_prefix: str = setting(
        Text(pattern=r"[A-Za-z0-9:_.-]+", pattern_hint="letters, digits and :_.-"),
        "bxml-migrate:",
        doc="Prefix of every Redis key (several deployments can share one Redis)",
    )
    call_ttl: float = setting(
        Seconds(maximum=30 * 86400), 3600.0, doc="How long a call's records are kept after it ends"
    )
    idle_ttl: float = setting(
        Seconds(maximum=30 * 86400),
        86400.0,
        doc="How long records of a call whose end never arrives are kept after their last write",
    )


@dataclass(frozen=True, repr=False)
class EgressConfig(Section):
    NAME = "egress"
    allow_hosts: tuple[str, ...] = setting(
        HostList(), (), doc="Hosts the proxy may call beyond the configured URLs"
    )
    allow_private: bool = setting(
        Boolean(), False, doc="Allow private, loopback and link-local targets"
    )


SECTIONS: tuple[type[Section], ...] = (
    ServerConfig,
    BandwidthConfig,
    CatapultConfig,
    TwimlConfig,
    StateConfig,
    EgressConfig,
)
SCHEMA: tuple[Setting, ...] = tuple(row for section in SECTIONS for row in section.settings())
_BY_SECTION: dict[str, dict[str, Setting]] = {
    section.NAME: {row.name: row for row in section.settings()} for section in SECTIONS
}
_BY_ENV: dict[str, Setting] = {row.env_var: row for row in SCHEMA}


@dataclass(frozen=True, repr=False)
class Config:
    """The loaded configuration: one frozen dataclass per section, plus where each value came from."""

    server: ServerConfig = field(default_factory=ServerConfig)
    bandwidth: BandwidthConfig = field(default_factory=BandwidthConfig)
    catapult: CatapultConfig = field(default_factory=CatapultConfig)
    twiml: TwimlConfig = field(default_factory=TwimlConfig)
    state: StateConfig = field(default_factory=StateConfig)
    egress: EgressConfig = field(default_factory=EgressConfig)
    # "section.key" -> "file PATH" | "env VAR" | "overrides", for explicitly set keys only.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    _ephemeral_key: bytes = field(default_factory=lambda: os.urandom(32), compare=False)

    def value(self, row: Setting) -> Any:
        return getattr(getattr(self, row.section), row.name)

    def modes(self) -> tuple[Mode, ...]:
        """The modes whose settings are complete, in declaration order."""
        return tuple(mode for mode in Mode if not self._missing_for(mode))

    def unconfigured(self) -> dict[Mode, str]:
        """Each unusable mode and why (the settings it still needs)."""
        reasons: dict[Mode, str] = {}
        for mode in Mode:
            missing = self._missing_for(mode)
            if missing:
                reasons[mode] = "missing " + ", ".join(row.dotted for row in missing)
        return reasons

    def _missing_for(self, mode: Mode) -> list[Setting]:
        return [row for row in SCHEMA if mode in row.required_for and self.value(row) is None]

    @functools.cached_property  # derived from frozen settings: computed once per loaded configuration
    def signing_key(self) -> bytes:
        """The HMAC key of the signed references the proxy writes into BXML and TwiML URLs.

        ``server.signing_key`` when set.  Otherwise the key is derived deterministically
        (HMAC-SHA256 under a fixed label) from every other secret setting that is set, so
        several instances sharing one configuration agree on it without extra setup.
        Consequence: rotating any of those secrets invalidates references already handed
        out (calls in progress); set ``server.signing_key`` to decouple them.  With no secret
        set at all (no mode configured) the key is random per loaded configuration.
        """
        if self.server.signing_key:
            return self.server.signing_key.encode("utf-8")
        material = [
            [row.dotted, self.value(row)]
            for row in SCHEMA
            if row.secret and row.dotted != "server.signing_key" and self.value(row) is not None
        ]
        if not material:
            return self._ephemeral_key
        canonical = json.dumps(material, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return hmac.new(_SIGNING_KEY_LABEL, canonical, hashlib.sha256).digest()

    def redacted(self) -> dict[str, dict[str, Any]]:
        """Every value, secrets masked: safe to log."""
        return {section.NAME: getattr(self, section.NAME).redacted() for section in SECTIONS}

    def secret_values(self) -> list[str]:
        """Every secret value that is set (for log redaction)."""
        values = []
        for section in SECTIONS:
            for row in section.settings():
                value = getattr(getattr(self, section.NAME), row.name)
                if row.secret and isinstance(value, str) and value:
                    values.append(value)
        return values

    def describe(self) -> list[str]:
        """Start-up summary lines for ``serve``: state store and the status of each mode."""
        lines = [f"state store: {self.state.redacted()['url']}"]
        unconfigured = self.unconfigured()
        for mode in Mode:
            status = f"not configured ({unconfigured[mode]})" if mode in unconfigured else "configured"
            lines.append(f"{mode.value} mode: {status}")
        return lines

    def __repr__(self) -> str:
        inner = ", ".join(f"{section.NAME}={getattr(self, section.NAME)!r}" for section in SECTIONS)
        return f"Config({inner})"

    __str__ = __repr__


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@dataclass
class _Layers:
    values: dict[str, Any] = field(default_factory=dict)  # "section.key" -> value (None: unset)
    sources: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)  # "section.key" with a reported value problem

    def set(self, row: Setting, raw: object, source: str, *, text: bool) -> None:
        if raw is None or raw == "":
            self.values.pop(row.dotted, None)
            self.sources.pop(row.dotted, None)
            return
        try:
            value = row.kind.from_text(raw) if text else row.kind.from_toml(raw)  # type: ignore[arg-type]
        except ValueError as exc:
            shown = "" if row.secret else f", got {row.kind.show(raw)}"
            self.problems.append(f"{row.dotted}: {exc}{shown} ({_origin(row, source)})")
            self.invalid.add(row.dotted)
            return
        self.values[row.dotted] = value
        self.sources[row.dotted] = source


def _origin(row: Setting, source: str) -> str:
    if source.startswith("env "):
        return f"from {source}"
    return f"from {source}; environment variable {row.env_var}"


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _load_file(path: str, layers: _Layers) -> None:
    source = f"file {path}"
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        layers.problems.append(f"config file {path}: not found")
        return
    except OSError as exc:
        layers.problems.append(f"config file {path}: cannot be read ({exc.strerror})")
        return
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        layers.problems.append(f"config file {path}: not valid TOML ({exc})")
        return
    _apply_mapping(document, source, layers)


def _apply_mapping(document: Mapping[str, Any], source: str, layers: _Layers) -> None:
    """Apply a nested ``{section: {key: value}}`` mapping (TOML shape); dotted keys also work."""
    for section_name, table in document.items():
        if "." in section_name:  # {"bandwidth.password": "..."}
            section_name, _, key = section_name.partition(".")
            table = {key: table}
        rows = _BY_SECTION.get(section_name)
        if rows is None:
            hint = _did_you_mean(section_name, list(_BY_SECTION))
            layers.problems.append(f"{section_name}: unknown section in {source}{hint}")
            continue
        if not isinstance(table, Mapping):
            layers.problems.append(f"{section_name}: must be a table ([{section_name}]) in {source}")
            continue
        for key, raw in table.items():
            row = rows.get(key)
            if row is None:
                hint = _did_you_mean(key, list(rows))
                hint = hint.replace("(did you mean ", f"(did you mean {section_name}.")
                layers.problems.append(f"{section_name}.{key}: unknown key in {source}{hint}")
                continue
            layers.set(row, raw, source, text=False)


def _apply_env(env: Mapping[str, str], layers: _Layers) -> None:
    section_prefixes = tuple(f"{ENV_PREFIX}{name.upper()}_" for name in _BY_SECTION)
    for name in sorted(env):
        row = _BY_ENV.get(name)
        if row is not None:
            layers.set(row, env[name], f"env {name}", text=True)
        elif name.startswith(section_prefixes):
            # Typo protection for our own sections; other BXML_MIGRATE_* variables are not ours to judge.
            hint = _did_you_mean(name, list(_BY_ENV))
            layers.problems.append(f"{name}: unknown setting in the environment{hint}")


def _cross_checks(config: Config, invalid: set[str]) -> Iterator[str]:
    """Rules spanning several keys, and modes configured only in part.

    A mode is "started" when one of the keys it requires in its own section is set; then each
    other key it requires is an error line (unless that key already has a value problem).
    """
    bandwidth = config.bandwidth
    if (bandwidth.callback_username is None) != (bandwidth.callback_password is None):
        present, absent = ("callback_username", "callback_password")
        if bandwidth.callback_username is None:
            present, absent = absent, present
        yield (
            f"bandwidth.{absent}: required when bandwidth.{present} is set "
            f"(environment variable BXML_MIGRATE_BANDWIDTH_{absent.upper()})"
        )
    for mode in Mode:
        own = [row for row in SCHEMA if row.section == mode.value and mode in row.required_for]
        started = [row.dotted for row in own if config.value(row) is not None or row.dotted in invalid]
        if not started:
            continue  # the mode is simply not configured
        for row in config._missing_for(mode):
            if row.dotted in invalid:
                continue
            yield (
                f"{row.dotted}: required for {mode.value} mode, which is partly configured "
                f"({', '.join(sorted(started))} set); set [{row.section}] {row.name} "
                f"or environment variable {row.env_var}"
            )


def load_config(
    path: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load the configuration: defaults -> TOML ``path`` -> ``env`` -> ``overrides``.

    ``env`` defaults to ``os.environ`` (pass ``{}`` to ignore the environment).
    ``overrides`` has the TOML shape (``{"bandwidth": {"password": "..."}}``) or dotted keys
    (``{"bandwidth.password": "..."}``); ``None`` values unset a key.  Raises ``ConfigError``
    listing every problem.
    """
    layers = _Layers()
    if path is not None:
        _load_file(os.fspath(path), layers)
    _apply_env(os.environ if env is None else env, layers)
    if overrides:
        _apply_mapping(overrides, "overrides", layers)
    sections = {}
    for section in SECTIONS:
        kwargs = {row.name: layers.values[row.dotted] for row in section.settings() if row.dotted in layers.values}
        sections[section.NAME] = section(**kwargs)
    config = Config(**sections, sources=MappingProxyType(dict(layers.sources)))
    problems = [*layers.problems, *_cross_checks(config, layers.invalid)]
    if problems:
        raise ConfigError(problems)
    return config

