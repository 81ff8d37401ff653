"""GPU-spend policy pack for Token Factory dedicated endpoints.

Import-light on purpose: importing this package loads only the pure rules
(:mod:`.rules`). ``pulumi_policy`` and gRPC are imported on first use of
:func:`gpu_spend_policies` or :func:`serve` (from :mod:`.pack`), and nothing
is started until :func:`serve` is called, since constructing a
``pulumi_policy.PolicyPack`` serves gRPC and blocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulumi_tokenfactory.schema import RESOURCE_TYPE

from .rules import (
    ALLOWED_GPU_TYPES,
    ALLOWED_MODELS,
    DESCRIPTION_PRESENT,
    GPU_COUNT_CEILING,
    MAX_REPLICAS_CEILING,
    NAMING_CONVENTION,
    POLICY_NAMES,
    REPLICA_BOUNDS,
    RESOURCE_RULES,
    STACK_RESERVED_GPUS,
    STACK_RULES,
    UNKNOWN,
    PolicyConfigError,
    check_allowed_gpu_types,
    check_allowed_models,
    check_description_present,
    check_gpu_count_ceiling,
    check_max_replicas_ceiling,
    check_naming_convention,
    check_replica_bounds,
    check_stack_reserved_gpus,
)

if TYPE_CHECKING:
    from .pack import PACK_NAME, gpu_spend_policies, serve

__all__ = [
    "ALLOWED_GPU_TYPES",
    "ALLOWED_MODELS",
    "DESCRIPTION_PRESENT",
    "GPU_COUNT_CEILING",
    "MAX_REPLICAS_CEILING",
    "NAMING_CONVENTION",
    "PACK_NAME",
    "POLICY_NAMES",
    "REPLICA_BOUNDS",
    "RESOURCE_RULES",
    "RESOURCE_TYPE",
    "STACK_RESERVED_GPUS",
    "STACK_RULES",
    "UNKNOWN",
    "PolicyConfigError",
    "check_allowed_gpu_types",
    "check_allowed_models",
    "check_description_present",
    "check_gpu_count_ceiling",
    "check_max_replicas_ceiling",
    "check_naming_convention",
    "check_replica_bounds",
    "check_stack_reserved_gpus",
    "gpu_spend_policies",
    "serve",
]

_LAZY = {"PACK_NAME", "gpu_spend_policies", "serve"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import pack

        return getattr(pack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
