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

from ..api.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, REGIONS, Template, catalogue_violations
from ..schema import ADOPT_FIELD, DEFAULT_READY_TIMEOUT_SECONDS, INPUT_FIELDS
from ..wire import PROVIDER_KEY, is_unknown
from ..wire import UNKNOWN_STRING as UNKNOWN_SENTINEL  # noqa: F401  (its old name, which tests import)

MAX_READY_TIMEOUT_SECONDS = 24 * 3600


@dataclass
class CheckOutcome:
    """Normalised inputs (ints as ints, defaults filled) and the failures found."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, prop: str, reason: str) -> None:
        self.failures.append((prop, reason))


#: Far above any real endpoint, low enough to catch a typo (or 1e20) before the API does.
MAX_REPLICAS = 1000
MAX_GPU_COUNT = 64


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


def _integer(out: CheckOutcome, prop: str, value: Any, *, minimum: int, maximum: int) -> int | None:
    """Accept 2 and 2.0 (the engine sends floats); refuse bools, 2.5, NaN, strings, absurd sizes."""
    allowed = f"a whole number from {minimum} to {maximum}"
    if value is None:
        out.fail(prop, f"{prop} is required: {allowed}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value != int(value):
        out.fail(prop, f"{prop} must be {allowed}, got {_type_name(value)} {_shown(value)}")
        return None
    if not minimum <= value <= maximum:
        out.fail(prop, f"{prop} must be {allowed}, got {_shown(value)}")
        return None
    return int(value)


def _boolean(out: CheckOutcome, prop: str, value: Any, default: bool) -> bool | None:
    if value is None:
        return default
    if not isinstance(value, bool):
        out.fail(prop, f"{prop} must be true or false, got {_type_name(value)} {value!r}")
        return None
    return value


def _check_scaling(out: CheckOutcome, value: Any) -> None:
    if value is None:
        out.fail("scaling", "scaling is required: {min_replicas: >= 1, max_replicas: >= min_replicas}")
        return
    if is_unknown(value):
        return
    if not isinstance(value, dict):
        out.fail("scaling", f"scaling must be an object with min_replicas and max_replicas, "
                            f"got {_type_name(value)}")
        return
    for extra in sorted(set(value) - {"min_replicas", "max_replicas"}):
        out.fail(f"scaling.{extra}", f"unknown property scaling.{extra}; allowed: min_replicas, max_replicas")
    bounds: dict[str, int | None] = {}
    for key in ("min_replicas", "max_replicas"):
        raw = value.get(key)
        bounds[key] = None if is_unknown(raw) else _integer(out, f"scaling.{key}", raw, minimum=1,
                                                                 maximum=MAX_REPLICAS)
    low, high = bounds["min_replicas"], bounds["max_replicas"]
    if low is not None and high is not None and low > high:
        out.fail("scaling.min_replicas",
                 f"scaling.min_replicas ({low}) must not exceed scaling.max_replicas ({high})")
    out.inputs["scaling"] = {k: (v if v is not None else value.get(k)) for k, v in bounds.items()}


_ENDPOINT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def _check_adopt_id(out: CheckOutcome, value: Any) -> None:
    """An endpoint id as the API prints them (`ep-...`), or nothing; normalised to None when empty."""
    if value is None or value == "":
        out.inputs.pop(ADOPT_FIELD, None)
        return
    if not isinstance(value, str) or not _ENDPOINT_ID.fullmatch(value):
        out.fail(ADOPT_FIELD, f"adopt_id must be the id of an existing endpoint, e.g. 'ep-0a1b2c3d', as the "
                              f"Token Factory console or `tokenfactory-adopt` shows it; got {value!r}")


def check_inputs(
    news: dict[str, Any],
    templates: Callable[[], list[Template]] | None = None,
) -> CheckOutcome:
    """Validate and normalise one resource's inputs.

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

    for prop in ("name", "model_name", "flavor_name", "gpu_type"):
        if known(prop):
            _check_text(out, prop, news.get(prop), required=True,
                        max_length=NAME_MAX_LENGTH if prop == "name" else 256)
    if known("description"):
        _check_text(out, "description", news.get("description"), required=False,
                    max_length=DESCRIPTION_MAX_LENGTH, multiline=True)
        out.inputs["description"] = news.get("description") or ""
    if known("gpu_count"):
        count = _integer(out, "gpu_count", news.get("gpu_count"), minimum=1, maximum=MAX_GPU_COUNT)
        if count is not None:
            out.inputs["gpu_count"] = count
    _check_scaling(out, news.get("scaling"))
    if known("region"):
        region = news.get("region")
        if region is None:
            out.inputs["region"] = REGIONS[0]
        elif region not in REGIONS:
            out.fail("region", f"region {region!r} is not a Token Factory region; "
                               f"allowed: {', '.join(REGIONS)}")
    for prop, default in (("enabled", True), ("wait_for_ready", True)):
        if known(prop):
            flag = _boolean(out, prop, news.get(prop), default)
            if flag is not None:
                out.inputs[prop] = flag
    if known("ready_timeout"):
        timeout = news.get("ready_timeout", DEFAULT_READY_TIMEOUT_SECONDS)
        timeout = DEFAULT_READY_TIMEOUT_SECONDS if timeout is None else timeout
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout) \
                or not 1 <= timeout <= MAX_READY_TIMEOUT_SECONDS:
            out.fail("ready_timeout", f"ready_timeout must be a number of seconds from 1 to "
                                      f"{MAX_READY_TIMEOUT_SECONDS}, got {timeout!r}")
        else:
            out.inputs["ready_timeout"] = timeout

    if known(ADOPT_FIELD):
        _check_adopt_id(out, news.get(ADOPT_FIELD))

    catalogue_keys = ("model_name", "flavor_name", "gpu_type", "gpu_count")
    failed = {prop.split(".")[0] for prop, _ in out.failures}
    if templates is not None and all(known(k) for k in catalogue_keys) and not failed & set(catalogue_keys):
        for violation in catalogue_violations(
            templates(),
            model_name=news["model_name"],
            flavor_name=news["flavor_name"],
            gpu_type=news["gpu_type"],
            gpu_count=out.inputs["gpu_count"],
        ):
            out.fail(violation.property, violation.reason)
    return out
