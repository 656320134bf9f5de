"""Configuration: schema, layers and precedence, every validation rule, modes, masking of secrets."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import Any

import pytest

from adapter.config import (
    DEFAULT_FALLBACK_BXML,
    DEFAULT_STATE_URL,
    SCHEMA,
    Config,
    ConfigError,
    Mode,
    load_config,
)
from adapter.config_docs import markdown_table
from adapter.config_kinds import Url

SECRETS = {
    "server.signing_key": "SIGNING-KEY-0123456789abcdef0123456789",
    "bandwidth.password": "BW-PASSWORD-s3cr3t",
    "bandwidth.callback_password": "CB-PASSWORD-s3cr3t",
    "catapult.api_token": "t-API-TOKEN-s3cr3t",
    "catapult.api_secret": "API-SECRET-s3cr3t",
    "twiml.auth_token": "AUTH-TOKEN-s3cr3t",
}

FULL = textwrap.dedent(
    """
    [server]
    public_url = "https://proxy.example.com/"
    [bandwidth]
    api_url = "https://voice.bandwidth.com/api/v2"
    account_id = "9900000"
    username = "api-user"
    password = "BW-PASSWORD-s3cr3t"
    callback_username = "bandwidth"
    callback_password = "CB-PASSWORD-s3cr3t"
    [catapult]
    user_id = "u-abc123"
    api_token = "t-API-TOKEN-s3cr3t"
    api_secret = "API-SECRET-s3cr3t"
    callback_url = "https://legacy.example.com/events"
    [twiml]
    app_url = "https://legacy.example.com/voice"
    account_sid = "AC0123456789abcdef0123456789abcdef"
    auth_token = "AUTH-TOKEN-s3cr3t"
    [state]
    url = "redis://cache.internal:6379/2"
    [egress]
    allow_hosts = ["api.example.com"]
    allow_private = false
    """
)


def write(tmp_path: Path, text: str, name: str = "proxy.toml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def problems(**kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as raised:
        load_config(**{"env": {}, **kwargs})
    return raised.value.problems


def only_problem(**kwargs: Any) -> str:
    found = problems(**kwargs)
    assert len(found) == 1, found
    return found[0]


def problem_for(key: str, **kwargs: Any) -> str:
    """The one problem line about ``key`` (an invalid mode key also reports the mode's other keys)."""
    found = [line for line in problems(**kwargs) if line.startswith(f"{key}: ")]
    assert len(found) == 1, found
    return found[0]


# -- no configuration, full configuration -------------------------------------------------------


def test_no_config_starts_with_embedded_sqlite_and_no_modes() -> None:
    config = load_config(env={})
    assert config.state.url == DEFAULT_STATE_URL == "sqlite:///./bxml-migrate.db"
    assert config.modes() == ()
    unconfigured = config.unconfigured()
    assert set(unconfigured) == {Mode.CATAPULT, Mode.TWIML}
    assert "twiml.app_url" in unconfigured[Mode.TWIML] and "server.public_url" in unconfigured[Mode.TWIML]
    assert "catapult.user_id" in unconfigured[Mode.CATAPULT]
    assert config.describe() == [
        "state store: sqlite:///./bxml-migrate.db",
        f"catapult mode: not configured ({unconfigured[Mode.CATAPULT]})",
        f"twiml mode: not configured ({unconfigured[Mode.TWIML]})",
    ]
    assert config.twiml.timeout == 10.0
    assert config.twiml.fallback_bxml == DEFAULT_FALLBACK_BXML
    assert config.egress.allow_hosts == () and config.egress.allow_private is False
    assert config.sources == {}


def test_full_file_configures_both_modes(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), env={})
    assert config.modes() == (Mode.CATAPULT, Mode.TWIML)
    assert config.unconfigured() == {}
    assert config.server.public_url == "https://proxy.example.com"  # base URL: trailing / removed
    assert config.bandwidth.password == "BW-PASSWORD-s3cr3t"
    assert config.catapult.user_id == "u-abc123"
    assert config.state.url == "redis://cache.internal:6379/2"
    assert config.egress.allow_hosts == ("api.example.com",)
    assert config.sources["bandwidth.password"] == f"file {tmp_path / 'proxy.toml'}"
    assert "bandwidth.api_url" in config.sources and "state.key_prefix" not in config.sources


