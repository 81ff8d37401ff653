"""Checks on create and patch bodies, with every problem named by its field.

A real API refuses bad input saying which field is wrong (the published API: FastAPI's 422 with a
`loc` per problem); the provider's own `check` relies on the same rules (`models`), and the tests
compare the two. Types are checked strictly (a string is not a number, `1` is not `true`), except
that an integral float such as `1.0` counts as an integer, as JSON parsers of protobuf APIs allow.

The two answer shapes differ in what a body may hold. The published API is FastAPI: a key it does
not know is ignored (so is `enabled` in a create, which its create request lacks: every endpoint
starts), and `region` is required. The legacy shapes refuse unknown keys, read-only ones, and honour
`enabled` on create, with `region` defaulting as the declaration says.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from ..api.models import EndpointPatch, EndpointSpec, Scaling, catalogue_violations
from ..fields import API_FIELDS, BY_NAME, CREATE_FIELDS, SCALING_FIELD, SCALING_FIELDS, Field, Kind
from ..wire import integral
from .catalogue import TEMPLATES
from .errors import ApiError, FieldProblem
from .jsonbody import BodyError, loads_strict
from .store import CreateRequest

# The API's fields and their limits come from the resource's declaration (fields.py): the emulator
# accepts what the provider declares the API to accept, so the two cannot drift apart.
MUTABLE_FIELDS = tuple(name for name in API_FIELDS if BY_NAME[name].kind is Kind.IN_PLACE)
#: Fixed at creation: changing one means a new endpoint.
IMMUTABLE_FIELDS = tuple(name for name in API_FIELDS if BY_NAME[name].kind is Kind.REPLACE)
#: Set by the API, never by a caller.
READ_ONLY_FIELDS = tuple(name for name in ("id", "endpoint_id", "routing_key", "status", "deployment", "created_at",
                                           "updated_at") if name not in API_FIELDS)
#: What the published create request requires beyond the declaration's required fields ("regions need to be
#: specified explicitly"); the legacy shapes let it default.
PUBLISHED_REQUIRED = ("region",)

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

    def __init__(self, *, strict_keys: bool = True) -> None:
        self.problems: list[FieldProblem] = []
        #: Refuse keys no field has (legacy); the published API ignores them, as FastAPI does.
        self.strict_keys = strict_keys

    def add(self, field: str | None, message: str, code: str = "invalid_value", value: Any = None,
            **ctx: Any) -> None:
        self.problems.append(FieldProblem(field, message, code, input=value, ctx=ctx))

    def unknown(self, body: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
        if not self.strict_keys:
            return
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
            self.add(key, f"{key} must be a string, got {_type_name(value)}", "invalid_type", value)
            return None
        if not blank_ok and not value.strip():
            self.add(key, f"{key} must not be empty", value=value, min_length=1)
            return None
        if max_length is not None and len(value) > max_length:
            self.add(key, f"{key} must be at most {max_length} characters, got {len(value)}", value=value,
                     max_length=max_length)
            return None
        return value

    def integer(self, body: dict[str, Any], key: str, *, field: str, minimum: int = 1) -> int | None:
        value = body.get(key, _MISSING)
        if value is _MISSING:
            self.add(field, f"{field} is required", "missing_field")
            return None
        number = _as_int(value)
        if number is None:
            self.add(field, f"{field} must be an integer, got {_type_name(value)}", "invalid_type", value)
            return None
        if number < minimum:
            self.add(field, f"{field} must be >= {minimum}, got {number}", value=value, ge=minimum)
            return None
        return number

    def boolean(self, body: dict[str, Any], key: str) -> bool | None:
        value = body.get(key, _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.add(key, f"{key} must be a boolean, got {_type_name(value)}", "invalid_type", value)
            return None
        return value

    def scaling(self, value: Any, *, current: Scaling | None = None) -> Scaling | None:
        """A full Scaling; with `current` (a PATCH), a bound left out keeps its value."""
        if not isinstance(value, dict):
            self.add("scaling", f"scaling must be an object with {' and '.join(SCALING_FIELDS)}, "
                                f"got {_type_name(value)}", "invalid_type", value)
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
                     f"scaling.min_replicas ({low}) must not exceed scaling.max_replicas ({high})", value=low)
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
                 patch: bool = False, required: bool = False) -> Any:
    """One field of a body, checked by its declaration: type, the API's lengths and minimums, choices, format.

    A maximum the declaration marks as the provider's own typo guard (`provider_max`) is not the API's,
    so it is not applied here. In a PATCH, a field the API computes (`routing_key`) cannot be cleared.
    """
    limits = f.limits
    required = required or f.required
    if f.name == SCALING_FIELD:
        if f.name not in body:
            check.add(f.name, "scaling is required (an object with min_replicas and max_replicas)", "missing_field")
            return None
        return check.scaling(body[f.name], current=current)
    if f.type is str:
        free = not required and not limits.choices and not (patch and f.computed)
        value = check.string(body, f.name, required=required or (patch and not free), nullable=free,
                             max_length=None if limits.provider_max else limits.max_length, blank_ok=free)
        if value is not None and limits.choices and value not in limits.choices:
            check.add(f.name, f"{f.name} {value!r} is not {limits.format}; allowed: {', '.join(limits.choices)}",
                      value=value, expected=", ".join(limits.choices))
            return None
        if value is not None and limits.pattern is not None and not re.fullmatch(limits.pattern, value):
            check.add(f.name, f"{f.name} must be {limits.format}, got {value!r}", value=value, pattern=limits.pattern)
            return None
        return value
    if f.type is int:
        return check.integer(body, f.name, field=f.name, minimum=int(limits.minimum or 1))
    if f.type is bool:
        return check.boolean(body, f.name)
    raise AssertionError(f"no emulator check for {f.name} of type {f.type.__name__}")


def create_fields(*, legacy: bool) -> tuple[str, ...]:
    """What a create body may hold: the create request's fields, and (legacy) every field the API knows."""
    return API_FIELDS if legacy else CREATE_FIELDS


