"""Input validation for `check`: every problem named by property, with what is allowed.

Runs on the raw engine bag before anything is sent to the API, so it must
never raise on odd input (wrong types, None in nested fields, unknown
values during preview): each problem becomes one `(property, reason)` pair.
The rules themselves are pulumi_tokenfactory/rules.py, shared with the emulator
and the policy pack; this module applies them to the engine's bag: defaults,
unknown values, normalisation (2.0 becomes 2), then the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import errors, rules
from ..api.models import Template, catalogue_violations
from ..fields import Field
from ..wire import PROVIDER_KEY, is_unknown
from .fields import (
    ABSENT_WHEN_UNSET,
    FIELDS,
    INPUT_FIELDS,
    SCALING_CHILDREN,
    SCALING_FIELD,
    SCALING_FIELDS,
)
from .properties import EndpointInputs

__all__ = ["CheckOutcome", "check_inputs", "option_conflict", "parse_inputs"]

_WAIT, _READY = "wait_for_inference", "wait_for_ready"
#: What the catalogue decides (`catalogue_violations`' keywords); checked only once all are known and well-typed.
_CATALOGUE_KEYS = ("model_name", "flavor_name", "gpu_type", "gpu_count", "region")


@dataclass
class CheckOutcome:
    """Normalised inputs (ints as ints, defaults filled) and the failures found."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, prop: str, reason: str) -> None:
        self.failures.append((prop, reason))


def _value(out: CheckOutcome, f: Field, value: Any, prop: str) -> Any:
    """`value` checked by `f`'s declaration and normalised (2.0 is 2); None after a failure."""
    if value is None:
        out.fail(prop, rules.required(f, prop=prop))
        return None
    found = rules.check_value(f, value, prop=prop)
    if found is not None:
        out.fail(prop, found[1])
        return None
    return rules.whole(value) if f.type is int else value


def _check_scaling(out: CheckOutcome, value: Any) -> None:
    if (problem := rules.not_an_object(SCALING_FIELD, value, SCALING_FIELDS)) is not None:
        out.fail(SCALING_FIELD, problem)
        return
    for extra in sorted(set(value) - set(SCALING_FIELDS)):
        out.fail(f"scaling.{extra}", rules.unknown_property(f"scaling.{extra}", SCALING_FIELDS))
    bounds = {c.name: None if is_unknown(value.get(c.name)) else _value(out, c, value.get(c.name), f"scaling.{c.name}")
              for c in SCALING_CHILDREN}
    if (problem := rules.replica_order(bounds["min_replicas"], bounds["max_replicas"])) is not None:
        out.fail("scaling.min_replicas", problem)
    out.inputs[SCALING_FIELD] = {k: (v if v is not None else value.get(k)) for k, v in bounds.items()}


def _check_field(out: CheckOutcome, f: Field, value: Any) -> None:
    """One declared input: left-out optional ones take their default (or stay absent), the rest are checked.

    Absent rather than filled in: an input whose default is None, and one added after the first
    release (`Field.added`), so that a program written before it existed checks as it always did.
    """
    unset = value is None or (value == "" and f.default is None and not f.required)
    if unset and not f.required:
        if f.name in ABSENT_WHEN_UNSET:
            out.inputs.pop(f.name, None)
        else:
            out.inputs[f.name] = f.default
    elif f.name == SCALING_FIELD and value is not None:  # a missing one is refused by `_value`, as any field
        _check_scaling(out, value)
    elif (checked := _value(out, f, value, f.name)) is not None:
        out.inputs[f.name] = checked


def check_inputs(
    news: dict[str, Any],
    templates: Callable[[], list[Template]] | None = None,
) -> CheckOutcome:
    """Validate and normalise one resource's inputs, each by its declaration (`fields.FIELDS`).

    A refused pair of options (`option_conflict`) is a failure too. `templates` is called only when
    model, flavor, GPU type and count are all known and well-typed and no option is refused, so a
    preview with computed inputs or a typo never costs an API call.
    """
    out = CheckOutcome(inputs={k: v for k, v in news.items() if k != PROVIDER_KEY})
    for extra in sorted(set(out.inputs) - set(INPUT_FIELDS)):
        out.fail(extra, rules.unknown_property(extra, INPUT_FIELDS))
        del out.inputs[extra]

    def known(prop: str) -> bool:
        return not is_unknown(news.get(prop))

    for f in FIELDS:
        if f.is_input and known(f.name):
            _check_field(out, f, news.get(f.name))

    conflict = option_conflict(news)  # a refused pair of options fails before any API call (no catalogue)
    failed = {prop.split(".")[0] for prop, _ in out.failures}
    catalogue_ready = all(known(k) for k in _CATALOGUE_KEYS) and not failed & set(_CATALOGUE_KEYS)
    if templates is not None and not conflict and catalogue_ready:
        # As checked: 2.0 is 2, the region defaulted.
        choice: dict[str, Any] = {k: out.inputs.get(k) for k in _CATALOGUE_KEYS}
        for violation in catalogue_violations(templates(), **choice):
            out.fail(violation.property, violation.reason)
    if conflict:
        out.fail(*conflict)
    return out


def option_conflict(props: Mapping[str, Any]) -> tuple[str, str] | None:
    """(property, reason) when `wait_for_inference` is asked for without `wait_for_ready`, else None.

    The inference probe starts where the wait for `running` ends; without that wait there is no running
    endpoint to probe, so the combination is refused in `check`, before any API call.
    """
    if props.get(_WAIT) is True and props.get(_READY) is False:
        return _WAIT, (f"{_WAIT}=True requires {_READY}=True (the inference probe starts once the endpoint is "
                       f"running); set {_READY}=True, or {_WAIT}=False")
    return None


def parse_inputs(props: Mapping[str, Any]) -> EndpointInputs:
    """Inputs for a mutating call; validated again here so that a skipped `check` can never reach the API."""
    outcome = check_inputs(dict(props))
    if outcome.failures:
        details = "; ".join(f"{prop}: {reason}" for prop, reason in outcome.failures)
        raise errors.ConfigurationError(f"Invalid DedicatedEndpoint inputs: {details}")
    return EndpointInputs.from_props(outcome.inputs)
