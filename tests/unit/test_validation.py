"""check(): every bad input becomes a failure naming the property, and good input is normalised."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_tokenfactory.api.models import Flavor, Template
from pulumi_tokenfactory.endpoint.fields import INPUT_FIELDS
from pulumi_tokenfactory.endpoint.validation import check_inputs
from pulumi_tokenfactory.wire import UNKNOWN_STRING
from tests.harness.endpoints import wire_endpoint

CATALOGUE = [
    Template(
        model_name="openai/gpt-oss-120b",
        flavors=[
            Flavor(flavor_name="base", gpu_types=["gpu-h100-sxm", "gpu-h200-sxm"], gpu_counts=[1, 2, 4, 8]),
            Flavor(flavor_name="fast", gpu_types=["gpu-h200-sxm"], gpu_counts=[2, 4]),
        ],
    ),
]


def valid(**overrides: Any) -> dict[str, Any]:
    """The required inputs (and a description); optional ones are absent unless given."""
    props = wire_endpoint(**{"name": "GPT-120B Endpoint", "description": "Dedicated GPT-120B",
                             "model_name": "openai/gpt-oss-120b", "enabled": DROP, "__provider": "serialized",
                             **overrides})
    return {k: v for k, v in props.items() if v is not DROP}


DROP = object()


def failures(props: dict[str, Any], templates: list[Template] | None = CATALOGUE) -> dict[str, str]:
    outcome = check_inputs(props, templates=(lambda: templates) if templates is not None else None)
    return dict(outcome.failures)


def test_valid_input_is_normalised() -> None:
    outcome = check_inputs(valid(), templates=lambda: CATALOGUE)
    assert outcome.failures == []
    assert outcome.inputs["gpu_count"] == 1 and isinstance(outcome.inputs["gpu_count"], int)
    assert outcome.inputs["scaling"] == {"min_replicas": 1, "max_replicas": 2}
    assert "__provider" not in outcome.inputs


def test_defaults_are_filled() -> None:
    outcome = check_inputs(valid(region=DROP, description=DROP))
    assert outcome.inputs["region"] == "eu-north1"
    assert outcome.inputs["description"] == ""
    assert outcome.inputs["enabled"] is True and outcome.inputs["wait_for_ready"] is True


BAD_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing name", {"name": DROP}, "name", "required"),
    ("empty name", {"name": ""}, "name", "empty"),
    ("blank name", {"name": "   "}, "name", "empty"),
    ("overlong name", {"name": "x" * 101}, "name", "at most 100 characters, got 101"),
    ("overlong description", {"description": "x" * 501}, "description", "at most 500"),
    ("control character in name", {"name": "a\x07b"}, "name", "control"),
    ("name of wrong type", {"name": 12.0}, "name", "must be a string"),
    ("missing model", {"model_name": DROP}, "model_name", "required"),
    ("unknown model", {"model_name": "openai/gpt-5"}, "model_name", "allowed: 'openai/gpt-oss-120b'"),
    ("unknown flavor", {"flavor_name": "turbo"}, "flavor_name", "allowed: 'base', 'fast'"),
    ("unknown gpu type", {"gpu_type": "gpu-a100"}, "gpu_type", "not a published GPU type; allowed: gpu-l40s-d"),
    ("gpu type not offered", {"gpu_type": "gpu-b200-sxm"}, "gpu_type", "allowed: 'gpu-h100-sxm', 'gpu-h200-sxm'"),
    ("routing key without prefix", {"routing_key": "my-model-key"}, "routing_key", "starting with 'dedicated/'"),
    ("routing key too short", {"routing_key": "dedicated/"}, "routing_key", "11 to 128"),
    ("routing key too long", {"routing_key": "dedicated/" + "k" * 119}, "routing_key", "11 to 128"),
    ("routing key with a space", {"routing_key": "dedicated/my key"}, "routing_key", "without spaces"),
    ("empty custom weights", {"custom_weights_id": 3.0}, "custom_weights_id", "must be a string"),
    ("gpu count not offered", {"gpu_count": 3.0}, "gpu_count", "allowed: 1, 2, 4, 8"),
    # The API takes any count from 0 (api-notes: ">= 0, the template decides"): 0 is refused by the catalogue.
    ("gpu count zero", {"gpu_count": 0.0}, "gpu_count", "allowed: 1, 2, 4, 8"),
    ("gpu count negative", {"gpu_count": -2.0}, "gpu_count", "from 0 to 64, got -2"),
    ("gpu count absurd", {"gpu_count": 1e300}, "gpu_count", "from 0 to 64"),
    ("replicas absurd", {"scaling": {"min_replicas": 1e20, "max_replicas": 1e20}}, "scaling.max_replicas",
     "from 1 to 1000"),
    ("line break in name", {"name": "a\nb"}, "name", "no line breaks"),
    ("gpu count fractional", {"gpu_count": 1.5}, "gpu_count", "whole number"),
    ("gpu count string", {"gpu_count": "1"}, "gpu_count", "whole number"),
    ("gpu count bool", {"gpu_count": True}, "gpu_count", "whole number"),
    ("gpu count NaN", {"gpu_count": float("nan")}, "gpu_count", "whole number"),
    ("missing scaling", {"scaling": DROP}, "scaling", "required"),
    ("scaling not an object", {"scaling": [1, 2]}, "scaling", "must be an object"),
    ("None in scaling", {"scaling": {"min_replicas": None, "max_replicas": 2.0}}, "scaling.min_replicas", "required"),
    (
        "min above max",
        {"scaling": {"min_replicas": 3.0, "max_replicas": 2.0}},
        "scaling.min_replicas",
        "must not exceed",
    ),
    ("min zero", {"scaling": {"min_replicas": 0.0, "max_replicas": 2.0}}, "scaling.min_replicas", "from 1 to 1000"),
    (
        "unknown scaling key",
        {"scaling": {"min_replicas": 1.0, "max_replicas": 2.0, "max": 3}},
        "scaling.max",
        "allowed: min_replicas, max_replicas",
    ),
    ("unknown region", {"region": "mars-1"}, "region",
     "allowed: eu-north1, us-central1, eu-west1, me-west1, uk-south1, tf-us1, tf-us2, tf-ca1"),
    ("enabled not bool", {"enabled": "yes"}, "enabled", "true or false"),
    ("wait_for_ready not bool", {"wait_for_ready": 1.0}, "wait_for_ready", "true or false"),
    ("ready_timeout zero", {"ready_timeout": 0.0}, "ready_timeout", "from 1 to 86400"),
    ("ready_timeout string", {"ready_timeout": "10m"}, "ready_timeout", "from 1 to 86400"),
    ("typo in a property", {"gpu_typ": "gpu-h100-sxm"}, "gpu_typ", "unknown property"),
    ("description of wrong type", {"description": ["team"]}, "description", "must be a string"),
]


@pytest.mark.parametrize(("case", "overrides", "prop", "reason"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_names_the_property(case: str, overrides: dict[str, Any], prop: str, reason: str) -> None:
    found = failures(valid(**overrides))
    assert prop in found, f"{case}: expected a failure on {prop}, got {found}"
    assert reason in found[prop], f"{case}: {found[prop]!r} does not say {reason!r}"


@pytest.mark.parametrize("overrides", [
    {"name": "x" * 100, "description": "y" * 500},
    {"routing_key": "dedicated/a"},
    {"routing_key": "dedicated/" + "k" * 118},
    {"routing_key": "dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3", "custom_weights_id": "model-artifact_abc"},
    *({"region": region} for region in ("me-west1", "uk-south1", "tf-us1", "tf-us2", "tf-ca1")),
])
def test_the_published_limits_accept_their_edges(overrides: dict[str, Any]) -> None:
    assert failures(valid(**overrides)) == {}


def test_unicode_name_and_multiline_description_are_accepted() -> None:
    assert failures(valid(name="Модель 🚀 endpoint", description="owner: team-ml\n\tpager: #ml-oncall")) == {}


def test_numbers_are_shown_as_the_user_wrote_them() -> None:
    assert failures(valid(name=42.0))["name"] == "name must be a string, got number 42"


@pytest.mark.parametrize("unknown", [Unknown(), UNKNOWN_STRING])
def test_unknown_values_in_preview_do_not_fail_and_skip_the_catalogue(unknown: object) -> None:
    calls = []

    def catalogue() -> list[Template]:
        calls.append(1)
        return CATALOGUE

    catalogue_keys = {"model_name", "flavor_name", "gpu_type", "gpu_count", "region"}
    for prop in INPUT_FIELDS:
        outcome = check_inputs(valid(**{prop: unknown}), templates=catalogue)
        assert outcome.failures == [], prop
    # model, flavor, gpu_type, gpu_count or region unknown: no catalogue check; any other input unknown: checked
    assert len(calls) == len(set(INPUT_FIELDS) - catalogue_keys)
    outcome = check_inputs(valid(scaling={"min_replicas": unknown, "max_replicas": 2.0}), templates=catalogue)
    assert outcome.failures == []


def test_type_errors_skip_the_catalogue_call() -> None:
    def catalogue() -> list[Template]:
        raise AssertionError("the catalogue must not be fetched for input that is already wrong")

    assert "gpu_count" in dict(check_inputs(valid(gpu_count="x"), templates=catalogue).failures)


@pytest.mark.parametrize(("prop", "value"), [
    ("name", ""), ("name", "x" * 101), ("name", 42), ("description", "x" * 501), ("region", "mars-1"),
    ("gpu_type", "gpu-a100"), ("routing_key", "team/search"), ("model_name", "  "), ("flavor_name", 3),
    ("scaling", {"min_replicas": 3, "max_replicas": 2}), ("scaling", "1-2"),
])
def test_the_emulator_refuses_in_the_provider_s_words(prop: str, value: Any) -> None:
    """One set of rules (pulumi_tokenfactory/rules.py): where the API's limits are the provider's, so is the text.

    (Numbers differ in their upper bound only: the provider's own typo guards, `Limits.provider_max`.)
    """
    from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
    from pulumi_tokenfactory.emulator.errors import ApiError
    from pulumi_tokenfactory.emulator.validation import validate_create

    [(where, said)] = check_inputs({**SEED_EXAMPLE, prop: value}).failures
    with pytest.raises(ApiError) as refused:
        validate_create({**SEED_EXAMPLE, prop: value})
    assert [(p.field, p.message) for p in refused.value.problems] == [(where, said)]