def test_one_mode_alone(tmp_path: Path) -> None:
    text = """
        [server]
        public_url = "https://proxy.example.com"
        [twiml]
        app_url = "https://app.example.com/voice"
        account_sid = "AC0123456789abcdef0123456789abcdef"
        auth_token = "tok"
    """
    config = load_config(write(tmp_path, text), env={})
    assert config.modes() == (Mode.TWIML,)
    assert list(config.unconfigured()) == [Mode.CATAPULT]


def test_config_is_frozen() -> None:
    config = load_config(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.public_url = "https://x.example"  # type: ignore[misc]


# -- layers and precedence ----------------------------------------------------------------------


def test_precedence_default_file_env_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, '[twiml]\ntimeout = 5\napp_method = "GET"\n[state]\ncall_ttl = 60\n')
    env = {"BXML_MIGRATE_TWIML_TIMEOUT": "7.5", "BXML_MIGRATE_STATE_CALL_TTL": "120"}
    config = load_config(path, env=env, overrides={"state": {"call_ttl": 30}})
    assert config.twiml.app_method == "GET"  # file
    assert config.twiml.timeout == 7.5  # env beats file
    assert config.state.call_ttl == 30.0  # overrides beat env
    assert config.twiml.max_response_bytes == 1024 * 1024  # default
    assert config.sources["twiml.timeout"] == "env BXML_MIGRATE_TWIML_TIMEOUT"
    assert config.sources["state.call_ttl"] == "overrides"


def test_environment_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BXML_MIGRATE_STATE_URL", "sqlite://")
    assert load_config().state.url == "sqlite://"
    assert load_config(env={}).state.url == DEFAULT_STATE_URL


@pytest.mark.parametrize(
    ("variable", "text", "attribute", "expected"),
    [
        ("BXML_MIGRATE_EGRESS_ALLOW_PRIVATE", "true", ("egress", "allow_private"), True),
        ("BXML_MIGRATE_EGRESS_ALLOW_PRIVATE", "Yes", ("egress", "allow_private"), True),
        ("BXML_MIGRATE_EGRESS_ALLOW_PRIVATE", "0", ("egress", "allow_private"), False),
        ("BXML_MIGRATE_EGRESS_ALLOW_PRIVATE", "off", ("egress", "allow_private"), False),
        ("BXML_MIGRATE_SERVER_MAX_REQUEST_BYTES", "65536", ("server", "max_request_bytes"), 65536),
        ("BXML_MIGRATE_TWIML_TIMEOUT", "2.5", ("twiml", "timeout"), 2.5),
        ("BXML_MIGRATE_EGRESS_ALLOW_HOSTS", "a.example, B.example", ("egress", "allow_hosts"),
         ("a.example", "b.example")),
        ("BXML_MIGRATE_EGRESS_ALLOW_HOSTS", '["a.example", "127.0.0.1"]', ("egress", "allow_hosts"),
         ("a.example", "127.0.0.1")),
        ("BXML_MIGRATE_TWIML_APP_METHOD", "get", ("twiml", "app_method"), "GET"),
        ("BXML_MIGRATE_BANDWIDTH_PASSWORD", "p@ss word", ("bandwidth", "password"), "p@ss word"),
    ],
)
def test_environment_values_are_parsed_by_type(
    variable: str, text: str, attribute: tuple[str, str], expected: object
) -> None:
    config = load_config(env={variable: text})
    assert getattr(getattr(config, attribute[0]), attribute[1]) == expected


def test_empty_values_mean_not_set(tmp_path: Path) -> None:
    path = write(tmp_path, '[twiml]\ntimeout = 5\n[bandwidth]\naccount_id = ""\n')
    config = load_config(path, env={"BXML_MIGRATE_TWIML_TIMEOUT": "", "BXML_MIGRATE_EGRESS_ALLOW_HOSTS": ""})
    assert config.twiml.timeout == 10.0  # the env's empty value resets the file's 5 to the default
    assert config.bandwidth.account_id is None
    assert config.egress.allow_hosts == ()
    unset = load_config(path, env={}, overrides={"twiml.timeout": None})
    assert unset.twiml.timeout == 10.0


