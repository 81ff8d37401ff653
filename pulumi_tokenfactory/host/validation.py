"""Input validation for `check`: every problem named by property, with what is allowed.

Runs on the raw engine bag before anything is sent to the API, so it must
never raise on odd input (wrong types, None in nested fields, unknown
values during preview): each problem becomes one `(property, reason)` pair.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.models import Template, catalogue_violations
from ..fields import (
    ABSENT_WHEN_UNSET,
    FIELDS,
    INPUT_FIELDS,
    MAX_GPU_COUNT,
    MAX_READY_TIMEOUT_SECONDS,
    MAX_REPLICAS,
    SCALING_CHILDREN,
    SCALING_FIELD,
    Field,
)
from ..wire import PROVIDER_KEY, is_unknown
from ..wire import UNKNOWN_STRING as UNKNOWN_SENTINEL  # noqa: F401  (its old name, which tests import)

__all__ = ["MAX_GPU_COUNT", "MAX_READY_TIMEOUT_SECONDS", "MAX_REPLICAS", "CheckOutcome", "check_inputs",
           "is_unknown"]


@dataclass
class CheckOutcome:
    """Normalised inputs (ints as ints, defaults filled) and the failures found."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, prop: str, reason: str) -> None:
        self.failures.append((prop, reason))


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"  # the engine sends every number as a float; say neither
    return "null" if value is None else type(value).__name__


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: Bidirectional controls: overrides and embeddings (U+202A-U+202E), isolates (U+2066-U+2069) and the
#: invisible direction marks. They can make a name read differently from what it holds ("Trojan Source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: Zero-width non-joiner and joiner: needed inside words of some scripts (Persian, Indic) and emoji sequences.
_JOINERS = frozenset("\u200c\u200d")
#: What a refused character is, by Unicode category (the docs list the same classes).
_REFUSED_CATEGORIES = {"Cc": "a control character", "Zl": "a line separator", "Zp": "a paragraph separator",
                       "Cs": "a surrogate code point", "Cf": "an invisible formatting character"}


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] not in "CZ"


def _refused_character(value: str, *, multiline: bool) -> tuple[int, str] | None:
    """The first character a display text may not hold, and what kind it is, or None.

    The docs promise "no control characters": that covers more than category Cc. Line and
    paragraph separators (U+2028, U+2029) break a line as surely as a newline; bidirectional
    controls reorder what a reader sees; zero-width and other format characters (Cf) are
    invisible, so two names that look the same could differ, or a name could look empty. The
    one exception is a zero-width (non-)joiner between two visible characters, where it is part
    of the text. A description (`multiline`) may also hold line breaks (\\n) and tabs.
    """
    for index, ch in enumerate(value):
        category = unicodedata.category(ch)
        if category not in _REFUSED_CATEGORIES or (multiline and ch in "\n\t"):
            continue
        if ch in _JOINERS and 0 < index < len(value) - 1 and _visible(value[index - 1]) \
                and _visible(value[index + 1]):
            continue
        return index, "a bidirectional text control" if ch in _BIDI_CONTROLS else _REFUSED_CATEGORIES[category]
    return None


def _code_point(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}{' ' + name if name else ''}"


def _check_text(out: CheckOutcome, prop: str, value: Any, *, required: bool, max_length: int,
                multiline: bool = False) -> None:
    if value is None:
        if required:
            out.fail(prop, f"{prop} is required: a non-empty string")
        return
    if not isinstance(value, str):
        out.fail(prop, f"{prop} must be a string, got {_type_name(value)} {_shown(value)}")
    elif required and not value.strip():
        out.fail(prop, f"{prop} must not be empty or blank")
    elif len(value) > max_length:
        out.fail(prop, f"{prop} is {len(value)} characters long; at most {max_length} are allowed")
    elif (refused := _refused_character(value, multiline=multiline)) is not None:
        index, kind = refused
        breaks = " other than line breaks (\\n) and tabs" if multiline else " (no line breaks or tabs either)"
        out.fail(prop, f"{prop} must not contain {kind} ({_code_point(value[index])}, character {index + 1}); "
                       f"not allowed: control characters{breaks}, line and paragraph separators (U+2028, U+2029), "
                       f"bidirectional controls (U+202A-U+202E, U+2066-U+2069) and invisible formatting "
                       f"characters such as zero-width spaces")


def _bound(number: float | None) -> str:
    return "" if number is None else _shown(float(number))


