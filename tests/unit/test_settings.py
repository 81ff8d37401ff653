"""The one settings resolver: precedence (config > environment > default) and one error type per bad value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pulumi_tokenfactory import errors, settings
from pulumi_tokenfactory.settings import (
    API_KEY,
    BASE_URL,
    CONFIG_KEYS,
    GPU_PRICES,
    HOST_WIDENING,
    HTTP_TIMEOUT,
    POLL_MAX_INTERVAL,
    PROJECT_ID,
    REGION,
    SETTINGS,
    Setting,
    Settings,
)

TOKEN = "tf-settings-0123456789abcdef"
DOCS = Path(__file__).resolve().parents[2] / "sdk-docs" / "installation-configuration.md"


def plain(value: Any) -> Any:
    """A resolved value in a comparable form (the API key is wrapped so that it never prints)."""
    if isinstance(value, settings.ApiKey):
        return value.reveal()
    if isinstance(value, settings.PriceTable):
        return value.to_config()
    return value


@dataclass(frozen=True)
class Good:
    setting: Setting[Any]
    first: str
    first_value: Any
    second: str
    second_value: Any


GOOD = [
    Good(API_KEY, f" {TOKEN}\n", TOKEN, "tf-other-0123456789", "tf-other-0123456789"),
    Good(BASE_URL, "http://127.0.0.1:8080/", "http://127.0.0.1:8080", "https://example.test/prefix",
         "https://example.test/prefix"),
    Good(REGION, "eu-west1", "eu-west1", "tf-ca1", "tf-ca1"),
    Good(PROJECT_ID, " project-e00abc ", "project-e00abc", "proj:2.b_c", "proj:2.b_c"),
    Good(GPU_PRICES, '{"currency": "USD", "prices": {"gpu-h100-sxm": 3.5}}',
         {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5}}, '{"currency": "EUR", "prices": {"gpu-l40s": 1}}',
         {"currency": "EUR", "prices": {"gpu-l40s": 1.0}}),
    Good(HTTP_TIMEOUT, "12.5", 12.5, "600", 600.0),
    Good(POLL_MAX_INTERVAL, "0.05", 0.05, "60", 60.0),
    Good(HOST_WIDENING, "0", False, "1", True),
]
DEFAULTS: dict[str, Any] = {
    "Token Factory base URL": "https://api.tokenfactory.nebius.com",
    "default region": "eu-north1",
    "Token Factory project": None,
    "GPU hourly price table": None,
    "HTTP timeout": 30.0,
    "status poll ceiling": 30.0,
    "provider-host thread lending": True,
}


def test_every_setting_has_a_good_case_and_a_default_case() -> None:
    assert {g.setting.label for g in GOOD} == {s.label for s in SETTINGS}
    assert set(DEFAULTS) == {s.label for s in SETTINGS if s is not API_KEY}


@pytest.mark.parametrize("good", GOOD, ids=[g.setting.label for g in GOOD])
def test_config_beats_environment_beats_default(good: Good) -> None:
    s = good.setting
    if s.config_key:
        both = Settings({s.config_key: good.first}, environ={s.env: good.second} if s.env else {})
        assert plain(both.get(s)) == good.first_value
    if s.env:
        assert plain(Settings({}, environ={s.env: good.second}).get(s)) == good.second_value
        assert plain(Settings(None, environ={s.env: good.first}).get(s)) == good.first_value
    if s.label in DEFAULTS:
        assert plain(Settings({}, environ={}).get(s)) == DEFAULTS[s.label]
        if s.env:  # an exported but empty variable counts as unset
            assert plain(Settings({}, environ={s.env: ""}).get(s)) == DEFAULTS[s.label]


def test_an_explicit_argument_takes_the_place_of_the_config() -> None:
    assert API_KEY.resolve({"tokenfactory:apiKey": "tf-config-0123456789"}, {}, given=TOKEN).reveal() == TOKEN
    with pytest.raises(errors.InvalidSettingError) as info:
        API_KEY.resolve({}, {"TOKENFACTORY_API_KEY": TOKEN}, given="tf-kéy-0123456789")
    assert info.value.setting == "tokenfactory:apiKey"


def test_a_missing_api_key_says_how_to_set_it() -> None:
    with pytest.raises(errors.MissingApiKeyError, match=r"tokenfactory:apiKey.*TOKENFACTORY_API_KEY"):
        Settings({}, environ={}).get(API_KEY)
    with pytest.raises(errors.MissingApiKeyError, match="empty"):
        Settings({"tokenfactory:apiKey": "  "}, environ={}).get(API_KEY)


@dataclass(frozen=True)
class Bad:
    setting: Setting[Any]
    source: str
    raw: Any
    problem: str
    shown: str | None = None
    """What of the value the message must show (default: the value itself; for a secret, nothing)."""


BAD = [
    Bad(API_KEY, "tokenfactory:apiKey", "tf-kéy-0123456789abcdef", "non-ASCII"),
    Bad(API_KEY, "TOKENFACTORY_API_KEY", "tf-key\u200b-0123456789abcdef", "non-ASCII"),
    Bad(API_KEY, "tokenfactory:apiKey", 12345, "must be a string"),
    Bad(BASE_URL, "tokenfactory:baseUrl", "api.tokenfactory.nebius.com", "http(s)://"),
    Bad(BASE_URL, "TOKENFACTORY_BASE_URL", "http://[::1", "IPv6"),
    Bad(BASE_URL, "tokenfactory:baseUrl", ["http://x"], "must be a string"),
    Bad(REGION, "tokenfactory:region", "mars-1", "eu-north1, us-central1, eu-west1, me-west1, uk-south1, tf-us1"),
    Bad(PROJECT_ID, "TOKENFACTORY_PROJECT_ID", "my project", "not a project id"),
    Bad(PROJECT_ID, "tokenfactory:projectId", "p?x=1", "not a project id"),
    Bad(REGION, "tokenfactory:region", 3, "must be a string"),
    Bad(GPU_PRICES, "tokenfactory:gpuHourlyPrices", '{"currency": "USD", "prices": {"gpu-h100-sxm": -1}}',
        "a number >= 0", shown="is -1"),
    Bad(GPU_PRICES, "tokenfactory:gpuHourlyPrices", "{not json", "not valid JSON", shown="at position 1"),
    Bad(HTTP_TIMEOUT, "TOKENFACTORY_HTTP_TIMEOUT", "soon", "at most 600"),
    Bad(HTTP_TIMEOUT, "TOKENFACTORY_HTTP_TIMEOUT", "0", "above 0"),
    Bad(HTTP_TIMEOUT, "TOKENFACTORY_HTTP_TIMEOUT", "nan", "at most 600"),
    Bad(HTTP_TIMEOUT, "TOKENFACTORY_HTTP_TIMEOUT", "601", "at most 600"),
    Bad(POLL_MAX_INTERVAL, "TOKENFACTORY_POLL_MAX_INTERVAL", "0.01", "0.05 to 60"),
    Bad(POLL_MAX_INTERVAL, "TOKENFACTORY_POLL_MAX_INTERVAL", "90", "0.05 to 60"),
    Bad(POLL_MAX_INTERVAL, "TOKENFACTORY_POLL_MAX_INTERVAL", "fast", "0.05 to 60"),
    Bad(HOST_WIDENING, "TOKENFACTORY_HOST_WIDENING", "yes", "1 (on) or 0 (off)"),
]


@pytest.mark.parametrize("bad", BAD, ids=[f"{b.source}={b.raw!r}" for b in BAD])
def test_a_bad_value_is_one_error_naming_the_setting_the_value_and_what_is_allowed(bad: Bad) -> None:
    config = {bad.source: bad.raw} if ":" in bad.source else {}
    environ = {} if ":" in bad.source else {bad.source: bad.raw}
    where = Settings(config, environ=environ)
    with pytest.raises(errors.InvalidSettingError) as info:
        where.get(bad.setting)
    text = str(info.value)
    assert info.value.setting == bad.source
    assert bad.source in text and bad.problem in text, text
    assert "\n" not in text
    if bad.setting.secret:
        assert not any(part in text for part in ("0123456789", "abcdef", "12345")), text
    else:
        assert (bad.shown or repr(bad.raw)) in text, text
    with pytest.raises(errors.InvalidSettingError):  # asked again, it still fails (nothing half-cached)
        where.get(bad.setting)


def test_a_bad_value_elsewhere_does_not_stop_a_setting_that_is_fine() -> None:
    where = Settings({"tokenfactory:region": "mars-1"}, environ={"TOKENFACTORY_HTTP_TIMEOUT": "5"})
    assert where.get(HTTP_TIMEOUT) == 5.0


def test_the_program_side_reads_the_stack_config(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi.runtime

    monkeypatch.setattr(pulumi.runtime, "get_config", {"tokenfactory:region": "us-central1"}.get)
    assert Settings.of_program().get(REGION) == "us-central1"
    monkeypatch.setattr(pulumi.runtime, "get_config", {"tokenfactory:region": "mars-1"}.get)
    with pytest.raises(errors.InvalidSettingError, match="tokenfactory:region"):
        Settings.of_program().get(REGION)
    monkeypatch.setattr(pulumi.runtime, "get_config", {}.get)
    assert Settings.of_program().get(REGION) == "eu-north1"


def test_the_provider_keeps_every_config_key_from_configure() -> None:
    from pulumi_tokenfactory.provider import DedicatedEndpointProvider

    assert set(CONFIG_KEYS) == {s.config_key for s in SETTINGS if s.config_key}

    class Request:
        config = {key: f"value of {key}" for key in (*CONFIG_KEYS, "tokenfactory:somethingElse")}

    provider = DedicatedEndpointProvider()
    provider.configure(Request())  # type: ignore[arg-type]
    assert provider._config == {key: f"value of {key}" for key in CONFIG_KEYS}


def test_nothing_secret_in_repr_or_pickle() -> None:
    import pickle

    where = Settings({"tokenfactory:apiKey": TOKEN}, environ={})
    assert TOKEN not in repr(where.get(API_KEY)) and TOKEN not in repr(where)
    with pytest.raises(TypeError):
        pickle.dumps(where)
    with pytest.raises(TypeError):
        pickle.dumps(where.get(API_KEY))


def test_the_docs_table_lists_every_setting_with_its_sources() -> None:
    text = DOCS.read_text()
    table = text[text.index("## Configure"):]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    for s in SETTINGS:
        row = next((r for r in rows if any(f"`{src}`" in r for src in s.sources)), None)
        assert row is not None, f"no row in {DOCS.name} for {s.label} ({', '.join(s.sources)})"
        for src in s.sources:
            assert f"`{src}`" in row, f"{s.label}: {src} missing from {row}"
        for word in re.findall(r"\d+(?:\.\d+)?", s.allowed):
            assert word in row, f"{s.label}: its limit {word} is not in the docs row {row}"