def test_overrides_accept_nested_and_dotted_keys() -> None:
    config = load_config(env={}, overrides={"twiml": {"timeout": 3}, "egress.allow_private": True})
    assert config.twiml.timeout == 3.0 and config.egress.allow_private is True


def test_unrelated_environment_variables_are_ignored() -> None:
    env = {"BXML_MIGRATE_CONFIG": "/etc/x.toml", "BXML_MIGRATE_LOG_LEVEL": "debug", "PATH": "/bin"}
    assert load_config(env=env).modes() == ()


# -- typo protection ----------------------------------------------------------------------------


def test_unknown_section_and_key_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[bandwith]\npassword = "x"\n[twiml]\napp_ulr = "https://a.example"\n')
    found = problems(path=path)
    assert found == (
        f"bandwith: unknown section in file {path} (did you mean bandwidth?)",
        f"twiml.app_ulr: unknown key in file {path} (did you mean twiml.app_url?)",
    )


def test_section_must_be_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, 'server = "https://x.example"\n')
    assert only_problem(path=path) == f"server: must be a table ([server]) in file {path}"


def test_unknown_environment_variable_in_a_known_section() -> None:
    line = only_problem(env={"BXML_MIGRATE_BANDWIDTH_PASWORD": "s3cr3t-typo"})
    assert line.startswith("BXML_MIGRATE_BANDWIDTH_PASWORD: unknown setting")
    assert "did you mean BXML_MIGRATE_BANDWIDTH_PASSWORD?" in line
    assert "s3cr3t-typo" not in line


def test_unknown_override_key() -> None:
    assert only_problem(overrides={"state": {"ur": "sqlite://"}}) == (
        "state.ur: unknown key in overrides (did you mean state.url?)"
    )


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    assert only_problem(path=missing) == f"config file {missing}: not found"
    broken = write(tmp_path, "[server\npublic_url = 1\n")
    line = only_problem(path=broken)
    assert line.startswith(f"config file {broken}: not valid TOML (") and "line 1" in line


# -- value validation ---------------------------------------------------------------------------

URL_ROWS = [row for row in SCHEMA if isinstance(row.kind, Url)]


@pytest.mark.parametrize("row", URL_ROWS, ids=lambda row: row.dotted)
@pytest.mark.parametrize("bad", ["ftp://files.example.com/x", "not a url", "https://", "http://host:99999/x",
                                 "//no-scheme.example", "mailto:x@example.com"])
def test_url_keys_must_be_http_urls(row: Any, bad: str) -> None:
    line = problem_for(row.dotted, env={row.env_var: bad})
    assert "must be an absolute http(s) URL" in line or "is not a valid URL" in line or "spaces" in line
    assert line.endswith(f"(from env {row.env_var})")


