"""The public Pulumi surface: `DedicatedEndpoint`, its argument types and its output type.

Shaped like a generated Pulumi Python SDK, because that is what users (and
their IDEs and type checkers) know:

* `ScalingArgs` and `DedicatedEndpointArgs` are `@pulumi.input_type` classes
  (keyword-only `__init__`, `pulumi.getter` properties with setters). The SDK
  serializes such an object wherever it sits: given directly, inside an
  `Output` (`size.apply(lambda n: ScalingArgs(...))`) or holding `Output`s. A
  plain dataclass is serialized only where we convert it ourselves, which is
  why `Output[ScalingArgs]` used to fail with "unexpected input of type".
* `ScalingArgsDict` and `DedicatedEndpointArgsDict` are their `TypedDict`
  twins, so a dict literal is type-checked key by key.
* Outputs are `pulumi.getter` properties; `scaling` resolves to a
  `ScalingOutput` (attribute access, and still a dict).
* The constructor is written by hand with both overloads, so an IDE lists
  every input, and it carries a real docstring and `__signature__`, so
  `help(DedicatedEndpoint)` shows our inputs and outputs instead of the
  dynamic resource's `props` and `__provider`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any, TypedDict, overload

import pulumi
import pulumi.dynamic
import pulumi.runtime

from ..fields import MAX_READY_TIMEOUT_SECONDS
from ..provider import DedicatedEndpointProvider
from ..schema import (
    DEFAULT_READY_TIMEOUT_SECONDS,
    INPUT_FIELDS,
    OUTPUT_FIELDS,
    RESOURCE_MODULE,
    RESOURCE_NAME,
    RESOURCE_TYPE,
    URN_FIELD,
)
from ..schema import REGION_CONFIG as REGION_CONFIG  # re-exported: the reference's tests read it here
from ..settings import REGION, Settings
from . import spending

__all__ = [
    "DedicatedEndpoint",
    "DedicatedEndpointArgs",
    "DedicatedEndpointArgsDict",
    "ScalingArgs",
    "ScalingArgsDict",
    "ScalingOutput",
]


# -- scaling --------------------------------------------------------------------------------------------


class ScalingArgsDict(TypedDict):
    """`ScalingArgs` as a dict: `{"min_replicas": 1, "max_replicas": 2}`. Both keys are required."""

    min_replicas: pulumi.Input[int]
    """Replicas kept running (and billed) at all times while the endpoint is enabled (>= 1). Changes in place."""
    max_replicas: pulumi.Input[int]
    """Upper bound for autoscaling (>= min_replicas). Changes in place."""


@pulumi.input_type
class ScalingArgs:
    """Replica bounds. `min_replicas` stay reserved (and billed) while the endpoint is enabled."""

    def __init__(__self__, *, min_replicas: pulumi.Input[int], max_replicas: pulumi.Input[int]) -> None:
        """
        :param min_replicas: Replicas kept running at all times (>= 1). Changes in place.
        :param max_replicas: Upper bound for autoscaling (>= min_replicas). Changes in place.
        """
        pulumi.set(__self__, "min_replicas", min_replicas)
        pulumi.set(__self__, "max_replicas", max_replicas)

    @property
    @pulumi.getter
    def min_replicas(self) -> pulumi.Input[int]:
        """Replicas kept running at all times (>= 1). Changes in place."""
        return pulumi.get(self, "min_replicas")

    @min_replicas.setter
    def min_replicas(self, value: pulumi.Input[int]) -> None:
        pulumi.set(self, "min_replicas", value)

    @property
    @pulumi.getter
    def max_replicas(self) -> pulumi.Input[int]:
        """Upper bound for autoscaling (>= min_replicas). Changes in place."""
        return pulumi.get(self, "max_replicas")

    @max_replicas.setter
    def max_replicas(self, value: pulumi.Input[int]) -> None:
        pulumi.set(self, "max_replicas", value)

    def __repr__(self) -> str:
        return f"ScalingArgs(min_replicas={self.min_replicas!r}, max_replicas={self.max_replicas!r})"


@pulumi.output_type
class ScalingOutput(dict[str, int]):
    """The `scaling` output: the replica bounds as the API reports them.

    Read it as attributes (`scaling.max_replicas`) or, as before this type existed,
    as a dict (`scaling["max_replicas"]`): like a generated SDK's output types it
    subclasses dict, and it compares equal to a dict with the same two items.
    """

    def __init__(__self__, *, min_replicas: int, max_replicas: int) -> None:
        pulumi.set(__self__, "min_replicas", min_replicas)
        pulumi.set(__self__, "max_replicas", max_replicas)

    @property
    @pulumi.getter
    def min_replicas(self) -> int:
        """Replicas kept running at all times."""
        return pulumi.get(self, "min_replicas")

    @property
    @pulumi.getter
    def max_replicas(self) -> int:
        """Upper bound for autoscaling."""
        return pulumi.get(self, "max_replicas")

    def __eq__(self, other: object) -> bool:
        # @pulumi.output_type's own __eq__ refuses every other type, so `scaling == {"min_replicas": 1, ...}`,
        # true while `scaling` was a plain dict, would silently turn false.
        return isinstance(other, Mapping) and dict(self) == dict(other)

    __hash__ = None  # mutable, like dict

    def __repr__(self) -> str:
        return f"ScalingOutput(min_replicas={self.min_replicas!r}, max_replicas={self.max_replicas!r})"


# -- the endpoint's arguments ---------------------------------------------------------------------------


class _DedicatedEndpointRequiredArgsDict(TypedDict):
    name: pulumi.Input[str]
    """Display name (1-100 characters). Changes in place."""
    model_name: pulumi.Input[str]
    """Model template, e.g. `openai/gpt-oss-120b` (see `get_templates()`). Changing it replaces the endpoint."""
    flavor_name: pulumi.Input[str]
    """Template flavor, e.g. `base` or `fast`. Changing it replaces the endpoint."""
    gpu_type: pulumi.Input[str]
    """GPU type the flavor supports, e.g. `gpu-h100-sxm`. Changes in place (the replicas restart on the new GPUs;
    for a new endpoint instead, use `replace_on_changes=["gpu_type"]`)."""
    gpu_count: pulumi.Input[int]
    """GPUs per replica, one of the flavor's allowed counts. Changes in place (the replicas restart)."""
    scaling: pulumi.Input[ScalingArgs | ScalingArgsDict]
    """Replica bounds. Changes in place."""


