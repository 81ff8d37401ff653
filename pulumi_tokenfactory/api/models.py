"""Pydantic models of the Token Factory dedicated-endpoints API, the one vocabulary of every layer.

Response models accept unknown fields and every answer shape documented or seen in the wild, because an
API that adds a key must never break a ``pulumi refresh``; a shape not recognised is an error naming
what arrived. The declared fields come from base classes generated from endpoint/fields.py
(`_fields_generated.py`); each model here adds configuration, validators, methods and the API's own keys.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..endpoint.fields import DEFAULT_REGION, INFERENCE_BASE_URLS
from ..endpoint.fields import NAME_MAX_LENGTH as NAME_MAX_LENGTH
from ..fields import flatten_errors
from ..rules import replica_order
from ..schema import DEFAULT_BASE_URL
from ._fields_generated import EndpointFields, EndpointPatchFields, EndpointSpecFields, ScalingFields, ScalingInfoFields

log = logging.getLogger(__name__)


def inference_base_url(region: str | None, api_base_url: str | None = None) -> str:
    """The `/v1/` base URL an OpenAI client must use for an endpoint in `region`.

    A provider pointed at another API than the public one (the emulator, a proxy) serves inference there.
    """
    if api_base_url and api_base_url.rstrip("/") != DEFAULT_BASE_URL:
        return f"{api_base_url.rstrip('/')}/v1/"
    return INFERENCE_BASE_URLS.get(region or DEFAULT_REGION, INFERENCE_BASE_URLS[DEFAULT_REGION])


class LifecycleState(str, Enum):
    """The states the provider reasons about; `lifecycle_state` maps the API's raw (and growing) statuses."""

    STARTING = "starting"
    RUNNING = "running"
    UPDATING = "updating"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"
    #: "A deployment issue requires attention; may still serve traffic" (the lifecycle page).
    WARNING = "warning"
    #: Legacy answers only: the published statuses have no word for a deletion under way.
    DELETING = "deleting"
    UNKNOWN = "unknown"


class Readiness(str, Enum):
    """`deployment.readiness`: whether to send traffic (the API's advice), apart from the lifecycle status."""

    READY = "ready"
    PARTIALLY_READY = "partially_ready"
    NOT_READY = "not_ready"
    UNKNOWN = "unknown"


def readiness_state(raw: str | None) -> Readiness:
    """Map a raw readiness (any case, `-` or `_`) to a Readiness, UNKNOWN for anything else."""
    key = (raw or "").strip().lower().replace("-", "_")
    return next((r for r in Readiness if r.value == key), Readiness.UNKNOWN)


_STATUS_ALIASES: dict[str, LifecycleState] = {alias: state for state, aliases in (
    (LifecycleState.STARTING, ("starting", "provisioning", "creating", "pending", "deploying")),
    (LifecycleState.RUNNING, ("running", "ready", "active", "healthy")),
    (LifecycleState.UPDATING, ("updating", "scaling")),
    (LifecycleState.STOPPING, ("stopping",)),
    (LifecycleState.STOPPED, ("stopped", "disabled")),
    (LifecycleState.ERROR, ("error", "failed")),
    (LifecycleState.WARNING, ("warning",)),
    (LifecycleState.DELETING, ("deleting", "deleted")),
) for alias in aliases}


def lifecycle_state(raw_status: str | None) -> LifecycleState:
    """Map a raw API status string (any case, any separator) to a LifecycleState."""
    if not raw_status:
        return LifecycleState.UNKNOWN
    key = raw_status.strip().lower().replace("-", "_")
    key = key.removeprefix("endpoint_status_").removeprefix("status_")
    return _STATUS_ALIASES.get(key, LifecycleState.UNKNOWN)


def describe_status(raw_status: str | None) -> str:
    """A status as a message shows it: the API's own word whenever it is not one of our states, as a message
    saying "unknown" would hide the one fact a person needs (what the API actually said)."""
    if raw_status is None or not raw_status.strip():
        return "none (the API reported no status)"
    state = lifecycle_state(raw_status)
    if state is LifecycleState.UNKNOWN:
        return f"{raw_status!r} (not a status this provider recognises)"
    return state.value if raw_status.strip().lower() == state.value else f"{state.value} ({raw_status!r})"