@pytest.mark.parametrize("row", URL_ROWS, ids=lambda row: row.dotted)
def test_url_keys_accept_http_and_https(row: Any, tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    for good in ("http://127.0.0.1:8080", "https://example.com", "https://user:pw@example.com/x?y=1#z"):
        if row.kind.base and "?" in good:
            continue
        assert load_config(path, env={row.env_var: good}).value(row) == good


def test_base_urls_refuse_query_strings() -> None:
    line = only_problem(env={"BXML_MIGRATE_SERVER_PUBLIC_URL": "https://p.example/?x=1"})
    assert "without query" in line


@pytest.mark.parametrize(
    "url",
    ["sqlite:///./bxml-migrate.db", "sqlite:////var/lib/bxml/state.db", "sqlite://", "sqlite:///:memory:",
     "redis://localhost:6379/0", "redis://127.0.0.1", "redis://:pw@cache:6380/3", "rediss://cache:6380/1"],
)
def test_state_url_accepts(url: str) -> None:
    assert load_config(env={}, overrides={"state.url": url}).state.url == url


@pytest.mark.parametrize(
    "url", ["postgres://db/x", "sqlite:", "sqlite:///", "sqlite:/x.db", "redis://", "redis://cache:6379/zero",
            "redis://cache:port/0", "./state.db", "memory"]
)
def test_state_url_refuses(url: str) -> None:
    line = only_problem(overrides={"state.url": url})
    assert line.startswith("state.url: must be sqlite:///path/to/file.db, sqlite:// (temporary) or redis://")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"server.max_request_bytes": 10}, "server.max_request_bytes: must be at least 1024, got 10"),
        ({"server.max_request_bytes": True}, "server.max_request_bytes: must be an integer, not a boolean"),
        ({"server.max_request_bytes": "4096"}, "server.max_request_bytes: must be an integer, not a string"),
        ({"twiml.timeout": 15}, "twiml.timeout: must be at most 14 seconds, got 15"),
        ({"twiml.timeout": 0}, "twiml.timeout: must be greater than 0 seconds, got 0"),
        ({"twiml.timeout": float("inf")}, "twiml.timeout: must be a finite number of seconds"),
        ({"bandwidth.timeout": 61}, "bandwidth.timeout: must be at most 60 seconds"),
        ({"catapult.event_timeout": -1}, "catapult.event_timeout: must be greater than 0 seconds"),
        ({"state.call_ttl": 0}, "state.call_ttl: must be greater than 0 seconds"),
        ({"egress.allow_private": "yes"}, "egress.allow_private: must be true or false, not a string"),
        ({"egress.allow_hosts": "a.example"}, "egress.allow_hosts: must be a list of host names, not a string"),
        ({"egress.allow_hosts": ["https://a.example/x"]}, "egress.allow_hosts: entry 0 ('https://a.example/x') "
                                                          "must be a host name, not a URL"),
        ({"egress.allow_hosts": ["ok.example", "bad host"]}, "egress.allow_hosts: entry 1 ('bad host') is not"),
        ({"egress.allow_hosts": [1]}, "egress.allow_hosts: entry 0 must be a string, not an integer"),
        ({"twiml.app_method": "PUT"}, "twiml.app_method: must be one of POST, GET"),
        ({"twiml.status_callback_method": "DELETE"}, "twiml.status_callback_method: must be one of POST, GET"),
        ({"twiml.account_sid": "AC123"}, "twiml.account_sid: must be a Twilio account SID (AC + 32 hex digits)"),
        ({"catapult.user_id": "abc"}, "catapult.user_id: must be a v1 user id (u-...)"),
        ({"state.key_prefix": "has space"}, "state.key_prefix: must be letters, digits and :_.-"),
        ({"bandwidth.account_id": 123}, "bandwidth.account_id: must be a string, not an integer"),
        ({"twiml.fallback_bxml": "<Response><Hangup/></Response>"},
         "twiml.fallback_bxml: must have <Bxml> as its root element, not <Response>"),
        ({"twiml.fallback_bxml": "<Bxml><Hangup></Bxml>"}, "twiml.fallback_bxml: is not well-formed XML"),
        ({"twiml.fallback_bxml": '<!DOCTYPE x [<!ENTITY a "b">]><Bxml/>'},
         "twiml.fallback_bxml: must not contain DOCTYPE or entity declarations"),
    ],
)
def test_value_rules(overrides: dict[str, Any], expected: str) -> None:
    key = next(iter(overrides))
    line = problem_for(key, overrides=overrides)
    assert line.startswith(expected), line
    env_var = "BXML_MIGRATE_" + key.replace(".", "_").upper()
    assert line.endswith(f"(from overrides; environment variable {env_var})")


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("BXML_MIGRATE_EGRESS_ALLOW_PRIVATE", "maybe", "must be true or false (also accepted"),
        ("BXML_MIGRATE_SERVER_MAX_REQUEST_BYTES", "1MB", "must be an integer"),
        ("BXML_MIGRATE_TWIML_TIMEOUT", "ten", "must be a number of seconds"),
        ("BXML_MIGRATE_EGRESS_ALLOW_HOSTS", '["a.example"', "must be a JSON array of strings"),
    ],
)
def test_environment_values_that_do_not_parse(variable: str, text: str, expected: str) -> None:
    line = only_problem(env={variable: text})
    section_key = variable.removeprefix("BXML_MIGRATE_").lower().replace("_", ".", 1)
    assert line.startswith(f"{section_key}: {expected}")
    assert line.endswith(f"(from env {variable})")


