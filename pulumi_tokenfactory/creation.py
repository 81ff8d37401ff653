"""Create an endpoint exactly once, even when the POST's answer is lost.

A POST whose answer never arrives (timeout, dropped connection, a 5xx after
the server may have acted) leaves us not knowing whether a GPU endpoint now
exists. Repeating it blindly could buy a second one. So after a lost answer
we look for an endpoint that was not known before the POST and matches the
name and spec we sent, adopt it if found, and post again only when it is
certainly absent. Any extra twin a late-landing POST produces is deleted, so
one resource owns one endpoint.

An endpoint with the same name and spec that already exists before a create
(typically left by an interrupted `pulumi up`) is reported by `check`, during
preview, using `twin_failure`: nothing is posted, and the user is told how to
adopt it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import errors
from .client import TokenFactoryClient
from .models import Endpoint, EndpointSpec, LifecycleState

log = logging.getLogger(__name__)

MAX_POSTS = 3
#: After a lost answer, how long to keep looking for an endpoint the server may still be creating.
SETTLE_SECONDS = (0.0, 1.0, 3.0)

_LOST_ANSWER = (errors.ServerError, errors.TransportError, errors.UnexpectedResponseError)

def matches(endpoint: Endpoint, spec: EndpointSpec) -> bool:
    """Same name and the same immutable spec: the fingerprint of an endpoint we asked for."""
    return (
        endpoint.name == spec.name
        and endpoint.model_name == spec.model_name
        and endpoint.flavor_name == spec.flavor_name
        and endpoint.gpu_type == spec.gpu_type
        and endpoint.gpu_count == spec.gpu_count
        and (endpoint.region or spec.region) == spec.region
    )


def twin_failure(spec: EndpointSpec, listed: Iterable[Endpoint]) -> str | None:
    """Why creating `spec` would duplicate an existing endpoint, or None when it would not."""
    twins = [e for e in listed if matches(e, spec) and e.lifecycle is not LifecycleState.DELETING]
    if not twins:
        return None
    shown = ", ".join(f"{e.id} ({e.status or 'unknown status'})" for e in twins[:3])
    more = f" and {len(twins) - 3} more" if len(twins) > 3 else ""
    return (f"an endpoint named {spec.name!r} with the same model, flavor, GPU and region already exists: "
            f"{shown}{more}. It may have been left by an interrupted `pulumi up`. Adopt it by adding "
            f"opts=pulumi.ResourceOptions(import_=\"<id>\") to this resource, delete it, or choose another "
            f"name; nothing was created")


@dataclass
class CreateOutcome:
    """The endpoint this resource owns, and whether the POST's answer had to be recovered."""

    endpoint: Endpoint
    known_before: frozenset[str]
    answer_lost: bool = False
    reaped: list[str] = field(default_factory=list)


class ExactlyOnceCreator:
    def __init__(self, client: TokenFactoryClient, *, known_ids: Callable[[], frozenset[str]] | None = None,
                 on_change: Callable[[], None] = lambda: None, sleep: Callable[[float], None] = time.sleep) -> None:
        """`known_ids` names every endpoint seen before a POST (default: list them)."""
        self._client = client
        self._known_ids = known_ids or (lambda: frozenset(e.id for e in client.list_endpoints()))
        self._on_change = on_change
        self._sleep = sleep
        # Endpoints owned by some create of this provider process: two resources with the
        # same name and spec, created at once, must never adopt (or reap) each other's.
        self._claimed: set[str] = set()
        self._claimed_lock = threading.Lock()

    def owns(self, endpoint_id: str) -> bool:
        """Whether a create of this process made (or adopted) that endpoint."""
        with self._claimed_lock:
            return endpoint_id in self._claimed

    def _claim(self, endpoint: Endpoint) -> bool:
        with self._claimed_lock:
            if endpoint.id in self._claimed:
                return False
            self._claimed.add(endpoint.id)
            return True

    def create(self, spec: EndpointSpec) -> CreateOutcome:
        known = self._known_ids()
        lost = False
        for attempt in range(1, MAX_POSTS + 1):
            try:
                endpoint = self._client.create_endpoint(spec)
            except _LOST_ANSWER as exc:
                if isinstance(exc, errors.TransportError) and not exc.request_sent:
                    raise
                lost = True
                self._on_change()
                log.warning("create of %r: the answer was lost (%s); looking for the endpoint", spec.name, exc)
                found = self._find_created(spec, known)
                if found is not None:
                    return CreateOutcome(found, known, answer_lost=True)
                if attempt == MAX_POSTS:
                    raise errors.EndpointOperationError(
                        f"Creating endpoint {spec.name!r} failed {MAX_POSTS} times and no endpoint appeared; "
                        f"nothing was created. Last error: {exc}") from None
                continue
            self._on_change()
            self._claim(endpoint)
            return CreateOutcome(endpoint, known, answer_lost=lost)
        raise AssertionError("unreachable")

    def _find_created(self, spec: EndpointSpec, known: frozenset[str]) -> Endpoint | None:
        for pause in SETTLE_SECONDS:
            self._sleep(pause)
            try:
                listed = self._client.list_endpoints()
            except (errors.ServerError, errors.TransportError) as exc:
                log.warning("listing endpoints after a lost create answer failed: %s", exc)
                continue
            for candidate in new_twins(listed, spec, known):
                if self._claim(candidate):
                    return candidate
        return None

    def reap_twins(self, outcome: CreateOutcome, spec: EndpointSpec, listed: Iterable[Endpoint]) -> None:
        """Delete endpoints that a lost-then-landed POST created beside the one we own."""
        if not outcome.answer_lost:
            return
        for twin in new_twins(listed, spec, outcome.known_before):
            if twin.id == outcome.endpoint.id or twin.id in outcome.reaped or not self._claim(twin):
                continue
            log.warning("deleting %s: a duplicate created by a POST whose answer was lost", twin.id)
            self._client.delete_endpoint(twin.id, missing_ok=True)
            outcome.reaped.append(twin.id)
            self._on_change()


def new_twins(listed: Iterable[Endpoint], spec: EndpointSpec, known: frozenset[str]) -> list[Endpoint]:
    return [e for e in listed if e.id not in known and matches(e, spec)]
