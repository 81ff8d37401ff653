"""GPU-spend policy pack for Token Factory dedicated endpoints.

Import-light on purpose: importing this package loads only the pure rules
(:mod:`.rules`). ``pulumi_policy`` and gRPC are imported on first use of
:func:`gpu_spend_policies` or :func:`serve` (from :mod:`.pack`), and nothing
is started until :func:`serve` is called, since constructing a
``pulumi_policy.PolicyPack`` serves gRPC and blocks.

pulumi-policy comes with the `policy` extra, which a Pulumi program does not
need. Without it, importing this package fails at once with the command that
installs it, rather than when the CLI starts the pack and it cannot serve.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

# find_spec only locates the module; importing it here would cost every user of the pure rules.
if find_spec("pulumi_policy") is None:
    raise ModuleNotFoundError(
        "The Token Factory policy pack needs pulumi-policy, which pulumi-tokenfactory installs only with its "
        "`policy` extra: pip install 'pulumi-tokenfactory[policy]' (from a checkout: pip install -e '.[policy]')",
        name="pulumi_policy")

from pulumi_tokenfactory.schema import RESOURCE_TYPE

from .budget import check_stack_gpu_budget
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
    STACK_GPU_BUDGET,
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
    "STACK_GPU_BUDGET",
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
    "check_stack_gpu_budget",
    "check_stack_reserved_gpus",
    "gpu_spend_policies",
    "serve",
]

def __getattr__(name: str) -> Any:
    if name in ("PACK_NAME", "gpu_spend_policies", "serve"):
        from . import pack

        return getattr(pack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