class _Request(BaseModel):
    """Base of request payloads: we build them, so stray keys are a bug."""

    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    """Base of response models: unknown keys are kept, never an error."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Scaling(ScalingFields, _Request):
    """Replica bounds of an endpoint: `min_replicas` stay reserved (and billed) while it is enabled."""

    @model_validator(mode="after")
    def _ordered(self) -> Scaling:
        if (problem := replica_order(self.min_replicas, self.max_replicas)) is not None:
            raise ValueError(problem)
        return self


class EndpointSpec(EndpointSpecFields, _Request):
    """The body of `POST /v0/dedicated_endpoints`: the create request's fields (`fields.CREATE_FIELDS`)."""

    def payload(self) -> dict[str, Any]:
        """JSON body; an optional field without a value is left out rather than sent as null."""
        return self.model_dump(exclude_none=True)


class EndpointPatch(EndpointPatchFields, _Request):
    """The body of `PATCH /v0/dedicated_endpoints/{id}`: only the fields given are changed (the in-place ones)."""

    def payload(self) -> dict[str, Any]:
        """JSON body holding exactly the fields that were set (even to an empty string)."""
        return self.model_dump(exclude_unset=True)

    def is_empty(self) -> bool:
        return not self.model_fields_set


class ScalingInfo(ScalingInfoFields, _Response):
    """Scaling as the API reports it (tolerant: either bound may be missing)."""


class _EndpointId(_Response):
    """`Endpoint`'s first field: pydantic puts the fields of the last base first, so `id` comes before the
    declared ones of `EndpointFields`."""

    id: str = Field(min_length=1, validation_alias=AliasChoices("id", "endpoint_id"))


class Endpoint(EndpointFields, _EndpointId):
    """A dedicated endpoint as the API returns it.

    Published: `id`, the API fields, `deployment {status, readiness, ready_replicas}`, `created_at`.
    Also read (legacy answers): `endpoint_id` for `id`, a flat `status`, `updated_at`. Extra keys are
    kept. An answer without a readable `id` is not an endpoint: it fails validation, never passes as one.
    """

    status: str | None = None
    readiness: str | None = None
    ready_replicas: int | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_deployment(cls, data: Any) -> Any:
        """`deployment.status` / `.readiness` / `.ready_replicas` (published) beside a flat `status` (legacy).

        A `deployment` that is not an object (nor null) is refused: read as none, the endpoint would pass for one
        whose API reported no status, and a refresh would keep the status the state had."""
        if not isinstance(data, dict):
            return data
        raw = data.get("deployment")
        if raw is not None and not isinstance(raw, dict):
            raise ValueError(f"deployment is {describe_shape(raw)}, not an object with status and readiness")
        deployment: dict[str, Any] = raw or {}
        lifted = dict(data)
        for key in ("status", "readiness", "ready_replicas"):
            if deployment.get(key) is not None and not lifted.get(key):
                lifted[key] = deployment[key]
        if not lifted.get("status") and (deployment.get("ready") is True or data.get("ready") is True):
            lifted["status"] = "running"
        return lifted

    @property
    def lifecycle(self) -> LifecycleState:
        return lifecycle_state(self.status)

    @property
    def readiness_state(self) -> Readiness:
        """The published readiness; an answer without one (legacy) is ready exactly when it is running."""
        if self.readiness is None or not self.readiness.strip():
            return Readiness.READY if self.lifecycle is LifecycleState.RUNNING else Readiness.NOT_READY
        return readiness_state(self.readiness)


class Flavor(_Response):
    """One flavor of a template, with what it offers when the catalogue says so (empty: not said).

    The published catalogue keys flavors by name and does not publish the fields of each; legacy
    answers list them as objects with `flavor_name` (or `name`), `gpu_types` and `gpu_counts`.
    """

    flavor_name: str = Field(validation_alias=AliasChoices("flavor_name", "name"))
    gpu_types: list[str] = Field(default_factory=list)
    gpu_counts: list[int] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


class Template(_Response):
    """A model template: what `model_name` an endpoint may run, and with which flavors."""

    model_name: str = Field(validation_alias=AliasChoices("model_name", "template_name", "name"))
    description: str | None = None
    flavors: list[Flavor] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _flavors_by_name(cls, data: Any) -> Any:
        """The published `flavors` is an object keyed by flavor name; make it the list the legacy form is."""
        if isinstance(data, dict) and isinstance(data.get("flavors"), dict):
            flavors = [{**(value if isinstance(value, dict) else {}), "flavor_name": name}
                       for name, value in data["flavors"].items()]
            return {**data, "flavors": flavors}
        return data

    def flavor(self, flavor_name: str) -> Flavor | None:
        return next((f for f in self.flavors if f.flavor_name == flavor_name), None)


