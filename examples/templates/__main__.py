"""Choose model, flavor and GPU from the template catalogue instead of hard-coding them.

`get_templates()` reads the catalogue from the API while the program runs
(once per `pulumi preview` / `pulumi up`), with the same token and base URL
as the provider. `choose()` returns the first GPU type and count the chosen
flavor offers, so the program keeps working when the catalogue changes, and
a model or flavor that does not exist fails here, naming what does exist,
before anything is planned.

Stack config (all optional):
    model        model template name        (default openai/gpt-oss-20b)
    flavor       template flavor            (default base)
    gpuType      pin a GPU type             (default: the first one the flavor offers)
    maxReplicas  autoscaling upper bound    (default 1)
"""

from __future__ import annotations

import pulumi

import pulumi_tokenfactory as tokenfactory

DEFAULT_MODEL = "openai/gpt-oss-20b"
DEFAULT_FLAVOR = "base"


def main() -> tokenfactory.DedicatedEndpoint:
    """Look the hardware up, declare the endpoint, export the choice and the endpoint's coordinates."""
    config = pulumi.Config()
    catalogue = tokenfactory.get_templates()
    choice = catalogue.choose(
        config.get("model") or DEFAULT_MODEL,
        flavor_name=config.get("flavor") or DEFAULT_FLAVOR,
        gpu_type=config.get("gpuType"),
    )
    pulumi.log.info(f"chose {choice.gpu_count} x {choice.gpu_type} for {choice.model_name} ({choice.flavor_name})")

    endpoint = tokenfactory.DedicatedEndpoint(
        "chosen",
        name=f"{choice.model_name.split('/')[-1]} ({choice.flavor_name})",
        description=f"{choice.model_name} on hardware chosen from the template catalogue",
        model_name=choice.model_name,
        flavor_name=choice.flavor_name,
        gpu_type=choice.gpu_type,
        gpu_count=choice.gpu_count,
        scaling=tokenfactory.ScalingArgs(min_replicas=1, max_replicas=config.get_int("maxReplicas") or 1),
    )
    pulumi.export("available_models", catalogue.model_names)
    pulumi.export("choice", {
        "model_name": choice.model_name,
        "flavor_name": choice.flavor_name,
        "gpu_type": choice.gpu_type,
        "gpu_count": choice.gpu_count,
    })
    pulumi.export("endpoint_id", endpoint.id)
    pulumi.export("routing_key", endpoint.routing_key)
    pulumi.export("inference_base_url", endpoint.inference_base_url)
    return endpoint


main()
