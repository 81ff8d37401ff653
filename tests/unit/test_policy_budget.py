"""The stack GPU budget as a pure rule: engine-shaped dicts (numbers as floats, unknown sentinels) in, messages out.

The expected figures are computed here with :mod:`pulumi_tokenfactory.spend`, the module the rule must
use, and checked once by hand in the first test, so a rule that counted differently from the spend
outputs would fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pulumi_tokenfactory import spend
from pulumi_tokenfactory.api.models import EndpointSpec, Scaling
from pulumi_tokenfactory.policy import rules
from pulumi_tokenfactory.policy.budget import CONFIG_SCHEMA, STACK_GPU_BUDGET, check_stack_gpu_budget, limits, tally
from pulumi_tokenfactory.policy.rules import UNKNOWN, PolicyConfigError
from tests.harness.endpoints import wire_endpoint

STRING_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REPO = Path(__file__).resolve().parents[2]
PRICES = {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5, "gpu-h200-sxm": 5.0}}


def endpoint(mins: Any, gpus: Any, gpu_type: Any = "gpu-h100-sxm", enabled: Any = True,
             maxs: Any = 8.0) -> dict[str, Any]:
    return wire_endpoint(gpu_type=gpu_type, gpu_count=gpus, enabled=enabled,
                         scaling={"min_replicas": mins, "max_replicas": maxs})


STACK = [
    ("gpt-120b", endpoint(2.0, 4.0)),                   # 8 x 3.50 = 28.00
    ("ds-v3", endpoint(1.0, 4.0, "gpu-h200-sxm")),      # 4 x 5.00 = 20.00
    ("stopped", endpoint(4.0, 8.0, enabled=False)),     # 0
]

#: The stack of the samples in sdk-docs/policy-pack.md.
DOCS_BUDGET_STACK = [
    ("gpt-120b", endpoint(2.0, 4.0)),
    ("llama-70b", endpoint(1.0, 4.0, "gpu-h200-sxm")),
    ("later", endpoint(STRING_UNKNOWN, 4.0)),
]


def test_figures_are_those_of_spend_and_of_a_hand_count() -> None:
    table = spend.parse_price_table(PRICES)
    counted = tally(STACK, table)
    assert counted.reserved_gpus == 12 == sum(spend.spend_outputs(p, table)["reserved_gpus"] for _, p in STACK)
    assert counted.hourly_cost == 48.0 == sum(spend.spend_outputs(p, table)["hourly_cost_min"] for _, p in STACK)
    assert counted.unknown == () and counted.unreadable == ()


def test_over_the_gpu_limit_names_the_limit_the_total_and_each_contributor() -> None:
    [message] = check_stack_gpu_budget(STACK, {"maxReservedGpus": 10.0})
    assert message == "The stack reserves 12 GPUs (gpt-120b: 8, ds-v3: 4), over the limit maxReservedGpus=10."


def test_at_or_under_the_limits_passes() -> None:
    assert check_stack_gpu_budget(STACK, {"maxReservedGpus": 12.0}) == []
    assert check_stack_gpu_budget(STACK, {"maxHourlyCost": 48.0, "gpuHourlyPrices": PRICES}) == []
    assert check_stack_gpu_budget(STACK, {"maxReservedGpus": 100, "maxHourlyCost": 1000.0,
                                          "gpuHourlyPrices": PRICES}) == []


def test_no_limit_configured_checks_nothing() -> None:
    assert check_stack_gpu_budget(STACK, None) == []
    assert check_stack_gpu_budget(STACK, {"gpuHourlyPrices": PRICES}) == []


def test_over_the_cost_limit_names_the_limit_and_the_total_in_the_table_currency() -> None:
    [message] = check_stack_gpu_budget(STACK, {"maxHourlyCost": 30.0, "gpuHourlyPrices": PRICES})
    assert message == ("The stack's reserved GPUs cost $48.00/h (gpt-120b: $28.00, ds-v3: $20.00), over the limit "
                       "maxHourlyCost=$30.00/h.")
    eur = {"currency": "CHF", "prices": {"gpu-h100-sxm": 1.0, "gpu-h200-sxm": 1.0}}
    [message] = check_stack_gpu_budget(STACK, {"maxHourlyCost": 11.5, "gpuHourlyPrices": eur})
    assert "cost 12.00 CHF/h" in message and "maxHourlyCost=11.50 CHF/h" in message


def test_both_limits_exceeded_give_two_messages() -> None:
    found = check_stack_gpu_budget(STACK, {"maxReservedGpus": 4, "maxHourlyCost": 1, "gpuHourlyPrices": PRICES})
    assert [m.split(",")[0] for m in found] == ["The stack reserves 12 GPUs (gpt-120b: 8",
                                                "The stack's reserved GPUs cost $48.00/h (gpt-120b: $28.00"]


def test_stopped_endpoints_reserve_nothing_and_cost_nothing_even_unpriced() -> None:
    stack = [("off", endpoint(8.0, 8.0, "gpu-b300-sxm", enabled=False)), ("on", endpoint(1.0, 1.0))]
    assert check_stack_gpu_budget(stack, {"maxReservedGpus": 1, "maxHourlyCost": 3.5, "gpuHourlyPrices": PRICES}) == []


def test_unknown_values_are_not_guessed_and_named_in_the_message() -> None:
    stack = [*STACK,
             ("later", endpoint(STRING_UNKNOWN, 8.0)),
             ("marker", endpoint(1.0, UNKNOWN)),
             ("whole-scaling", {**endpoint(1.0, 1.0), "scaling": STRING_UNKNOWN}),
             ("maybe-on", endpoint(1.0, 1.0, enabled=STRING_UNKNOWN))]
    [message] = check_stack_gpu_budget(stack, {"maxReservedGpus": 10})
    assert message.startswith("The stack reserves 12 GPUs (gpt-120b: 8, ds-v3: 4), over the limit maxReservedGpus=10")
    assert message.endswith("; not counted, values unknown until the deployment runs: 'later', 'marker', "
                            "'maybe-on', 'whole-scaling'.")
    # Unknowns alone never make a violation: only the deployment knows them.
    assert check_stack_gpu_budget(stack, {"maxReservedGpus": 12}) == []


def test_unreadable_values_are_named_apart_from_unknown_ones() -> None:
    stack = [*STACK, ("fraction", endpoint(1.5, 1.0))]
    [message] = check_stack_gpu_budget(stack, {"maxReservedGpus": 10})
    assert "not counted, scaling/gpu_count/gpu_type/enabled not readable: 'fraction'" in message


def test_a_gpu_type_without_a_price_fails_closed_under_a_cost_limit() -> None:
    stack = [*STACK, ("new-gen", endpoint(1.0, 2.0, "gpu-b300-sxm"))]
    [message] = check_stack_gpu_budget(stack, {"maxHourlyCost": 1000.0, "gpuHourlyPrices": PRICES})
    assert message == ("The stack's hourly cost cannot be checked against maxHourlyCost=$1000.00/h: gpuHourlyPrices "
                       "has no price for gpu-b300-sxm, reserved by 'new-gen' (2 gpu-b300-sxm); the priced part costs "
                       "$48.00/h. Add the GPU type(s) to gpuHourlyPrices.")
    assert check_stack_gpu_budget(stack, {"maxReservedGpus": 14, "gpuHourlyPrices": PRICES}) == []


def test_pydantic_models_count_like_engine_dicts() -> None:
    spec = EndpointSpec(name="llama-prod", description="d", model_name="m", flavor_name="base",
                        gpu_type="gpu-h100-sxm", gpu_count=4, scaling=Scaling(min_replicas=3, max_replicas=4),
                        region="eu-north1")
    [message] = check_stack_gpu_budget([("spec", spec)], {"maxReservedGpus": 11})
    assert "reserves 12 GPUs (spec: 12)" in message


@pytest.mark.parametrize(("config", "names"), [
    ({"maxReservedGpus": 2.5}, "'maxReservedGpus' must be a whole number"),
    ({"maxReservedGpus": -1}, "'maxReservedGpus' must be at least 0"),
    ({"maxHourlyCost": "cheap", "gpuHourlyPrices": PRICES}, "'maxHourlyCost' must be a number"),
    ({"maxHourlyCost": -3, "gpuHourlyPrices": PRICES}, "'maxHourlyCost' must be at least 0"),
    ({"maxHourlyCost": 30}, "'maxHourlyCost' needs 'gpuHourlyPrices'"),
    ({"maxHourlyCost": 30, "gpuHourlyPrices": {"currency": "usd", "prices": {"gpu-h100-sxm": 1}}},
     "'gpuHourlyPrices' is not a usable price table (tokenfactory:gpuHourlyPrices: 'currency' is 'usd'"),
    ({"gpuHourlyPrices": {"currency": "USD", "prices": {"h100": 1}}}, "'prices' key 'h100' is not a GPU type"),
])
def test_unusable_config_names_the_key(config: dict[str, Any], names: str) -> None:
    with pytest.raises(PolicyConfigError) as refused:
        limits(config)
    assert names in str(refused.value)


def test_the_rule_is_in_the_catalogue_with_its_schema_and_level() -> None:
    [rule] = [r for r in rules.STACK_RULES if r.name == STACK_GPU_BUDGET]
    assert rule.enforcement == "mandatory"
    assert rule.check is check_stack_gpu_budget
    assert set(rule.config_schema) == set(CONFIG_SCHEMA) == {"maxReservedGpus", "maxHourlyCost", "gpuHourlyPrices"}
    assert STACK_GPU_BUDGET in rules.POLICY_NAMES


def test_the_docs_samples_are_what_the_rule_says() -> None:
    doc = (REPO / "sdk-docs" / "policy-pack.md").read_text()
    samples = re.findall(r"`(The stack(?: reserves |'s )[^`]*)`", doc)
    prices_without_h200 = {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5}}
    produced = [
        *check_stack_gpu_budget(DOCS_BUDGET_STACK, {"maxReservedGpus": 10, "maxHourlyCost": 30,
                                                    "gpuHourlyPrices": PRICES}),
        *check_stack_gpu_budget(DOCS_BUDGET_STACK, {"maxHourlyCost": 30, "gpuHourlyPrices": prices_without_h200}),
    ]
    budget_samples = [s for s in samples if "maxReservedGpus" in s or "maxHourlyCost" in s]
    assert len(produced) == 3
    assert sorted(budget_samples) == sorted(produced)