# -- reading answers: every documented form, and an error naming what arrived for anything else -----

def describe_shape(body: Any) -> str:
    """What an answer is, without its values (which may hold anything): its type, or an object's keys."""
    if isinstance(body, dict):
        keys = ", ".join(repr(str(k))[:40] for k in list(body)[:8]) + (", ..." if len(body) > 8 else "")
        return f"an object with keys {keys}" if body else "an empty object"
    names = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if body is None else names.get(type(body), type(body).__name__)


class UnreadableAnswer(ValueError):
    """An answer in a shape this provider does not recognise; the message names what arrived."""


def _list_items(body: Any, what: str, keys: tuple[str, ...]) -> list[Any]:
    """The items of a list answer: a bare list, or an object holding the list under one of `keys`."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in keys:
            if key in body:
                if isinstance(body[key], list):
                    return list(body[key])
                raise UnreadableAnswer(f"the {what} answer's {key!r} is {describe_shape(body[key])}, not a list")
    expected = " or ".join(repr(k) for k in keys)
    raise UnreadableAnswer(f"the {what} answer is {describe_shape(body)}; expected a list, or an object with "
                           f"a list under {expected}")


def parse_templates(body: Any) -> list[Template]:
    """`{"data": [...]}` (published), a bare list, `{"templates": [...]}` or `{"items": [...]}`."""
    return [Template.model_validate(item) for item in _list_items(body, "templates", ("data", "templates", "items"))]


def parse_endpoint(body: Any, what: str) -> Endpoint:
    """One endpoint: `{"endpoint": {...}}` or the bare object; anything without a readable id is an error."""
    if isinstance(body, dict) and isinstance(body.get("endpoint"), dict):
        body = body["endpoint"]
    if not isinstance(body, dict):
        raise UnreadableAnswer(f"the {what} answer is {describe_shape(body)}, not an endpoint")
    if not any(isinstance(body.get(k), str) and body.get(k) for k in ("id", "endpoint_id")):
        raise UnreadableAnswer(f"the {what} answer has no readable endpoint id: it is {describe_shape(body)}")
    return Endpoint.model_validate(body)


def parse_created(body: Any) -> Endpoint:
    """The create answer: 201 `{"endpoint": {...}}` (published) or the bare endpoint."""
    return parse_endpoint(body, "create")


def parse_patched(body: Any) -> Endpoint | None:
    """The PATCH answer: the bare endpoint (published) or `{"endpoint": {...}}`; an empty body or `{}` is no
    echo (the caller then reads the endpoint through the list); anything else is an error."""
    return None if body is None or body == {} else parse_endpoint(body, "update")


@dataclass(frozen=True)
class MalformedItem:
    """An item of a list answer that does not fit `Endpoint`: kept aside, named, never silently dropped."""

    index: int
    #: The item's id when it has a readable one; None means it could be any endpoint.
    id: str | None
    name: str | None
    reason: str

    def label(self) -> str:
        """How messages name it: by id when it has one, else by its place in the list and its name."""
        if self.id is not None:
            return self.id
        return f"list item #{self.index}" + (f" (name {self.name!r})" if self.name else "") + " without a readable id"


class EndpointList(list[Endpoint]):
    """The endpoints of one list answer, plus the items that could not be read (`malformed`), which callers
    that must not mistake a skipped item for an absent endpoint (refresh, exactly-once create) read."""

    def __init__(self, endpoints: Iterable[Endpoint] = (), malformed: Iterable[MalformedItem] = ()) -> None:
        super().__init__(endpoints)
        self.malformed: tuple[MalformedItem, ...] = tuple(malformed)

    def unreadable(self, endpoint_id: str) -> MalformedItem | None:
        return unreadable_item(self.malformed, endpoint_id)


def unreadable_item(malformed: Iterable[MalformedItem], endpoint_id: str) -> MalformedItem | None:
    """The unreadable item that is, or for all we know could be, `endpoint_id`: its own, else one without a
    readable id. Whoever finds the endpoint missing from a list asks this before calling it absent."""
    items = tuple(malformed)
    return next((m for m in items if m.id == endpoint_id), None) or next((m for m in items if m.id is None), None)


def malformed_items(listed: Iterable[Endpoint]) -> tuple[MalformedItem, ...]:
    """The unreadable items of a list answer (none when `listed` is not an EndpointList)."""
    return listed.malformed if isinstance(listed, EndpointList) else ()


def first_problem(exc: ValidationError) -> str:
    """The first of pydantic's errors as one message naming the property (`scaling.min_replicas: ...`)."""
    return flatten_errors(exc.errors())[0].message


