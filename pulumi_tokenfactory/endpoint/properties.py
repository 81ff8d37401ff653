"""The resource's property bags as typed models: inputs, and state = inputs + computed outputs.

Raw engine dicts (numbers as floats, unknown sentinels, old states that lack
newer keys) are turned into these models once, at the provider's edge; the
lifecycle logic only ever sees models. This follows pulumi-command's layout:
an inputs type, and an outputs type that extends it. Their fields come from base
classes generated from endpoint/fields.py (`_fields_generated.py`,
`python -m devtools.generate_surface`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import ConfigDict

from ..api.models import Endpoint, EndpointPatch, EndpointSpec, LifecycleState, Scaling, inference_base_url
from ..wire import integral
from ._fields_generated import EndpointInputsFields, EndpointStateFields
from .fields import (
    ABSENT_WHEN_UNSET,
    API_FIELDS,
    BY_NAME,
    CREATE_FIELDS,
    DEFAULT_REGION,
    INPUT_FIELDS,
    OUTPUT_FIELDS,
    SCALING_FIELD,
    UPDATABLE_FIELDS,
)

#: The keys read back from an API answer: every field the API knows (`scaling` is read as a whole).
LIVE_FIELDS: tuple[str, ...] = tuple(name for name in API_FIELDS if name != SCALING_FIELD)
#: The API fields an answer reports as null when they hold nothing (those a PATCH can clear).
CLEARABLE_FIELDS: tuple[str, ...] = tuple(name for name in API_FIELDS if BY_NAME[name].clear_with is not None)


class EndpointInputs(EndpointInputsFields):
    """What a program declares for one DedicatedEndpoint (already validated by `check`)."""

    model_config = ConfigDict(extra="ignore")

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> Self:
        """Parse an engine property bag (floats for ints, `None` for defaults)."""
        return cls.model_validate({k: integral(v) for k, v in props.items() if v is not None})

    def spec(self) -> EndpointSpec:
        """The create payload: the create request's fields; an empty optional text is left out."""
        values: dict[str, Any] = {name: getattr(self, name) for name in CREATE_FIELDS}
        return EndpointSpec.model_validate(
            {name: value for name, value in values.items() if value != "" or BY_NAME[name].required})

    def patch_from(self, current: EndpointInputs) -> EndpointPatch:
        """A PATCH holding exactly the in-place fields that differ from `current`.

        A field the program leaves out is cleared the way the API says (`custom_weights_id` as
        "UNSET"), except one the API fills in (`routing_key`), which keeps what the endpoint has.
        """
        changed: dict[str, Any] = {}
        for name in UPDATABLE_FIELDS:
            desired, now = getattr(self, name), getattr(current, name)
            if desired == now:
                continue
            if desired is None:
                declared = BY_NAME[name]
                if declared.computed or declared.clear_with is None or now is None:
                    continue
                desired = declared.clear_with
            changed[name] = desired
        return EndpointPatch(**changed)

    @property
    def target_state(self) -> LifecycleState:
        return LifecycleState.RUNNING if self.enabled else LifecycleState.STOPPED

    def input_props(self) -> dict[str, Any]:
        """The declared inputs; those absent when unset (`fields.ABSENT_WHEN_UNSET`) only when given.

        So a state written before such an input existed, or without it, stays as it was.
        """
        props = self.model_dump(include=set(INPUT_FIELDS))
        for name in ABSENT_WHEN_UNSET:
            if props.get(name) is None or name not in self.model_fields_set:
                props.pop(name, None)
        return props


class EndpointState(EndpointStateFields, EndpointInputs):
    """What the Pulumi state holds: the inputs as they are live, plus what the API computed."""

    # The computed outputs come from `EndpointStateFields`. Named first, it still comes after the inputs:
    # pydantic puts the fields of the last base first.

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint, fallback: Mapping[str, Any],
                      api_base_url: str | None = None, project_id: str | None = None) -> EndpointState:
        """Live values win; `fallback` (declared or prior props) fills what the API did not report.

        That holds for the computed outputs as much as for the inputs: an answer that lacks
        `routing_key`, `status` or a timestamp (absent, null or empty) says nothing about it,
        so the value the state already knows stays. Overwriting it with "" would break every
        client configured from `routing_key` on the next refresh. Provider options never come
        from the API, so they always come from `fallback`.
        """
        live: dict[str, Any] = {
            key: getattr(endpoint, key) for key in LIVE_FIELDS if getattr(endpoint, key, None) is not None
        }
        if endpoint.scaling and endpoint.scaling.min_replicas is not None \
                and endpoint.scaling.max_replicas is not None:
            live["scaling"] = Scaling.model_construct(min_replicas=endpoint.scaling.min_replicas,
                                                      max_replicas=endpoint.scaling.max_replicas)
        merged = {k: integral(v) for k, v in fallback.items() if k in INPUT_FIELDS and v is not None}
        merged.update(live)
        # A field the API can clear (`custom_weights_id`, "null when none") reported as null is none now: the
        # answer says so, unlike one that lacks the key. Kept from `fallback`, a clearing made outside Pulumi
        # would never show as drift, and an adoption would take the program's value for the endpoint's.
        merged.update({key: None for key in CLEARABLE_FIELDS
                       if key in endpoint.model_fields_set and getattr(endpoint, key) is None})
        region = merged.get("region") or DEFAULT_REGION
        reported_status = endpoint.status is not None and bool(endpoint.status.strip())
        merged.update(
            region=region,
            routing_key=_known(endpoint.routing_key, fallback.get("routing_key")) or "",
            status=_status(endpoint) if reported_status
            else _known(None, fallback.get("status")) or LifecycleState.UNKNOWN.value,
            readiness=_known(endpoint.readiness, fallback.get("readiness")),
            inference_base_url=inference_base_url(region, api_base_url),
            project_id=project_id or "",
            created_at=_known(endpoint.created_at, fallback.get("created_at")),
            updated_at=_known(endpoint.updated_at, fallback.get("updated_at")),
        )
        return cls.model_validate(merged)

    def output_props(self) -> dict[str, Any]:
        """The property bag returned to the engine (inputs echoed + computed outputs)."""
        return {**self.model_dump(include=set(OUTPUT_FIELDS)), **self.input_props()}


def _status(endpoint: Endpoint) -> str:
    """The status as the state keeps it: our word for a known one, the API's own word for any other."""
    state = endpoint.lifecycle
    return endpoint.status.strip() if state is LifecycleState.UNKNOWN and endpoint.status else state.value


def _known(live: str | None, prior: Any) -> str | None:
    """The live value when the answer carried one, else the one already known (if it is a real one)."""
    if live:
        return live
    return prior if isinstance(prior, str) and prior else None
