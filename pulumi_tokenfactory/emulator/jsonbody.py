"""Strict decoding of request bodies: JSON a real API would accept, or a reason it would not.

Python's `json` is more lenient than the parsers behind real HTTP APIs, in
two ways that used to turn a bad request into an emulator failure:

- it accepts an unpaired UTF-16 surrogate escape (`"\\ud800"`) and returns a
  `str` that cannot be encoded as UTF-8, so every later attempt to answer
  with that text (the endpoint it named, the request log) failed with 500;
  protobuf's JSON parsers, which gRPC-gateway APIs such as Token Factory
  sit on, refuse such an escape as a syntax error, and so does this module;
- it recurses once per nesting level and raises `RecursionError` (not a
  `ValueError`) on a body such as a million `[`: that was a 500 too. Nothing
  this API takes nests more than a few levels, so more than `MAX_DEPTH`
  levels is refused outright;
- it accepts `NaN`, `Infinity` and `-Infinity`, and reads a number too large
  for a float (`1e400`) as infinity: values no JSON encoder may write back,
  so the request log that kept them answered 500 from then on. JSON has no
  such numbers, and they are refused here as the syntax errors they are.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

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
