"""The validation rules, each written once over plain values.

A rule gives the problem as one line naming the property and what is allowed, or None. The provider's
`check` (endpoint/validation.py), the emulator's request checks (emulator/validation.py) and the policy
pack call these instead of restating them; only which limits apply differs (`api=True`: the API's,
without the provider's own typo guards, `Limits.provider_max`, and text rules) and how a problem
travels (`check_value` says which rule broke, for FastAPI's 422 `type`). What each field allows is
declared once, in endpoint/fields.py; the catalogue rule is `api.models.catalogue_violations`.

No pydantic and no httpx, so that the API's models can call these from their validators.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Final, TypeVar

from .fields import Field
from .wire import integral

#: Which rule a problem broke (`check_value`): the emulator answers TYPE as FastAPI's "invalid_type".
TYPE: Final = "type"
BLANK: Final = "blank"
LENGTH: Final = "length"
CHARACTERS: Final = "characters"
CHOICE: Final = "choice"
PATTERN: Final = "pattern"
RANGE: Final = "range"

_N = TypeVar("_N", int, float)


def type_name(value: Any) -> str:
    """A value's type in JSON's words; every number is "number" (the engine sends each one as a float)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", tuple: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def shown(value: Any) -> str:
    """A value as a person wrote it: 2.0 as 2, anything long cut short."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def whole(value: Any) -> int | None:
    """A whole number as an int (2.0 counts, as the engine and JSON send it); None for bools, 2.5, NaN, text."""
    number = integral(value)
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _got(value: Any) -> str:
    """The value a message says it got: its type, and the value unless that is null."""
    return "null" if value is None else f"{type_name(value)} {shown(value)}"


def _bound(number: float | None) -> str:
    return "" if number is None else shown(float(number))


def _upper(f: Field, bound: _N | None, api: bool) -> _N | None:
    """`f`'s upper bound (`max_length` or `maximum`), none where only the API's limits apply and it is ours."""
    return None if api and f.limits.provider_max else bound


def _lowest(f: Field) -> float:
    """A count's lower bound: 1 unless declared (a whole number below 1 counts nothing)."""
    return 1 if f.limits.minimum is None else f.limits.minimum


def allowed(f: Field, *, api: bool = False) -> str:
    """What `f` accepts, in words (`api`: within the API's limits only)."""
    limits = f.limits
    if f.children:
        lowest = {c.name: _bound(c.limits.minimum) for c in f.children} | {"max_replicas": "min_replicas"}
        return "{" + ", ".join(f"{name}: >= {low}" for name, low in lowest.items()) + "}"
    if f.type is str:
        if limits.choices:
            return f"{limits.format}, one of {', '.join(limits.choices)}"
        if limits.pattern is not None:
            return limits.format
        most = _upper(f, limits.max_length, api)
        return ("a non-empty string" if f.required or limits.min_length else "a string") + (
            f" of at most {most} characters" if most is not None else "")
    if f.type is int:
        low, high = _bound(_lowest(f)), _upper(f, limits.maximum, api)
        return f"a whole number from {low} to {_bound(high)}" if high is not None else f"a whole number >= {low}"
    if f.type is float:
        unit = f" of {limits.unit}" if limits.unit else ""
        return f"a number{unit} from {_bound(limits.minimum)} to {_bound(limits.maximum)}"
    return "true or false"


def required(f: Field, *, prop: str | None = None, api: bool = False) -> str:
    """A required field that was left out (or null)."""
    return f"{prop or f.name} is required: {allowed(f, api=api)}"


def unknown_property(prop: str, known: Iterable[str]) -> str:
    return f"unknown property {prop!r}; allowed: {', '.join(known)}"


def not_an_object(prop: str, value: Any, keys: Iterable[str]) -> str | None:
    if isinstance(value, dict):
        return None
    return f"{prop} must be an object with {' and '.join(keys)}, got {type_name(value)}"


def replica_order(min_replicas: Any, max_replicas: Any) -> str | None:
    """The one rule between two fields: min_replicas <= max_replicas (either None, unknown: nothing to say)."""
    if min_replicas is None or max_replicas is None or not min_replicas > max_replicas:
        return None
    return (f"scaling.min_replicas ({shown(min_replicas)}) must not exceed "
            f"scaling.max_replicas ({shown(max_replicas)})")


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