def test_every_default_passes_its_own_rule() -> None:
    for row in SCHEMA:
        if row.default is not None:
            assert row.kind.from_toml(row.default) == row.default, row.dotted


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\npublic_url = "ftp://x"\nmax_request_bytes = 1\n[stat]\nurl = "x"\n')
    env = {"BXML_MIGRATE_TWIML_TIMEOUT": "99", "BXML_MIGRATE_TWIML_APP_URL": "https://app.example/voice"}
    with pytest.raises(ConfigError) as raised:
        load_config(path, env=env)
    lines = raised.value.problems
    assert [line.split(":", 1)[0] for line in lines] == [
        "server.public_url",
        "server.max_request_bytes",
        "stat",
        "twiml.timeout",
        "twiml.account_sid",  # twiml is partly configured (app_url set)
        "twiml.auth_token",
    ]
    message = str(raised.value)
    assert message.splitlines()[0] == "invalid configuration (6 problems):"
    assert all(f"  {line}" in message.splitlines() for line in lines)


# -- modes ----------------------------------------------------------------------------------------


def test_partly_configured_twiml_mode_is_an_error() -> None:
    found = problems(overrides={"twiml.app_url": "https://app.example/voice"})
    assert found == (
        "server.public_url: required for twiml mode, which is partly configured (twiml.app_url set); "
        "set [server] public_url or environment variable BXML_MIGRATE_SERVER_PUBLIC_URL",
        "twiml.account_sid: required for twiml mode, which is partly configured (twiml.app_url set); "
        "set [twiml] account_sid or environment variable BXML_MIGRATE_TWIML_ACCOUNT_SID",
        "twiml.auth_token: required for twiml mode, which is partly configured (twiml.app_url set); "
        "set [twiml] auth_token or environment variable BXML_MIGRATE_TWIML_AUTH_TOKEN",
    )


def test_partly_configured_catapult_mode_needs_bandwidth_credentials() -> None:
    env = {
        "BXML_MIGRATE_SERVER_PUBLIC_URL": "https://proxy.example",
        "BXML_MIGRATE_CATAPULT_USER_ID": "u-1",
        "BXML_MIGRATE_CATAPULT_API_TOKEN": "t-1",
        "BXML_MIGRATE_CATAPULT_API_SECRET": "secret",
        "BXML_MIGRATE_CATAPULT_CALLBACK_URL": "https://legacy.example/events",
        "BXML_MIGRATE_BANDWIDTH_USERNAME": "user",
    }
    found = problems(env=env)
    assert [line.split(":", 1)[0] for line in found] == ["bandwidth.account_id", "bandwidth.password"]
    assert "BXML_MIGRATE_BANDWIDTH_PASSWORD" in found[1]


def test_bandwidth_credentials_alone_configure_no_mode() -> None:
    config = load_config(env={"BXML_MIGRATE_BANDWIDTH_USERNAME": "u", "BXML_MIGRATE_BANDWIDTH_PASSWORD": "p"})
    assert config.modes() == ()


def test_callback_credentials_come_in_pairs() -> None:
    assert only_problem(env={"BXML_MIGRATE_BANDWIDTH_CALLBACK_USERNAME": "bw"}) == (
        "bandwidth.callback_password: required when bandwidth.callback_username is set "
        "(environment variable BXML_MIGRATE_BANDWIDTH_CALLBACK_PASSWORD)"
    )
    line = only_problem(env={"BXML_MIGRATE_BANDWIDTH_CALLBACK_PASSWORD": "CB-PASSWORD-s3cr3t"})
    assert line.startswith("bandwidth.callback_username: required when bandwidth.callback_password is set")
    assert "CB-PASSWORD-s3cr3t" not in line


# -- secrets --------------------------------------------------------------------------------------


