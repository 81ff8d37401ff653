"""Input edges: invisible and line-breaking characters in names, malformed settings.

The docs promise names without control characters. Category Cc is not all a
reader would call one: line and paragraph separators (U+2028, U+2029) break a
line, bidirectional overrides and isolates reorder what is shown, and a name
of zero-width characters looks empty. `check` refuses them, naming the
property and what is not allowed; a description may still hold line breaks
and tabs. A zero-width (non-)joiner inside a word or an emoji sequence is text
and stays allowed.

A malformed base URL (whitespace inside, an unclosed IPv6 bracket, another
scheme) or an API key that cannot go into an HTTP header (non-ASCII, control
characters) is a configuration error naming the setting, raised before any
request, never a raw httpx error or `UnicodeEncodeError`, and never showing
the key.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devtools.enginehost import (
    PROVIDER_KEY,
    CheckFailed,
    ProviderCallError,
    ProviderHost,
    ResourceSteps,
    make_urn,
)
from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import TokenFactoryClient, resolve_api_key, resolve_base_url
from pulumi_tokenfactory.api.models import Flavor, Template
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.endpoint.validation import check_inputs
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.accounts import AccountSettings

pytestmark = pytest.mark.timeout(120)

TOKEN = "tf-input-edges-token-9c3e71"
PROGRAM: dict[str, Any] = {
    "name": "edges", "model_name": "openai/gpt-oss-20b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 1}, "wait_for_ready": False,
}
CATALOGUE = [Template(model_name="openai/gpt-oss-20b",
                      flavors=[Flavor(flavor_name="base", gpu_types=["gpu-h100-sxm"], gpu_counts=[1])])]
MUTATING = frozenset({"POST", "PATCH", "DELETE"})


def failures(**overrides: Any) -> dict[str, str]:
    outcome = check_inputs({**PROGRAM, **overrides}, templates=lambda: CATALOGUE)
    return dict(outcome.failures)


# --------------------------------------------------------------------------- names and descriptions

#: (id, text inside a name, what the failure must call it, the code point it must show)
REFUSED_IN_TEXT: list[tuple[str, str, str, str]] = [
    ("line-separator", "gpt\u2028prod", "line separator", "U+2028"),
    ("paragraph-separator", "gpt\u2029prod", "paragraph separator", "U+2029"),
    ("bidi-lre", "gpt\u202aprod", "bidirectional", "U+202A"),
    ("bidi-rle", "gpt\u202bprod", "bidirectional", "U+202B"),
    ("bidi-pdf", "gpt\u202cprod", "bidirectional", "U+202C"),
    ("bidi-lro", "gpt\u202dprod", "bidirectional", "U+202D"),
    ("bidi-rlo", "gpt\u202eprod", "bidirectional", "U+202E"),
    ("bidi-lri", "gpt\u2066prod\u2069", "bidirectional", "U+2066"),
    ("bidi-rli", "gpt\u2067prod\u2069", "bidirectional", "U+2067"),
    ("bidi-fsi", "gpt\u2068prod\u2069", "bidirectional", "U+2068"),
    ("bidi-pdi", "gpt\u2069prod", "bidirectional", "U+2069"),
    ("only-zero-width-space", "\u200b", "invisible", "U+200B"),
    ("only-zero-width-non-joiner", "\u200c", "invisible", "U+200C"),
    ("only-zero-width-joiner", "\u200d\u200d", "invisible", "U+200D"),
    ("only-byte-order-mark", "\ufeff", "invisible", "U+FEFF"),
    ("only-word-joiner", "\u2060", "invisible", "U+2060"),
    ("only-zero-width-mix", "\u200b\u200c\u200d\ufeff\u2060", "invisible", "U+200B"),
    ("zero-width-space-inside", "gpt\u200bprod", "invisible", "U+200B"),
    ("leading-byte-order-mark", "\ufeffgpt", "invisible", "U+FEFF"),
    ("joiner-at-the-end", "gpt\u200d", "invisible", "U+200D"),
    ("soft-hyphen", "gpt\u00adprod", "invisible", "U+00AD"),
    ("control-character", "gpt\x1bprod", "control character", "U+001B"),
]
IDS = [case[0] for case in REFUSED_IN_TEXT]


@pytest.mark.parametrize(("case", "text", "kind", "code"), REFUSED_IN_TEXT, ids=IDS)
def test_a_name_with_an_invisible_or_line_breaking_character_is_refused(
        case: str, text: str, kind: str, code: str) -> None:
    reason = failures(name=text).get("name")
    assert reason is not None, f"{case}: {text!r} passed check"
    assert reason.startswith("name must not contain") and kind in reason and code in reason, reason
    assert "not allowed" in reason and "\n" not in reason


@pytest.mark.parametrize(("case", "text", "kind", "code"), REFUSED_IN_TEXT, ids=IDS)
def test_a_description_with_them_is_refused_too(case: str, text: str, kind: str, code: str) -> None:
    reason = failures(description=f"team ml\n\t{text}").get("description")
    assert reason is not None, f"{case}: {text!r} passed check in a description"
    assert reason.startswith("description must not contain") and kind in reason and code in reason, reason


@pytest.mark.parametrize("prop", ["model_name", "flavor_name"])
def test_catalogue_names_refuse_them_with_their_own_property(prop: str) -> None:
    reason = failures(**{prop: f"{PROGRAM[prop]}\u2028"}).get(prop, "")
    assert reason.startswith(f"{prop} must not contain a line separator"), reason


def test_a_gpu_type_with_a_separator_is_not_a_published_type_and_the_message_shows_it_escaped() -> None:
    reason = failures(gpu_type=f"{PROGRAM['gpu_type']}\u2028").get("gpu_type", "")
    assert reason.startswith("gpu_type 'gpu-h100-sxm\\u2028' is not a published GPU type"), reason


@pytest.mark.parametrize("name", [
    "Модель 🚀 エンドポイント",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: a zero-width non-joiner inside a word
    "team \U0001f468\u200d\U0001f469\u200d\U0001f467",  # an emoji family: zero-width joiners between emoji
    "gpt\u00a0prod",  # a no-break space is a visible space
    "\u05e9\u05dc\u05d5\u05dd endpoint",  # right-to-left text needs no control characters
])
def test_real_text_is_still_accepted(name: str) -> None:
    assert failures(name=name, description=f"{name}\nowner: team-ml\tpager") == {}


def test_a_description_keeps_line_breaks_and_tabs_but_not_carriage_returns() -> None:
    assert failures(description="owner: team-ml\n\tpager: #ml-oncall\n") == {}
    assert "U+000D" in failures(description="line\r\nline")["description"]


# --------------------------------------------------------------------------- the base URL

BAD_BASE_URLS: list[tuple[str, str, str]] = [
    ("newline-inside", "http://127.0.0.1:8080\n/v0", "whitespace or a control character"),
    ("newline-in-host", "http://api.tokenfactory\n.nebius.com", "whitespace or a control character"),
    ("space-in-host", "http://api.token factory.nebius.com", "whitespace or a control character"),
    ("tab-in-path", "https://proxy.internal/tf\tapi", "whitespace or a control character"),
    ("line-separator", "https://api.tokenfactory.nebius.com\u2028x", "whitespace or a control character"),
    ("zero-width-space", "https://api.tokenfactory\u200b.nebius.com", "whitespace or a control character"),
    ("unclosed-ipv6-bracket", "http://[::1", "IPv6"),
    ("unclosed-ipv6-bracket-with-port", "http://[::1:8080/v0", "IPv6"),
    ("bad-ipv6", "http://[zz]:8080", "not a valid URL"),
    ("port-not-a-number", "http://127.0.0.1:port", "not a valid URL"),
    ("port-out-of-range", "http://127.0.0.1:70000", "from 1 to 65535"),
    ("port-zero", "http://127.0.0.1:0", "from 1 to 65535"),
    ("percent-in-host", "http://api%0a.tokenfactory.nebius.com", "host may only hold"),
    ("ftp", "ftp://api.tokenfactory.nebius.com", "http or https"),
    ("file", "file:///etc/passwd", "http or https"),
    ("websocket", "wss://api.tokenfactory.nebius.com", "http or https"),
    ("javascript", "javascript:alert(1)", "http or https"),
    ("no-scheme", "api.tokenfactory.nebius.com", "http or https"),
]
URL_IDS = [case[0] for case in BAD_BASE_URLS]


@pytest.mark.parametrize(("case", "url", "problem"), BAD_BASE_URLS, ids=URL_IDS)
def test_a_malformed_base_url_is_a_configuration_error_naming_the_setting(case: str, url: str, problem: str) -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"templates": []})

    with pytest.raises(errors.ConfigurationError) as info:
        TokenFactoryClient(api_key=TOKEN, base_url=url, transport=httpx.MockTransport(record)).list_templates()
    text = str(info.value)
    assert "tokenfactory:baseUrl" in text and problem in text, f"{case}: {text}"
    assert "\n" not in text and TOKEN not in text
    assert getattr(info.value, "setting", None) == "tokenfactory:baseUrl"
    assert seen == [], f"{case}: a request was made"


def test_a_malformed_base_url_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://[::1")
    with pytest.raises(errors.ConfigurationError, match="from TOKENFACTORY_BASE_URL"):
        resolve_base_url(None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "https://api.tokenfactory.nebius.com/",
                                 "http://[::1]:8080", "  http://localhost:8080/prefix/\n", "http://emulator_1:80"])
def test_good_base_urls_still_work(url: str) -> None:
    assert resolve_base_url(url) == url.strip().rstrip("/")


# --------------------------------------------------------------------------- the API key

BAD_KEYS: list[tuple[str, str, str]] = [
    ("non-ascii-letter", "tf-kéy-0123456789abcdef", "non-ASCII"),
    ("smart-quotes", "\u201ctf-key-0123456789abcdef\u201d", "non-ASCII"),
    ("zero-width-space", "tf-key-0123456789\u200babcdef", "non-ASCII"),
    ("no-break-space", "tf-key-0123456789\u00a0abcdef", "whitespace"),
    ("byte-order-mark", "\ufefftf-key-0123456789abcdef", "non-ASCII"),
    ("nul", "tf-key-0123456789\x00abcdef", "control character"),
    ("delete", "tf-key-0123456789\x7fabcdef", "control character"),
    ("newline-inside", "tf-key-0123456789\nabcdef", "whitespace"),
    ("space-inside", "tf-key-0123456789 abcdef", "whitespace"),
]
KEY_IDS = [case[0] for case in BAD_KEYS]


@pytest.mark.parametrize(("case", "key", "problem"), BAD_KEYS, ids=KEY_IDS)
def test_an_api_key_that_cannot_be_sent_is_a_configuration_error(case: str, key: str, problem: str) -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"templates": []})

    with pytest.raises(errors.ConfigurationError) as info:
        TokenFactoryClient(api_key=key, base_url="http://api.test",
                           transport=httpx.MockTransport(record)).list_templates()
    text = str(info.value)
    assert "tokenfactory:apiKey" in text and problem in text, f"{case}: {text}"
    for part in ("tf-key", "0123456789", "abcdef"):
        assert part not in text, f"{case}: the message shows part of the key: {text}"
    assert seen == [], f"{case}: a request was made"


def test_an_api_key_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-kéy-0123456789abcdef")
    with pytest.raises(errors.ConfigurationError) as info:
        resolve_api_key(None)
    assert "TOKENFACTORY_API_KEY" in str(info.value) and "0123456789" not in str(info.value)
    assert getattr(info.value, "setting", None) == "TOKENFACTORY_API_KEY"


def test_surrounding_whitespace_of_a_key_is_still_forgiven() -> None:
    assert resolve_api_key("  tf-key-0123456789abcdef\n").reveal() == "tf-key-0123456789abcdef"


# --------------------------------------------------------------------------- through the provider host


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    """The module's emulator account (tests/engine/conftest.py, fixtures `emulator`, `host`): this token only."""
    return AccountSettings(token=TOKEN, emulator={"provision_seconds": 0.2, "delete_seconds": 0.05})



