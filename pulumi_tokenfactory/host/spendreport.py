"""The provider host's spend reporting: the spend outputs of the state, and a line per step on the endpoint's row.

What each call of the lifecycle can say, and only says through `spend` (the one spend model):

* Check of a new resource (no olds): what the create will reserve;
* Diff: an update's change ``(old -> new)``, or a replace's create-before-delete double reservation.
  The engine then calls Check again with no olds for the replacement; the URNs Diff marked as
  replaces are remembered so that this second Check does not announce a second create;
* Create, Update, Delete (during ``up``): what was reserved or released;
* Refresh: what changed outside Pulumi, recorded -> found. After each Read the engine calls Diff
  with the refreshed state as olds and the recorded inputs as news (an `up`'s view, which it
  inverts for display), so `diffed` turns the first Diff after a Read of that resource into the
  refresh line instead of announcing an update.

A delete is never seen during a preview (the engine does not call the provider for it), so it
only shows in the program's stack total (`export_spend`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .. import spend
from ..endpoint.fields import ADOPT_FIELD
from ..schema import URN_FIELD
from .enginelog import EngineLog, resource_label


def urn_of(props: Mapping[str, Any]) -> str | None:
    """The URN the program passed in ``__urn``; None in states written before it existed (or if unknown)."""
    urn = props.get(URN_FIELD)
    return urn if isinstance(urn, str) and urn.startswith("urn:pulumi:") else None


def without_urn(props: Mapping[str, Any]) -> dict[str, Any]:
    """The property bag without ``__urn``, which only steers these lines and never reaches the API."""
    return {k: v for k, v in props.items() if k != URN_FIELD}


class SpendReport:
    """Spend lines for one provider host; thread-safe, as the host serves calls in parallel."""

    def __init__(self, prices: spend.PriceTable | None, log: EngineLog) -> None:
        self._prices = prices
        self._log = log
        self._lock = threading.Lock()
        self._replacing: set[str] = set()
        #: URN -> the reservation a Read just found: the Diff that follows it is the refresh's (see `refreshed`).
        self._refreshed: dict[str, spend.Reservation | None] = {}

    def outputs(self, state: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        """``state`` plus the spend outputs it implies, and the declared ``__urn`` kept for a later delete's line."""
        outs = {**state, **spend.spend_outputs(state, self._prices)}
        urn = urn_of(declared)
        if urn is not None:
            outs[URN_FIELD] = urn
        return outs

    def _say(self, message: str, props: Mapping[str, Any]) -> None:
        urn = urn_of(props)
        self._log.info(message, urn, resource_label(urn, dict(props)))

    def checked(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> None:
        """Check: a new resource (no olds) says what it will reserve, unless it replaces one (Diff said so)."""
        if olds:
            return
        urn = urn_of(news)
        with self._lock:
            if urn is not None and urn in self._replacing:
                self._replacing.discard(urn)
                return
        new = spend.reservation(news)
        line = spend.create_line(new, self._prices)
        if isinstance(news.get(ADOPT_FIELD), str) and news.get(ADOPT_FIELD):
            self._say(f"adopt: {line} in this stack (the endpoint exists already: no new GPUs are bought)", news)
        else:
            self._say(f"new endpoint: {line}", news)  # not "create: ": the row reads `create` already

    def diffed(self, olds: Mapping[str, Any], news: Mapping[str, Any], *, changed: bool, replaces: bool,
               delete_before_replace: bool = False) -> None:
        """Diff: the update's change, or the replace's double reservation; nothing when nothing changes."""
        if self._refresh_diff(olds, news) or not changed:  # the refresh's diff first: it consumes its mark
            return
        old, new = spend.reservation(olds), spend.reservation(news)
        if replaces:
            urn = urn_of(news)
            if urn is not None:
                with self._lock:
                    self._replacing.add(urn)
            self._say(spend.replace_line(old, new, self._prices, delete_before_replace=delete_before_replace),
                      news)
        else:
            self._say(f"update: {spend.update_line(old, new, self._prices)}", news)

    def created(self, props: Mapping[str, Any]) -> None:
        self._say(f"created: {spend.create_line(spend.reservation(props), self._prices)}", props)

    def updated(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> None:
        line = spend.update_line(spend.reservation(olds), spend.reservation(news), self._prices)
        self._say(f"updated: {line}", news)

    def deleted(self, props: Mapping[str, Any]) -> None:
        self._say(f"deleted: {spend.delete_line(spend.reservation(props), self._prices)}", props)

    def refreshed(self, found: Mapping[str, Any]) -> None:
        """Read (refresh) found ``found``: the next Diff of this resource is the engine's refresh diff."""
        urn = urn_of(found)
        if urn is not None:
            with self._lock:
                self._refreshed[urn] = spend.reservation(found)

    def _refresh_diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """True when this Diff is the one the engine makes right after a refresh's Read (olds: what the Read found;
        news: the recorded inputs); then the line says what changed outside Pulumi, in the direction it happened."""
        urn = urn_of(news)
        with self._lock:
            if urn is None or urn not in self._refreshed:
                return False
            found = spend.reservation(olds)
            if self._refreshed[urn] != found:
                return False
            del self._refreshed[urn]
        line = spend.refresh_line(spend.reservation(news), found, self._prices)
        if line is not None:
            self._say(f"refresh found a change made outside Pulumi: {line}; the next `pulumi up` sets it back to "
                      f"what the program declares", news)
        return True
