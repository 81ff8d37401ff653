"""GPU-spend rules for Token Factory dedicated endpoints, as pure functions.

Each rule takes endpoint properties (a dict, or a pydantic model of :mod:`pulumi_tokenfactory.api.models`)
and its config, and returns violation messages. Nothing here imports ``pulumi_policy`` or gRPC, so the
rules can be tested and reused (by a CI script, by the provider) without a policy engine: the adapters in
:mod:`.pack` alone know how the engine hands values over, and :mod:`.values` how a rule reads them
(floats, unknowns, raw config). A rule stays silent on a value only the deployment will decide: it never
fails, or guesses, on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Final, Generic, TypeVar

from pulumi_tokenfactory import spend
from pulumi_tokenfactory.endpoint.fields import GPU_TYPES, NAME_MAX_LENGTH, field_named
from pulumi_tokenfactory.rules import replica_order

from . import budget
from .values import UNKNOWN as UNKNOWN  # re-exported (`as`): callers know UNKNOWN, Unknown and
from .values import (
    Config,
    Enforcement,
    Props,
    as_number,
    config_int,
    config_pattern,
    config_str_list,
    fmt_number,
    is_unknown,
    quoted,
)
from .values import PolicyConfigError as PolicyConfigError  # PolicyConfigError from this module
from .values import Unknown as Unknown
from .values import as_props as _as_props

# Policy names: stable ids, used as keys of --policy-pack-config.
ALLOWED_GPU_TYPES: Final = "tokenfactory-allowed-gpu-types"
ALLOWED_MODELS: Final = "tokenfactory-allowed-models"
MAX_REPLICAS_CEILING: Final = "tokenfactory-max-replicas-ceiling"
GPU_COUNT_CEILING: Final = "tokenfactory-gpu-count-ceiling"
STACK_RESERVED_GPUS: Final = "tokenfactory-stack-reserved-gpus"
STACK_GPU_BUDGET: Final = budget.STACK_GPU_BUDGET
REPLICA_BOUNDS: Final = "tokenfactory-replica-bounds"
DESCRIPTION_PRESENT: Final = "tokenfactory-description-present"
NAMING_CONVENTION: Final = "tokenfactory-naming-convention"

#: Every GPU type the API publishes (fields.GPU_TYPES, gpu_type's declared choices). A type not
#: listed (a new, pricier generation) needs an explicit opt-in through config.
DEFAULT_GPU_TYPES: Final[tuple[str, ...]] = GPU_TYPES
#: Empty means "any model": which models a team may serve is a product choice,
#: not a spend one, so the pack only restricts them when asked to.
DEFAULT_ALLOWED_MODELS: Final[tuple[str, ...]] = ()
DEFAULT_MAX_REPLICAS_CEILING: Final = 8
DEFAULT_GPU_COUNT_CEILING: Final = 8
DEFAULT_STACK_GPU_CEILING: Final = 16
DEFAULT_TOP_CONTRIBUTORS: Final = 3
#: The least min_replicas the resource declares (the API may refuse 0, shared/api-notes.md): refused at
#: preview rather than at create.
DEFAULT_MIN_REPLICAS_FLOOR: Final = int(field_named("scaling.min_replicas").limits.minimum or 1)
DEFAULT_DESCRIPTION_MIN_LENGTH: Final = 1
#: Starts with a letter or digit, then letters, digits, space, ``._()-``;
#: 3 to NAME_MAX_LENGTH (100) characters in all, the API's own limit.
DEFAULT_NAME_PATTERN: Final = rf"^[A-Za-z0-9][A-Za-z0-9 ._()-]{{2,{NAME_MAX_LENGTH - 1}}}$"

def _label(resource: str) -> str:
    return f"DedicatedEndpoint {resource!r}"


def _scaling(props: Mapping[str, Any]) -> Mapping[str, Any]:
    scaling = props.get("scaling")
    return scaling if isinstance(scaling, Mapping) else {}


# --- resource rules -------------------------------------------------------------

def _not_allowed(props: Props, config: Config, resource: str, field: str, key: str,
                 default: Sequence[str]) -> list[str]:
    """`field` must match one of the patterns of config `key` (an empty list allows any).

    Patterns are shell-style (``*``, ``?``, ``[...]``) and case-sensitive: ``gpu-h*`` allows H100 and H200.
    """
    value = _as_props(props).get(field)
    allowed = config_str_list(config, key, default)
    if (not isinstance(value, str) or is_unknown(value) or not allowed
            or any(fnmatchcase(value, pattern) for pattern in allowed)):
        return []
    return [f"{_label(resource)} uses {field} {value!r}, which is not allowed; "
            f"allowed {field} values: {quoted(allowed)}."]


def _above_ceiling(value: Any, ceiling: int, resource: str, field: str, unit: str) -> list[str]:
    number = as_number(value)
    if number is None or number <= ceiling:
        return []
    return [f"{_label(resource)} sets {field} to {fmt_number(number)}, above the ceiling of {ceiling}; "
            f"allowed: at most {ceiling} {unit}."]


def check_allowed_gpu_types(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """gpu_type must be in ``allowedGpuTypes`` (patterns; an empty list allows any)."""
    return _not_allowed(props, config, resource, "gpu_type", "allowedGpuTypes", DEFAULT_GPU_TYPES)


def check_allowed_models(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """model_name must be in ``allowedModels`` (patterns; the default, empty, allows any)."""
    return _not_allowed(props, config, resource, "model_name", "allowedModels", DEFAULT_ALLOWED_MODELS)


def check_max_replicas_ceiling(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """scaling.max_replicas must not exceed ``ceiling``: it bounds what autoscaling can spend."""
    ceiling = config_int(config, "ceiling", DEFAULT_MAX_REPLICAS_CEILING, minimum=1)
    return _above_ceiling(_scaling(_as_props(props)).get("max_replicas"), ceiling, resource,
                          "scaling.max_replicas", "replicas")


def check_gpu_count_ceiling(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """gpu_count (GPUs per replica) must not exceed ``ceiling``."""
    ceiling = config_int(config, "ceiling", DEFAULT_GPU_COUNT_CEILING, minimum=1)
    return _above_ceiling(_as_props(props).get("gpu_count"), ceiling, resource, "gpu_count", "GPUs per replica")


def check_replica_bounds(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """min_replicas must be >= ``minReplicasFloor`` and <= max_replicas (the provider's own rule, rules.py).

    Caught here, at preview, instead of as an API error half-way through an update.
    """
    floor = config_int(config, "minReplicasFloor", DEFAULT_MIN_REPLICAS_FLOOR, minimum=0)
    scaling = _scaling(_as_props(props))
    min_replicas = as_number(scaling.get("min_replicas"))
    max_replicas = as_number(scaling.get("max_replicas"))
    messages = []
    if min_replicas is not None and min_replicas < floor:
        messages.append(f"{_label(resource)} sets scaling.min_replicas to {fmt_number(min_replicas)}, below "
                        f"the floor of {floor}; allowed: min_replicas >= {floor}.")
    if replica_order(min_replicas, max_replicas) is not None:  # the provider's rule, in the pack's words (docs)
        messages.append(f"{_label(resource)} sets scaling.min_replicas to {fmt_number(min_replicas)}, above "
                        f"scaling.max_replicas ({fmt_number(max_replicas)}); allowed: min_replicas <= "
                        f"max_replicas.")
    return messages


def check_description_present(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """description must be non-blank: it is how a reader of the bill finds the owner."""
    min_length = config_int(config, "minLength", DEFAULT_DESCRIPTION_MIN_LENGTH, minimum=1)
    description = _as_props(props).get("description")
    if is_unknown(description):
        return []
    text = description.strip() if isinstance(description, str) else ""
    if len(text) >= min_length:
        return []
    what = "no description" if not text else f"description {text!r} ({len(text)} characters)"
    characters = "character" if min_length == 1 else "characters"
    return [f"{_label(resource)} has {what}; allowed: a description of at least {min_length} "
            f"non-blank {characters} naming the owning team or purpose."]


def check_naming_convention(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """The endpoint's ``name`` must match ``pattern`` in full (``re.fullmatch``)."""
    pattern = config_pattern(config, "pattern", DEFAULT_NAME_PATTERN)
    name = _as_props(props).get("name")
    if not isinstance(name, str) or is_unknown(name) or pattern.fullmatch(name):
        return []
    return [f"{_label(resource)} has name {name!r}, which does not follow the naming convention; "
            f"allowed: names matching {pattern.pattern!r}."]


# --- stack rule -------------------------------------------------------------------

#: An enabled endpoint the ceiling counts, and what sets its reserved GPUs.
_Counted = tuple[str, spend.MinimumScale]


def _ceiling_count(endpoints: Iterable[tuple[str, Props]]) -> tuple[list[_Counted], list[str], list[str]]:
    """The enabled endpoints with their reserved GPUs, and the names not counted: unknown, not readable.

    The count is :func:`pulumi_tokenfactory.spend.minimum_scale`, the code behind every other
    reserved-GPU figure. Endpoints with ``enabled`` False reserve nothing and are left out; any
    other ``enabled`` (unknown during a preview) counts as enabled, since it may well be. No
    gpu_type or max_replicas is needed to count reserved GPUs.
    """
    counted: list[_Counted] = []
    unknown: list[str] = []
    unreadable: list[str] = []
    for resource, raw in endpoints:
        props = _as_props(raw)
        minimum = spend.minimum_scale(props, assume_enabled_when_unknown=True)
        if minimum is None:
            scaling = props.get("scaling")
            parts = [props.get("gpu_count"), scaling,
                     scaling.get("min_replicas") if isinstance(scaling, Mapping) else None]
            (unknown if any(is_unknown(part) for part in parts) else unreadable).append(resource)
        elif minimum.enabled:
            counted.append((resource, minimum))
    return counted, unknown, unreadable


def check_stack_reserved_gpus(endpoints: Iterable[tuple[str, Props]], config: Config = None) -> list[str]:
    """Sum of min_replicas x gpu_count over enabled endpoints must not exceed ``ceiling``.

    This is the floor of the stack's GPU bill: min replicas stay reserved while
    an endpoint is enabled, whatever the traffic. The always-on guard (a default
    ceiling, no config needed); ``tokenfactory-stack-gpu-budget`` counts the same
    way and adds a configurable cap in GPUs and in money.
    """
    ceiling = config_int(config, "ceiling", DEFAULT_STACK_GPU_CEILING, minimum=0)
    top = config_int(config, "topContributors", DEFAULT_TOP_CONTRIBUTORS, minimum=1)
    counted, unknown, unreadable = _ceiling_count(endpoints)
    total = sum(minimum.reserved_gpus for _, minimum in counted)
    if total <= ceiling:
        return []
    biggest = sorted(counted, key=lambda item: (-item[1].reserved_gpus, item[0]))
    shown = ", ".join(f"{resource!r} ({m.min_replicas} x {m.gpu_count} = {m.reserved_gpus})"
                      for resource, m in biggest[:top])
    more = f", and {len(biggest) - top} more" if len(biggest) > top else ""
    message = (f"The stack reserves {total} GPUs (sum of scaling.min_replicas x gpu_count over "
               f"{len(counted)} enabled DedicatedEndpoint(s)), above the ceiling of {ceiling}; allowed: at "
               f"most {ceiling} reserved GPUs. Biggest contributors: {shown}{more}.")
    if unknown:
        message += f" Not counted, values unknown until deployment: {quoted(sorted(unknown))}."
    if unreadable:
        message += (f" Not counted, scaling.min_replicas or gpu_count not readable: "
                    f"{quoted(sorted(unreadable))}.")
    return [message]


# --- the rule catalogue -------------------------------------------------------------

ResourceCheck = Callable[[Props, Config, str], list[str]]
StackCheck = Callable[[Iterable[tuple[str, Props]], Config], list[str]]
CheckT = TypeVar("CheckT", ResourceCheck, StackCheck)


@dataclass(frozen=True)
class Rule(Generic[CheckT]):
    """A rule and the metadata the policy engine shows for it."""

    name: str
    display_name: str
    description: str
    enforcement: Enforcement
    config_schema: Mapping[str, Mapping[str, Any]]
    check: CheckT
    remediation: str


#: A per-endpoint rule, and a rule over all endpoints of a stack.
ResourceRule = Rule[ResourceCheck]
StackRule = Rule[StackCheck]


def _ceiling_schema(default: int, minimum: int, what: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "default": default, "description": what}


RESOURCE_RULES: Final[tuple[ResourceRule, ...]] = (
    ResourceRule(
        name=ALLOWED_GPU_TYPES,
        display_name="Allowed GPU types",
        description="Dedicated endpoints may only use approved GPU types.",
        enforcement="mandatory",
        config_schema={"allowedGpuTypes": {
            "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_GPU_TYPES),
            "description": "Allowed gpu_type values; shell-style patterns such as 'gpu-h*' are accepted. "
                           "An empty list allows any GPU type."}},
        check=check_allowed_gpu_types,
        remediation="Pick a gpu_type from the allowed list, or have the platform team add it "
                    "to allowedGpuTypes.",
    ),
    ResourceRule(
        name=ALLOWED_MODELS,
        display_name="Allowed models",
        description="Dedicated endpoints may only serve approved models.",
        enforcement="mandatory",
        config_schema={"allowedModels": {
            "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_ALLOWED_MODELS),
            "description": "Allowed model_name values; shell-style patterns such as 'meta-llama/*' are "
                           "accepted. An empty list (the default) allows any model."}},
        check=check_allowed_models,
        remediation="Pick a model_name from the allowed list, or have the platform team add it "
                    "to allowedModels.",
    ),
    ResourceRule(
        name=MAX_REPLICAS_CEILING,
        display_name="Max replicas ceiling",
        description="scaling.max_replicas of a dedicated endpoint must not exceed a ceiling.",
        enforcement="mandatory",
        config_schema={"ceiling": _ceiling_schema(
            DEFAULT_MAX_REPLICAS_CEILING, 1, "Highest allowed scaling.max_replicas.")},
        check=check_max_replicas_ceiling,
        remediation="Lower scaling.max_replicas, or raise the ceiling in the policy config.",
    ),
    ResourceRule(
        name=GPU_COUNT_CEILING,
        display_name="GPU count ceiling",
        description="gpu_count (GPUs per replica) of a dedicated endpoint must not exceed a ceiling.",
        enforcement="mandatory",
        config_schema={"ceiling": _ceiling_schema(
            DEFAULT_GPU_COUNT_CEILING, 1, "Highest allowed gpu_count per replica.")},
        check=check_gpu_count_ceiling,
        remediation="Use a flavor with fewer GPUs per replica, or raise the ceiling in the policy config.",
    ),
    ResourceRule(
        name=REPLICA_BOUNDS,
        display_name="Replica bounds",
        description="scaling.min_replicas of a dedicated endpoint must be at least the floor and at most "
                    "scaling.max_replicas.",
        enforcement="mandatory",
        config_schema={"minReplicasFloor": _ceiling_schema(
            DEFAULT_MIN_REPLICAS_FLOOR, 0, "Lowest allowed scaling.min_replicas.")},
        check=check_replica_bounds,
        remediation="Set 1 <= scaling.min_replicas <= scaling.max_replicas.",
    ),
    ResourceRule(
        name=DESCRIPTION_PRESENT,
        display_name="Description present",
        description="Dedicated endpoints should have a description naming their owner.",
        enforcement="advisory",
        config_schema={"minLength": _ceiling_schema(
            DEFAULT_DESCRIPTION_MIN_LENGTH, 1, "Fewest non-blank characters a description must have.")},
        check=check_description_present,
        remediation="Set description, e.g. 'team-search: query rewriting, owner @alice'.",
    ),
    ResourceRule(
        name=NAMING_CONVENTION,
        display_name="Naming convention",
        description="Dedicated endpoint names should follow the naming convention.",
        enforcement="advisory",
        config_schema={"pattern": {
            "type": "string", "format": "regex", "default": DEFAULT_NAME_PATTERN,
            "description": "Regular expression (Python syntax) the whole endpoint name must match."}},
        check=check_naming_convention,
        remediation="Rename the endpoint (the name property) to match the pattern.",
    ),
)

STACK_RULES: Final[tuple[StackRule, ...]] = (
    StackRule(
        name=STACK_RESERVED_GPUS,
        display_name="Stack reserved GPUs",
        description="GPUs a stack keeps reserved (min_replicas x gpu_count over enabled dedicated "
                    "endpoints) must not exceed a ceiling.",
        enforcement="mandatory",
        config_schema={
            "ceiling": _ceiling_schema(DEFAULT_STACK_GPU_CEILING, 0,
                                       "Most GPUs the stack's enabled endpoints may keep reserved."),
            "topContributors": _ceiling_schema(DEFAULT_TOP_CONTRIBUTORS, 1,
                                               "How many of the biggest endpoints the message lists."),
        },
        check=check_stack_reserved_gpus,
        remediation="Lower min_replicas or gpu_count, disable (enabled: false) unused endpoints, or raise "
                    "the ceiling in the policy config.",
    ),
    StackRule(
        name=STACK_GPU_BUDGET,
        display_name="Stack GPU budget",
        description="The stack's reserved GPUs (min_replicas x gpu_count of enabled dedicated endpoints) and "
                    "their hourly cost must stay within the configured maxReservedGpus and maxHourlyCost.",
        enforcement="mandatory",
        config_schema=budget.CONFIG_SCHEMA,
        check=budget.check_stack_gpu_budget,
        remediation="Lower min_replicas or gpu_count, stop (enabled: false) unused endpoints, pick a cheaper "
                    "gpu_type, or raise maxReservedGpus / maxHourlyCost in the policy config.",
    ),
)

POLICY_NAMES: Final[tuple[str, ...]] = (
    *(r.name for r in RESOURCE_RULES),
    *(r.name for r in STACK_RULES),
)
