"""GPU spend of dedicated endpoints: reserved GPUs, the hourly cost range, and how a change moves them.

An endpoint reserves GPUs from the moment it exists: ``min_replicas x gpu_count`` run (and bill)
while it is enabled, up to ``max_replicas x gpu_count`` under load. This module is the ONE place that
turns properties into those figures and the lines people read: the resource outputs, the preview
lines, ``export_spend``, the policy pack and the account view all call it, so they never disagree.

Pure, and nothing heavy imported (no pulumi, pydantic or httpx): programs and the policy pack import it
on every run. Values arrive as the engine hands them over (numbers as floats, unknown sentinels in a
preview). Nothing is invented: an unknown value gives an unknown reservation, and a GPU type missing
from the price table an unknown cost, which the lines say.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .rules import whole
from .wire import is_unknown

#: Stack config key of the optional price table.
GPU_PRICES_CONFIG: Final = "tokenfactory:gpuHourlyPrices"

#: A GPU type as the catalogue spells it (``gpu-h100-sxm``); a key of another
#: shape (``h100``) is a typo that would silently leave every cost unknown.
_GPU_TYPE_PATTERN: Final = re.compile(r"^gpu-[a-z0-9][a-z0-9-]*$")
#: ISO 4217 style currency code.
_CURRENCY_PATTERN: Final = re.compile(r"^[A-Z]{3}$")
_CURRENCY_SYMBOLS: Final[Mapping[str, str]] = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3"}
_EXAMPLE: Final = '{"currency": "USD", "prices": {"gpu-h100-sxm": 3.5, "gpu-h200-sxm": 5.0}}'


class SpendConfigError(ValueError):
    """The price table is unusable; the message names the setting, the bad key or value and what is allowed."""


@dataclass(frozen=True)
class PriceTable:
    """Price per GPU-hour by GPU type, in one currency."""

    currency: str
    prices: Mapping[str, float]

    def price(self, gpu_type: str | None) -> float | None:
        """The price of one GPU-hour of ``gpu_type``; None when the table has no such type."""
        return None if gpu_type is None else self.prices.get(gpu_type)

    def money(self, amount: float, *, sign: bool = False) -> str:
        """``$7.00`` (``+$7.00`` with ``sign``) for USD, ``7.00 CHF`` for a currency without a symbol."""
        prefix = ("+" if amount >= 0 else "-") if sign else ("-" if amount < 0 else "")
        figure = f"{abs(amount):.2f}"
        symbol = _CURRENCY_SYMBOLS.get(self.currency)
        return f"{prefix}{symbol}{figure}" if symbol else f"{prefix}{figure} {self.currency}"

    def to_config(self) -> dict[str, Any]:
        """The table as the config value that :func:`parse_price_table` reads back."""
        return {"currency": self.currency, "prices": dict(self.prices)}


def _bad(detail: str) -> SpendConfigError:
    return SpendConfigError(f"{GPU_PRICES_CONFIG}: {detail}; expected an object like {_EXAMPLE}")


def parse_price_table(raw: Any) -> PriceTable | None:
    """The price table from the config value; None when the setting is absent (no cost is then reported).

    ``raw`` is the JSON text (as the engine passes config to the provider) or the parsed object
    (``pulumi.Config().get_object``). Raises :class:`SpendConfigError` naming the bad key or value.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _bad(f"not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(raw, Mapping):
        raise _bad(f"got a {type(raw).__name__}, not an object")
    unexpected = sorted(set(raw) - {"currency", "prices"})
    if unexpected:
        raise _bad(f"unknown key(s) {', '.join(repr(k) for k in unexpected)}; allowed keys: 'currency', 'prices'")
    currency = raw.get("currency")
    if not isinstance(currency, str) or not _CURRENCY_PATTERN.match(currency):
        raise _bad(f"'currency' is {currency!r}; allowed: a three-letter upper-case code such as 'USD' or 'EUR'")
    prices = raw.get("prices")
    if not isinstance(prices, Mapping) or not prices:
        raise _bad(f"'prices' is {prices!r}; allowed: a non-empty object of GPU type -> price per GPU-hour")
    table: dict[str, float] = {}
    for gpu_type, price in prices.items():
        if not isinstance(gpu_type, str) or not _GPU_TYPE_PATTERN.match(gpu_type):
            raise _bad(f"'prices' key {gpu_type!r} is not a GPU type; allowed: names like 'gpu-h100-sxm'")
        if isinstance(price, bool) or not isinstance(price, (int, float)) \
                or not math.isfinite(price) or price < 0:
            raise _bad(f"'prices'[{gpu_type!r}] is {price!r}; allowed: a number >= 0 (price per GPU-hour)")
        table[gpu_type] = float(price)
    return PriceTable(currency=currency, prices=table)


@dataclass(frozen=True)
class MinimumScale:
    """All a count of reserved GPUs needs (the stack ceiling policy counts with it directly)."""

    min_replicas: int
    gpu_count: int
    enabled: bool

    @property
    def reserved_gpus(self) -> int:
        """GPUs running (and billed) whatever the traffic: 0 when the endpoint is stopped."""
        return self.min_replicas * self.gpu_count if self.enabled else 0


@dataclass(frozen=True)
class Reservation(MinimumScale):
    """What one endpoint reserves: ``reserved_gpus`` while it runs at its minimum, ``max_gpus`` at its maximum."""

    gpu_type: str
    max_replicas: int

    @property
    def max_gpus(self) -> int:
        """GPUs it may run under load (the ceiling, whether or not it is enabled now)."""
        return self.max_replicas * self.gpu_count

    @property
    def peak_gpus(self) -> int:
        """GPUs it may bill at most right now: the maximum while enabled, 0 when stopped."""
        return self.max_gpus if self.enabled else 0


def _get(props: Any, key: str) -> Any:
    if isinstance(props, Mapping):
        return props.get(key)
    return getattr(props, key, None)


def minimum_scale(props: Any, *, assume_enabled_when_unknown: bool = False) -> MinimumScale | None:
    """``min_replicas``, ``gpu_count`` and ``enabled`` of an endpoint (``props`` as for :func:`reservation`).

    None if one is unusable: an ``enabled`` that is not a bool (unknown in a preview) too, unless
    ``assume_enabled_when_unknown``, as a ceiling must count an endpoint that may be running.
    """
    scaling = _get(props, "scaling")
    gpu_count = whole(_get(props, "gpu_count"))
    min_replicas = whole(_get(scaling, "min_replicas")) if scaling is not None else None
    enabled = _get(props, "enabled")
    if enabled is None or (assume_enabled_when_unknown and not isinstance(enabled, bool)):
        enabled = True
    if not isinstance(enabled, bool) or gpu_count is None or min_replicas is None:
        return None
    return MinimumScale(min_replicas=min_replicas, gpu_count=gpu_count, enabled=enabled)


def reservation(props: Any) -> Reservation | None:
    """The reservation of an endpoint from its declared inputs or its state; None if any part is unknown.

    ``props`` is a mapping (engine inputs or state, numbers possibly floats) or an object with
    the same attributes (an API model). ``enabled`` defaults to true, as the resource's does.
    """
    minimum = minimum_scale(props)
    scaling = _get(props, "scaling")
    gpu_type = _get(props, "gpu_type")
    max_replicas = whole(_get(scaling, "max_replicas")) if scaling is not None else None
    if minimum is None or not isinstance(gpu_type, str) or is_unknown(gpu_type) or max_replicas is None:
        return None
    return Reservation(min_replicas=minimum.min_replicas, gpu_count=minimum.gpu_count, enabled=minimum.enabled,
                       gpu_type=gpu_type, max_replicas=max_replicas)


@dataclass(frozen=True)
class HourlyCost:
    """The hourly cost range of what is reserved: at the minimum scale and at the maximum."""

    minimum: float
    maximum: float
    currency: str


def hourly_cost(res: Reservation, table: PriceTable | None) -> HourlyCost | None:
    """The endpoint's hourly cost range; None without a table or when the table lacks its GPU type."""
    if table is None:
        return None
    price = table.price(res.gpu_type)
    if price is None:
        return None
    return HourlyCost(minimum=res.reserved_gpus * price, maximum=res.peak_gpus * price, currency=table.currency)


def hourly_cost_or_free(res: Reservation, table: PriceTable) -> HourlyCost | None:
    """The hourly cost for the account view and the budget: a stopped endpoint costs nothing, priced or not.

    (The resource's own spend outputs stay None without a price: `hourly_cost`.)"""
    cost = hourly_cost(res, table)
    if cost is None and not res.enabled:
        return HourlyCost(minimum=0.0, maximum=0.0, currency=table.currency)
    return cost


def spend_outputs(props: Any, table: PriceTable | None) -> dict[str, Any]:
    """The resource's spend outputs from its state: ``reserved_gpus``, ``max_gpus`` (ints, always), and
    ``hourly_cost_min``, ``hourly_cost_max``, ``cost_currency`` (None without a price for its GPU type).

    A state whose reservation cannot be read (it should not happen after a create) reports 0 GPUs
    rather than failing the operation that has already happened.
    """
    res = reservation(props)
    cost = hourly_cost(res, table) if res is not None else None
    return {
        "reserved_gpus": res.reserved_gpus if res is not None else 0,
        "max_gpus": res.max_gpus if res is not None else 0,
        "hourly_cost_min": cost.minimum if cost is not None else None,
        "hourly_cost_max": cost.maximum if cost is not None else None,
        "cost_currency": cost.currency if cost is not None else None,
    }


def _by_type(res: Reservation | None) -> dict[str, int]:
    return {res.gpu_type: res.reserved_gpus} if res is not None and res.reserved_gpus else {}


def delta(old: Reservation | None, new: Reservation | None, table: PriceTable | None) -> str:
    """How the reservation moves from ``old`` to ``new`` (None: absent), e.g. ``+2 gpu-h100-sxm reserved, +$7.00/h``.

    One part per GPU type that changes (a replace may swap types), then the cost change when a
    table is given, or why the cost is unknown. ``no change in reserved GPUs`` when nothing moves.
    """
    before, after = _by_type(old), _by_type(new)
    changes = {t: after.get(t, 0) - before.get(t, 0) for t in sorted(set(before) | set(after))}
    changes = {t: d for t, d in changes.items() if d}
    if not changes:
        return "no change in reserved GPUs"
    parts = [f"{d:+d} {t} reserved" for t, d in changes.items()]
    if table is not None:
        missing = [t for t in changes if table.price(t) is None]
        cost = sum(d * (table.price(t) or 0.0) for t, d in changes.items())
        parts.append(f"cost unknown: no price for {', '.join(missing)} in {GPU_PRICES_CONFIG}" if missing
                     else f"{table.money(cost, sign=True)}/h")
    return ", ".join(parts)


def create_line(new: Reservation | None, table: PriceTable | None) -> str:
    """The line for a create: what the new endpoint reserves."""
    if new is None:
        return "reserved GPUs unknown until the deployment runs"
    if not new.reserved_gpus:
        return f"no GPUs reserved (stopped; up to {new.max_gpus} {new.gpu_type} once enabled)"
    return delta(None, new, table)


def update_line(old: Reservation | None, new: Reservation | None, table: PriceTable | None) -> str:
    """The line for an in-place update: the change and ``(old -> new)`` reserved GPUs."""
    if old is None or new is None:
        return "change in reserved GPUs unknown until the deployment runs"
    moved = delta(old, new, table)
    if old.reserved_gpus == new.reserved_gpus and old.gpu_type == new.gpu_type:
        return moved
    return f"{moved} ({old.reserved_gpus} -> {new.reserved_gpus})"


def refresh_line(recorded: Reservation | None, found: Reservation | None, table: PriceTable | None) -> str | None:
    """The line for a refresh that finds the endpoint changed outside Pulumi: how the reservation moved from what
    the state recorded to what the API reports, e.g. ``+1 gpu-h100-sxm reserved (1 -> 2)``; None when it did not.

    The direction is the one that happened (recorded -> found), not the diff's (found -> recorded, what an
    `up` would do).
    """
    if recorded is None or found is None:
        return None
    if (recorded.reserved_gpus, recorded.gpu_type) == (found.reserved_gpus, found.gpu_type):
        return None
    return update_line(recorded, found, table)


def delete_line(old: Reservation | None, table: PriceTable | None) -> str:
    """The line for a delete: what the endpoint stops reserving."""
    if old is None:
        return "reserved GPUs of the deleted endpoint unknown"
    return delta(old, None, table)


def replace_line(old: Reservation | None, new: Reservation | None, table: PriceTable | None,
                 *, delete_before_replace: bool = False) -> str:
    """The line for a replace, with the brief double reservation of create-before-delete.

    Create-before-delete (the default) runs the replacement beside the original until it is
    ready, so both reservations bill for a while: the line shows that peak, then the release
    of the original, then the net change.
    """
    if old is None or new is None:
        return "replace: change in reserved GPUs unknown until the deployment runs"
    if delete_before_replace:
        return (f"replace (delete-before-create): {delta(old, None, table)}, then {delta(None, new, table)}; "
                f"net {delta(old, new, table)}")
    peak = old.reserved_gpus + new.reserved_gpus
    return (f"replace (create-before-delete): {delta(None, new, table)} (peak {peak} reserved while both exist), "
            f"then {delta(old, None, table)}; net {delta(old, new, table)}")


def stack_total(reservations: Mapping[str, Reservation | None], table: PriceTable | None) -> dict[str, Any]:
    """The total over a program's endpoints (resource name -> reservation, None if unknown).

    ``reserved_gpus`` and ``max_gpus`` over the known ones, ``by_resource`` {name: reserved_gpus}
    (None when unknown), ``unknown`` the names whose figures only the deployment decides, and with
    a table the cost range and ``currency`` (``cost_unknown`` names the GPU types lacking a price).
    """
    known = {name: res for name, res in reservations.items() if res is not None}
    total: dict[str, Any] = {
        "reserved_gpus": sum(res.reserved_gpus for res in known.values()),
        "max_gpus": sum(res.peak_gpus for res in known.values()),
        "by_resource": {name: (res.reserved_gpus if res is not None else None)
                        for name, res in sorted(reservations.items())},
    }
    unknown = sorted(set(reservations) - set(known))
    if unknown:
        total["unknown"] = unknown
    if table is not None:
        costs = [hourly_cost(res, table) for res in known.values()]
        missing = sorted({res.gpu_type for res in known.values() if table.price(res.gpu_type) is None})
        total["hourly_cost_min"] = round(sum(c.minimum for c in costs if c is not None), 2)
        total["hourly_cost_max"] = round(sum(c.maximum for c in costs if c is not None), 2)
        total["currency"] = table.currency
        if missing:
            total["cost_unknown"] = missing
    return total
