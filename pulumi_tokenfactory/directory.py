"""A short-lived, shared view of the account's endpoints.

The API has a list route, so one list call can answer every reader and
waiter in the provider process: a refresh of 100 endpoints, or 20 creates
waiting for readiness, share a handful of calls instead of making one each.
Concurrent callers that find the view too old wait for a single fetch
rather than each starting their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .client import TokenFactoryClient
from .models import Endpoint


class EndpointDirectory:
    def __init__(self, client: TokenFactoryClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._endpoints: dict[str, Endpoint] | None = None
        self._taken_at = 0.0
        self._seen: set[str] = set()
        self._listed = False

    def snapshot(self, max_age: float) -> dict[str, Endpoint]:
        """Endpoints by id, listed no more than `max_age` seconds before the call."""
        requested_at = self._clock()
        with self._lock:
            if self._endpoints is not None and self._taken_at >= requested_at - max_age:
                return self._endpoints
            started = self._clock()
            self._endpoints = {e.id: e for e in self._client.list_endpoints()}
            self._taken_at = started
            self._seen.update(self._endpoints)
            self._listed = True
            return self._endpoints

    def find(self, endpoint_id: str, max_age: float) -> Endpoint | None:
        return self.snapshot(max_age).get(endpoint_id)

    def seen_ids(self) -> frozenset[str]:
        """Every endpoint id any list of this process has shown (listing once if none has run).

        An id seen once existed before any POST made after that list, which is all
        exactly-once creation needs; it never has to be fresh.
        """
        if not self._listed:
            self.snapshot(max_age=float("inf"))
        with self._lock:
            return frozenset(self._seen)

    def invalidate(self) -> None:
        """Forget the view: called after every change this process makes."""
        with self._lock:
            self._endpoints = None