def _malformed(index: int, item: Any, reason: str) -> MalformedItem:
    raw_id = item.get("id", item.get("endpoint_id")) if isinstance(item, dict) else None
    raw_name = item.get("name") if isinstance(item, dict) else None
    return MalformedItem(index=index, id=raw_id if isinstance(raw_id, str) and raw_id else None,
                         name=raw_name if isinstance(raw_name, str) else None, reason=reason)


def parse_endpoints(body: Any) -> EndpointList:
    """`{"data": [...], "object": "list"}` (published), a bare list, or `{"endpoints" | "dedicated_endpoints" |
    "items": [...]}`; any other shape is an error, never an empty account.

    An item that does not fit is skipped with a warning, so one odd endpoint cannot fail every refresh,
    and kept in `EndpointList.malformed`, so nobody takes it for absent. When no item can be read, the
    answer is an error: read as an empty account, it would make every resource look deleted.
    """
    items = _list_items(body, "endpoint list", ("data", "endpoints", "dedicated_endpoints", "items"))
    endpoints: list[Endpoint] = []
    malformed: list[MalformedItem] = []
    for index, item in enumerate(items):
        try:
            endpoints.append(parse_endpoint(item, f"endpoint list's item #{index}"))
        except ValidationError as exc:
            malformed.append(_malformed(index, item, first_problem(exc)))
        except UnreadableAnswer as exc:
            malformed.append(_malformed(index, item, str(exc)))
    if malformed and not endpoints:
        raise UnreadableAnswer(f"none of the endpoint list's {len(items)} item(s) can be read: "
                               f"{malformed[0].label()}: {malformed[0].reason}")
    for bad in malformed:
        log.warning("skipping an endpoint the API listed that this provider cannot read: %s (%s)",
                    bad.label(), bad.reason)
    return EndpointList(endpoints, malformed)


class CatalogueViolation(BaseModel):
    """A spec value the template catalogue does not allow, named by property."""

    property: str
    reason: str


def _choices(values: list[str] | list[int]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values) or "(none)"


def catalogue_violations(
    templates: list[Template],
    *,
    model_name: str,
    flavor_name: str | None = None,
    gpu_type: str | None = None,
    gpu_count: int | None = None,
    region: str | None = None,
) -> list[CatalogueViolation]:
    """Check a model/flavor/gpu choice against the catalogue.

    Shared by the provider's `check` (a failure before any API change) and by
    the emulator (a 400 naming the field), so both refuse exactly the same
    values. `None` means "not known yet" and is skipped.
    """
    template = next((t for t in templates if t.model_name == model_name), None)
    if template is None:
        allowed = sorted(t.model_name for t in templates)
        return [CatalogueViolation(property="model_name", reason=f"unknown model {model_name!r}; "
                                   f"allowed: {_choices(allowed)}")]
    if flavor_name is None:
        return []
    flavor = template.flavor(flavor_name)
    if flavor is None:
        allowed = [f.flavor_name for f in template.flavors]
        return [CatalogueViolation(property="flavor_name", reason=f"flavor {flavor_name!r} is not offered "
                                   f"for {model_name!r}; allowed: {_choices(allowed)}")]
    offers: tuple[tuple[str, Any, list[str] | list[int]], ...] = (
        ("gpu_type", gpu_type, flavor.gpu_types), ("gpu_count", gpu_count, flavor.gpu_counts),
        ("region", region, flavor.regions))
    return [CatalogueViolation(property=prop, reason=f"{prop} {value!r} is not offered for {model_name!r} "
                               f"flavor {flavor_name!r}; allowed: {_choices(offered)}")
            for prop, value, offered in offers if value is not None and offered and value not in offered]
