"""A short-lived, shared view of the account's endpoints.

The API has a list route, so one list call can answer every reader and
waiter in the provider process: a refresh of 100 endpoints, or 20 creates
waiting for readiness, share a handful of calls instead of making one each.
Concurrent callers that find the view too old wait for a single fetch
rather than each starting their own.

A view also remembers which listed items it could not read (`Listing.malformed`):
one odd item must not fail everybody's refresh, but nobody may mistake it for
an endpoint that is gone either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..api.client import TokenFactoryClient
from ..api.models import Endpoint, MalformedItem, malformed_items, unreadable_item


class Listing(dict[str, Endpoint]):
    """Endpoints by id from one list answer, plus the items of that answer that could not be read."""

    def __init__(self, endpoints: dict[str, Endpoint], malformed: tuple[MalformedItem, ...] = ()) -> None:
        super().__init__(endpoints)
        self.malformed = malformed

    def unreadable(self, endpoint_id: str) -> MalformedItem | None:
        return unreadable_item(self.malformed, endpoint_id)


class EndpointDirectory:
    def __init__(self, client: TokenFactoryClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._endpoints: Listing | None = None
        self._taken_at = 0.0

    def snapshot(self, max_age: float) -> Listing:
        """Endpoints by id, listed no more than `max_age` seconds before the call."""
        requested_at = self._clock()
        with self._lock:
            if self._endpoints is not None and self._taken_at >= requested_at - max_age:
                return self._endpoints
            started = self._clock()
            listed = self._client.list_endpoints()
            self._endpoints = Listing({e.id: e for e in listed}, malformed_items(listed))
            self._taken_at = started
            return self._endpoints

    def invalidate(self) -> None:
        """Forget the view: called after every change this process makes."""
        with self._lock:
            self._endpoints = None
