"""How values reach a policy rule: the unknown marker, numbers as floats, and the pack's config readers.

Shared by the per-endpoint rules (:mod:`.rules`) and the stack budget (:mod:`.budget`), and kept
apart from both, since :mod:`.rules` imports :mod:`.budget`:

* numbers always arrive as floats (protobuf ``Struct``), so ``gpu_count`` is
  ``1.0``: comparisons go through :func:`as_number` and messages through
  :func:`fmt_number`, which prints ``1``, never ``1.0``;
* during ``pulumi preview`` a value may not be known yet: it arrives as one of
  the engine's sentinel strings, or as the adapters' :data:`UNKNOWN` marker;
* config reaches a rule exactly as ``--policy-pack-config`` gave it, numbers
  as floats and keys possibly absent; :class:`PolicyConfigError` names a key
  whose value is unusable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Final, Literal

from pydantic import BaseModel

from pulumi_tokenfactory import wire


class Unknown(Enum):
    """Marker for a value that is not known until the deployment runs."""

    UNKNOWN = "unknown"

    def __repr__(self) -> str:
        return "<unknown>"


#: What the adapters put in place of an unknown value.
UNKNOWN: Final = Unknown.UNKNOWN

#: Endpoint properties: a plain mapping (as the engine sends them) or a model.
Props = Mapping[str, Any] | BaseModel
Config = Mapping[str, Any] | None
Enforcement = Literal["mandatory", "advisory"]


class PolicyConfigError(ValueError):
    """A config value a rule cannot use; the message names the key and the value."""


def is_unknown(value: Any) -> bool:
    """True for the :data:`UNKNOWN` marker and for what :func:`pulumi_tokenfactory.wire.is_unknown` calls unknown."""
    return value is UNKNOWN or wire.is_unknown(value)


def as_number(value: Any) -> int | float | None:
    """A number as the rules compare it: ``2.0`` becomes ``2``; None if unknown or not a number.

    Booleans are not numbers here (``True`` is no GPU count), and neither are
    NaN or infinities, which no endpoint can have.
    """
    if value is None or isinstance(value, bool) or is_unknown(value):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return wire.integral(value)  # the one normalisation: 2.0 -> 2, as the provider's check does
    return None


def fmt_number(value: Any) -> str:
    """Render a number the way a person wrote it: ``1.0`` as ``1``, ``1.5`` as ``1.5``."""
    number = as_number(value)
    return str(number) if number is not None else repr(value)


def quoted(values: Iterable[str]) -> str:
    """``'a', 'b'``: how messages list names and allowed values."""
    return ", ".join(repr(value) for value in values)


def as_props(props: Props) -> Mapping[str, Any]:
    """The properties as a mapping (a pydantic model is dumped)."""
    if isinstance(props, BaseModel):
        return props.model_dump()
    return props


# --- config readers ----------------------------------------------------------

def config_int(config: Config, key: str, default: int, *, minimum: int = 0) -> int:
    """A whole-number config value (``4.0`` accepted, as config arrives as floats)."""
    raw = (config or {}).get(key)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not float(raw).is_integer():
        raise PolicyConfigError(f"config {key!r} must be a whole number, got {raw!r}")
    value = int(raw)
    if value < minimum:
        raise PolicyConfigError(f"config {key!r} must be at least {minimum}, got {value}")
    return value


def config_str_list(config: Config, key: str, default: Sequence[str]) -> tuple[str, ...]:
    """A list-of-strings config value."""
    raw = (config or {}).get(key)
    if raw is None:
        return tuple(default)
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise PolicyConfigError(f"config {key!r} must be a list of strings, got {raw!r}")
    items = list(raw)
    if not all(isinstance(item, str) for item in items):
        raise PolicyConfigError(f"config {key!r} must be a list of strings, got {items!r}")
    return tuple(items)


def config_pattern(config: Config, key: str, default: str) -> re.Pattern[str]:
    """A regular-expression config value, compiled (an invalid one is a config error)."""
    raw = (config or {}).get(key)
    if raw is None:
        raw = default
    if not isinstance(raw, str):
        raise PolicyConfigError(f"config {key!r} must be a regular expression string, got {raw!r}")
    try:
        return re.compile(raw)
    except re.error as exc:
        raise PolicyConfigError(f"config {key!r} is not a valid regular expression ({exc}): {raw!r}") from exc
