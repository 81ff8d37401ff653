"""A dedicated endpoint to call with `call_endpoint.py` once `pulumi up` is done.

Same payload as `examples/basic`. `waitForReady` (stack config, default
true) decides whether `pulumi up` returns only once the endpoint is running,
or right after the API accepted the create; in the second case the endpoint
answers 404 until it has started, which `call_endpoint.py --wait` rides out.
"""

from __future__ import annotations

import pulumi

import pulumi_tokenfactory as tokenfactory


def main() -> tokenfactory.DedicatedEndpoint:
    """Declare the endpoint and export the two values an OpenAI client needs."""
    config = pulumi.Config()
    wait = config.get_bool("waitForReady")
    endpoint = tokenfactory.DedicatedEndpoint(
        "chat",
        name="Inference example",
        description="Called by examples/inference/call_endpoint.py",
        model_name="openai/gpt-oss-120b",
        flavor_name="base",
        gpu_type="gpu-h100-sxm",
        gpu_count=1,
        scaling=tokenfactory.ScalingArgs(min_replicas=1, max_replicas=1),
        wait_for_ready=True if wait is None else wait,
    )
    pulumi.export("endpoint_id", endpoint.id)
    pulumi.export("routing_key", endpoint.routing_key)
    pulumi.export("inference_base_url", endpoint.inference_base_url)
    pulumi.export("status", endpoint.status)
    return endpoint


main()
