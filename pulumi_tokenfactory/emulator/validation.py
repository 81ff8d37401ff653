"""Checks on create and patch bodies, every problem named by its field, by the provider's own rules (rules.py).

The emulator and `check` thus refuse alike, in the same words. The published API (FastAPI) ignores unknown keys
and requires `region`; the legacy shapes refuse unknown and read-only keys and honour `enabled` on create.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

from starlette.requests import Request

from .. import rules
from ..api.models import EndpointPatch, EndpointSpec, Scaling, catalogue_violations
from ..endpoint.fields import (
    API_FIELDS,
    BY_NAME,
    CREATE_FIELDS,
    REPLACE_FIELDS,
    SCALING_CHILDREN,
    SCALING_FIELD,
    SCALING_FIELDS,
    UPDATABLE_FIELDS,
)
from ..fields import Field
from .catalogue import TEMPLATES
from .errors import ApiError, FieldProblem
from .store import CreateRequest

#: Set by the API, never by a caller.
READ_ONLY_FIELDS = tuple(name for name in ("id", "endpoint_id", "routing_key", "status", "deployment", "created_at",
                                           "updated_at") if name not in API_FIELDS)
#: What the published create request requires beyond the declaration's required fields ("regions need to be
#: specified explicitly"); the legacy shapes let it default.
PUBLISHED_REQUIRED = ("region",)

_MISSING = object()


def _ctx(f: Field, rule: str) -> dict[str, Any]:
    """FastAPI's `ctx` of a broken rule: the limit it names."""
    limits = f.limits
    limit: dict[str, dict[str, Any]] = {
        rules.BLANK: {"min_length": 1}, rules.LENGTH: {"max_length": limits.max_length},
        rules.RANGE: {"ge": int(limits.minimum or 1)}, rules.CHOICE: {"expected": ", ".join(limits.choices)},
        rules.PATTERN: {"pattern": limits.pattern}}
    return limit.get(rule, {})


