"""The real pack, driven over gRPC the way the Pulumi CLI drives it.

Starts ``python examples/policy-pack/__main__.py`` (no ``-u``: the pack must
flush its port line itself), reads the port from stdout, then calls
``GetAnalyzerInfo``, ``Configure``, ``Analyze`` and ``AnalyzeStack`` with
protobuf Structs, in which every number is a float.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.policy_pack import UNKNOWN, endpoint, running_pack, struct, urn

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    with running_pack(tmp_path_factory.mktemp("pack")) as stub:
        yield stub


def test_analyzer_info_lists_every_policy_with_level_and_config_schema(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
    assert info.name == "tokenfactory-gpu-spend"
    assert info.supportsConfig
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels == {
        "tokenfactory-allowed-gpu-types": analyzer_pb2.MANDATORY,
        "tokenfactory-allowed-models": analyzer_pb2.MANDATORY,
        "tokenfactory-max-replicas-ceiling": analyzer_pb2.MANDATORY,
        "tokenfactory-gpu-count-ceiling": analyzer_pb2.MANDATORY,
        "tokenfactory-replica-bounds": analyzer_pb2.MANDATORY,
        "tokenfactory-description-present": analyzer_pb2.ADVISORY,
        "tokenfactory-naming-convention": analyzer_pb2.ADVISORY,
        "tokenfactory-stack-reserved-gpus": analyzer_pb2.MANDATORY,
        "tokenfactory-stack-gpu-budget": analyzer_pb2.MANDATORY,
    }
    by_name = {p.name: p for p in info.policies}
    assert by_name["tokenfactory-gpu-count-ceiling"].configSchema.properties["ceiling"]["default"] == 8
    assert by_name["tokenfactory-stack-reserved-gpus"].policy_type == analyzer_pb2.POLICY_TYPE_STACK


def test_configured_pack_reports_violations_with_policy_message_and_level(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    # As the CLI sends --policy-pack-config: each configured policy with its level and properties.
    analyzer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                "tokenfactory-gpu-count-ceiling": analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.MANDATORY, properties=struct({"ceiling": 2})
                ),
                "tokenfactory-naming-convention": analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.ADVISORY, properties=struct({"pattern": "team-[a-z]+-[a-z0-9-]+"})
                ),
                "tokenfactory-description-present": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.DISABLED),
                "tokenfactory-stack-reserved-gpus": analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.MANDATORY, properties=struct({"ceiling": 4})
                ),
            }
        ),
        timeout=10,
    )

    bad = endpoint(name="llama-prod", gpu_type="gpu-a100", gpu_count=4.0, description="")
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(type=RESOURCE_TYPE, properties=struct(bad), urn=urn("llama"), name="llama"),
        timeout=10,
    )
    diagnostics = {d.policyName: d for d in response.diagnostics}
    assert set(diagnostics) == {
        "tokenfactory-allowed-gpu-types",
        "tokenfactory-gpu-count-ceiling",
        "tokenfactory-naming-convention",
    }  # description-present was disabled

    gpu_count = diagnostics["tokenfactory-gpu-count-ceiling"]
    assert gpu_count.enforcementLevel == analyzer_pb2.MANDATORY
    assert gpu_count.policyPackName == "tokenfactory-gpu-spend"
    assert gpu_count.message.endswith(
        "DedicatedEndpoint 'llama' sets gpu_count to 4, above the ceiling of 2; allowed: at most 2 GPUs per replica."
    )
    gpu_type = diagnostics["tokenfactory-allowed-gpu-types"]
    assert gpu_type.enforcementLevel == analyzer_pb2.MANDATORY
    assert "gpu_type 'gpu-a100', which is not allowed" in gpu_type.message
    assert "'gpu-h100-sxm'" in gpu_type.message
    naming = diagnostics["tokenfactory-naming-convention"]
    assert naming.enforcementLevel == analyzer_pb2.ADVISORY
    assert "has name 'llama-prod'" in naming.message and "'team-[a-z]+-[a-z0-9-]+'" in naming.message

    good = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=RESOURCE_TYPE, properties=struct(endpoint(gpu_count=2.0)), urn=urn("ok"), name="ok"
        ),
        timeout=10,
    )
    assert list(good.diagnostics) == []

    # Preview: unknown values are tolerated by every rule, not turned into "can't run policy" notes.
    preview = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=RESOURCE_TYPE,
            urn=urn("new"),
            name="new",
            properties=struct(endpoint(gpu_count=UNKNOWN, gpu_type=UNKNOWN, name=UNKNOWN, scaling=UNKNOWN)),
        ),
        timeout=10,
    )
    assert list(preview.diagnostics) == []

    # Stack: 2 x 2 + 1 x 1 = 5 reserved GPUs against the configured ceiling of 4; the disabled one is free.
    resources = [
        analyzer_pb2.AnalyzerResource(type=RESOURCE_TYPE, urn=urn(name), name=name, properties=struct(props))
        for name, props in [
            ("big", endpoint(gpu_count=2.0, scaling={"min_replicas": 2.0, "max_replicas": 4.0})),
            ("small", endpoint()),
            ("stopped", endpoint(gpu_count=8.0, scaling={"min_replicas": 8.0, "max_replicas": 8.0}, enabled=False)),
        ]
    ]
    stack = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=10)
    [diagnostic] = stack.diagnostics
    assert diagnostic.policyName == "tokenfactory-stack-reserved-gpus"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert diagnostic.urn == ""
    assert "The stack reserves 5 GPUs" in diagnostic.message
    assert "above the ceiling of 4; allowed: at most 4 reserved GPUs" in diagnostic.message
    assert "Biggest contributors: 'big' (2 x 2 = 4), 'small' (1 x 1 = 1)." in diagnostic.message