def test_secrets_never_appear_in_repr_str_or_summaries(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(path, env={}, overrides={
        "server.signing_key": SECRETS["server.signing_key"],
        "state.url": "redis://:REDIS-PASSWORD-s3cr3t@cache:6379/0",
        "catapult.callback_url": "https://app:URL-PASSWORD-s3cr3t@legacy.example/events",
    })
    shown = [repr(config), str(config), repr(config.bandwidth), str(config.twiml), repr(config.redacted()),
             "\n".join(config.describe())]
    for text in shown:
        for secret in [*SECRETS.values(), "REDIS-PASSWORD-s3cr3t", "URL-PASSWORD-s3cr3t"]:
            assert secret not in text
    assert "password=***" in repr(config.bandwidth)
    assert "callback_username='bandwidth'" in repr(config.bandwidth)  # non-secrets stay readable
    assert config.redacted()["state"]["url"] == "redis://:***@cache:6379/0"
    assert config.redacted()["catapult"]["api_secret"] == "***"
    assert config.redacted()["bandwidth"]["callback_username"] == "bandwidth"
    assert config.catapult.api_secret == SECRETS["catapult.api_secret"]  # the value itself is intact


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, """
        [server]
        signing_key = "SHORT-s3cr3t"
        [bandwidth]
        password = 12345678
        pasword = "TYPO-s3cr3t"
        [state]
        url = "redis://:REDIS-PASSWORD-s3cr3t@cache:6379/db"
        [twiml]
        auth_token = ["LIST-s3cr3t"]
    """)
    env = {"BXML_MIGRATE_CATAPULT_API_TOKEN_X": "ENV-s3cr3t", "BXML_MIGRATE_TWIML_AUTH_TOKEN": ""}
    with pytest.raises(ConfigError) as raised:
        load_config(path, env=env, overrides={"catapult.api_secret": 987654321})
    message = str(raised.value)
    for secret in ("SHORT-s3cr3t", "12345678", "TYPO-s3cr3t", "REDIS-PASSWORD-s3cr3t", "LIST-s3cr3t",
                   "ENV-s3cr3t", "987654321"):
        assert secret not in message
    assert "server.signing_key: must be at least 32 characters long (from file" in message
    assert "bandwidth.password: must be a string, not an integer (from file" in message
    assert "state.url: must be sqlite:///path/to/file.db" in message and "redis://:***@cache:6379/db" in message


def test_secret_keys_are_marked_secret() -> None:
    """Guards future rows: anything named like a credential must be masked."""
    for row in SCHEMA:
        if any(word in row.name for word in ("password", "secret", "token", "signing_key")):
            assert row.secret, row.dotted
    assert {row.dotted for row in SCHEMA if row.secret} == set(SECRETS)


# -- signing key ----------------------------------------------------------------------------------


def test_explicit_signing_key_is_used() -> None:
    config = load_config(env={"BXML_MIGRATE_SERVER_SIGNING_KEY": SECRETS["server.signing_key"]})
    assert config.signing_key == SECRETS["server.signing_key"].encode()


def test_derived_signing_key_is_deterministic_and_depends_on_the_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    first, second = load_config(path, env={}), load_config(path, env={})
    assert first.signing_key == second.signing_key  # two instances sharing the config agree
    assert len(first.signing_key) == 32
    assert all(secret.encode() not in first.signing_key for secret in SECRETS.values())
    rotated = load_config(path, env={"BXML_MIGRATE_TWIML_AUTH_TOKEN": "another-token"})
    assert rotated.signing_key != first.signing_key


def test_without_any_secret_the_signing_key_is_random() -> None:
    first, second = load_config(env={}), load_config(env={})
    assert len(first.signing_key) == 32 and first.signing_key == first.signing_key
    assert first.signing_key != second.signing_key


# -- schema ---------------------------------------------------------------------------------------


def test_schema_rows_are_complete_and_unique() -> None:
    assert len({row.env_var for row in SCHEMA}) == len(SCHEMA)
    for row in SCHEMA:
        assert row.doc, f"{row.dotted} needs a doc line"
        assert row.env_var == f"BXML_MIGRATE_{row.section.upper()}_{row.name.upper()}"
    assert {row.section for row in SCHEMA} == {"server", "bandwidth", "catapult", "twiml", "state", "egress"}


def test_reference_table_lists_every_key() -> None:
    table = markdown_table().splitlines()
    assert len(table) == 2 + len(SCHEMA)
    for row, line in zip(SCHEMA, table[2:], strict=True):
        assert line.startswith(f"| `{row.dotted}` |") and ("(secret)" in line) == row.secret


def test_default_config_object_matches_loaded_defaults() -> None:
    assert Config().redacted() == load_config(env={}).redacted()
