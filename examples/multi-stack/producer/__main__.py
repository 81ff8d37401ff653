"""Producer stack: owns one dedicated endpoint per environment and publishes how to reach it.

Other stacks (see `../consumer`) never create endpoints; they read this
stack's outputs with a `pulumi.StackReference`. So the GPUs have exactly
one owner, and changing the model or the hardware here is one `pulumi up`.

Stack config (all optional):
    environments  list of environment names, one endpoint each  (default: [<stack name>])
    model         model template                                 (default openai/gpt-oss-120b)
    flavor        template flavor                                (default base)
    gpuType       GPU type                                       (default gpu-h100-sxm)
    gpuCount      GPUs per replica                               (default 1)
    minReplicas   replicas kept running                          (default 1)
    maxReplicas   autoscaling upper bound                        (default 2)

Outputs: `endpoints` maps each environment to its endpoint_id, routing_key
and inference_base_url; `environment`, `endpoint_id`, `routing_key` and
`inference_base_url` repeat those of the first environment, for consumers
that do not care which one.
"""

from __future__ import annotations

import re

import pulumi

import pulumi_tokenfactory as tokenfactory


def environments(config: pulumi.Config) -> list[str]:
    """The configured environment names, or the stack's own name: one stack per environment."""
    names = config.get_object("environments") or [pulumi.get_stack()]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError("config `environments` must be a non-empty list of names, e.g. '[\"dev\", \"staging\"]'")
    if len(set(names)) != len(names):
        raise ValueError(f"config `environments` lists a name twice: {names}")
    return names


def main() -> dict[str, tokenfactory.DedicatedEndpoint]:
    """Declare the endpoints and export their coordinates."""
    config = pulumi.Config()
    project = pulumi.get_project()
    endpoints: dict[str, tokenfactory.DedicatedEndpoint] = {}
    for env in environments(config):
        slug = re.sub(r"[^a-z0-9-]+", "-", env.lower()).strip("-") or "env"
        endpoints[env] = tokenfactory.DedicatedEndpoint(
            f"chat-{slug}",
            # The display name carries project and environment, so two stacks never ask for
            # endpoints that look identical (which the provider refuses as a possible leftover).
            name=f"{project} {env} chat",
            description=f"Chat model of the {env} environment, owned by stack {pulumi.get_stack()}",
            model_name=config.get("model") or "openai/gpt-oss-120b",
            flavor_name=config.get("flavor") or "base",
            gpu_type=config.get("gpuType") or "gpu-h100-sxm",
            gpu_count=config.get_int("gpuCount") or 1,
            scaling=tokenfactory.ScalingArgs(
                min_replicas=config.get_int("minReplicas") or 1,
                max_replicas=config.get_int("maxReplicas") or 2,
            ),
        )

    pulumi.export("endpoints", {
        env: {
            "endpoint_id": endpoint.id,
            "routing_key": endpoint.routing_key,
            "inference_base_url": endpoint.inference_base_url,
        }
        for env, endpoint in endpoints.items()
    })
    first_env, first = next(iter(endpoints.items()))
    pulumi.export("environment", first_env)
    pulumi.export("endpoint_id", first.id)
    pulumi.export("routing_key", first.routing_key)
    pulumi.export("inference_base_url", first.inference_base_url)
    return endpoints


main()