HOST_NAMES = [("line-separator", "gpt\u2028prod"), ("bidi-override", "prod\u202egpt"),
              ("only-zero-width", "\u200b\u200d\ufeff\u2060")]


@pytest.mark.parametrize(("case", "name"), HOST_NAMES, ids=[c[0] for c in HOST_NAMES])
def test_check_refuses_the_name_by_property_and_changes_nothing(
        case: str, name: str, emulator: EmulatorProcess, host: ProviderHost, provider_str: str) -> None:
    emulator.clear_requests()
    steps = ResourceSteps(host, provider_str, make_urn(RESOURCE_TYPE, f"edge-{case}"))
    with pytest.raises(CheckFailed) as info:
        steps.up({**PROGRAM, "name": name})
    reasons = dict(info.value.failures)
    assert reasons.get("name", "").startswith("name must not contain"), info.value.failures
    assert [r for r in emulator.requests() if r["method"] in MUTATING] == []


def test_a_bare_create_refuses_the_name_before_any_request(
        emulator: EmulatorProcess, host: ProviderHost, provider_str: str) -> None:
    emulator.clear_requests()
    with pytest.raises(ProviderCallError) as info:
        host.create(make_urn(RESOURCE_TYPE, "edge-bare"), {**PROGRAM, "name": "gpt\u2029prod",
                                                             PROVIDER_KEY: provider_str})
    line = info.value.last_line
    assert line.startswith("pulumi_tokenfactory.errors.ConfigurationError"), info.value.details
    assert "name must not contain a paragraph separator" in line
    assert emulator.requests() == []


