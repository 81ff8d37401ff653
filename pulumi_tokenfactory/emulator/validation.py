"""Checks on create and patch bodies, with every problem named by its field.

A real API refuses bad input with a 400 that says which field is wrong; the
provider's own `check` relies on the same rules (`models`), and the tests
compare the two. Types are checked strictly (a string is not a number, `1`
is not `true`), except that an integral float such as `1.0` counts as an
integer, as JSON parsers of protobuf APIs allow.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from ..api.models import EndpointPatch, EndpointSpec, Scaling, catalogue_violations
from ..fields import API_FIELDS, BY_NAME, SCALING_FIELD, SCALING_FIELDS, Field, Kind
from ..wire import integral
from .catalogue import TEMPLATES
from .errors import ApiError, FieldProblem
from .jsonbody import BodyError, loads_strict

# The API's fields and their limits come from the resource's declaration (fields.py): the emulator
# accepts what the provider declares the API to accept, so the two cannot drift apart.
REQUIRED_FIELDS = tuple(name for name in API_FIELDS if BY_NAME[name].required)
OPTIONAL_FIELDS = tuple(name for name in API_FIELDS if not BY_NAME[name].required)
MUTABLE_FIELDS = tuple(name for name in API_FIELDS if BY_NAME[name].kind is Kind.IN_PLACE)
#: Fixed at creation: changing one means a new endpoint.
IMMUTABLE_FIELDS = tuple(name for name in API_FIELDS if BY_NAME[name].kind is Kind.REPLACE)
#: Set by the API, never by a caller.
READ_ONLY_FIELDS = ("id", "endpoint_id", "routing_key", "status", "created_at", "updated_at")

_MISSING = object()


def _as_int(value: Any) -> int | None:
    """An integer, or an integral float such as `1.0` (see `wire.integral`); None for anything else."""
    number = integral(value)
    return number if isinstance(number, int) and not isinstance(number, bool) else None


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


def _check_field(check: _Checker, body: dict[str, Any], f: Field, *, current: Scaling | None = None,
                 patch: bool = False) -> Any:
    """One field of a body, checked by its declaration: type, the API's lengths and minimums, choices, format.

    A maximum the declaration marks as the provider's own typo guard (`provider_max`) is not the API's,
    so it is not applied here.
    """
    limits = f.limits
    if f.name == SCALING_FIELD:
        if f.name not in body:
            check.add(f.name, "scaling is required (an object with min_replicas and max_replicas)", "missing_field")
            return None
        return check.scaling(body[f.name], current=current)
    if f.type is str:
        free = not f.required and not limits.choices
        value = check.string(body, f.name, required=f.required or (patch and not free), nullable=free,
                             max_length=None if limits.provider_max else limits.max_length, blank_ok=free)
        if value is not None and limits.choices and value not in limits.choices:
            check.add(f.name, f"{f.name} {value!r} is not {limits.format}; allowed: {', '.join(limits.choices)}")
            return None
        if value is not None and limits.pattern is not None and not re.fullmatch(limits.pattern, value):
            check.add(f.name, f"{f.name} must be {limits.format}, got {value!r}")
            return None
        return value
    if f.type is int:
        return check.integer(body, f.name, field=f.name, minimum=int(limits.minimum or 1))
    if f.type is bool:
        return check.boolean(body, f.name)
    raise AssertionError(f"no emulator check for {f.name} of type {f.type.__name__}")


def validate_create(body: Any) -> EndpointSpec:
    """The body of `POST /v0/dedicated_endpoints`, checked against the catalogue too."""
    body = _require_object(body)
    check = _Checker()
    check.unknown(body, REQUIRED_FIELDS + OPTIONAL_FIELDS)
    values = {name: _check_field(check, body, BY_NAME[name]) for name in API_FIELDS}
    if values["model_name"] is not None:
        for violation in catalogue_violations(list(TEMPLATES), model_name=values["model_name"],
                                              flavor_name=values["flavor_name"], gpu_type=values["gpu_type"],
                                              gpu_count=values["gpu_count"]):
            check.add(violation.property, violation.reason)
    check.raise_if_any()
    return EndpointSpec(**{k: v for k, v in values.items() if v is not None})


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
    changes = {name: _check_field(check, body, BY_NAME[name], current=current_scaling, patch=True)
               for name in MUTABLE_FIELDS if name in body}
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
