"""The stack's GPU budget: reserved GPUs and their hourly cost against configured limits, as a pure rule.

Every figure comes from :mod:`pulumi_tokenfactory.spend` (``reservation``,
``parse_price_table``, ``hourly_cost``), the same code that computes the
resource outputs, the preview lines and the account view, so the policy can
never disagree with what ``pulumi stack output`` or ``tokenfactory-account``
shows for the same endpoints.

What the rule counts, and why:

* **reserved GPUs** are ``min_replicas x gpu_count`` of each *enabled*
  endpoint (0 when stopped): they run and bill whatever the traffic, so they
  are the stack's guaranteed bill;
* **hourly cost** is those reserved GPUs times their GPU type's price from
  ``gpuHourlyPrices`` (the stack setting's format). The peak under load
  (``max_replicas``) is not capped here: autoscaling headroom is what
  ``tokenfactory-max-replicas-ceiling`` limits;
* an endpoint whose figures are **unknown** during a preview (a value computed
  by another resource) is not counted and not guessed: a violation names it,
  and the engine's stack check at the end of ``pulumi up`` sees the real value;
* an endpoint whose GPU type has **no price** cannot be costed. With
  ``maxHourlyCost`` set that is itself a violation (the budget fails closed):
  otherwise a GPU type missing from the table would be a way around the cap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pulumi_tokenfactory import spend

from .values import Config, PolicyConfigError, Props, as_props, config_int, is_unknown, quoted

_N = TypeVar("_N", int, float)

#: Stable policy name, the key of ``--policy-pack-config``.
STACK_GPU_BUDGET: Final = "tokenfactory-stack-gpu-budget"

#: The config keys, as ``--policy-pack-config`` spells them.
MAX_RESERVED_GPUS: Final = "maxReservedGpus"
MAX_HOURLY_COST: Final = "maxHourlyCost"
GPU_HOURLY_PRICES: Final = "gpuHourlyPrices"

#: The JSON schema the engine validates the config against (and shows in ``GetAnalyzerInfo``).
CONFIG_SCHEMA: Final[Mapping[str, Mapping[str, Any]]] = {
    MAX_RESERVED_GPUS: {
        "type": "integer", "minimum": 0,
        "description": "Most GPUs the stack's enabled endpoints may keep reserved (min_replicas x gpu_count). "
                       "Absent: not capped."},
    MAX_HOURLY_COST: {
        "type": "number", "minimum": 0,
        "description": "Most the stack's reserved GPUs may cost per hour, in the currency of gpuHourlyPrices "
                       "(required with it). Absent: not capped."},
    GPU_HOURLY_PRICES: {
        "type": "object",
        "description": "Price table, the format of the stack setting tokenfactory:gpuHourlyPrices: "
                       '{"currency": "USD", "prices": {"gpu-h100-sxm": 3.5}}.'},
}


@dataclass(frozen=True)
class Limits:
    """The budget as configured; a limit that is None is not checked."""

    max_reserved_gpus: int | None
    max_hourly_cost: float | None
    prices: spend.PriceTable | None


def limits(config: Config) -> Limits:
    """Read and check the budget's config; :class:`PolicyConfigError` names the key that is unusable."""
    values = config or {}
    max_gpus = None if values.get(MAX_RESERVED_GPUS) is None else config_int(values, MAX_RESERVED_GPUS, 0)
    max_cost = _config_money(values, MAX_HOURLY_COST)
    try:
        prices = spend.parse_price_table(values.get(GPU_HOURLY_PRICES))
    except spend.SpendConfigError as error:
        raise PolicyConfigError(f"config {GPU_HOURLY_PRICES!r} is not a usable price table ({error})") from None
    if max_cost is not None and prices is None:
        raise PolicyConfigError(
            f"config {MAX_HOURLY_COST!r} needs {GPU_HOURLY_PRICES!r} (the price per GPU-hour by GPU type), e.g. "
            f'{{"{GPU_HOURLY_PRICES}": {{"currency": "USD", "prices": {{"gpu-h100-sxm": 3.5}}}}}}')
    return Limits(max_reserved_gpus=max_gpus, max_hourly_cost=max_cost, prices=prices)


def _config_money(values: Mapping[str, Any], key: str) -> float | None:
    raw = values.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise PolicyConfigError(f"config {key!r} must be a number (an amount per hour), got {raw!r}")
    if raw < 0:
        raise PolicyConfigError(f"config {key!r} must be at least 0, got {raw!r}")
    return float(raw)


@dataclass(frozen=True)
class Counted:
    """One endpoint the budget could read: its reservation and, with a table, its hourly cost."""

    resource: str
    reservation: spend.Reservation
    cost: float | None  # None: its GPU type has no price (only when it reserves GPUs)


