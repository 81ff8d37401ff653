"""GPU-spend rules for Token Factory dedicated endpoints, as pure functions.

Every rule is a plain function: endpoint properties (a dict, or one of the
pydantic models in :mod:`pulumi_tokenfactory.api.models`) and the rule's config
in, a list of violation messages out. Nothing here imports ``pulumi_policy``
or gRPC, for two reasons:

* the rules can be unit-tested, and reused (by a CI script, by the provider),
  without a policy engine;
* the thin adapters in :mod:`pulumi_tokenfactory.policy.pack` are the only
  place that knows how the engine hands values over (proxies, unknowns).

What the engine hands over shapes the helpers in :mod:`.values`:

* numbers always arrive as floats (protobuf ``Struct``), so ``gpu_count`` is
  ``1.0``: comparisons go through :func:`as_number` and messages through
  :func:`fmt_number`, which prints ``1``, never ``1.0``;
* during ``pulumi preview`` a value may not be known yet. It arrives as one of
  the engine's sentinel strings (or the adapters' :data:`UNKNOWN` marker), and
  a rule then stays silent about it: a rule must never fail, or guess, on a
  value that only the deployment will decide;
* config reaches a rule exactly as ``--policy-pack-config`` gave it, numbers
  as floats and keys possibly absent, so every key has a default here and
  :class:`PolicyConfigError` names a key whose value is unusable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Final

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


def _choices(values: Sequence[str]) -> str:
    return ", ".join(repr(v) for v in values)


def _scaling(props: Mapping[str, Any]) -> Mapping[str, Any]:
    scaling = props.get("scaling")
    return scaling if isinstance(scaling, Mapping) else {}


def matches_any(value: str, patterns: Sequence[str]) -> bool:
    """Shell-style match (``*``, ``?``, ``[...]``), case-sensitive: ``gpu-h*`` allows H100 and H200."""
    return any(fnmatchcase(value, pattern) for pattern in patterns)


# --- resource rules -------------------------------------------------------------

def check_allowed_gpu_types(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """gpu_type must be in ``allowedGpuTypes`` (patterns; an empty list allows any)."""
    gpu_type = _as_props(props).get("gpu_type")
    allowed = config_str_list(config, "allowedGpuTypes", DEFAULT_GPU_TYPES)
    if not isinstance(gpu_type, str) or is_unknown(gpu_type) or not allowed:
        return []
    if matches_any(gpu_type, allowed):
        return []
    return [f"{_label(resource)} uses gpu_type {gpu_type!r}, which is not allowed; "
            f"allowed gpu_type values: {_choices(allowed)}."]


def check_allowed_models(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """model_name must be in ``allowedModels`` (patterns; the default, empty, allows any)."""
    model = _as_props(props).get("model_name")
    allowed = config_str_list(config, "allowedModels", DEFAULT_ALLOWED_MODELS)
    if not isinstance(model, str) or is_unknown(model) or not allowed:
        return []
    if matches_any(model, allowed):
        return []
    return [f"{_label(resource)} uses model_name {model!r}, which is not allowed; "
            f"allowed model_name values: {_choices(allowed)}."]


def check_max_replicas_ceiling(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """scaling.max_replicas must not exceed ``ceiling``: it bounds what autoscaling can spend."""
    ceiling = config_int(config, "ceiling", DEFAULT_MAX_REPLICAS_CEILING, minimum=1)
    max_replicas = as_number(_scaling(_as_props(props)).get("max_replicas"))
    if max_replicas is None or max_replicas <= ceiling:
        return []
    return [f"{_label(resource)} sets scaling.max_replicas to {fmt_number(max_replicas)}, above the "
            f"ceiling of {ceiling}; allowed: at most {ceiling} replicas."]


def check_gpu_count_ceiling(props: Props, config: Config = None, resource: str = "endpoint") -> list[str]:
    """gpu_count (GPUs per replica) must not exceed ``ceiling``."""
    ceiling = config_int(config, "ceiling", DEFAULT_GPU_COUNT_CEILING, minimum=1)
    gpu_count = as_number(_as_props(props).get("gpu_count"))
    if gpu_count is None or gpu_count <= ceiling:
        return []
    return [f"{_label(resource)} sets gpu_count to {fmt_number(gpu_count)}, above the ceiling of "
            f"{ceiling}; allowed: at most {ceiling} GPUs per replica."]


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
    if not isinstance(name, str) or is_unknown(name):
        return []
    if pattern.fullmatch(name):
        return []
    return [f"{_label(resource)} has name {name!r}, which does not follow the naming convention; "
            f"allowed: names matching {pattern.pattern!r}."]


# --- stack rule -------------------------------------------------------------------

@dataclass(frozen=True)
class _Counted:
    """An enabled endpoint the ceiling counts, with what sets its reserved GPUs."""

    resource: str
    minimum: spend.MinimumScale

    def describe(self) -> str:
        m = self.minimum
        return f"{self.resource!r} ({m.min_replicas} x {m.gpu_count} = {m.reserved_gpus})"


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
            counted.append(_Counted(resource, minimum))
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
    total = sum(c.minimum.reserved_gpus for c in counted)
    if total <= ceiling:
        return []
    biggest = sorted(counted, key=lambda c: (-c.minimum.reserved_gpus, c.resource))
    shown = ", ".join(c.describe() for c in biggest[:top])
    more = f", and {len(biggest) - top} more" if len(biggest) > top else ""
    message = (f"The stack reserves {total} GPUs (sum of scaling.min_replicas x gpu_count over "
               f"{len(counted)} enabled DedicatedEndpoint(s)), above the ceiling of {ceiling}; allowed: at "
               f"most {ceiling} reserved GPUs. Biggest contributors: {shown}{more}.")
    if unknown:
        message += f" Not counted, values unknown until deployment: {_choices(sorted(unknown))}."
    if unreadable:
        message += (f" Not counted, scaling.min_replicas or gpu_count not readable: "
                    f"{_choices(sorted(unreadable))}.")
    return [message]


# --- the rule catalogue -------------------------------------------------------------

ResourceCheck = Callable[[Props, Config, str], list[str]]
StackCheck = Callable[[Iterable[tuple[str, Props]], Config], list[str]]


@dataclass(frozen=True)
class ResourceRule:
    """A per-endpoint rule and the metadata the policy engine shows for it."""

    name: str
    display_name: str
    description: str
    enforcement: Enforcement
    config_schema: Mapping[str, Mapping[str, Any]]
    check: ResourceCheck
    remediation: str


@dataclass(frozen=True)
class StackRule:
    """A rule over all endpoints of a stack."""

    name: str
    display_name: str
    description: str
    enforcement: Enforcement
    config_schema: Mapping[str, Mapping[str, Any]]
    check: StackCheck
    remediation: str


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
