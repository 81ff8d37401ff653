"""A catalogue of bad inputs, each driven end to end through the real provider host against the emulator.

`tests/unit/test_validation.py` proves `check_inputs` in isolation; this file proves what a
user actually sees: the engine's Check (or a bare Create, or Configure) over gRPC, the
failure that comes back, and that the API was never asked to change anything. Every
case must end in either a check failure on the named property or a `ProviderCallError`
whose last line is one of our own error classes naming the property or config key and
saying what is allowed, never a bare `KeyError`/`TypeError`/`ValidationError`.

Catalogue values (model, flavor, GPU type and count) are read from the emulator's
template route, so the cases stay "not offered" whatever the catalogue holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from devtools.enginehost import (
    PROVIDER_KEY,
    UNKNOWN,
    CheckFailed,
    ProviderCallError,
    ProviderHost,
    ResourceSteps,
    make_urn,
)
from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.models import parse_templates
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.endpoint.fields import DIFFED_FIELDS, REPLACE_FIELDS, SCALING_CHILDREN
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.accounts import AccountSettings

pytestmark = pytest.mark.timeout(60)

TOKEN = "tf-bad-inputs-token-5d1c"
MODEL, FLAVOR, GPU = "openai/gpt-oss-20b", "base", "gpu-h100-sxm"
PROGRAM: dict[str, Any] = {
    "name": "bad-inputs", "model_name": MODEL, "flavor_name": FLAVOR, "gpu_type": GPU, "gpu_count": 1,
    "scaling": {"min_replicas": 1, "max_replicas": 2}, "region": "eu-north1", "wait_for_ready": False,
}
MUTATING = frozenset({"POST", "PATCH", "DELETE"})
#: What the API cannot change in place (PATCH answers 400 immutable_field): a change means replacement.
IMMUTABLE = frozenset(REPLACE_FIELDS)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    """The module's emulator account (tests/engine/conftest.py): its own token; `host` is configured for it."""
    return AccountSettings(token=TOKEN)


