"""Checks on create and patch bodies, with every problem named by its field.

A real API refuses bad input saying which field is wrong (the published API: FastAPI's 422 with a
`loc` per problem). The rules are the provider's own (rules.py, with the API's limits: `api=True`),
so the emulator and `check` refuse alike, in the same words. Types are checked strictly (a string is
not a number, `1` is not `true`), except that an integral float such as `1.0` counts as an integer,
as JSON parsers of protobuf APIs allow.

The two answer shapes differ in what a body may hold. The published API is FastAPI: a key it does
not know is ignored (so is `enabled` in a create, which its create request lacks: every endpoint
starts), and `region` is required. The legacy shapes refuse unknown keys, read-only ones, and honour
`enabled` on create, with `region` defaulting as the declaration says.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .. import rules
from ..api.models import EndpointPatch, EndpointSpec, Scaling, catalogue_violations
from ..fields import API_FIELDS, BY_NAME, CREATE_FIELDS, SCALING_CHILDREN, SCALING_FIELD, SCALING_FIELDS, Field, Kind
from .catalogue import TEMPLATES
from .errors import ApiError, FieldProblem
from .jsonbody import BodyError, loads_strict
from .store import CreateRequest

# The API's fields and their limits come from the resource's declaration (fields.py), and the rules from
# rules.py: the emulator accepts what the provider declares the API to accept, so the two cannot drift apart.
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


def _ctx(f: Field, rule: str) -> dict[str, Any]:
    """FastAPI's `ctx` of a broken rule: the limit it names."""
    limits = f.limits
    limit: dict[str, dict[str, Any]] = {
        rules.BLANK: {"min_length": 1}, rules.LENGTH: {"max_length": limits.max_length},
        rules.RANGE: {"ge": int(limits.minimum or 1)}, rules.CHOICE: {"expected": ", ".join(limits.choices)},
        rules.PATTERN: {"pattern": limits.pattern}}
    return limit.get(rule, {})


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
    """One field of a body, checked by its declaration with the API's limits (rules.py, `api=True`).

    A maximum the declaration marks as the provider's own typo guard (`provider_max`) is not the API's,
    so it is not applied here, nor are the provider's rules for display text. An optional free text may
    be null; in a PATCH, a field the API computes (`routing_key`) cannot be cleared.
    """
    required = required or f.required
    if f.name == SCALING_FIELD:
        if f.name not in body:
            check.add(f.name, rules.required(f, api=True), "missing_field")
            return None
        return check.scaling(body[f.name], current=current)
    free = f.type is str and not required and not f.limits.choices and not (patch and f.computed)
    return check.value(body, f, required=required or (patch and not free), nullable=free)


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
            check.add(key, rules.unknown_property(key, MUTABLE_FIELDS), "unknown_field", body[key])


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
