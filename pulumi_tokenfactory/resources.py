"""The public Pulumi surface: `DedicatedEndpoint`, its args, and `ScalingArgs`.

Shaped like a generated Pulumi SDK: the resource takes either keyword
arguments or one `DedicatedEndpointArgs`, every argument accepts a
`pulumi.Input`, and every output is a typed `pulumi.Output` attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, overload

import pulumi
import pulumi.dynamic
import pulumi.runtime

from .provider import DedicatedEndpointProvider
from .schema import DEFAULT_REGION, OUTPUT_FIELDS, REGION_CONFIG, RESOURCE_MODULE, RESOURCE_NAME


@dataclass
class ScalingArgs:
    """Replica bounds. `min_replicas` stay reserved (and billed) while the endpoint is enabled."""

    min_replicas: pulumi.Input[int]
    """Replicas kept running at all times (>= 1). Changes in place."""
    max_replicas: pulumi.Input[int]
    """Upper bound for autoscaling (>= min_replicas). Changes in place."""


@dataclass
class DedicatedEndpointArgs:
    """Arguments of a `DedicatedEndpoint`. See `sdk-docs/dedicated-endpoint.md` for each one."""

    name: pulumi.Input[str]
    """Display name (1-128 characters). Changes in place."""
    model_name: pulumi.Input[str]
    """Model template, e.g. `openai/gpt-oss-120b` (see `get_templates()`). Changing it replaces the endpoint."""
    flavor_name: pulumi.Input[str]
    """Template flavor, e.g. `base` or `fast`. Changing it replaces the endpoint."""
    gpu_type: pulumi.Input[str]
    """GPU type the flavor supports, e.g. `gpu-h100-sxm`. Changing it replaces the endpoint."""
    gpu_count: pulumi.Input[int]
    """GPUs per replica, one of the flavor's allowed counts. Changing it replaces the endpoint."""
    scaling: pulumi.Input[ScalingArgs] | pulumi.Input[dict[str, Any]]
    """Replica bounds. Changes in place."""
    description: pulumi.Input[str] | None = None
    """Free text, e.g. the owning team. Changes in place."""
    region: pulumi.Input[str] | None = None
    """`eu-north1`, `eu-west1` or `us-central1`; default: config `tokenfactory:region`, else `eu-north1`.
    Changing it replaces the endpoint."""
    enabled: pulumi.Input[bool] | None = None
    """False stops the endpoint without deleting it (a stopped endpoint is not billed). Default true."""
    wait_for_ready: pulumi.Input[bool] | None = None
    """Provider option: wait until the endpoint is running (or stopped) before finishing. Default true."""
    ready_timeout: pulumi.Input[float] | None = None
    """Provider option: seconds to wait for readiness (default 1800). A create that times out is rolled back."""


def _scaling_input(scaling: Any) -> Any:
    if isinstance(scaling, ScalingArgs):
        return {"min_replicas": scaling.min_replicas, "max_replicas": scaling.max_replicas}
    return scaling


def _default_region() -> str:
    # `pulumi.runtime.get_config` reads the raw value without Config's secret warnings.
    return pulumi.runtime.get_config(REGION_CONFIG) or DEFAULT_REGION


class DedicatedEndpoint(pulumi.dynamic.Resource, module=RESOURCE_MODULE, name=RESOURCE_NAME):
    """A Nebius Token Factory dedicated endpoint: an isolated, autoscaled GPU deployment of one model.

    Its Pulumi `id` is the endpoint id. Use `routing_key` as the `model` of
    OpenAI-compatible `/v1/chat/completions` calls at `inference_base_url`.
    """

    name: pulumi.Output[str]
    """Display name."""
    description: pulumi.Output[str]
    """Description ("" when none)."""
    model_name: pulumi.Output[str]
    """Model template name."""
    flavor_name: pulumi.Output[str]
    """Template flavor."""
    gpu_type: pulumi.Output[str]
    """GPU type."""
    gpu_count: pulumi.Output[int]
    """GPUs per replica."""
    scaling: pulumi.Output[dict[str, int]]
    """`{"min_replicas": ..., "max_replicas": ...}` as the API reports them."""
    region: pulumi.Output[str]
    """Region the endpoint runs in."""
    enabled: pulumi.Output[bool]
    """Whether the endpoint is enabled (running or starting) rather than stopped."""
    wait_for_ready: pulumi.Output[bool]
    """Provider option, echoed."""
    ready_timeout: pulumi.Output[float]
    """Provider option, echoed."""
    routing_key: pulumi.Output[str]
    """The model identifier for inference calls, e.g. `dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3`."""
    status: pulumi.Output[str]
    """Lifecycle state when last read: starting, running, updating, stopping, stopped, error, deleting or unknown."""
    inference_base_url: pulumi.Output[str]
    """OpenAI-compatible base URL of the endpoint's region, ending in `/v1/` (under `tokenfactory:baseUrl` when that
    points elsewhere than the public API, e.g. at the emulator)."""
    created_at: pulumi.Output[str | None]
    """Creation time reported by the API (ISO 8601), when it reports one."""
    updated_at: pulumi.Output[str | None]
    """Last update time reported by the API (ISO 8601), when it reports one."""

    @overload
    def __init__(self, resource_name: str, args: DedicatedEndpointArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None: ...

    @overload
    def __init__(self, resource_name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, *,
                 name: pulumi.Input[str], model_name: pulumi.Input[str], flavor_name: pulumi.Input[str],
                 gpu_type: pulumi.Input[str], gpu_count: pulumi.Input[int],
                 scaling: pulumi.Input[ScalingArgs] | pulumi.Input[dict[str, Any]],
                 description: pulumi.Input[str] | None = None, region: pulumi.Input[str] | None = None,
                 enabled: pulumi.Input[bool] | None = None, wait_for_ready: pulumi.Input[bool] | None = None,
                 ready_timeout: pulumi.Input[float] | None = None) -> None: ...

    def __init__(self, resource_name: str, args: DedicatedEndpointArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        if args is None:
            unknown = sorted(set(kwargs) - {f.name for f in fields(DedicatedEndpointArgs)})
            if unknown:
                raise TypeError(f"DedicatedEndpoint got unknown argument(s) {', '.join(unknown)}; "
                                f"allowed: {', '.join(f.name for f in fields(DedicatedEndpointArgs))}")
            missing = [f.name for f in fields(DedicatedEndpointArgs)
                       if f.default is not None and f.name not in kwargs]
            if missing:
                raise TypeError(f"DedicatedEndpoint {resource_name!r} is missing required argument(s): "
                                f"{', '.join(missing)}")
            args = DedicatedEndpointArgs(**kwargs)
        elif kwargs:
            raise TypeError("pass either a DedicatedEndpointArgs or keyword arguments, not both")
        props: dict[str, Any] = {f.name: getattr(args, f.name) for f in fields(DedicatedEndpointArgs)}
        props["scaling"] = _scaling_input(props["scaling"])
        if props["region"] is None:
            props["region"] = _default_region()
        props.update(dict.fromkeys(OUTPUT_FIELDS))
        super().__init__(DedicatedEndpointProvider(), resource_name, props, opts)