class DedicatedEndpointArgsDict(_DedicatedEndpointRequiredArgsDict, total=False):
    """`DedicatedEndpointArgs` as a dict; the six inputs of `_DedicatedEndpointRequiredArgsDict` are required.

    Unpack it into the constructor, `DedicatedEndpoint("gpt", **spec)`, or pass it as `args`.
    """

    description: pulumi.Input[str]
    """Free text (at most 500 characters), e.g. the owning team. Changes in place."""
    region: pulumi.Input[str]
    """`eu-north1`, `us-central1`, `eu-west1`, `me-west1`, `uk-south1`, `tf-us1`, `tf-us2` or `tf-ca1`; default:
    config `tokenfactory:region`, else `eu-north1`. Changing it replaces the endpoint."""
    enabled: pulumi.Input[bool]
    """False stops the endpoint without deleting it (not billed while stopped). Default true. Changes in place."""
    routing_key: pulumi.Input[str]
    """The `model` of inference calls: `dedicated/...`, 11-128 printable characters. Changes in place. Left
    out, the provider chooses `dedicated/<model_name>-<suffix>` at create and keeps it."""
    custom_weights_id: pulumi.Input[str]
    """Fine-tuned weights held by Token Factory (`model-artifact_...`). Changes in place (the replicas
    restart); removing it serves the template's own weights again."""
    wait_for_ready: pulumi.Input[bool]
    """Provider option: wait until the endpoint is ready (readiness `ready`, or stopped) before finishing.
    Default true."""
    ready_timeout: pulumi.Input[float]
    """Provider option: seconds to wait for readiness (default 1800). A create that times out is rolled back."""
    wait_for_inference: pulumi.Input[bool]
    """Provider option: also wait until the routing key answers inference (not 404). Default false."""
    adopt_id: pulumi.Input[str]
    """Provider option: the id of an existing endpoint to take over instead of creating one (no POST)."""