CONFIG_EDGES: list[tuple[str, dict[str, str], dict[str, str], str]] = [
    ("baseUrl-unclosed-ipv6", {"tokenfactory:baseUrl": "http://[::1"}, {}, "tokenfactory:baseUrl"),
    ("baseUrl-newline", {"tokenfactory:baseUrl": "http://127.0.0.1:1\n/x"}, {}, "tokenfactory:baseUrl"),
    ("baseUrl-space", {"tokenfactory:baseUrl": "http://127.0.0.1 :1"}, {}, "tokenfactory:baseUrl"),
    ("baseUrl-scheme", {"tokenfactory:baseUrl": "gopher://127.0.0.1:1"}, {}, "tokenfactory:baseUrl"),
    ("apiKey-non-ascii", {"tokenfactory:apiKey": "tf-input-edges-tökén-9c3e71"}, {}, "tokenfactory:apiKey"),
    ("apiKey-control", {"tokenfactory:apiKey": "tf-input-edges-\x01-9c3e71"}, {}, "tokenfactory:apiKey"),
    ("env-key-zero-width", {}, {"TOKENFACTORY_API_KEY": "tf-input-edges\u200b-9c3e71"}, "TOKENFACTORY_API_KEY"),
    ("env-url-bracket", {"tokenfactory:apiKey": TOKEN}, {"TOKENFACTORY_BASE_URL": "http://[::1:8080"},
     "TOKENFACTORY_BASE_URL"),
    # The waiter's knobs are refused when the provider's session is built, not clamped, and not mid-create.
    ("env-poll-ceiling-too-small", {}, {"TOKENFACTORY_POLL_MAX_INTERVAL": "0.001"}, "TOKENFACTORY_POLL_MAX_INTERVAL"),
    ("env-poll-ceiling-word", {}, {"TOKENFACTORY_POLL_MAX_INTERVAL": "fast"}, "TOKENFACTORY_POLL_MAX_INTERVAL"),
    ("env-widening-word", {}, {"TOKENFACTORY_HOST_WIDENING": "yes"}, "TOKENFACTORY_HOST_WIDENING"),
]