def code_point(ch: str) -> str:
    """`U+200B ZERO WIDTH SPACE`: one offending character, named so it can be found (never the whole value)."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}{' ' + name if name else ''}"


def refused_character(prop: str, text: str, *, multiline: bool) -> str | None:
    """The first control or invisible character a display text holds (the provider's rule, not the API's).

    The docs promise "no control characters": that covers more than category Cc. Line and
    paragraph separators (U+2028, U+2029) break a line as surely as a newline; bidirectional
    controls reorder what a reader sees; zero-width and other format characters (Cf) are
    invisible, so two names that look the same could differ, or a name could look empty. The
    one exception is a zero-width (non-)joiner between two visible characters, where it is part
    of the text. A description (`multiline`) may also hold line breaks (\\n) and tabs.
    """
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category not in _REFUSED_CATEGORIES or (multiline and ch in "\n\t"):
            continue
        if ch in _JOINERS and 0 < index < len(text) - 1 and _visible(text[index - 1]) and _visible(text[index + 1]):
            continue
        kind = "a bidirectional text control" if ch in _BIDI_CONTROLS else _REFUSED_CATEGORIES[category]
        breaks = " other than line breaks (\\n) and tabs" if multiline else " (no line breaks or tabs either)"
        return (f"{prop} must not contain {kind} ({code_point(ch)}, character {index + 1}); "
                f"not allowed: control characters{breaks}, line and paragraph separators (U+2028, U+2029), "
                f"bidirectional controls (U+202A-U+202E, U+2066-U+2069) and invisible formatting "
                f"characters such as zero-width spaces")
    return None


def check_value(f: Field, value: Any, *, prop: str | None = None, api: bool = False) -> tuple[str, str] | None:
    """The first rule of `f`'s declaration that `value` (given, not None) breaks, as (rule, problem); else None.

    `prop` names it in the message (`scaling.min_replicas` for a nested field). `api`: only the
    API's limits apply, as the emulator applies them. The nested object (`scaling`) is checked by its
    parts: `not_an_object`, each child here, `replica_order`.
    """
    prop = prop or f.name
    limits = f.limits
    if f.type is str:
        text = isinstance(value, str)
        if limits.choices:  # `format` says the choices in words ("a Token Factory region")
            if value in limits.choices:
                return None
            choices = ", ".join(limits.choices)
            return (CHOICE if text else TYPE), f"{prop} {value!r} is not {limits.format}; allowed: {choices}"
        if limits.pattern is not None:  # the whole value must match
            if text and re.fullmatch(limits.pattern, value):
                return None
            return (PATTERN if text else TYPE), f"{prop} must be {limits.format}; got {value!r}"
        if not text:
            return TYPE, f"{prop} must be a string, got {_got(value)}"
        most = _upper(f, limits.max_length, api)
        if (f.required or limits.min_length) and not value.strip():
            return BLANK, f"{prop} must not be empty or blank"
        if most is not None and len(value) > most:
            return LENGTH, f"{prop} must be at most {most} characters, got {len(value)}"
        if not api and (problem := refused_character(prop, value, multiline=limits.multiline)) is not None:
            return CHARACTERS, problem
        return None
    if f.type is int:  # 2 and 2.0 alike (the engine sends floats); not bools, 2.5, NaN or text
        number = whole(value)
        highest = _upper(f, limits.maximum, api)
        if number is None:
            return TYPE, f"{prop} must be {allowed(f, api=api)}, got {_got(value)}"
        if number < _lowest(f) or (highest is not None and number > highest):
            return RANGE, f"{prop} must be {allowed(f, api=api)}, got {shown(value)}"
        return None
    if f.type is float:  # a finite number, int or float alike (bools are not numbers)
        finite = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
        if finite and not (limits.minimum is not None and value < limits.minimum) \
                and not (limits.maximum is not None and value > limits.maximum):
            return None
        return (RANGE if finite else TYPE), f"{prop} must be {allowed(f)}, got {value!r}"
    if f.type is bool:
        return None if isinstance(value, bool) else (TYPE, f"{prop} must be true or false, got {_got(value)}")
    raise AssertionError(f"no rule for {prop} of type {f.type.__name__}")