@pulumi.input_type
class DedicatedEndpointArgs:
    """The inputs of a `DedicatedEndpoint`, as one object. See `sdk-docs/dedicated-endpoint.md` for each one."""

    def __init__(__self__, *, name: pulumi.Input[str], model_name: pulumi.Input[str],
                 flavor_name: pulumi.Input[str], gpu_type: pulumi.Input[str], gpu_count: pulumi.Input[int],
                 scaling: pulumi.Input[ScalingArgs | ScalingArgsDict],
                 description: pulumi.Input[str] | None = None, region: pulumi.Input[str] | None = None,
                 enabled: pulumi.Input[bool] | None = None, routing_key: pulumi.Input[str] | None = None,
                 custom_weights_id: pulumi.Input[str] | None = None, wait_for_ready: pulumi.Input[bool] | None = None,
                 ready_timeout: pulumi.Input[float] | None = None, wait_for_inference: pulumi.Input[bool] | None = None,
                 adopt_id: pulumi.Input[str] | None = None) -> None:
        """
        :param name: Display name (1-100 characters). Changes in place.
        :param model_name: Model template, e.g. `openai/gpt-oss-120b`. Changing it replaces the endpoint.
        :param flavor_name: Template flavor, e.g. `base` or `fast`. Changing it replaces the endpoint.
        :param gpu_type: GPU type the flavor offers, e.g. `gpu-h100-sxm`. Changes in place: the replicas restart
               on the new GPUs (for a new endpoint instead, use `replace_on_changes=["gpu_type"]`).
        :param gpu_count: GPUs per replica, one of the flavor's counts. Changes in place: the replicas restart.
        :param scaling: Replica bounds, `ScalingArgs` or a `ScalingArgsDict`. Changes in place.
        :param description: Free text (at most 500 characters), e.g. the owning team. Changes in place.
        :param region: `eu-north1`, `us-central1`, `eu-west1`, `me-west1`, `uk-south1`, `tf-us1`, `tf-us2` or `tf-ca1`;
               default: config `tokenfactory:region`, else `eu-north1`. Changing it replaces the endpoint.
        :param enabled: False stops the endpoint without deleting it. Default true. Changes in place.
        :param routing_key: The `model` of inference calls: `dedicated/...`, 11-128 printable characters.
               Changes in place. Left out, the provider chooses `dedicated/<model_name>-<suffix>` (derived from
               the resource's URN) when the endpoint is created, and keeps it.
        :param custom_weights_id: Fine-tuned weights held by Token Factory (`model-artifact_...`; a beta enabled
               on request). Changes in place (the replicas restart); removing it serves the template's weights.
        :param wait_for_ready: Provider option: wait until ready (readiness `ready`, or stopped) before
               finishing. Default true.
        :param ready_timeout: Provider option: seconds to wait for readiness, default 1800.
        :param wait_for_inference: Provider option: after running, also wait until one tiny chat completion on
               the routing key stops answering 404 (create, enable, min_replicas rise, new GPUs or weights).
               Default false; needs wait_for_ready. Each try is one billed 1-token completion.
        :param adopt_id: Provider option: the id of an existing endpoint (made in the console, or left by an
               interrupted `pulumi up`) that the create takes over instead of buying a new one; see
               sdk-docs/dedicated-endpoint.md#adopt-an-existing-endpoint.
        """
        pulumi.set(__self__, "name", name)
        pulumi.set(__self__, "model_name", model_name)
        pulumi.set(__self__, "flavor_name", flavor_name)
        pulumi.set(__self__, "gpu_type", gpu_type)
        pulumi.set(__self__, "gpu_count", gpu_count)
        pulumi.set(__self__, "scaling", scaling)
        pulumi.set(__self__, "description", description)
        pulumi.set(__self__, "region", region)
        pulumi.set(__self__, "enabled", enabled)
        pulumi.set(__self__, "routing_key", routing_key)
        pulumi.set(__self__, "custom_weights_id", custom_weights_id)
        pulumi.set(__self__, "wait_for_ready", wait_for_ready)
        pulumi.set(__self__, "ready_timeout", ready_timeout)
        pulumi.set(__self__, "wait_for_inference", wait_for_inference)
        pulumi.set(__self__, "adopt_id", adopt_id)

    @property
    @pulumi.getter
    def name(self) -> pulumi.Input[str]:
        """Display name (1-100 characters). Changes in place."""
        return pulumi.get(self, "name")

    @name.setter
    def name(self, value: pulumi.Input[str]) -> None:
        pulumi.set(self, "name", value)

    @property
    @pulumi.getter
    def model_name(self) -> pulumi.Input[str]:
        """Model template, e.g. `openai/gpt-oss-120b` (see `get_templates()`). Changing it replaces the endpoint."""
        return pulumi.get(self, "model_name")

    @model_name.setter
    def model_name(self, value: pulumi.Input[str]) -> None:
        pulumi.set(self, "model_name", value)

    @property
    @pulumi.getter
    def flavor_name(self) -> pulumi.Input[str]:
        """Template flavor, e.g. `base` or `fast`. Changing it replaces the endpoint."""
        return pulumi.get(self, "flavor_name")

    @flavor_name.setter
    def flavor_name(self, value: pulumi.Input[str]) -> None:
        pulumi.set(self, "flavor_name", value)

    @property
    @pulumi.getter
    def gpu_type(self) -> pulumi.Input[str]:
        """GPU type the flavor supports, e.g. `gpu-h100-sxm`. Changes in place (the replicas restart)."""
        return pulumi.get(self, "gpu_type")

    @gpu_type.setter
    def gpu_type(self, value: pulumi.Input[str]) -> None:
        pulumi.set(self, "gpu_type", value)

    @property
    @pulumi.getter
    def gpu_count(self) -> pulumi.Input[int]:
        """GPUs per replica, one of the flavor's allowed counts. Changes in place (the replicas restart)."""
        return pulumi.get(self, "gpu_count")

    @gpu_count.setter
    def gpu_count(self, value: pulumi.Input[int]) -> None:
        pulumi.set(self, "gpu_count", value)

    @property
    @pulumi.getter
    def scaling(self) -> pulumi.Input[ScalingArgs | ScalingArgsDict]:
        """Replica bounds. Changes in place."""
        return pulumi.get(self, "scaling")

    @scaling.setter
    def scaling(self, value: pulumi.Input[ScalingArgs | ScalingArgsDict]) -> None:
        pulumi.set(self, "scaling", value)

    @property
    @pulumi.getter
    def description(self) -> pulumi.Input[str] | None:
        """Free text (at most 500 characters), e.g. the owning team. Changes in place."""
        return pulumi.get(self, "description")

    @description.setter
    def description(self, value: pulumi.Input[str] | None) -> None:
        pulumi.set(self, "description", value)

    @property
    @pulumi.getter
    def region(self) -> pulumi.Input[str] | None:
        """A Token Factory region (eu-north1, us-central1, eu-west1, me-west1, uk-south1, tf-us1, tf-us2 or
        tf-ca1); default: config `tokenfactory:region`, else `eu-north1`. Changing it replaces the endpoint."""
        return pulumi.get(self, "region")

    @region.setter
    def region(self, value: pulumi.Input[str] | None) -> None:
        pulumi.set(self, "region", value)

    @property
    @pulumi.getter
    def enabled(self) -> pulumi.Input[bool] | None:
        """False stops the endpoint without deleting it (not billed while stopped). Default true. Changes in place."""
        return pulumi.get(self, "enabled")

    @enabled.setter
    def enabled(self, value: pulumi.Input[bool] | None) -> None:
        pulumi.set(self, "enabled", value)

    @property
    @pulumi.getter
    def routing_key(self) -> pulumi.Input[str] | None:
        """The `model` of inference calls (`dedicated/...`). Changes in place; left out, the provider chooses one."""
        return pulumi.get(self, "routing_key")

    @routing_key.setter
    def routing_key(self, value: pulumi.Input[str] | None) -> None:
        pulumi.set(self, "routing_key", value)

    @property
    @pulumi.getter
    def custom_weights_id(self) -> pulumi.Input[str] | None:
        """Fine-tuned weights held by Token Factory. Changes in place; removing it serves the template's weights."""
        return pulumi.get(self, "custom_weights_id")

    @custom_weights_id.setter
    def custom_weights_id(self, value: pulumi.Input[str] | None) -> None:
        pulumi.set(self, "custom_weights_id", value)

    @property
    @pulumi.getter
    def wait_for_ready(self) -> pulumi.Input[bool] | None:
        """Provider option: wait until the endpoint is ready (or stopped) before finishing. Default true."""
        return pulumi.get(self, "wait_for_ready")

    @wait_for_ready.setter
    def wait_for_ready(self, value: pulumi.Input[bool] | None) -> None:
        pulumi.set(self, "wait_for_ready", value)

    @property
    @pulumi.getter
    def ready_timeout(self) -> pulumi.Input[float] | None:
        """Provider option: seconds to wait for readiness (default 1800). A create that times out is rolled back."""
        return pulumi.get(self, "ready_timeout")

    @ready_timeout.setter
    def ready_timeout(self, value: pulumi.Input[float] | None) -> None:
        pulumi.set(self, "ready_timeout", value)

    @property
    @pulumi.getter
    def wait_for_inference(self) -> pulumi.Input[bool] | None:
        """Provider option: also wait until the routing key answers inference (not 404). Default false."""
        return pulumi.get(self, "wait_for_inference")

    @wait_for_inference.setter
    def wait_for_inference(self, value: pulumi.Input[bool] | None) -> None:
        pulumi.set(self, "wait_for_inference", value)

    @property
    @pulumi.getter
    def adopt_id(self) -> pulumi.Input[str] | None:
        """Provider option: the id of an existing endpoint to take over instead of creating one (no POST)."""
        return pulumi.get(self, "adopt_id")

    @adopt_id.setter
    def adopt_id(self, value: pulumi.Input[str] | None) -> None:
        pulumi.set(self, "adopt_id", value)

    def __repr__(self) -> str:
        given = ", ".join(f"{field}={getattr(self, field)!r}" for field in INPUT_FIELDS
                          if getattr(self, field) is not None)
        return f"DedicatedEndpointArgs({given})"


