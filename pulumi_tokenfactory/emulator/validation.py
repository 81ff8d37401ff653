"""Checks on create and patch bodies, with every problem named by its field.

A real API refuses bad input with a 400 that says which field is wrong; the
provider's own `check` relies on the same rules (`models`), and the tests
compare the two. Types are checked strictly (a string is not a number, `1`
is not `true`), except that an integral float such as `1.0` counts as an
integer, as JSON parsers of protobuf APIs allow.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..api.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    REGIONS,
    EndpointPatch,
    EndpointSpec,
    Scaling,
    catalogue_violations,
)
from .catalogue import TEMPLATES
from .errors import ApiError, FieldProblem
from .jsonbody import BodyError, loads_strict

REQUIRED_FIELDS = ("name", "model_name", "flavor_name", "gpu_type", "gpu_count", "scaling")
OPTIONAL_FIELDS = ("description", "region", "enabled")
SCALING_FIELDS = ("min_replicas", "max_replicas")
MUTABLE_FIELDS = ("name", "description", "scaling", "enabled")
#: Fixed at creation: changing one means a new endpoint.
IMMUTABLE_FIELDS = ("region", "model_name", "flavor_name", "gpu_type", "gpu_count")
#: Set by the API, never by a caller.
READ_ONLY_FIELDS = ("id", "endpoint_id", "routing_key", "status", "created_at", "updated_at")

_MISSING = object()


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


class _Checker:
    """Accumulates problems so that one answer lists all of them, not just the first."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def add(self, field: str | None, message: str, code: str = "invalid_value") -> None:
        self.problems.append(FieldProblem(field, message, code))

    def unknown(self, body: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
        for key in body:
            if key not in allowed:
                self.add(f"{prefix}{key}", f"unknown field {prefix}{key!s}; allowed: {', '.join(allowed)}",
                         "unknown_field")

    def string(self, body: dict[str, Any], key: str, *, required: bool, nullable: bool = False,
               max_length: int | None = None, blank_ok: bool = False) -> str | None:
        value = body.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.add(key, f"{key} is required", "missing_field")
            return None
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            self.add(key, f"{key} must be a string, got {_type_name(value)}", "invalid_type")
            return None
        if not blank_ok and not value.strip():
            self.add(key, f"{key} must not be empty")
            return None
        if max_length is not None and len(value) > max_length:
            self.add(key, f"{key} must be at most {max_length} characters, got {len(value)}")
            return None
        return value

    def integer(self, body: dict[str, Any], key: str, *, field: str, minimum: int = 1) -> int | None:
        value = body.get(key, _MISSING)
        if value is _MISSING:
            self.add(field, f"{field} is required", "missing_field")
            return None
        number = _as_int(value)
        if number is None:
            self.add(field, f"{field} must be an integer, got {_type_name(value)}", "invalid_type")
            return None
        if number < minimum:
            self.add(field, f"{field} must be >= {minimum}, got {number}")
            return None
        return number

    def boolean(self, body: dict[str, Any], key: str) -> bool | None:
        value = body.get(key, _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.add(key, f"{key} must be a boolean, got {_type_name(value)}", "invalid_type")
            return None
        return value

    def scaling(self, value: Any, *, current: Scaling | None = None) -> Scaling | None:
        """A full Scaling; with `current` (a PATCH), a bound left out keeps its value."""
        if not isinstance(value, dict):
            self.add("scaling", f"scaling must be an object with {' and '.join(SCALING_FIELDS)}, "
                                f"got {_type_name(value)}", "invalid_type")
            return None
        before = len(self.problems)
        self.unknown(value, SCALING_FIELDS, prefix="scaling.")
        bounds: dict[str, int | None] = {}
        for key in SCALING_FIELDS:
            if current is not None and key not in value:
                bounds[key] = getattr(current, key)
            else:
                bounds[key] = self.integer(value, key, field=f"scaling.{key}")
        low, high = bounds["min_replicas"], bounds["max_replicas"]
        if low is None or high is None or len(self.problems) > before:
            return None
        if low > high:
            self.add("scaling.min_replicas",
                     f"scaling.min_replicas ({low}) must not exceed scaling.max_replicas ({high})")
            return None
        return Scaling(min_replicas=low, max_replicas=high)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ApiError.invalid(self.problems)


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", f"the request body must be a JSON object, got {_type_name(body)}")
    return body


def validate_create(body: Any) -> EndpointSpec:
    """The body of `POST /v0/dedicated_endpoints`, checked against the catalogue too."""
    body = _require_object(body)
    check = _Checker()
    check.unknown(body, REQUIRED_FIELDS + OPTIONAL_FIELDS)
    name = check.string(body, "name", required=True, max_length=NAME_MAX_LENGTH)
    description = check.string(body, "description", required=False, nullable=True,
                               max_length=DESCRIPTION_MAX_LENGTH, blank_ok=True)
    model_name = check.string(body, "model_name", required=True)
    flavor_name = check.string(body, "flavor_name", required=True)
    gpu_type = check.string(body, "gpu_type", required=True)
    gpu_count = check.integer(body, "gpu_count", field="gpu_count")
    scaling = None
    if "scaling" not in body:
        check.add("scaling", "scaling is required (an object with min_replicas and max_replicas)", "missing_field")
    else:
        scaling = check.scaling(body["scaling"])
    region = check.string(body, "region", required=False)
    if region is not None and region not in REGIONS:
        check.add("region", f"region {region!r} is not a Token Factory region; allowed: {', '.join(REGIONS)}")
    enabled = check.boolean(body, "enabled")
    if model_name is not None:
        for violation in catalogue_violations(list(TEMPLATES), model_name=model_name, flavor_name=flavor_name,
                                              gpu_type=gpu_type, gpu_count=gpu_count):
            check.add(violation.property, violation.reason)
    check.raise_if_any()
    assert name is not None and model_name and flavor_name and gpu_type and gpu_count and scaling
    optional: dict[str, Any] = {"region": region, "enabled": enabled}
    return EndpointSpec(name=name, description=description, model_name=model_name, flavor_name=flavor_name,
                        gpu_type=gpu_type, gpu_count=gpu_count, scaling=scaling,
                        **{k: v for k, v in optional.items() if v is not None})


def validate_patch(body: Any, current_scaling: Scaling) -> EndpointPatch:
    """The body of `PATCH /v0/dedicated_endpoints/{id}`: only mutable fields, each checked."""
    body = _require_object(body)
    check = _Checker()
    for key in body:
        if key in IMMUTABLE_FIELDS:
            check.add(key, f"{key} is immutable: it cannot be changed after creation (create a new endpoint "
                           f"instead); mutable fields: {', '.join(MUTABLE_FIELDS)}", "immutable_field")
        elif key in READ_ONLY_FIELDS:
            check.add(key, f"{key} is read-only: it is set by the API", "read_only_field")
        elif key not in MUTABLE_FIELDS:
            check.add(key, f"unknown field {key}; mutable fields: {', '.join(MUTABLE_FIELDS)}", "unknown_field")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = check.string(body, "name", required=True, max_length=NAME_MAX_LENGTH)
    if "description" in body:
        changes["description"] = check.string(body, "description", required=False, nullable=True,
                                              max_length=DESCRIPTION_MAX_LENGTH, blank_ok=True)
    if "scaling" in body:
        changes["scaling"] = check.scaling(body["scaling"], current=current_scaling)
    if "enabled" in body:
        changes["enabled"] = check.boolean(body, "enabled")
    check.raise_if_any()
    return EndpointPatch(**changes)


async def read_json(request: Request) -> Any:
    """The body as JSON; a body that is not JSON is the caller's 400, not our 500.

    Strict (see `jsonbody`): a lone surrogate escape or a body nested deeper than
    `jsonbody.MAX_DEPTH` is refused here, as a protobuf-backed API refuses it, rather
    than accepted into the store and the request log where it could not be sent back.
    """
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "invalid_body", "the request body is empty; expected a JSON object")
    try:
        return loads_strict(raw)
    except BodyError as exc:
        raise ApiError(400, "invalid_json", str(exc), field=exc.field) from None