@pytest.fixture(scope="module")
def catalogue(emulator: EmulatorProcess) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """{model: {flavor: {"gpu_types": [...], "gpu_counts": [...]}}} as the emulator serves it."""
    response = httpx.get(f"{emulator.base_url}/v0/dedicated_endpoints/templates",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    response.raise_for_status()
    return {t.model_name: {f.flavor_name: {"gpu_types": f.gpu_types, "gpu_counts": f.gpu_counts} for f in t.flavors}
            for t in parse_templates(response.json())}



# --------------------------------------------------------------------------- the catalogue

Catalogue = dict[str, dict[str, dict[str, list[Any]]]]


@dataclass(frozen=True)
class Bad:
    """One bad input: how to break the program, and what the answer must name and allow."""

    id: str
    change: Callable[[Catalogue], dict[str, Any]]
    """Overrides of PROGRAM (a value of `DROP` removes the key); gets the emulator's catalogue."""
    prop: str
    """The property (check failure) or the config key / env var (error line) that must be named."""
    allowed: Callable[[Catalogue], list[str]] = lambda _: []
    """Texts the answer must contain: what would have been accepted."""
    config: dict[str, Any] | None = None
    """Stack config for a host of its own; None uses the shared, correctly configured host."""
    env: dict[str, str] = field(default_factory=dict)
    bare_create: bool = False
    """Call Create directly, as if Check had been skipped: it must re-validate before any POST."""


DROP = object()


def fixed(**overrides: Any) -> Callable[[Catalogue], dict[str, Any]]:
    return lambda _catalogue: overrides


def texts(*words: str) -> Callable[[Catalogue], list[str]]:
    return lambda _catalogue: list(words)


def _offered(cat: Catalogue) -> dict[str, list[Any]]:
    return cat[MODEL][FLAVOR]


def _gpu_type_elsewhere(cat: Catalogue) -> str:
    """A GPU type the catalogue offers for some model, but not for MODEL/FLAVOR."""
    everywhere = sorted({g for flavors in cat.values() for f in flavors.values() for g in f["gpu_types"]})
    return next(g for g in everywhere if g not in _offered(cat)["gpu_types"])


def _gpu_count_elsewhere(cat: Catalogue) -> int:
    everywhere = sorted({c for flavors in cat.values() for f in flavors.values() for c in f["gpu_counts"]})
    return next(c for c in everywhere if c not in _offered(cat)["gpu_counts"])


def _unlisted_model(cat: Catalogue) -> str:
    model = "openai/gpt-oss-999b"
    assert model not in cat
    return model


def _unlisted_flavor(cat: Catalogue) -> str:
    assert "turbo" not in cat[MODEL]
    return "turbo"


#: "<emulator>" stands for the emulator's URL, known only once it runs.
GOOD_CONFIG = {"tokenfactory:apiKey": TOKEN, "tokenfactory:baseUrl": "<emulator>"}

CASES: list[Bad] = [
    # -- types
    Bad("name-is-a-number", fixed(name=42), "name", texts("must be a string")),
    Bad("gpu_count-is-a-string", fixed(gpu_count="2"), "gpu_count", texts("whole number")),
    Bad("gpu_count-is-a-bool", fixed(gpu_count=True), "gpu_count", texts("whole number")),
    Bad("gpu_count-is-fractional", fixed(gpu_count=1.5), "gpu_count", texts("whole number")),
    Bad("scaling-is-a-string", fixed(scaling="1-2"), "scaling", texts("min_replicas", "max_replicas")),
    Bad("max_replicas-is-a-string", fixed(scaling={"min_replicas": 1, "max_replicas": "3"}),
        "scaling.max_replicas", texts("whole number")),
    Bad("enabled-is-a-string", fixed(enabled="true"), "enabled", texts("true or false")),
    Bad("wait_for_ready-is-a-number", fixed(wait_for_ready=1), "wait_for_ready", texts("true or false")),
    Bad("description-is-a-list", fixed(description=["team-ml"]), "description", texts("must be a string")),
    # -- ranges
    Bad("min_replicas-zero", fixed(scaling={"min_replicas": 0, "max_replicas": 2}),
        "scaling.min_replicas", texts("from 1 to")),
    Bad("min-above-max", fixed(scaling={"min_replicas": 3, "max_replicas": 2}),
        "scaling.min_replicas", texts("must not exceed")),
    Bad("gpu_count-negative", fixed(gpu_count=-1), "gpu_count", texts("from 0 to")),
    Bad("max_replicas-absurd", fixed(scaling={"min_replicas": 1, "max_replicas": 1e20}),
        "scaling.max_replicas", texts("from 1 to 1000")),
    Bad("name-with-line-break", fixed(name="gpt\nprod"), "name", texts("control characters")),
    Bad("ready_timeout-above-a-day", fixed(ready_timeout=90_000), "ready_timeout", texts("from 1 to 86400")),
    Bad("ready_timeout-negative", fixed(ready_timeout=-5), "ready_timeout", texts("from 1 to 86400")),
    Bad("description-overlong", fixed(description="d" * 501), "description", texts("at most 500")),
    # -- values the emulator's catalogue does not offer
    Bad("model-not-in-catalogue", lambda c: {"model_name": _unlisted_model(c)}, "model_name",
        lambda c: [repr(m) for m in c]),
    Bad("flavor-not-offered", lambda c: {"flavor_name": _unlisted_flavor(c)}, "flavor_name",
        lambda c: [repr(f) for f in c[MODEL]]),
    Bad("gpu_type-offered-only-for-other-models", lambda c: {"gpu_type": _gpu_type_elsewhere(c)}, "gpu_type",
        lambda c: [repr(g) for g in _offered(c)["gpu_types"]]),
    Bad("gpu_count-offered-only-for-other-models", lambda c: {"gpu_count": _gpu_count_elsewhere(c)}, "gpu_count",
        lambda c: [", ".join(str(n) for n in _offered(c)["gpu_counts"])]),
    Bad("region-unknown", fixed(region="eu-south9"), "region", texts("eu-north1", "eu-west1", "us-central1")),
    # -- names
    Bad("name-empty", fixed(name=""), "name", texts("must not be empty")),
    Bad("name-blank", fixed(name="  \t "), "name", texts("must not be empty")),
    Bad("name-overlong", fixed(name="n" * 101), "name", texts("at most 100")),
    Bad("name-with-escape-character", fixed(name="prod\x1b[31m"), "name", texts("control characters")),
    Bad("name-with-nul", fixed(name="prod\x00"), "name", texts("control characters")),
    Bad("name-missing", fixed(name=DROP), "name", texts("required")),
    # -- None in nested fields, and unknown keys
    Bad("min_replicas-none", fixed(scaling={"min_replicas": None, "max_replicas": 2}),
        "scaling.min_replicas", texts("required")),
    Bad("max_replicas-none", fixed(scaling={"min_replicas": 1, "max_replicas": None}),
        "scaling.max_replicas", texts("required")),
    Bad("scaling-none", fixed(scaling=None), "scaling", texts("required")),
    Bad("scaling-unknown-key", fixed(scaling={"min_replicas": 1, "max_replicas": 2, "target": 1}),
        "scaling.target", texts("min_replicas, max_replicas")),
    Bad("property-typo", fixed(gpu_typ="gpu-h100-sxm"), "gpu_typ", texts("unknown property", "gpu_type")),
    # -- Create called without Check (it must validate again before posting)
    Bad("bare-create-gpu_count-negative", fixed(gpu_count=-1), "gpu_count", texts("from 0 to"), bare_create=True),
    Bad("bare-create-scaling-none", fixed(scaling=None), "scaling", texts("min_replicas"), bare_create=True),
    Bad("bare-create-name-empty", fixed(name=""), "name", texts("must not be empty"), bare_create=True),
    # -- configuration: each gets its own host (the host configures a provider once)
    Bad("config-apiKey-is-a-number", fixed(), "tokenfactory:apiKey", texts("must be a string"),
        config={**GOOD_CONFIG, "tokenfactory:apiKey": 12345}),
    Bad("config-baseUrl-is-a-list", fixed(), "tokenfactory:baseUrl", texts("must be a string"),
        config={**GOOD_CONFIG, "tokenfactory:baseUrl": ["<emulator>"]}),
    Bad("config-token-missing", fixed(), "tokenfactory:apiKey", texts("TOKENFACTORY_API_KEY"),
        config={"tokenfactory:baseUrl": "<emulator>"}),
    Bad("config-token-empty", fixed(), "tokenfactory:apiKey", texts("TOKENFACTORY_API_KEY"),
        config={**GOOD_CONFIG, "tokenfactory:apiKey": ""}),
    Bad("config-token-blank", fixed(), "tokenfactory:apiKey", texts("TOKENFACTORY_API_KEY"),
        config={**GOOD_CONFIG, "tokenfactory:apiKey": "   "}),
    Bad("config-baseUrl-without-scheme", fixed(), "tokenfactory:baseUrl", texts("http(s)://"),
        config={**GOOD_CONFIG, "tokenfactory:baseUrl": "api.tokenfactory.nebius.com"}),
    Bad("config-baseUrl-ftp", fixed(), "tokenfactory:baseUrl", texts("http(s)://"),
        config={**GOOD_CONFIG, "tokenfactory:baseUrl": "ftp://api.tokenfactory.nebius.com"}),
    Bad("env-http-timeout-not-a-number", fixed(), "TOKENFACTORY_HTTP_TIMEOUT", texts("at most 600"),
        config=GOOD_CONFIG, env={"TOKENFACTORY_HTTP_TIMEOUT": "soon"}),
    Bad("env-http-timeout-zero", fixed(), "TOKENFACTORY_HTTP_TIMEOUT", texts("at most 600"),
        config=GOOD_CONFIG, env={"TOKENFACTORY_HTTP_TIMEOUT": "0"}),
    Bad("env-http-timeout-nan", fixed(), "TOKENFACTORY_HTTP_TIMEOUT", texts("at most 600"),
        config=GOOD_CONFIG, env={"TOKENFACTORY_HTTP_TIMEOUT": "nan"}),
]


def test_the_catalogue_is_big_enough_and_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 20 and len(set(ids)) == len(ids)


# --------------------------------------------------------------------------- running one case


def _program(case: Bad, cat: Catalogue) -> dict[str, Any]:
    merged = {**PROGRAM, **case.change(cat)}
    return {k: v for k, v in merged.items() if v is not DROP}


def _resolve(value: Any, base_url: str) -> Any:
    if value == "<emulator>":
        return base_url
    if isinstance(value, list):
        return [_resolve(v, base_url) for v in value]
    return value


def _answer(case: Bad, program: dict[str, Any], host: ProviderHost, provider_str: str) -> tuple[str, str]:
    """Run the case the way the engine would; return (kind, text) of the refusal it must produce."""
    steps = ResourceSteps(host, provider_str, make_urn(RESOURCE_TYPE, case.id))
    try:
        if case.bare_create:
            host.create(steps.urn, {**program, PROVIDER_KEY: provider_str})
        else:
            steps.up(program)
    except CheckFailed as failed:
        # A nested property is reported on the resource, its reason starting with the path (the engine
        # cannot show a nested property's value: controller._engine_failure).
        reasons = [reason for prop, reason in failed.failures
                   if prop == case.prop or (not prop and "." in case.prop and reason.startswith(case.prop))]
        assert reasons, f"{case.id}: no check failure on {case.prop!r}: {failed.failures}"
        assert all("\n" not in reason for _, reason in failed.failures), failed.failures
        return "check", reasons[0]
    except ProviderCallError as error:
        line = error.last_line
        assert line.startswith("pulumi_tokenfactory.errors."), (
            f"{case.id}: the last line is not one of our errors (a raw exception leaked): {error.details}")
        class_name = line.split(":")[0].removeprefix("pulumi_tokenfactory.errors.")
        assert issubclass(getattr(errors, class_name, object), errors.TokenFactoryError), line
        assert case.prop in line, f"{case.id}: {line!r} does not name {case.prop!r}"
        return "error", line
    raise AssertionError(f"{case.id}: the provider accepted the bad input; state id {steps.id!r}")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_by_name_and_nothing_changes(
        case: Bad, emulator: EmulatorProcess, catalogue: Catalogue, host: ProviderHost, provider_str: str,
        quiet_env: None) -> None:
    program = _program(case, catalogue)
    emulator.clear_requests()
    if case.config is None:
        kind, text = _answer(case, program, host, provider_str)
    else:
        config = {k: _resolve(v, emulator.base_url) for k, v in case.config.items()}
        with ProviderHost(config=config, env={"TOKENFACTORY_POLL_MAX_INTERVAL": "0.1", **case.env}) as own:
            kind, text = _answer(case, program, own, provider_str)
            assert TOKEN not in own.stderr_text()
        assert kind == "error", f"{case.id}: a configuration problem must fail the call, got {kind}: {text}"
    for allowed in case.allowed(catalogue):
        assert allowed in text, f"{case.id}: {text!r} does not say that {allowed!r} is allowed"
    mutating = [f"{r['method']} {r['path']}" for r in emulator.requests() if r["method"] in MUTATING]
    assert mutating == [], f"{case.id}: the API was asked to change something: {mutating}"
    assert [e["name"] for e in emulator.endpoints() if e["name"] == program.get("name")] == []


# --------------------------------------------------------------------------- what must be accepted


def test_unicode_name_is_accepted_end_to_end(emulator: EmulatorProcess, host: ProviderHost,
                                             provider_str: str) -> None:
    name = "Модель 🚀 エンドポイント"
    steps = ResourceSteps(host, provider_str, make_urn(RESOURCE_TYPE, "unicode"))
    assert steps.up({**PROGRAM, "name": name}).action == "create"
    assert [e["id"] for e in emulator.endpoints() if e["name"] == name] == [steps.id]
    assert steps.outputs["name"] == name
    assert steps.preview({**PROGRAM, "name": name}).action == "same"
    steps.destroy()
    assert [e for e in emulator.endpoints() if e["name"] == name] == []


@pytest.fixture(scope="module")
def anchor(emulator: EmulatorProcess, host: ProviderHost, provider_str: str) -> Iterator[ResourceSteps]:
    """One created endpoint, so unknown values can be diffed against a real state."""
    emulator.reset()
    steps = ResourceSteps(host, provider_str, make_urn(RESOURCE_TYPE, "anchor"))
    steps.up({**PROGRAM, "name": "anchor"})
    yield steps
    steps.destroy()
    assert emulator.endpoints() == []


#: Every input diff compares (from the declaration), and a nested scaling bound.
UNKNOWN_PROPS = [*DIFFED_FIELDS, f"scaling.{SCALING_CHILDREN[0].name}"]


def _with_unknown(program: dict[str, Any], prop: str) -> dict[str, Any]:
    out = {**program, "scaling": dict(program["scaling"])}
    if "." in prop:
        top, sub = prop.split(".")
        out[top][sub] = UNKNOWN
    else:
        out[prop] = UNKNOWN
    return out


@pytest.mark.parametrize("prop", UNKNOWN_PROPS)
def test_unknown_value_in_preview_passes_check_and_diffs_as_a_change(
        prop: str, emulator: EmulatorProcess, host: ProviderHost, anchor: ResourceSteps) -> None:
    """A value another resource has not computed yet is not an error; it is a change, replacing only if immutable."""
    program = _with_unknown({**PROGRAM, "name": "anchor"}, prop)
    news = {**program, PROVIDER_KEY: anchor.provider}
    emulator.clear_requests()
    fresh = host.check(make_urn(RESOURCE_TYPE, f"new-{prop}"), {}, news)
    assert fresh.failures == [], f"a new resource with {prop} unknown must pass check: {fresh.failures}"
    checked = host.check(anchor.urn, anchor.inputs, news)
    assert checked.failures == [], f"{prop} unknown must pass check: {checked.failures}"
    diff = host.diff(anchor.urn, anchor.id, anchor.outputs, checked.inputs, old_inputs=anchor.inputs)
    assert diff.changes == "DIFF_SOME", f"{prop} unknown: {diff}"
    top = prop.split(".")[0]
    assert diff.replaces == ([top] if top in IMMUTABLE else []), f"{prop} unknown: replaces {diff.replaces}"
    assert [r for r in emulator.requests() if r["method"] in MUTATING] == []