def _integer(out: CheckOutcome, prop: str, value: Any, *, minimum: float | None,
             maximum: float | None) -> int | None:
    """Accept 2 and 2.0 (the engine sends floats); refuse bools, 2.5, NaN, strings, absurd sizes."""
    low = 1 if minimum is None else minimum
    allowed = (f"a whole number from {_bound(low)} to {_bound(maximum)}" if maximum is not None
               else f"a whole number >= {_bound(low)}")
    if value is None:
        out.fail(prop, f"{prop} is required: {allowed}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value != int(value):
        out.fail(prop, f"{prop} must be {allowed}, got {_type_name(value)} {_shown(value)}")
        return None
    if value < low or (maximum is not None and value > maximum):
        out.fail(prop, f"{prop} must be {allowed}, got {_shown(value)}")
        return None
    return int(value)


def _number(out: CheckOutcome, f: Field, value: Any) -> float | None:
    """A finite number within the field's bounds (ints and floats alike; bools are not numbers)."""
    limits = f.limits
    unit = f" of {limits.unit}" if limits.unit else ""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or (limits.minimum is not None and value < limits.minimum) \
            or (limits.maximum is not None and value > limits.maximum):
        out.fail(f.name, f"{f.name} must be a number{unit} from {_bound(limits.minimum)} to "
                         f"{_bound(limits.maximum)}, got {value!r}")
        return None
    return value


def _boolean(out: CheckOutcome, prop: str, value: Any, default: bool) -> bool | None:
    if value is None:
        return default
    if not isinstance(value, bool):
        out.fail(prop, f"{prop} must be true or false, got {_type_name(value)} {value!r}")
        return None
    return value


def _scaling_shape() -> str:
    return "{" + ", ".join(f"{c.name}: >= {'min_replicas' if c.name == 'max_replicas' else _bound(c.limits.minimum)}"
                           for c in SCALING_CHILDREN) + "}"


def _check_scaling(out: CheckOutcome, value: Any) -> None:
    names = [c.name for c in SCALING_CHILDREN]
    if value is None:
        out.fail(SCALING_FIELD, f"scaling is required: {_scaling_shape()}")
        return
    if is_unknown(value):
        return
    if not isinstance(value, dict):
        out.fail(SCALING_FIELD, f"scaling must be an object with {' and '.join(names)}, got {_type_name(value)}")
        return
    for extra in sorted(set(value) - set(names)):
        out.fail(f"scaling.{extra}", f"unknown property scaling.{extra}; allowed: {', '.join(names)}")
    bounds: dict[str, int | None] = {}
    for child in SCALING_CHILDREN:
        raw = value.get(child.name)
        bounds[child.name] = None if is_unknown(raw) else _integer(
            out, f"scaling.{child.name}", raw, minimum=child.limits.minimum, maximum=child.limits.maximum)
    # The one rule between two fields: a behaviour, not a limit of either.
    low, high = bounds["min_replicas"], bounds["max_replicas"]
    if low is not None and high is not None and low > high:
        out.fail("scaling.min_replicas",
                 f"scaling.min_replicas ({low}) must not exceed scaling.max_replicas ({high})")
    out.inputs[SCALING_FIELD] = {k: (v if v is not None else value.get(k)) for k, v in bounds.items()}


def _check_string(out: CheckOutcome, f: Field, value: Any) -> None:
    limits = f.limits
    if limits.choices:
        if value not in limits.choices:
            out.fail(f.name, f"{f.name} {value!r} is not {limits.format}; allowed: {', '.join(limits.choices)}")
    elif limits.pattern is not None:
        if not isinstance(value, str) or not re.fullmatch(limits.pattern, value):
            out.fail(f.name, f"{f.name} must be {limits.format}; got {value!r}")
    else:
        _check_text(out, f.name, value, required=f.required or bool(limits.min_length),
                    max_length=limits.max_length or 2**31, multiline=limits.multiline)


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
        return
    if f.name == SCALING_FIELD:
        _check_scaling(out, value)
    elif f.type is str:
        _check_string(out, f, value)
    elif f.type is int:
        number = _integer(out, f.name, value, minimum=f.limits.minimum, maximum=f.limits.maximum)
        if number is not None:
            out.inputs[f.name] = number
    elif f.type is float:
        if _number(out, f, value) is not None:
            out.inputs[f.name] = value
    elif f.type is bool:
        flag = _boolean(out, f.name, value, bool(f.default))
        if flag is not None:
            out.inputs[f.name] = flag


def check_inputs(
    news: dict[str, Any],
    templates: Callable[[], list[Template]] | None = None,
) -> CheckOutcome:
    """Validate and normalise one resource's inputs, each by its declaration (`fields.FIELDS`).

    `templates` is called only when model, flavor, GPU type and count are all
    known and well-typed, so a preview with computed inputs or a typo in a
    type never costs an API call.
    """
    out = CheckOutcome(inputs={k: v for k, v in news.items() if k != PROVIDER_KEY})
    for extra in sorted(set(out.inputs) - set(INPUT_FIELDS)):
        out.fail(extra, f"unknown property {extra!r}; allowed: {', '.join(INPUT_FIELDS)}")
        del out.inputs[extra]

    def known(prop: str) -> bool:
        return not is_unknown(news.get(prop))

    for f in FIELDS:
        if f.is_input and known(f.name):
            _check_field(out, f, news.get(f.name))

    catalogue_keys = ("model_name", "flavor_name", "gpu_type", "gpu_count", "region")
    failed = {prop.split(".")[0] for prop, _ in out.failures}
    if templates is not None and all(known(k) for k in catalogue_keys) and not failed & set(catalogue_keys):
        for violation in catalogue_violations(
            templates(),
            model_name=news["model_name"],
            flavor_name=news["flavor_name"],
            gpu_type=news["gpu_type"],
            gpu_count=out.inputs["gpu_count"],
            region=out.inputs.get("region"),
        ):
            out.fail(violation.property, violation.reason)
    return out
