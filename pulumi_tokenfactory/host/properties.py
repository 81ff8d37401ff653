"""The resource's property bags as typed models: inputs, and state = inputs + computed outputs.

Raw engine dicts (numbers as floats, unknown sentinels, old states that lack
newer keys) are turned into these models once, at the provider's edge; the
lifecycle logic only ever sees models. This follows pulumi-command's layout:
an inputs type, and an outputs type that extends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..api.models import (
    DEFAULT_REGION,
    Endpoint,
    EndpointPatch,
    EndpointSpec,
    LifecycleState,
    Scaling,
    inference_base_url,
)
from ..schema import (
    ADOPT_FIELD,
    DEFAULT_READY_TIMEOUT_SECONDS,
    INPUT_FIELDS,
    OUTPUT_FIELDS,
    UPDATABLE_FIELDS,
)


class EndpointInputs(BaseModel):
    """What a program declares for one DedicatedEndpoint (already validated by `check`)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    description: str = ""
    model_name: str
    flavor_name: str
    gpu_type: str
    gpu_count: int
    scaling: Scaling
    region: str = DEFAULT_REGION
    enabled: bool = True
    wait_for_ready: bool = True
    ready_timeout: float = DEFAULT_READY_TIMEOUT_SECONDS
    adopt_id: str | None = None

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> EndpointInputs:
        """Parse an engine property bag (floats for ints, `None` for defaults)."""
        return cls.model_validate({k: integral(v) for k, v in props.items() if v is not None})

    def spec(self) -> EndpointSpec:
        """The create payload; region and enabled are always sent explicitly."""
        return EndpointSpec(
            name=self.name,
            description=self.description or None,
            model_name=self.model_name,
            flavor_name=self.flavor_name,
            gpu_type=self.gpu_type,
            gpu_count=self.gpu_count,
            scaling=self.scaling,
            region=self.region,
            enabled=self.enabled,
        )

    def patch_from(self, current: EndpointInputs) -> EndpointPatch:
        """A PATCH holding exactly the in-place fields that differ from `current`."""
        changed = {f: getattr(self, f) for f in UPDATABLE_FIELDS if getattr(self, f) != getattr(current, f)}
        return EndpointPatch(**changed)

    @property
    def target_state(self) -> LifecycleState:
        return LifecycleState.RUNNING if self.enabled else LifecycleState.STOPPED

    def input_props(self) -> dict[str, Any]:
        """The declared inputs; `adopt_id` only when given (a state without it then stays as it was)."""
        props = self.model_dump(include=set(INPUT_FIELDS))
        if props.get(ADOPT_FIELD) is None:
            props.pop(ADOPT_FIELD, None)
        return props


class EndpointState(EndpointInputs):
    """What the Pulumi state holds: the inputs as they are live, plus what the API computed."""

    routing_key: str = ""
    status: str = LifecycleState.UNKNOWN.value
    inference_base_url: str = ""
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint, fallback: Mapping[str, Any],
                      api_base_url: str | None = None) -> EndpointState:
        """Live values win; `fallback` (declared or prior props) fills what the API did not report.

        That holds for the computed outputs as much as for the inputs: an answer that lacks
        `routing_key`, `status` or a timestamp (absent, null or empty) says nothing about it,
        so the value the state already knows stays. Overwriting it with "" would break every
        client configured from `routing_key` on the next refresh. Provider options never come
        from the API, so they always come from `fallback`.
        """
        live: dict[str, Any] = {
            key: getattr(endpoint, key)
            for key in ("name", "description", "model_name", "flavor_name", "gpu_type", "gpu_count",
                        "region", "enabled")
            if getattr(endpoint, key) is not None
        }
        if endpoint.scaling and endpoint.scaling.min_replicas is not None \
                and endpoint.scaling.max_replicas is not None:
            live["scaling"] = Scaling.model_construct(min_replicas=endpoint.scaling.min_replicas,
                                                      max_replicas=endpoint.scaling.max_replicas)
        merged = {k: integral(v) for k, v in fallback.items() if k in INPUT_FIELDS and v is not None}
        merged.update(live)
        region = merged.get("region") or DEFAULT_REGION
        reported_status = endpoint.status is not None and bool(endpoint.status.strip())
        merged.update(
            region=region,
            routing_key=_known(endpoint.routing_key, fallback.get("routing_key")) or "",
            status=endpoint.lifecycle.value if reported_status
            else _known(None, fallback.get("status")) or LifecycleState.UNKNOWN.value,
            inference_base_url=inference_base_url(region, api_base_url),
            created_at=_known(endpoint.created_at, fallback.get("created_at")),
            updated_at=_known(endpoint.updated_at, fallback.get("updated_at")),
        )
        return cls.model_validate(merged)

    def output_props(self) -> dict[str, Any]:
        """The property bag returned to the engine (inputs echoed + computed outputs)."""
        return {**self.model_dump(include=set(OUTPUT_FIELDS)), **self.input_props()}


def _known(live: str | None, prior: Any) -> str | None:
    """The live value when the answer carried one, else the one already known (if it is a real one)."""
    if live:
        return live
    return prior if isinstance(prior, str) and prior else None


def integral(value: Any) -> Any:
    """Protobuf Structs carry every number as a float: give whole numbers back their int type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    return value