#: The inputs as `DedicatedEndpointArgs.__init__` declares them: one source for the constructor's checks,
#: its `__signature__` and the docs tests.
_ARG_PARAMETERS: tuple[inspect.Parameter, ...] = tuple(
    p for p in inspect.signature(DedicatedEndpointArgs.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY)
_REQUIRED_INPUTS: tuple[str, ...] = tuple(p.name for p in _ARG_PARAMETERS if p.default is p.empty)
_ALL_INPUTS: tuple[str, ...] = tuple(p.name for p in _ARG_PARAMETERS)


class _Shown(str):
    """An annotation as written in the source, shown without quotes (`name: pulumi.Input[str]`) by `help()`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _default_region() -> str:
    """`tokenfactory:region`, else eu-north1; a region that does not exist fails here, naming the setting."""
    return Settings.of_program().get(REGION)


def _checked_inputs(resource_name: str, given: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Every input, None where not given; unknown or missing names fail now, naming them, not in the engine."""
    unknown = sorted(set(given) - set(_ALL_INPUTS))
    if unknown:
        raise TypeError(f"DedicatedEndpoint {resource_name!r} got unknown {source} {', '.join(unknown)}; "
                        f"allowed: {', '.join(_ALL_INPUTS)}")
    missing = [name for name in _REQUIRED_INPUTS if name not in given]
    if missing:
        raise TypeError(f"DedicatedEndpoint {resource_name!r} is missing required {source} {', '.join(missing)}")
    return {name: given.get(name) for name in _ALL_INPUTS}


def _split_arguments(resource_name: str, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> tuple[dict[str, Any], pulumi.ResourceOptions | None]:
    """Both overloads, as generated SDKs accept them: `(name, args[, opts])` or `(name[, opts], **inputs)`."""
    positional = list(args)
    resource_args = kwargs.pop("args", None)
    opts = kwargs.pop("opts", None)
    if positional and (positional[0] is None or isinstance(positional[0], DedicatedEndpointArgs | Mapping)):
        if resource_args is not None:
            raise TypeError("DedicatedEndpoint got `args` both by position and by keyword")
        resource_args = positional.pop(0)
    if positional and (positional[0] is None or isinstance(positional[0], pulumi.ResourceOptions)):
        if opts is not None:
            raise TypeError("DedicatedEndpoint got `opts` both by position and by keyword")
        opts = positional.pop(0)
    if positional:
        raise TypeError(f"DedicatedEndpoint({resource_name!r}, ...) takes a DedicatedEndpointArgs and a "
                        f"pulumi.ResourceOptions by position, got {type(positional[0]).__name__}; "
                        "give the inputs as keyword arguments")
    if opts is not None and not isinstance(opts, pulumi.ResourceOptions):
        raise TypeError(f"opts must be a pulumi.ResourceOptions, got {type(opts).__name__}")
    if resource_args is not None and kwargs:
        raise TypeError("pass either a DedicatedEndpointArgs or keyword arguments, not both")
    if isinstance(resource_args, DedicatedEndpointArgs):
        return {name: getattr(resource_args, name) for name in _ALL_INPUTS}, opts
    if isinstance(resource_args, Mapping):
        return _checked_inputs(resource_name, resource_args, "key(s) in args"), opts
    if resource_args is not None:
        raise TypeError(f"args must be a DedicatedEndpointArgs or a DedicatedEndpointArgsDict, "
                        f"got {type(resource_args).__name__}")
    return _checked_inputs(resource_name, kwargs, "argument(s)"), opts


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|m|s|ms)")


def _duration_seconds(text: str | None) -> float | None:
    """A Go duration as Pulumi's `CustomTimeouts` spell them (`30m`, `1h30m`, `90s`) in seconds; None if not one."""
    if not text or not text.strip():
        return None
    text = text.strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(number) * scale[unit] for number, unit in parts)


