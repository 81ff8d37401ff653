"""One endpoint's input properties the way the engine carries them over gRPC.

Protobuf Structs have one number type, so every number arrives as a float
(`gpu_count` is `1.0`); the provider's check, diff and the policy rules must
all cope with that, and their unit tests start from this one shape.
"""

from __future__ import annotations

from typing import Any


def wire_endpoint(**changes: Any) -> dict[str, Any]:
    """A valid endpoint that passes every policy rule, with ``changes`` laid over it."""
    props: dict[str, Any] = {
        "name": "llama-prod",
        "description": "team-search: query rewriting",
        "model_name": "meta-llama/Llama-3.3-70B-Instruct",
        "flavor_name": "base",
        "gpu_type": "gpu-h100-sxm",
        "gpu_count": 1.0,
        "scaling": {"min_replicas": 1.0, "max_replicas": 2.0},
        "region": "eu-north1",
        "enabled": True,
    }
    return {**props, **changes}