@pytest.mark.parametrize(("case", "config", "env", "setting"), CONFIG_EDGES, ids=[c[0] for c in CONFIG_EDGES])
def test_a_malformed_setting_fails_the_call_naming_it_before_any_request(
        case: str, config: dict[str, str], env: dict[str, str], setting: str, emulator: EmulatorProcess,
        provider_str: str, quiet_env: None) -> None:
    full = {"tokenfactory:apiKey": TOKEN, "tokenfactory:baseUrl": emulator.base_url, **config}
    if "TOKENFACTORY_API_KEY" in env:
        del full["tokenfactory:apiKey"]
    if "TOKENFACTORY_BASE_URL" in env:
        del full["tokenfactory:baseUrl"]
    emulator.clear_requests()
    secret = [key for key in ("tokenfactory:apiKey",) if key in full]
    with ProviderHost(config=full, secret_keys=secret, env=env) as own:
        with pytest.raises(ProviderCallError) as info:
            own.check(make_urn(RESOURCE_TYPE, case), {}, {**PROGRAM, PROVIDER_KEY: provider_str})
        line = info.value.last_line
        assert line.startswith("pulumi_tokenfactory.errors.InvalidSettingError"), (
            f"{case}: not a configuration error of ours:\n{info.value.details}")
        assert setting in line, f"{case}: {line!r} does not name {setting}"
        for raw in ("UnicodeEncodeError", "InvalidURL", "LocalProtocolError", "httpx."):
            assert raw not in info.value.details, f"{case}: a raw {raw} surfaced:\n{info.value.details}"
        message = line.split(":", 1)[1].replace("check 'edges': ", "", 1)  # the resource's name, not the key
        assert "edges" not in message, f"{case}: the key is shown: {line}"
        assert TOKEN not in info.value.details and TOKEN not in own.stderr_text()
    assert emulator.requests() == [], f"{case}: the emulator was asked something"
