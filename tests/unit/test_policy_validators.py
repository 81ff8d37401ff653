"""The pulumi-policy adapters, called with the argument objects pulumi-policy itself builds.

The args are made exactly as ``_PolicyAnalyzerServicer.Analyze``/``AnalyzeStack``
make them: properties through a protobuf Struct (so every number is a float),
``deserialize_properties`` and ``unknown_checking_proxy``; config as
``json_format.MessageToDict`` leaves it (floats again).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from pulumi_tokenfactory.policy import rules
from pulumi_tokenfactory.policy.budget import check_stack_gpu_budget
from pulumi_tokenfactory.policy.pack import gpu_spend_policies, plain
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.endpoints import wire_endpoint
from tests.unit.test_policy_budget import DOCS_BUDGET_STACK

REPO = Path(__file__).resolve().parents[2]


def endpoint(**changes: Any) -> dict[str, Any]:
    return wire_endpoint(**{"__provider": "gAWVKAAAAAAAAACMG3B1bHVtaV90b2tlbmZhY3Rvcnku", "gpu_count": 2.0,
                            "wait_for_ready": True, "ready_timeout": 1800.0, **changes})


def engine_props(props: dict[str, Any]) -> Any:
    """Properties as the servicer hands them to a validator."""
    struct = struct_pb2.Struct()
    struct.update(props)
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def engine_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if config is None:
        return None
    struct = struct_pb2.Struct()
    struct.update(config)
    return json_format.MessageToDict(struct)


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource_args(
    props: dict[str, Any], config: dict[str, Any] | None = None, name: str = "llama", resource_type: str = RESOURCE_TYPE
) -> ResourceValidationArgs:
    urn = f"urn:pulumi:dev::gpu::{resource_type}::{name}"
    return ResourceValidationArgs(
        resource_type, engine_props(props), urn, name, options(), None, engine_config(config), {}
    )


def stack_args(
    resources: list[tuple[str, str, dict[str, Any]]], config: dict[str, Any] | None = None
) -> StackValidationArgs:
    policy_resources = [
        PolicyResource(
            rtype, engine_props(props), f"urn:pulumi:dev::gpu::{rtype}::{name}", name, options(), None, None, [], {}
        )
        for name, rtype, props in resources
    ]
    return StackValidationArgs(policy_resources, engine_config(config), {})


def policies() -> dict[str, Policy]:
    return {p.name: p for p in gpu_spend_policies()}


def run(policy_name: str, args: ResourceValidationArgs | StackValidationArgs) -> list[tuple[str, str | None]]:
    reported: list[tuple[str, str | None]] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        reported.append((message, urn))

    policy = policies()[policy_name]
    if isinstance(policy, StackValidationPolicy):
        assert isinstance(args, StackValidationArgs)
        result = policy.validate(args, report_violation)
    else:
        assert isinstance(policy, ResourceValidationPolicy) and isinstance(args, ResourceValidationArgs)
        result = policy.validate(args, report_violation)
    assert result is None  # synchronous: nothing for the servicer to await
    return reported


def messages(policy_name: str, args: ResourceValidationArgs | StackValidationArgs) -> list[str]:
    return [message for message, _ in run(policy_name, args)]


# --- the pack's shape ------------------------------------------------------------------------


def test_pack_has_every_rule_at_its_documented_level() -> None:
    levels = {name: p.enforcement_level for name, p in policies().items()}
    assert levels == {
        "tokenfactory-allowed-gpu-types": EnforcementLevel.MANDATORY,
        "tokenfactory-allowed-models": EnforcementLevel.MANDATORY,
        "tokenfactory-max-replicas-ceiling": EnforcementLevel.MANDATORY,
        "tokenfactory-gpu-count-ceiling": EnforcementLevel.MANDATORY,
        "tokenfactory-replica-bounds": EnforcementLevel.MANDATORY,
        "tokenfactory-description-present": EnforcementLevel.ADVISORY,
        "tokenfactory-naming-convention": EnforcementLevel.ADVISORY,
        "tokenfactory-stack-reserved-gpus": EnforcementLevel.MANDATORY,
        "tokenfactory-stack-gpu-budget": EnforcementLevel.MANDATORY,
    }
    assert isinstance(policies()["tokenfactory-stack-reserved-gpus"], StackValidationPolicy)
    assert isinstance(policies()["tokenfactory-stack-gpu-budget"], StackValidationPolicy)


def test_enforcement_override_applies_to_every_policy() -> None:
    assert {p.enforcement_level for p in gpu_spend_policies(EnforcementLevel.ADVISORY)} == {EnforcementLevel.ADVISORY}


def test_config_schemas_are_json_with_defaults_matching_the_code() -> None:
    schemas = {name: p.config_schema.properties for name, p in policies().items() if p.config_schema}
    assert set(schemas) == set(rules.POLICY_NAMES)
    json.dumps(schemas)  # the engine receives them as a Struct
    assert schemas["tokenfactory-allowed-gpu-types"]["allowedGpuTypes"]["default"] == list(rules.DEFAULT_GPU_TYPES)
    assert schemas["tokenfactory-allowed-models"]["allowedModels"]["default"] == []
    assert schemas["tokenfactory-max-replicas-ceiling"]["ceiling"]["default"] == 8
    assert schemas["tokenfactory-gpu-count-ceiling"]["ceiling"]["default"] == 8
    assert schemas["tokenfactory-stack-reserved-gpus"]["ceiling"]["default"] == 16
    assert schemas["tokenfactory-replica-bounds"]["minReplicasFloor"]["default"] == 1
    assert schemas["tokenfactory-naming-convention"]["pattern"]["default"] == rules.DEFAULT_NAME_PATTERN
    # Every default from a schema is accepted by its own rule.
    for rule in rules.RESOURCE_RULES:
        defaults = {key: spec["default"] for key, spec in rule.config_schema.items()}
        assert rule.check(endpoint(), engine_config(defaults), "llama") == []


def test_importing_the_package_loads_neither_pulumi_policy_nor_grpc() -> None:
    code = (
        "import sys, pulumi_tokenfactory.policy as p; "
        "print('pulumi_policy' in sys.modules, 'grpc' in sys.modules, callable(p.check_gpu_count_ceiling))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


# --- each rule through its validator: passing, failing, config override ----------------------

CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, str, dict[str, Any], dict[str, Any]]] = [
    # policy, violating props, config for that check (None: defaults), expected text,
    # config under which the violating endpoint passes, config under which the compliant one fails
    (
        "tokenfactory-allowed-gpu-types",
        {"gpu_type": "gpu-a100"},
        None,
        "gpu_type 'gpu-a100', which is not allowed",
        {"allowedGpuTypes": ["gpu-a*"]},
        {"allowedGpuTypes": ["gpu-l40s-d"]},
    ),
    (
        "tokenfactory-allowed-models",
        {"model_name": "Qwen/Qwen3-235B"},
        {"allowedModels": ["meta-llama/*"]},
        "model_name 'Qwen/Qwen3-235B'",
        {"allowedModels": []},
        {"allowedModels": ["Qwen/*"]},
    ),
    (
        "tokenfactory-max-replicas-ceiling",
        {"scaling": {"min_replicas": 1, "max_replicas": 9}},
        None,
        "scaling.max_replicas to 9, above the ceiling of 8",
        {"ceiling": 9},
        {"ceiling": 1},
    ),
    (
        "tokenfactory-gpu-count-ceiling",
        {"gpu_count": 16},
        None,
        "gpu_count to 16, above the ceiling of 8",
        {"ceiling": 16},
        {"ceiling": 1},
    ),
    (
        "tokenfactory-replica-bounds",
        {"scaling": {"min_replicas": 0, "max_replicas": 2}},
        None,
        "scaling.min_replicas to 0, below the floor of 1",
        {"minReplicasFloor": 0},
        {"minReplicasFloor": 2},
    ),
    (
        "tokenfactory-description-present",
        {"description": " "},
        None,
        "has no description",
        {"minLength": 1},
        {"minLength": 200},
    ),
    (
        "tokenfactory-naming-convention",
        {"name": "x"},
        None,
        "has name 'x', which does not follow",
        {"pattern": ".+"},
        {"pattern": "team-.+"},
    ),
]


@pytest.mark.parametrize(
    ("policy", "bad", "config", "expected", "_lenient", "_strict"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_passes_compliant_and_reports_violating_endpoint(
    policy: str,
    bad: dict[str, Any],
    config: dict[str, Any] | None,
    expected: str,
    _lenient: dict[str, Any],
    _strict: dict[str, Any],
) -> None:
    assert run(policy, resource_args(endpoint(), config)) == []
    [(message, urn)] = run(policy, resource_args(endpoint(**bad), config))
    assert expected in message
    assert "DedicatedEndpoint 'llama'" in message
    assert not re.search(r"\d\.0\b", message)  # 16.0 from the engine is reported as 16
    assert urn is None  # the engine attaches the resource's own URN


@pytest.mark.parametrize(
    ("policy", "bad", "config", "_expected", "lenient", "strict"), CASES, ids=[c[0] for c in CASES]
)
def test_config_override_changes_the_outcome(
    policy: str,
    bad: dict[str, Any],
    config: dict[str, Any] | None,
    _expected: str,
    lenient: dict[str, Any],
    strict: dict[str, Any],
) -> None:
    if policy == "tokenfactory-description-present":
        bad = {"description": "ok"}  # no config makes a blank description acceptable
        lenient = {"minLength": 2}
    assert run(policy, resource_args(endpoint(**bad), lenient)) == []
    assert len(run(policy, resource_args(endpoint(), strict))) == 1


@pytest.mark.parametrize("policy", [c[0] for c in CASES])
def test_unknown_values_during_preview_are_tolerated(policy: str) -> None:
    props = {key: UNKNOWN_STRING_VALUE for key in endpoint() if key != "__provider"}
    args = resource_args(props)
    with pytest.raises(UnknownValueError):
        args.props["gpu_count"]  # what a naive rule would hit
    assert run(policy, args) == []
    args = resource_args(endpoint(scaling={"min_replicas": UNKNOWN_STRING_VALUE, "max_replicas": UNKNOWN_STRING_VALUE}))
    assert run(policy, args) == []


@pytest.mark.parametrize("policy", [c[0] for c in CASES])
def test_other_resource_types_are_ignored(policy: str) -> None:
    props = endpoint(gpu_type="gpu-a100", gpu_count=64, name="x", description="")
    assert run(policy, resource_args(props, resource_type="aws:ec2/instance:Instance")) == []


def test_unusable_config_is_reported_as_a_violation_not_raised() -> None:
    [message] = messages("tokenfactory-naming-convention", resource_args(endpoint(), {"pattern": "team-("}))
    assert message.startswith("Invalid configuration for policy 'tokenfactory-naming-convention': config 'pattern'")
    [message] = messages("tokenfactory-gpu-count-ceiling", resource_args(endpoint(), {"ceiling": 2.5}))
    assert "config 'ceiling' must be a whole number, got 2.5" in message


def test_plain_unwraps_proxies_and_marks_unknowns() -> None:
    props = engine_props(
        endpoint(scaling={"min_replicas": UNKNOWN_STRING_VALUE, "max_replicas": 2}, tags=["a", UNKNOWN_STRING_VALUE])
    )
    result = plain(props)
    assert type(result) is dict
    assert result["scaling"] == {"min_replicas": rules.UNKNOWN, "max_replicas": 2.0}
    assert result["tags"] == ["a", rules.UNKNOWN]
    assert result["gpu_count"] == 2.0 and isinstance(result["gpu_count"], float)  # untouched: rules normalise


# --- the stack rule ---------------------------------------------------------------------------------


def test_stack_rule_sums_enabled_endpoints_only() -> None:
    resources = [
        ("big", RESOURCE_TYPE, endpoint(gpu_count=8, scaling={"min_replicas": 2, "max_replicas": 4})),
        ("mid", RESOURCE_TYPE, endpoint(gpu_count=4, scaling={"min_replicas": 1, "max_replicas": 4})),
        ("off", RESOURCE_TYPE, endpoint(gpu_count=8, scaling={"min_replicas": 8, "max_replicas": 8}, enabled=False)),
        ("vm", "aws:ec2/instance:Instance", {"gpu_count": 99, "scaling": {"min_replicas": 99}}),
    ]
    [(message, urn)] = run("tokenfactory-stack-reserved-gpus", stack_args(resources))
    assert "reserves 20 GPUs" in message and "2 enabled DedicatedEndpoint(s)" in message
    assert "above the ceiling of 16; allowed: at most 16 reserved GPUs" in message
    assert "Biggest contributors: 'big' (2 x 8 = 16), 'mid' (1 x 4 = 4)." in message
    assert urn is None
    assert run("tokenfactory-stack-reserved-gpus", stack_args(resources, {"ceiling": 20})) == []
    assert run("tokenfactory-stack-reserved-gpus", stack_args(resources[1:])) == []


def test_stack_rule_tolerates_unknown_outputs() -> None:
    resources = [
        ("big", RESOURCE_TYPE, endpoint(gpu_count=8, scaling={"min_replicas": 2, "max_replicas": 4})),
        (
            "new",
            RESOURCE_TYPE,
            endpoint(gpu_count=UNKNOWN_STRING_VALUE, scaling=UNKNOWN_STRING_VALUE, enabled=UNKNOWN_STRING_VALUE),
        ),
    ]
    assert run("tokenfactory-stack-reserved-gpus", stack_args(resources)) == []
    [message] = messages("tokenfactory-stack-reserved-gpus", stack_args(resources, {"ceiling": 8}))
    assert "Not counted, values unknown until deployment: 'new'." in message


# --- docs stay in step with the code ---------------------------------------------------------------


def test_docs_describe_every_policy_config_key_and_default() -> None:
    doc = (REPO / "sdk-docs" / "policy-pack.md").read_text()
    every_rule: list[rules.ResourceRule | rules.StackRule] = [*rules.RESOURCE_RULES, *rules.STACK_RULES]
    for rule in every_rule:
        assert f"`{rule.name}`" in doc
        for key in rule.config_schema:
            assert f"`{key}`" in doc, (rule.name, key)
    assert rules.DEFAULT_NAME_PATTERN in doc
    readme = (REPO / "examples" / "policy-pack" / "README.md").read_text()
    assert "pulumi preview --policy-pack examples/policy-pack" in readme
    assert "--policy-pack-config" in readme


def test_sample_messages_in_the_docs_are_what_the_rules_say() -> None:
    bad = {
        "name": "-llama",
        "description": "",
        "model_name": "Qwen/Qwen3-235B",
        "gpu_type": "gpu-a100",
        "gpu_count": 16.0,
        "scaling": {"min_replicas": 3.0, "max_replicas": 12.0},
    }

    def reserving(gpus: Any, mins: float, enabled: bool = True) -> dict[str, Any]:
        return {"gpu_count": gpus, "scaling": {"min_replicas": mins}, "enabled": enabled}

    produced = [
        *rules.check_allowed_gpu_types(bad, None, "llama"),
        *rules.check_allowed_models(bad, {"allowedModels": ["meta-llama/*"]}, "llama"),
        *rules.check_max_replicas_ceiling(bad, None, "llama"),
        *rules.check_gpu_count_ceiling(bad, None, "llama"),
        *rules.check_replica_bounds({"scaling": {"min_replicas": 3.0, "max_replicas": 2.0}}, None, "llama"),
        *rules.check_replica_bounds({"scaling": {"min_replicas": 0.0, "max_replicas": 2.0}}, None, "llama"),
        *rules.check_description_present(bad, None, "llama"),
        *rules.check_naming_convention(bad, None, "llama"),
        *rules.check_stack_reserved_gpus(
            [
                ("llama-70b", reserving(8.0, 2.0)),
                ("qwen", reserving(4.0, 1.0)),
                ("embed", reserving(1.0, 2.0)),
                ("rerank", reserving(1.0, 1.0)),
                ("old", reserving(8.0, 4.0, False)),
                ("new", reserving(UNKNOWN_STRING_VALUE, 1.0)),
            ]
        ),
        *check_stack_gpu_budget(DOCS_BUDGET_STACK, {"maxReservedGpus": 10}),  # its other samples: test_policy_budget
    ]
    doc = (REPO / "sdk-docs" / "policy-pack.md").read_text()
    samples = re.findall(r"`((?:DedicatedEndpoint '|The stack reserves )[^`]*)`", doc)
    assert sorted(samples) == sorted(produced)
