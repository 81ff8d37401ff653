"""The pure GPU-spend rules: plain dicts (numbers as floats, as the engine sends them) in, messages out."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_tokenfactory import spend
from pulumi_tokenfactory.api.models import EndpointSpec, Scaling
from pulumi_tokenfactory.policy import rules
from pulumi_tokenfactory.policy.rules import (
    DEFAULT_GPU_TYPES,
    RESOURCE_RULES,
    UNKNOWN,
    PolicyConfigError,
    as_number,
    check_allowed_gpu_types,
    check_allowed_models,
    check_description_present,
    check_gpu_count_ceiling,
    check_max_replicas_ceiling,
    check_naming_convention,
    check_replica_bounds,
    check_stack_reserved_gpus,
    fmt_number,
)
from tests.harness.endpoints import wire_endpoint

STRING_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def endpoint(**changes: Any) -> dict[str, Any]:
    """A compliant endpoint as the engine delivers it (every number a float)."""
    return wire_endpoint(**{"description": "team-search: query rewriting, owner @alice", "wait_for_ready": True,
                            "ready_timeout": 1800.0, "routing_key": "rk-123", "status": "running", **changes})


@pytest.mark.parametrize("rule", RESOURCE_RULES, ids=lambda r: r.name)
def test_compliant_endpoint_passes_every_resource_rule(rule: rules.ResourceRule) -> None:
    assert rule.check(endpoint(), None, "llama") == []


@pytest.mark.parametrize("rule", RESOURCE_RULES, ids=lambda r: r.name)
def test_every_resource_rule_tolerates_unknown_values(rule: rules.ResourceRule) -> None:
    for unknown in (STRING_UNKNOWN, UNKNOWN):
        props = {key: unknown for key in endpoint()}
        assert rule.check(props, None, "llama") == []
        nested = endpoint(scaling={"min_replicas": unknown, "max_replicas": unknown})
        assert rule.check(nested, None, "llama") == []


@pytest.mark.parametrize("rule", RESOURCE_RULES, ids=lambda r: r.name)
def test_every_resource_rule_accepts_a_pydantic_model(rule: rules.ResourceRule) -> None:
    spec = EndpointSpec(
        name="llama-prod",
        description="team-search",
        model_name="m",
        flavor_name="base",
        gpu_type="gpu-h100-sxm",
        gpu_count=1,
        scaling=Scaling(min_replicas=1, max_replicas=2),
    )
    assert rule.check(spec, None, "llama") == []


def test_numbers_are_compared_and_reported_without_float_noise() -> None:
    assert as_number(1.0) == 1 and isinstance(as_number(1.0), int)
    assert as_number(1.5) == 1.5
    assert as_number("2") == 2
    assert as_number(True) is None
    assert as_number(STRING_UNKNOWN) is None
    assert as_number(float("nan")) is None
    assert fmt_number(16.0) == "16"
    assert fmt_number(0.5) == "0.5"


# --- allowed GPU types --------------------------------------------------------------


def test_gpu_type_outside_the_default_list_is_refused_with_the_allowed_values() -> None:
    [message] = check_allowed_gpu_types(endpoint(gpu_type="gpu-a100"), None, "llama")
    assert "DedicatedEndpoint 'llama'" in message
    assert "gpu_type 'gpu-a100'" in message
    for gpu in DEFAULT_GPU_TYPES:
        assert repr(gpu) in message


def test_every_gpu_type_seen_in_the_api_notes_is_allowed_by_default() -> None:
    for gpu in DEFAULT_GPU_TYPES:
        assert check_allowed_gpu_types(endpoint(gpu_type=gpu)) == []


def test_gpu_type_config_narrows_with_patterns_and_empty_allows_any() -> None:
    config = {"allowedGpuTypes": ["gpu-l40s-*"]}
    assert check_allowed_gpu_types(endpoint(gpu_type="gpu-l40s-d"), config) == []
    [message] = check_allowed_gpu_types(endpoint(gpu_type="gpu-h100-sxm"), config)
    assert "allowed gpu_type values: 'gpu-l40s-*'" in message
    assert check_allowed_gpu_types(endpoint(gpu_type="gpu-x9000"), {"allowedGpuTypes": []}) == []


# --- allowed models -------------------------------------------------------------------


def test_any_model_is_allowed_by_default() -> None:
    assert check_allowed_models(endpoint(model_name="Qwen/Qwen3-235B")) == []


def test_model_outside_a_configured_list_is_refused() -> None:
    config = {"allowedModels": ["meta-llama/*", "Qwen/Qwen3-32B"]}
    assert check_allowed_models(endpoint(), config) == []
    assert check_allowed_models(endpoint(model_name="Qwen/Qwen3-32B"), config) == []
    [message] = check_allowed_models(endpoint(model_name="Qwen/Qwen3-235B"), config, "qwen")
    assert message == (
        "DedicatedEndpoint 'qwen' uses model_name 'Qwen/Qwen3-235B', which is not allowed; "
        "allowed model_name values: 'meta-llama/*', 'Qwen/Qwen3-32B'."
    )


# --- ceilings ---------------------------------------------------------------------------


def test_max_replicas_above_the_default_ceiling_is_refused() -> None:
    assert check_max_replicas_ceiling(endpoint(scaling={"min_replicas": 1.0, "max_replicas": 8.0})) == []
    [message] = check_max_replicas_ceiling(endpoint(scaling={"min_replicas": 1.0, "max_replicas": 12.0}), None, "llama")
    assert message == (
        "DedicatedEndpoint 'llama' sets scaling.max_replicas to 12, above the ceiling of 8; "
        "allowed: at most 8 replicas."
    )


def test_max_replicas_ceiling_follows_config_given_as_float() -> None:
    props = endpoint(scaling={"min_replicas": 1.0, "max_replicas": 3.0})
    assert check_max_replicas_ceiling(props, {"ceiling": 3.0}) == []
    [message] = check_max_replicas_ceiling(props, {"ceiling": 2.0})
    assert "to 3, above the ceiling of 2" in message


def test_gpu_count_above_the_ceiling_is_refused_and_reported_as_an_integer() -> None:
    assert check_gpu_count_ceiling(endpoint(gpu_count=8.0)) == []
    [message] = check_gpu_count_ceiling(endpoint(gpu_count=16.0), None, "big")
    assert message == (
        "DedicatedEndpoint 'big' sets gpu_count to 16, above the ceiling of 8; allowed: at most 8 GPUs per replica."
    )
    assert check_gpu_count_ceiling(endpoint(gpu_count=4.0), {"ceiling": 4}) == []
    assert check_gpu_count_ceiling(endpoint(gpu_count=4.0), {"ceiling": 2}) != []


@pytest.mark.parametrize("config", [{"ceiling": 2.5}, {"ceiling": "8"}, {"ceiling": True}, {"ceiling": 0}])
def test_unusable_ceiling_config_is_a_config_error_naming_the_key(config: dict[str, Any]) -> None:
    with pytest.raises(PolicyConfigError, match="'ceiling'"):
        check_gpu_count_ceiling(endpoint(), config)


def test_a_string_where_a_list_is_expected_is_a_config_error() -> None:
    with pytest.raises(PolicyConfigError, match="allowedGpuTypes"):
        check_allowed_gpu_types(endpoint(), {"allowedGpuTypes": "gpu-h100-sxm"})


# --- replica bounds -----------------------------------------------------------------------


def test_min_above_max_replicas_is_refused() -> None:
    [message] = check_replica_bounds(endpoint(scaling={"min_replicas": 3.0, "max_replicas": 2.0}), None, "llama")
    assert message == (
        "DedicatedEndpoint 'llama' sets scaling.min_replicas to 3, above scaling.max_replicas "
        "(2); allowed: min_replicas <= max_replicas."
    )


def test_min_replicas_below_the_floor_is_refused_unless_the_floor_is_lowered() -> None:
    props = endpoint(scaling={"min_replicas": 0.0, "max_replicas": 2.0})
    [message] = check_replica_bounds(props)
    assert "min_replicas to 0, below the floor of 1; allowed: min_replicas >= 1" in message
    assert check_replica_bounds(props, {"minReplicasFloor": 0.0}) == []


def test_replica_bounds_check_what_is_known_when_one_bound_is_unknown() -> None:
    assert check_replica_bounds(endpoint(scaling={"min_replicas": 3.0, "max_replicas": STRING_UNKNOWN})) == []
    assert check_replica_bounds(endpoint(scaling={"min_replicas": 0.0, "max_replicas": STRING_UNKNOWN})) != []
    assert check_replica_bounds(endpoint(scaling=STRING_UNKNOWN)) == []


# --- description and naming ------------------------------------------------------------------


@pytest.mark.parametrize("description", [None, "", "   "])
def test_missing_or_blank_description_is_reported(description: str | None) -> None:
    props = endpoint(description=description)
    if description is None:
        del props["description"]
    [message] = check_description_present(props, None, "llama")
    assert message.startswith("DedicatedEndpoint 'llama' has no description; allowed:")


def test_description_min_length_is_configurable() -> None:
    props = endpoint(description="ok")
    assert check_description_present(props) == []
    [message] = check_description_present(props, {"minLength": 10.0})
    assert "description 'ok' (2 characters)" in message and "at least 10" in message


@pytest.mark.parametrize("name", ["llama-prod", "Llama 3.3 prod (v2)", "a_b", "x" * 100])
def test_default_naming_convention_accepts(name: str) -> None:
    assert check_naming_convention(endpoint(name=name)) == []


@pytest.mark.parametrize("name", ["ab", "-llama", "llama/prod", "x" * 129, "llama\n"])
def test_default_naming_convention_refuses(name: str) -> None:
    [message] = check_naming_convention(endpoint(name=name), None, "llama")
    assert f"has name {name!r}, which does not follow the naming convention" in message
    assert repr(rules.DEFAULT_NAME_PATTERN) in message


def test_naming_convention_is_configurable_and_matches_the_whole_name() -> None:
    config = {"pattern": "team-[a-z]+-[a-z0-9-]+"}
    assert check_naming_convention(endpoint(name="team-search-llama"), config) == []
    assert check_naming_convention(endpoint(name="team-search-llama prod"), config) != []
    assert check_naming_convention(endpoint(name="llama-prod"), config) != []


def test_invalid_naming_pattern_is_a_config_error() -> None:
    with pytest.raises(PolicyConfigError, match="not a valid regular expression"):
        check_naming_convention(endpoint(), {"pattern": "team-("})


# --- stack reserved GPUs ------------------------------------------------------------------------


def stack(*specs: tuple[str, Any, float, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, endpoint(gpu_count=gpus, scaling={"min_replicas": mins, "max_replicas": 8.0}, enabled=enabled))
        for name, mins, gpus, enabled in specs
    ]


def test_stack_within_the_reserved_gpu_ceiling_passes() -> None:
    assert check_stack_reserved_gpus(stack(("a", 2.0, 4.0, True), ("b", 1.0, 8.0, True))) == []  # 16


def test_stack_over_the_ceiling_names_the_total_and_the_biggest_contributors() -> None:
    endpoints = stack(
        ("small", 1.0, 1.0, True), ("big", 2.0, 8.0, True), ("mid", 1.0, 4.0, True), ("tiny", 1.0, 1.0, True)
    )
    [message] = check_stack_reserved_gpus(endpoints)
    assert message == (
        "The stack reserves 22 GPUs (sum of scaling.min_replicas x gpu_count over 4 enabled "
        "DedicatedEndpoint(s)), above the ceiling of 16; allowed: at most 16 reserved GPUs. "
        "Biggest contributors: 'big' (2 x 8 = 16), 'mid' (1 x 4 = 4), 'small' (1 x 1 = 1), and 1 more."
    )


def test_disabled_endpoints_do_not_count_but_unknown_enabled_does() -> None:
    endpoints = stack(("big", 2.0, 8.0, True), ("stopped", 4.0, 8.0, False))
    assert check_stack_reserved_gpus(endpoints) == []
    endpoints = stack(("big", 2.0, 8.0, True), ("maybe", 1.0, 1.0, STRING_UNKNOWN))
    assert check_stack_reserved_gpus(endpoints) != []


def test_stack_rule_config_and_unknown_reservations() -> None:
    endpoints = stack(("a", 1.0, 4.0, True), ("b", 1.0, 2.0, True), ("later", STRING_UNKNOWN, 8.0, True))
    assert check_stack_reserved_gpus(endpoints) == []
    [message] = check_stack_reserved_gpus(endpoints, {"ceiling": 4.0, "topContributors": 1.0})
    assert "reserves 6 GPUs" in message and "ceiling of 4" in message
    assert "Biggest contributors: 'a' (1 x 4 = 4), and 1 more." in message
    assert "Not counted, values unknown until deployment: 'later'." in message


def test_stack_rule_counts_like_spend_without_gpu_type_or_max_replicas() -> None:
    endpoints = [("a", {"gpu_count": 8.0, "scaling": {"min_replicas": 2.0}}),
                 ("b", {"gpu_count": 1.0, "scaling": {"min_replicas": 1.0}, "enabled": UNKNOWN}),
                 ("frac", {"gpu_count": 1.5, "scaling": {"min_replicas": 1.0}})]
    [message] = check_stack_reserved_gpus(endpoints)
    assert message.startswith("The stack reserves 17 GPUs (sum of scaling.min_replicas x gpu_count over 2 enabled")
    assert "Biggest contributors: 'a' (2 x 8 = 16), 'b' (1 x 1 = 1)." in message
    assert message.endswith(" Not counted, scaling.min_replicas or gpu_count not readable: 'frac'.")
    budget = spend.reservation(endpoint(gpu_count=8.0, scaling={"min_replicas": 2.0, "max_replicas": 8.0}))
    assert budget is not None and budget.reserved_gpus == 16
