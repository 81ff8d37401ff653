"""The stack GPU budget of the real pack, over gRPC as the Pulumi CLI drives it.

Same route as ``test_policy_grpc.py`` (tests/harness/policy_pack.py): ``python examples/policy-pack/__main__.py``, then
``GetAnalyzerInfo``, ``Configure`` (what ``--policy-pack-config`` becomes) and ``AnalyzeStack``
with protobuf Structs, in which every number (config included) is a float and an unknown value
is the engine's sentinel string.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from pulumi_tokenfactory import spend
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.policy_pack import UNKNOWN, endpoint, running_pack, struct, urn

pytestmark = pytest.mark.timeout(60)

BUDGET = "tokenfactory-stack-gpu-budget"
PRICES = {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5, "gpu-h200-sxm": 5.0}}


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    with running_pack(tmp_path_factory.mktemp("budget-pack")) as stub:
        yield stub


def configure(stub: analyzer_pb2_grpc.AnalyzerStub, level: Any, properties: dict[str, Any] | None) -> None:
    # The other stack rule's default ceiling (16 GPUs) is disabled so only the budget speaks.
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        BUDGET: analyzer_pb2.PolicyConfig(enforcementLevel=level, properties=struct(properties or {})),
        "tokenfactory-stack-reserved-gpus": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.DISABLED),
    }), timeout=10)


def analyze_stack(stub: analyzer_pb2_grpc.AnalyzerStub,
                  endpoints: list[tuple[str, dict[str, Any]]]) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    resources = [analyzer_pb2.AnalyzerResource(type=RESOURCE_TYPE, urn=urn(name), name=name, properties=struct(props))
                 for name, props in endpoints]
    return list(stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=10).diagnostics)


def reserving(mins: Any, gpus: Any, gpu_type: str = "gpu-h100-sxm", enabled: bool = True) -> dict[str, Any]:
    return endpoint(gpu_type=gpu_type, gpu_count=gpus, enabled=enabled,
                    scaling={"min_replicas": mins, "max_replicas": 8.0})


STACK = [
    ("gpt-120b", reserving(2.0, 4.0)),
    ("ds-v3", reserving(1.0, 4.0, "gpu-h200-sxm")),
    ("stopped", reserving(8.0, 8.0, enabled=False)),
    ("later", reserving(UNKNOWN, 8.0)),
]


def test_info_lists_the_budget_as_a_mandatory_stack_policy_with_its_config_keys(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
    [budget] = [p for p in info.policies if p.name == BUDGET]
    assert budget.policy_type == analyzer_pb2.POLICY_TYPE_STACK
    assert budget.enforcementLevel == analyzer_pb2.MANDATORY
    assert set(budget.configSchema.properties) == {"maxReservedGpus", "maxHourlyCost", "gpuHourlyPrices"}
    assert budget.configSchema.properties["maxReservedGpus"]["type"] == "integer"


def test_mandatory_budget_reports_the_limit_and_the_total_over_the_wire(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    configure(analyzer, analyzer_pb2.MANDATORY, {"maxReservedGpus": 10, "maxHourlyCost": 30, "gpuHourlyPrices": PRICES})
    diagnostics = analyze_stack(analyzer, STACK)
    assert [(d.policyName, d.enforcementLevel, d.urn) for d in diagnostics] == [
        (BUDGET, analyzer_pb2.MANDATORY, ""), (BUDGET, analyzer_pb2.MANDATORY, "")]
    table = spend.parse_price_table(PRICES)
    total = sum(spend.spend_outputs(props, table)["hourly_cost_min"] or 0 for _, props in STACK[:3])
    gpus, cost = (d.message for d in diagnostics)
    assert gpus.endswith("The stack reserves 12 GPUs (gpt-120b: 8, ds-v3: 4), over the limit maxReservedGpus=10; "
                         "not counted, values unknown until the deployment runs: 'later'.")
    assert f"cost ${total:.2f}/h (gpt-120b: $28.00, ds-v3: $20.00), over the limit maxHourlyCost=$30.00/h" in cost


def test_advisory_level_and_an_under_budget_stack(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    configure(analyzer, analyzer_pb2.ADVISORY, {"maxReservedGpus": 10})
    [diagnostic] = analyze_stack(analyzer, STACK)
    assert (diagnostic.policyName, diagnostic.enforcementLevel) == (BUDGET, analyzer_pb2.ADVISORY)
    configure(analyzer, analyzer_pb2.MANDATORY, {"maxReservedGpus": 12, "maxHourlyCost": 48, "gpuHourlyPrices": PRICES})
    assert analyze_stack(analyzer, STACK) == []
    configure(analyzer, analyzer_pb2.DISABLED, {"maxReservedGpus": 1})
    assert analyze_stack(analyzer, STACK) == []


def test_unusable_config_fails_closed_with_a_violation_naming_the_key(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    configure(analyzer, analyzer_pb2.MANDATORY, {"maxHourlyCost": 30})
    [diagnostic] = analyze_stack(analyzer, STACK)
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert f"Invalid configuration for policy {BUDGET!r}: config 'maxHourlyCost' needs 'gpuHourlyPrices'" \
        in diagnostic.message