@dataclass(frozen=True)
class Tally:
    """The stack as the budget sees it."""

    counted: tuple[Counted, ...]
    unknown: tuple[str, ...]     # figures only the deployment decides
    unreadable: tuple[str, ...]  # figures present but not a reservation (a fraction, a wrong type)

    @property
    def reserved_gpus(self) -> int:
        return sum(c.reservation.reserved_gpus for c in self.counted)

    @property
    def hourly_cost(self) -> float:
        """The cost of the priced part (see :attr:`unpriced`)."""
        return sum(c.cost for c in self.counted if c.cost is not None)

    @property
    def unpriced(self) -> tuple[Counted, ...]:
        return tuple(c for c in self.counted if c.cost is None)


def _is_unknown_anywhere(props: Mapping[str, Any]) -> bool:
    scaling = props.get("scaling")
    parts = [props.get(key) for key in ("gpu_type", "gpu_count", "enabled")]
    parts += [scaling] if not isinstance(scaling, Mapping) else [scaling.get("min_replicas"),
                                                                  scaling.get("max_replicas")]
    return any(is_unknown(part) for part in parts)


def tally(endpoints: Iterable[tuple[str, Props]], prices: spend.PriceTable | None) -> Tally:
    """Each endpoint's reservation (and cost) by :func:`spend.reservation`, or why it cannot be counted."""
    counted: list[Counted] = []
    unknown: list[str] = []
    unreadable: list[str] = []
    for resource, raw in endpoints:
        props = as_props(raw)
        res = spend.reservation(props)
        if res is None:
            (unknown if _is_unknown_anywhere(props) else unreadable).append(resource)
            continue
        cost: float | None = None
        if prices is not None:
            priced = spend.hourly_cost_or_free(res, prices)
            cost = priced.minimum if priced is not None else None
        counted.append(Counted(resource, res, cost))
    return Tally(tuple(counted), tuple(sorted(unknown)), tuple(sorted(unreadable)))


def _not_counted(t: Tally) -> str:
    notes = []
    if t.unknown:
        notes.append(f"not counted, values unknown until the deployment runs: {quoted(t.unknown)}")
    if t.unreadable:
        notes.append(f"not counted, scaling/gpu_count/gpu_type/enabled not readable: {quoted(t.unreadable)}")
    return "".join(f"; {note}" for note in notes)


def _by_size(items: Iterable[tuple[str, _N]]) -> list[tuple[str, _N]]:
    """Largest first (then by name); zero contributions left out."""
    return sorted((item for item in items if item[1]), key=lambda item: (-item[1], item[0]))


def check_stack_gpu_budget(endpoints: Iterable[tuple[str, Props]], config: Config = None) -> list[str]:
    """The stack's reserved GPUs must not exceed ``maxReservedGpus``, nor their hourly cost ``maxHourlyCost``.

    Messages name the limit, the total and each contributor (largest first),
    and every endpoint that could not be counted.
    """
    budget = limits(config)
    if budget.max_reserved_gpus is None and budget.max_hourly_cost is None:
        return []
    t = tally(endpoints, budget.prices)
    messages: list[str] = []
    if budget.max_reserved_gpus is not None and t.reserved_gpus > budget.max_reserved_gpus:
        parts = ", ".join(f"{name}: {gpus}" for name, gpus in
                          _by_size((c.resource, c.reservation.reserved_gpus) for c in t.counted))
        messages.append(f"The stack reserves {t.reserved_gpus} GPUs ({parts}), over the limit "
                        f"{MAX_RESERVED_GPUS}={budget.max_reserved_gpus}{_not_counted(t)}.")
    if budget.max_hourly_cost is not None:
        assert budget.prices is not None  # limits() refuses a cost limit without a table
        messages += _cost_messages(t, budget.max_hourly_cost, budget.prices)
    return messages


def _cost_messages(t: Tally, limit: float, prices: spend.PriceTable) -> list[str]:
    shown_limit = f"{MAX_HOURLY_COST}={prices.money(limit)}/h"
    if t.unpriced:
        missing = sorted({c.reservation.gpu_type for c in t.unpriced})
        users = ", ".join(f"{c.resource!r} ({c.reservation.reserved_gpus} {c.reservation.gpu_type})"
                          for c in sorted(t.unpriced, key=lambda c: c.resource))
        return [f"The stack's hourly cost cannot be checked against {shown_limit}: {GPU_HOURLY_PRICES} has no price "
                f"for {', '.join(missing)}, reserved by {users}; the priced part costs "
                f"{prices.money(t.hourly_cost)}/h{_not_counted(t)}. Add the GPU type(s) to {GPU_HOURLY_PRICES}."]
    total = round(t.hourly_cost, 2)
    if total <= limit:
        return []
    parts = ", ".join(f"{name}: {prices.money(cost)}" for name, cost in
                      _by_size((c.resource, c.cost or 0.0) for c in t.counted))
    return [f"The stack's reserved GPUs cost {prices.money(total)}/h ({parts}), over the limit "
            f"{shown_limit}{_not_counted(t)}."]