class _Checker:
    """Accumulates problems so that one answer lists all of them; `strict_keys` (legacy) refuses unknown keys."""

    def __init__(self, *, strict_keys: bool = True) -> None:
        self.problems: list[FieldProblem] = []
        self.strict_keys = strict_keys

    def add(self, field: str | None, message: str, code: str = "invalid_value", value: Any = None,
            **ctx: Any) -> None:
        self.problems.append(FieldProblem(field, message, code, input=value, ctx=ctx))

    def unknown(self, body: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
        if not self.strict_keys:
            return
        for key in body:
            if key not in allowed:
                self.add(f"{prefix}{key}", rules.unknown_property(f"{prefix}{key}", allowed), "unknown_field")

    def value(self, body: dict[str, Any], f: Field, *, prop: str | None = None, required: bool,
              nullable: bool = False) -> Any:
        """`f`'s value in `body`, checked by the API's limits (an integral float is an int); None if absent or wrong."""
        prop = prop or f.name
        value = body.get(f.name, _MISSING)
        if value is _MISSING:
            if required:
                self.add(prop, rules.required(f, prop=prop, api=True), "missing_field")
            return None
        if value is None and nullable:
            return None
        found = rules.check_value(f, value, prop=prop, api=True)
        if found is None:
            return rules.whole(value) if f.type is int else value
        rule, message = found
        self.add(prop, message, "invalid_type" if rule == rules.TYPE else "invalid_value", value, **_ctx(f, rule))
        return None

    def scaling(self, value: Any, *, current: Scaling | None = None) -> Scaling | None:
        """A full Scaling; with `current` (a PATCH), a bound left out keeps its value."""
        if (problem := rules.not_an_object(SCALING_FIELD, value, SCALING_FIELDS)) is not None:
            self.add(SCALING_FIELD, problem, "invalid_type", value)
            return None
        before = len(self.problems)
        self.unknown(value, SCALING_FIELDS, prefix="scaling.")
        bounds = {c.name: getattr(current, c.name) if current is not None and c.name not in value
                  else self.value(value, c, prop=f"scaling.{c.name}", required=True) for c in SCALING_CHILDREN}
        low, high = bounds["min_replicas"], bounds["max_replicas"]
        if low is None or high is None or len(self.problems) > before:
            return None
        if (problem := rules.replica_order(low, high)) is not None:
            self.add("scaling.min_replicas", problem, value=low)
            return None
        # Checked by the same rules as Scaling's own validator: built without checking them a second time.
        return Scaling.model_construct(min_replicas=low, max_replicas=high)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ApiError.invalid(self.problems)


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", f"the request body must be a JSON object, got {rules.type_name(body)}")
    return body


def _check_field(check: _Checker, body: dict[str, Any], f: Field, *, current: Scaling | None = None,
                 patch: bool = False, required: bool = False) -> Any:
    """One field of a body, checked with the API's limits; an optional free text may be null, except in a PATCH
    of a field the API computes (`routing_key`)."""
    required = required or f.required
    if f.name == SCALING_FIELD:
        if f.name not in body:
            check.add(f.name, rules.required(f, api=True), "missing_field")
            return None
        return check.scaling(body[f.name], current=current)
    free = f.type is str and not required and not f.limits.choices and not (patch and f.computed)
    return check.value(body, f, required=required or (patch and not free), nullable=free)


def validate_create(body: Any, *, legacy: bool = False) -> CreateRequest:
    """The body of `POST /v0/dedicated_endpoints`, checked against the catalogue too."""
    body = _require_object(body)
    check = _Checker(strict_keys=legacy)
    allowed = API_FIELDS if legacy else CREATE_FIELDS
    check.unknown(body, allowed)
    values = {name: _check_field(check, body, BY_NAME[name], required=not legacy and name in PUBLISHED_REQUIRED)
              for name in allowed}
    if values["model_name"] is not None:
        _check_catalogue(check, values)
    check.raise_if_any()
    enabled = values.pop("enabled", None)
    spec = EndpointSpec(**{k: v for k, v in values.items() if v is not None})
    return CreateRequest(spec, enabled=enabled is not False)


def validate_patch(body: Any, current: EndpointSpec, *, legacy: bool = False) -> EndpointPatch:
    """The body of `PATCH /v0/dedicated_endpoints/{id}` on the endpoint `current`: only mutable fields, each checked;
    a field's clearing word (`Field.clear_with`) clears it; a GPU change must be one its template offers. Immutable
    fields are refused always; read-only and unknown ones in the legacy shapes."""
    body = _require_object(body)
    check = _Checker(strict_keys=legacy)
    for key in body:
        if key in REPLACE_FIELDS:
            check.add(key, f"{key} is immutable: it cannot be changed after creation (create a new endpoint "
                           f"instead); mutable fields: {', '.join(UPDATABLE_FIELDS)}", "immutable_field", body[key])
        elif not check.strict_keys:
            continue
        elif key in READ_ONLY_FIELDS:
            check.add(key, f"{key} is read-only: it is set by the API", "read_only_field", body[key])
        elif key not in UPDATABLE_FIELDS:
            check.add(key, rules.unknown_property(key, UPDATABLE_FIELDS), "unknown_field", body[key])
    changes = {}
    for name in UPDATABLE_FIELDS:
        if name in body:
            f = BY_NAME[name]
            cleared = f.clear_with is not None and body[name] == f.clear_with
            changes[name] = None if cleared else _check_field(check, body, f, current=current.scaling, patch=True)
    sent = tuple(name for name in ("gpu_type", "gpu_count") if changes.get(name) is not None)
    if sent:
        _check_catalogue(check, {**current.model_dump(), **{k: changes[k] for k in sent}}, sent)
    check.raise_if_any()
    return EndpointPatch(**changes)


def _check_catalogue(check: _Checker, values: dict[str, Any], only: tuple[str, ...] | None = None) -> None:
    """The model, flavor and GPUs must be a combination the catalogue offers (`only`: report just these fields)."""
    wanted = {k: values[k] for k in ("model_name", "flavor_name", "gpu_type", "gpu_count")}
    for violation in catalogue_violations(list(TEMPLATES), **wanted):
        if only is None or violation.property in only:
            check.add(violation.property, violation.reason, value=wanted[violation.property])


async def read_json(request: Request) -> Any:
    """The body as strict JSON (`loads_strict`); a body that is not is the caller's 400, not our 500."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "invalid_body", "the request body is empty; expected a JSON object")
    try:
        return loads_strict(raw)
    except BodyError as exc:
        raise ApiError(400, "invalid_json", str(exc), field=exc.field) from None


# -- strict JSON: what a real (protobuf-backed) API would accept -------------------------------------

#: Deeper than any body of this API nests (a create: two levels; a chat request: four), far within recursion limits.
MAX_DEPTH = 100


class BodyError(ValueError):
    """The body is not JSON that a strict parser would accept; the message says why, `field` says where."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def loads_strict(raw: bytes | str) -> Any:
    """The JSON value of `raw`, refused (BodyError) when not UTF-8, not JSON, too deep or holding a lone surrogate."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise BodyError(f"the request body nests deeper than {MAX_DEPTH} levels") from None
    except BodyError:
        raise
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are ValueErrors
        raise BodyError(f"the request body is not valid JSON: {exc}") from None
    _check_value(value)
    return value


def _refuse_constant(name: str) -> NoReturn:
    raise BodyError(f"the request body is not valid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    """A JSON number as a float, refused when it overflows to infinity (`1e400`)."""
    value = float(text)
    if not math.isfinite(value):
        raise BodyError(f"the request body is not valid JSON: the number {text[:40]} is out of range")
    return value


def _check_value(value: Any) -> None:
    """Walk the decoded value without recursion: depth within MAX_DEPTH, every string valid Unicode."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, where)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise BodyError(f"the request body nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                path = f"{where}.{key}" if where else str(key)
                _check_text(key, path)
                stack.append((child, path, depth + 1))
        else:
            stack.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(item))


def _check_text(text: str, where: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        unit = f"\\u{ord(text[exc.start]):04x}"
        place = f" at {_printable(where)}" if where else ""
        raise BodyError(f"the request body is not valid JSON: the string{place} holds a lone UTF-16 surrogate "
                        f"{unit} (an unpaired \\ud800-\\udfff escape); strings must be valid Unicode",
                        field=_printable(where) or None) from None


def _printable(text: str) -> str:
    """`text` with any surrogate escaped, so that an error message about it can itself be sent as UTF-8."""
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8")
