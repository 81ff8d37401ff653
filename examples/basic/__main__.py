"""One dedicated endpoint: the example payload of the Token Factory API description, as a Pulumi program.

The values are exactly those of the documented `POST /v0/dedicated_endpoints`
example, so what this program asks for is what the API documentation shows.
The region is not given: it comes from `tokenfactory:region` or defaults to
`eu-north1`.
"""

from __future__ import annotations

import pulumi

import pulumi_tokenfactory as tokenfactory


def main() -> tokenfactory.DedicatedEndpoint:
    """Declare the endpoint and export what a client needs to call it."""
    endpoint = tokenfactory.DedicatedEndpoint(
        "gpt-120b",
        name="GPT-120B Endpoint",
        description="Dedicated GPT-120B for internal apps",
        model_name="openai/gpt-oss-120b",
        flavor_name="base",
        gpu_type="gpu-h100-sxm",
        gpu_count=1,
        scaling=tokenfactory.ScalingArgs(min_replicas=1, max_replicas=2),
    )
    pulumi.export("endpoint_id", endpoint.id)
    # The routing key is the `model` of every /v1/chat/completions call to this endpoint.
    pulumi.export("routing_key", endpoint.routing_key)
    pulumi.export("inference_base_url", endpoint.inference_base_url)
    pulumi.export("status", endpoint.status)
    # Whether to send traffic (ready, partially_ready, not_ready), as the API advises; status is the lifecycle.
    pulumi.export("readiness", endpoint.readiness)
    # The stack's GPU spend as one output (tokenfactory_spend): the preview shows how each change moves it.
    tokenfactory.export_spend()
    return endpoint


main()