def _refuse_custom_timeouts(resource_name: str, opts: pulumi.ResourceOptions | None) -> None:
    """`custom_timeouts` never reach a dynamic provider (`pulumi.dynamic`'s host reads no timeout from the
    engine's requests): refuse them rather than let a program believe they bound a 10-15 minute create."""
    timeouts = opts.custom_timeouts if opts is not None else None
    if timeouts is None:
        return
    given = {name: getattr(timeouts, name, None) for name in ("create", "update", "delete", "read")}
    given = {name: value for name, value in given.items() if value}
    if not given:
        return
    seconds = [s for s in (_duration_seconds(given.get(n)) for n in ("create", "update", "delete")) if s]
    longest = min(MAX_READY_TIMEOUT_SECONDS, max(1, round(max(seconds)))) if seconds else None
    suggestion = f"ready_timeout={longest}" if longest is not None else "ready_timeout=<seconds>"
    spelled = ", ".join(f"{name}={value!r}" for name, value in given.items())
    raise ValueError(
        f"DedicatedEndpoint {resource_name!r}: ResourceOptions(custom_timeouts=CustomTimeouts({spelled})) would be "
        f"silently ignored: Pulumi's dynamic-provider host, which runs this resource, drops custom_timeouts. Use "
        f"{suggestion} instead (and drop custom_timeouts): the seconds create, update and delete wait for the "
        f"endpoint, default {DEFAULT_READY_TIMEOUT_SECONDS}")