def validate_create(body: Any, *, legacy: bool = False) -> CreateRequest:
    """The body of `POST /v0/dedicated_endpoints`, checked against the catalogue too."""
    body = _require_object(body)
    check = _Checker(strict_keys=legacy)
    allowed = create_fields(legacy=legacy)
    check.unknown(body, allowed)
    values = {name: _check_field(check, body, BY_NAME[name], required=not legacy and name in PUBLISHED_REQUIRED)
              for name in allowed}
    if values["model_name"] is not None:
        for violation in catalogue_violations(list(TEMPLATES), model_name=values["model_name"],
                                              flavor_name=values["flavor_name"], gpu_type=values["gpu_type"],
                                              gpu_count=values["gpu_count"]):
            check.add(violation.property, violation.reason, value=values[violation.property])
    check.raise_if_any()
    enabled = values.pop("enabled", None)
    spec = EndpointSpec(**{k: v for k, v in values.items() if v is not None})
    return CreateRequest(spec, enabled=enabled is not False)


def _refuse_unpatchable(check: _Checker, body: dict[str, Any]) -> None:
    """Fields a PATCH may not name: immutable ones always; read-only and unknown ones in the legacy shapes."""
    for key in body:
        if key in IMMUTABLE_FIELDS:
            check.add(key, f"{key} is immutable: it cannot be changed after creation (create a new endpoint "
                           f"instead); mutable fields: {', '.join(MUTABLE_FIELDS)}", "immutable_field", body[key])
        elif not check.strict_keys:
            continue
        elif key in READ_ONLY_FIELDS:
            check.add(key, f"{key} is read-only: it is set by the API", "read_only_field", body[key])
        elif key not in MUTABLE_FIELDS:
            check.add(key, f"unknown field {key}; mutable fields: {', '.join(MUTABLE_FIELDS)}", "unknown_field",
                      body[key])


def _check_gpus(check: _Checker, changes: dict[str, Any], current: EndpointSpec) -> None:
    """A gpu_type or gpu_count change must be a combination the endpoint's template offers, as in a create."""
    sent = [name for name in ("gpu_type", "gpu_count") if changes.get(name) is not None]
    if not sent:
        return
    gpu_type: str = changes.get("gpu_type") or current.gpu_type
    gpu_count: int = changes.get("gpu_count") or current.gpu_count
    wanted: dict[str, Any] = {"gpu_type": gpu_type, "gpu_count": gpu_count}
    for violation in catalogue_violations(list(TEMPLATES), model_name=current.model_name,
                                          flavor_name=current.flavor_name, gpu_type=gpu_type, gpu_count=gpu_count):
        if violation.property in sent:
            check.add(violation.property, violation.reason, value=wanted[violation.property])


def validate_patch(body: Any, current_scaling: Scaling, *, legacy: bool = False,
                   current: EndpointSpec | None = None) -> EndpointPatch:
    """The body of `PATCH /v0/dedicated_endpoints/{id}`: only mutable fields, each checked.

    A field's clearing word (`custom_weights_id: "UNSET"`, `Field.clear_with`) clears it to null. With
    `current` (the endpoint as it stands), a GPU change is checked against its template too.
    """
    body = _require_object(body)
    check = _Checker(strict_keys=legacy)
    _refuse_unpatchable(check, body)
    changes = {}
    for name in MUTABLE_FIELDS:
        f = BY_NAME[name]
        if name not in body:
            continue
        cleared = f.clear_with is not None and body[name] == f.clear_with
        changes[name] = None if cleared else _check_field(check, body, f, current=current_scaling, patch=True)
    if current is not None:
        _check_gpus(check, changes, current)
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