class DedicatedEndpoint(pulumi.dynamic.Resource, module=RESOURCE_MODULE, name=RESOURCE_NAME):
    """A Nebius Token Factory dedicated endpoint: an isolated, autoscaled GPU deployment of one model.

    Its Pulumi `id` is the endpoint id. Use `routing_key` as the `model` of
    OpenAI-compatible `/v1/chat/completions` calls at `inference_base_url`.

    Two ways to call it (`opts`, a `pulumi.ResourceOptions`, comes after the name, or after `args`)::

        DedicatedEndpoint(resource_name, opts=None, *, name, model_name, flavor_name, gpu_type,
                          gpu_count, scaling, description=None, region=None, enabled=None,
                          routing_key=None, custom_weights_id=None, wait_for_ready=None,
                          ready_timeout=None, wait_for_inference=None, adopt_id=None)
        DedicatedEndpoint(resource_name, args: DedicatedEndpointArgs, opts=None)
        DedicatedEndpoint.get(resource_name, id, opts=None)   # a read-only reference to an existing one

    Inputs (every one accepts a plain value or a `pulumi.Output`; "in place" is one PATCH of the
    same endpoint, "replace" a new endpoint and a new routing key; "waits" marks an in-place change
    that starts, stops or restarts replicas, after which an update waits for readiness again)::

        name            str, required                 in place   display name, 1 to 100 characters
        model_name      str, required                 replace    model template, e.g. openai/gpt-oss-120b
        flavor_name     str, required                 replace    template flavor, e.g. base or fast
        gpu_type        str, required                 in place   a published GPU type the flavor offers,
                                                      waits      e.g. gpu-h100-sxm
        gpu_count       int, required                 in place   GPUs per replica, one the flavor offers,
                                                      waits      1 to 64
        scaling         ScalingArgs | ScalingArgsDict in place   min_replicas (billed while enabled) and
                        required                      waits      max_replicas, 1 to 1000
        description     str, default ""               in place   free text, at most 500 characters
        region          str, default tokenfactory:region, else eu-north1; replace (one of eight regions)
        enabled         bool, default True            in place   False stops the endpoint (not billed);
                                                      waits      not sent on create: stopped after it
        routing_key     str, default None             in place   the model of inference calls, dedicated/...;
                                                                 left out, the provider chooses one and keeps it
        custom_weights_id                             in place   fine-tuned weights (model-artifact_...);
                        str, default None             waits      removing it serves the template's weights
        wait_for_ready  bool, default True            in place   provider option: wait until ready
        ready_timeout   float, default 1800           in place   provider option: seconds to wait
        wait_for_inference                            no diff    provider option: also wait until the
                        bool, default False                      routing key answers inference (not 404)
        adopt_id        str, default None             no diff    provider option: take over this existing
                                                                 endpoint instead of creating one

    For a new endpoint on a GPU change instead, give `opts=pulumi.ResourceOptions(replace_on_changes=
    ["gpu_type"])`; a replacement that keeps the routing key deletes the old endpoint first.

    Outputs (`pulumi.Output` attributes): `id`, every input as the API reports it (`scaling` as a
    `ScalingOutput`, `routing_key` the `model` of inference calls), and `status` (starting, running,
    updating, stopping, stopped, error, warning, or the API's own word), `readiness` (ready,
    partially_ready or not_ready: decide on traffic by it), `inference_base_url` (ends in `/v1/`),
    `created_at`, `updated_at`; the spend (sdk-docs/spend.md): `reserved_gpus` (min_replicas x
    gpu_count while enabled, else 0), `max_gpus` (max_replicas x gpu_count) and, with
    `tokenfactory:gpuHourlyPrices` in the stack config, `hourly_cost_min`, `hourly_cost_max`, `cost_currency`.

    Reference: sdk-docs/dedicated-endpoint.md.
    """

    @overload
    def __init__(self, resource_name: str, args: DedicatedEndpointArgs | DedicatedEndpointArgsDict,
                 opts: pulumi.ResourceOptions | None = None) -> None: ...

    @overload
    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, *,
                 name: pulumi.Input[str], model_name: pulumi.Input[str], flavor_name: pulumi.Input[str],
                 gpu_type: pulumi.Input[str], gpu_count: pulumi.Input[int],
                 scaling: pulumi.Input[ScalingArgs | ScalingArgsDict],
                 description: pulumi.Input[str] | None = None, region: pulumi.Input[str] | None = None,
                 enabled: pulumi.Input[bool] | None = None, routing_key: pulumi.Input[str] | None = None,
                 custom_weights_id: pulumi.Input[str] | None = None, wait_for_ready: pulumi.Input[bool] | None = None,
                 ready_timeout: pulumi.Input[float] | None = None, wait_for_inference: pulumi.Input[bool] | None = None,
                 adopt_id: pulumi.Input[str] | None = None) -> None: ...

    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
        """Declare one dedicated endpoint: the inputs as keywords, or one `DedicatedEndpointArgs` as `args`.

        :param resource_name: The Pulumi logical name (unique in the stack; not the display `name`).
        :param args: All inputs as one `DedicatedEndpointArgs` (or `DedicatedEndpointArgsDict`), instead of
               keywords.
        :param opts: A `pulumi.ResourceOptions` (parent, depends_on, protect, ...). Not `import_`: the engine's
               import cannot reach a dynamic provider; `adopt_id` takes an existing endpoint over instead. Not
               `custom_timeouts`: a dynamic provider never receives them; `ready_timeout` bounds the waits.

        Unknown or missing inputs raise `TypeError` here, naming them; values are checked by the provider
        in `pulumi preview`. See the class docstring for every input and output.
        """
        inputs, opts = _split_arguments(resource_name, args, dict(kwargs))
        if opts is not None and opts.import_ is not None:
            raise ValueError(
                f"DedicatedEndpoint {resource_name!r}: ResourceOptions(import_=...) cannot work for this resource: "
                f"the Pulumi engine imports with the id alone, which a dynamic provider cannot serve "
                f"(pulumi/pulumi#16175). Use adopt_id={opts.import_!r} instead (and drop import_): the create "
                f"then takes that endpoint over, with no new endpoint bought")
        _refuse_custom_timeouts(resource_name, opts)
        props: dict[str, Any] = dict(inputs)
        if props["region"] is None:
            props["region"] = _default_region()
        # Outputs to be filled in; `routing_key` is also an input, which keeps the program's value.
        props.update(dict.fromkeys(name for name in OUTPUT_FIELDS if name not in props))
        # Our own URN, so the provider can put spend lines on this resource's row (see host/enginelog.py).
        props[URN_FIELD] = pulumi.resource.create_urn(resource_name, RESOURCE_TYPE,
                                                      parent=opts.parent if opts is not None else None)
        super().__init__(DedicatedEndpointProvider(), resource_name, props, opts)
        spending.declared(self, resource_name, props)

    # What help(), IDEs' runtime inspection and IPython show instead of `(resource_name, *args, **kwargs)`.
    __init__.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("resource_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_Shown("str")),
        inspect.Parameter("args", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                          annotation=_Shown("DedicatedEndpointArgs | None")),
        inspect.Parameter("opts", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                          annotation=_Shown("pulumi.ResourceOptions | None")),
        *(p.replace(annotation=_Shown(p.annotation)) for p in _ARG_PARAMETERS),
    ])

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str],
            opts: pulumi.ResourceOptions | None = None) -> DedicatedEndpoint:
        """A read-only reference to an existing endpoint, as every generated Pulumi resource has.

        The engine reads the endpoint (its ReadStep carries the program's inputs, so the dynamic
        provider is reached) and records nothing it would create, change or delete: use it for an
        endpoint another stack or team owns. To take an endpoint over, use `adopt_id` instead.

        :param resource_name: The Pulumi logical name of the reference.
        :param id: The endpoint id (`ep-...`).
        :param opts: Further `pulumi.ResourceOptions`; `id` is set from the argument.
        """
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        reference = DedicatedEndpoint.__new__(DedicatedEndpoint)
        props: dict[str, Any] = dict.fromkeys((*_ALL_INPUTS, *OUTPUT_FIELDS))
        pulumi.dynamic.Resource.__init__(reference, DedicatedEndpointProvider(), resource_name, props, opts)
        return reference

    # -- outputs (generated-SDK style: each resolves from what the provider reports) --------------------

    @property
    @pulumi.getter
    def name(self) -> pulumi.Output[str]:
        """Display name."""
        return pulumi.get(self, "name")

    @property
    @pulumi.getter
    def description(self) -> pulumi.Output[str]:
        """Description ("" when none)."""
        return pulumi.get(self, "description")

    @property
    @pulumi.getter
    def model_name(self) -> pulumi.Output[str]:
        """Model template name."""
        return pulumi.get(self, "model_name")

    @property
    @pulumi.getter
    def flavor_name(self) -> pulumi.Output[str]:
        """Template flavor."""
        return pulumi.get(self, "flavor_name")

    @property
    @pulumi.getter
    def gpu_type(self) -> pulumi.Output[str]:
        """GPU type."""
        return pulumi.get(self, "gpu_type")

    @property
    @pulumi.getter
    def gpu_count(self) -> pulumi.Output[int]:
        """GPUs per replica."""
        return pulumi.get(self, "gpu_count")

    @property
    @pulumi.getter
    def scaling(self) -> pulumi.Output[ScalingOutput]:
        """Replica bounds as the API reports them: `scaling.min_replicas`, `scaling.max_replicas` (or as a dict)."""
        return pulumi.get(self, "scaling")

    @property
    @pulumi.getter
    def region(self) -> pulumi.Output[str]:
        """Region the endpoint runs in."""
        return pulumi.get(self, "region")

    @property
    @pulumi.getter
    def enabled(self) -> pulumi.Output[bool]:
        """Whether the endpoint is enabled (running or starting) rather than stopped."""
        return pulumi.get(self, "enabled")

    @property
    @pulumi.getter
    def custom_weights_id(self) -> pulumi.Output[str | None]:
        """The fine-tuned weights the endpoint serves; None when it serves the template's own."""
        return pulumi.get(self, "custom_weights_id")

    @property
    @pulumi.getter
    def wait_for_ready(self) -> pulumi.Output[bool]:
        """Provider option, echoed."""
        return pulumi.get(self, "wait_for_ready")

    @property
    @pulumi.getter
    def ready_timeout(self) -> pulumi.Output[float]:
        """Provider option, echoed."""
        return pulumi.get(self, "ready_timeout")

    @property
    @pulumi.getter
    def wait_for_inference(self) -> pulumi.Output[bool]:
        """Provider option, echoed."""
        return pulumi.get(self, "wait_for_inference")

    @property
    @pulumi.getter
    def adopt_id(self) -> pulumi.Output[str | None]:
        """The endpoint id this resource took over when it was created, if it adopted one."""
        return pulumi.get(self, "adopt_id")

    @property
    @pulumi.getter
    def routing_key(self) -> pulumi.Output[str]:
        """The model identifier for inference calls, e.g. `dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3`: the
        program's `routing_key`, or the one the provider chose when the endpoint was created."""
        return pulumi.get(self, "routing_key")

    @property
    @pulumi.getter
    def status(self) -> pulumi.Output[str]:
        """Lifecycle state when last read: starting, running, updating, stopping, stopped, error, warning, or
        the API's own word for another one (unknown when it reported none). Decide on traffic by `readiness`."""
        return pulumi.get(self, "status")

    @property
    @pulumi.getter
    def readiness(self) -> pulumi.Output[str | None]:
        """Whether the endpoint serves traffic when last read: ready, partially_ready or not_ready (None when
        the API reported none)."""
        return pulumi.get(self, "readiness")

    @property
    @pulumi.getter
    def inference_base_url(self) -> pulumi.Output[str]:
        """OpenAI-compatible base URL, ending in `/v1/`: the region's public one, or `<tokenfactory:baseUrl>/v1/`
        when that setting (or TOKENFACTORY_BASE_URL) points elsewhere than the public API, e.g. at the emulator."""
        return pulumi.get(self, "inference_base_url")

    @property
    @pulumi.getter
    def created_at(self) -> pulumi.Output[str | None]:
        """Creation time reported by the API (ISO 8601), when it reports one."""
        return pulumi.get(self, "created_at")

    @property
    @pulumi.getter
    def updated_at(self) -> pulumi.Output[str | None]:
        """Last update time, when the API reports one (ISO 8601)."""
        return pulumi.get(self, "updated_at")

    @property
    @pulumi.getter
    def reserved_gpus(self) -> pulumi.Output[int]:
        """GPUs reserved and billed whatever the traffic: min_replicas x gpu_count while enabled, 0 when stopped."""
        return pulumi.get(self, "reserved_gpus")

    @property
    @pulumi.getter
    def max_gpus(self) -> pulumi.Output[int]:
        """GPUs the endpoint may run under load: max_replicas x gpu_count."""
        return pulumi.get(self, "max_gpus")

    @property
    @pulumi.getter
    def hourly_cost_min(self) -> pulumi.Output[float | None]:
        """Hourly cost of `reserved_gpus`; None without a price for `gpu_type` in `tokenfactory:gpuHourlyPrices`."""
        return pulumi.get(self, "hourly_cost_min")

    @property
    @pulumi.getter
    def hourly_cost_max(self) -> pulumi.Output[float | None]:
        """Hourly cost at `max_replicas` (0 when stopped); None without a price in `tokenfactory:gpuHourlyPrices`."""
        return pulumi.get(self, "hourly_cost_max")

    @property
    @pulumi.getter
    def cost_currency(self) -> pulumi.Output[str | None]:
        """Currency of the hourly costs (from `tokenfactory:gpuHourlyPrices`); None without a price."""
        return pulumi.get(self, "cost_currency")
