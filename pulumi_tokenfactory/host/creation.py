"""Create an endpoint exactly once, even when the POST's answer is lost.

A POST whose answer never arrives (timeout, dropped connection, a 5xx after the
server may have acted, a 2xx that cannot be read) leaves us not knowing whether
a GPU endpoint now exists, and the API documents no idempotency key. It does let
the caller choose the endpoint's **routing key**, and that is the handle:

* every create has its routing key before its first POST (the program's, or the
  one `check` chose, see `routingkey.py`) and sends the same key with every POST;
* after a lost answer, one readable list answers "did it land?" exactly: the
  endpoint holding our key is ours, whatever else has the same name and spec;
* if it is not listed, the POST is sent again with the same key (at most
  `MAX_POSTS` in all). **Assumed: the API refuses a second endpoint with a routing
  key that one already holds** (keys address inference, so they must be unique; the
  emulator enforces it). A first POST that lands late therefore cannot make a
  second endpoint: one of the two is refused;
* a refusal that names `routing_key` on the first POST means the key belongs to
  another endpoint and nothing was made; on a later POST it means an earlier POST
  of ours landed after all, and the list is read again to find it. If it still
  cannot be found, the create fails naming the key, so the endpoint can be found
  and adopted: never a guess, and never another POST. Any other refusal of a later
  POST (429, 401, a refused connection) says nothing about the earlier ones: the
  list is read again in the same way.

An endpoint belongs to at most one resource: every endpoint a create of this
process receives is claimed, and `adopt_id` claims go through the same set (and are
remembered as adoptions, which a delete of this process leaves alone).

An endpoint with the same name and spec that exists before a create (typically
left by an interrupted `pulumi up`) is reported by `check` in preview
(`twin_failure`): nothing is posted, and the user is told how to adopt it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .. import errors
from ..api.client import TokenFactoryClient
from ..api.models import Endpoint, EndpointSpec, LifecycleState
from ..endpoint.fields import REPLACE_FIELDS

log = logging.getLogger(__name__)

MAX_POSTS = 3
#: Look-ups of the list after a lost answer before the create gives up proving anything.
MAX_LOOKUPS = 4
LOOKUP_PAUSE_SECONDS = 1.0

_LOST_ANSWER = (errors.ServerError, errors.TransportError, errors.UnexpectedResponseError)


def matches(endpoint: Endpoint, spec: EndpointSpec) -> bool:
    """Same name and the same immutable spec (`fields.REPLACE_FIELDS`): what an interrupted create left.

    An answer without a region is in the default one, which a spec always names.
    """
    return endpoint.name == spec.name and all(
        (getattr(endpoint, prop) or getattr(spec, prop) if prop == "region" else getattr(endpoint, prop))
        == getattr(spec, prop)
        for prop in REPLACE_FIELDS)


def twin_failure(spec: EndpointSpec, listed: Iterable[Endpoint]) -> str | None:
    """Why creating `spec` would duplicate an existing endpoint (or take its routing key), or None."""
    listed = [e for e in listed if e.lifecycle is not LifecycleState.DELETING]
    holder = next((e for e in listed if spec.routing_key and e.routing_key == spec.routing_key), None)
    twins = [e for e in listed if matches(e, spec)]
    if holder is not None and holder not in twins:
        return f"{_key_taken(spec.routing_key, holder)}; nothing was created{_maybe_being_deleted([holder])}"
    if not twins:
        return None
    shown = ", ".join(f"{e.id} ({e.status or 'no status reported'})" for e in twins[:3])
    more = f" and {len(twins) - 3} more" if len(twins) > 3 else ""
    if len(twins) == 1:
        action = (f"To take it over, add adopt_id={twins[0].id!r} to this resource and run `pulumi up` again (no "
                  f"new endpoint is bought)")
    else:
        action = ("To take one over, add adopt_id=\"<id>\" naming it to this resource and run `pulumi up` again, "
                  "then delete the others in the Token Factory console")
    return (f"an endpoint named {spec.name!r} with the same model, flavor and region already exists: "
            f"{shown}{more}, most likely left by an interrupted `pulumi up` (its create was cut off after the "
            f"endpoint was made). Nothing was created. {action}; or delete it in the console, or choose another "
            f"name{_maybe_being_deleted(twins)}")


def _maybe_being_deleted(endpoints: Sequence[Endpoint]) -> str:
    """The other reading of a stopping endpoint: the API publishes no `deleting` status, so one an interrupted
    `pulumi destroy` is deleting may show as stopping; adopting it would fail once it is gone."""
    if not any(e.lifecycle is LifecycleState.STOPPING for e in endpoints):
        return ""
    return (". If it is stopping because an interrupted `pulumi destroy` is deleting it, wait until it is gone "
            "(`tokenfactory-account` lists it until then) and run `pulumi up` again, without adopt_id")


def _key_taken(key: str | None, holder: Endpoint | None) -> str:
    """Why a routing key cannot be used, and the two ways out (a chosen key is the same on every run)."""
    held = f"endpoint {holder.id} (name {holder.name!r})" if holder is not None else "another endpoint"
    adopt = f"adopt_id={holder.id!r}" if holder is not None else 'adopt_id="<its id>"'
    return (f"routing key {key!r} is already held by {held}, and routing keys are unique. If an earlier, "
            f"interrupted `pulumi up` of this resource made it (a key the provider chose is the same on every "
            f"run), take it over with {adopt}; otherwise set routing_key to a key no endpoint holds")


def _names_routing_key(exc: errors.APIStatusError) -> bool:
    """A 4xx refusal about the routing key (FastAPI's `loc`, or the message, names it)."""
    return exc.status_code is not None and 400 <= exc.status_code < 500 and (
        "routing_key" in exc.fields or "routing_key" in exc.message or "routing key" in exc.message)


@dataclass
class CreateOutcome:
    """The endpoint this resource owns, and whether an answer was lost on the way."""

    endpoint: Endpoint
    answer_lost: bool = False


class ExactlyOnceCreator:
    """The one place a POST is made; shared by every create of a provider process (see the module docstring)."""

    def __init__(self, client: TokenFactoryClient, *, on_change: Callable[[], None] = lambda: None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._on_change = on_change
        self._sleep = sleep
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self._adopted: set[str] = set()
        self._open_keys: set[str] = set()

    def owns(self, endpoint_id: str) -> bool:
        """Whether a create of this process made (or adopted) that endpoint."""
        with self._lock:
            return endpoint_id in self._claimed

    def adopted(self, endpoint_id: str) -> bool:
        """Whether a resource of this process took that endpoint over with adopt_id (rather than made it)."""
        with self._lock:
            return endpoint_id in self._adopted

    def claim(self, endpoint_id: str, *, adopted: bool = False) -> bool:
        """Record that a resource of this process holds the endpoint (`adopted`: took it over); False if one
        already does."""
        with self._lock:
            if endpoint_id in self._claimed:
                return False
            self._claimed.add(endpoint_id)
            if adopted:
                self._adopted.add(endpoint_id)
            return True

    def accounts_for(self, endpoint: Endpoint) -> bool:
        """Whether the endpoint is held, or being created, by this process (so `check` is not to call it a twin)."""
        with self._lock:
            return endpoint.id in self._claimed or (endpoint.routing_key or "") in self._open_keys

    def create(self, spec: EndpointSpec) -> CreateOutcome:
        key = spec.routing_key
        if not key:
            raise errors.ConfigurationError(f"Creating endpoint {spec.name!r}: no routing key was chosen; nothing "
                                            f"was created")
        with self._lock:
            if key in self._open_keys:
                raise errors.EndpointOperationError(
                    f"Creating endpoint {spec.name!r}: another resource of this deployment is being created with "
                    f"routing key {key!r}; routing keys are unique, so nothing was created")
            self._open_keys.add(key)
        try:
            return self._create(spec, key)
        finally:
            with self._lock:
                self._open_keys.discard(key)

    def _create(self, spec: EndpointSpec, key: str) -> CreateOutcome:
        lost: errors.TokenFactoryError | None = None
        for _ in range(MAX_POSTS):
            try:
                endpoint = self._client.create_endpoint(spec)
            except _LOST_ANSWER as exc:
                if isinstance(exc, errors.TransportError) and not exc.request_sent:
                    if lost is not None:  # this POST made nothing, but an earlier one of this create may have
                        return self._take(self._found(spec, key, lost, f"a later POST could not be sent ({exc})"),
                                          spec, answer_lost=True)
                    raise  # it never reached the server: nothing was made (the client already retried)
                lost = exc
                self._on_change()
                log.warning("create of %r: the answer was lost (%s); looking for routing key %s", spec.name, exc, key)
                found, _ = self._look(key, until_found=False)
                if found is not None:
                    return self._take(found, spec, answer_lost=True)
                continue  # not listed (or no list readable): POST again with the same key, which cannot make a second
            except errors.APIStatusError as exc:
                if not _names_routing_key(exc):
                    if lost is not None:  # this POST made nothing, but an earlier one of this create may have
                        return self._take(self._found(spec, key, lost, f"a later POST was refused ({exc})"), spec,
                                          answer_lost=True)
                    raise  # a definite refusal: nothing was made
                if lost is None:
                    raise errors.EndpointOperationError(
                        f"Creating endpoint {spec.name!r}: the API refused the routing key ({exc.message}); nothing "
                        f"was created. {_key_taken(key, None)}") from None
                # An earlier POST of this create holds the key: it landed after all.
                return self._take(self._found(spec, key, lost, "the API says the key is taken"), spec,
                                  answer_lost=True)
            self._on_change()
            return self._take(endpoint, spec, answer_lost=lost is not None)
        # Every POST lost its answer: one more patient look, since any endpoint holding the key is this create's.
        return self._take(self._found(spec, key, lost, f"{MAX_POSTS} POSTs lost their answers"), spec,
                          answer_lost=True)

    def _look(self, key: str, *, until_found: bool) -> tuple[Endpoint | None, str]:
        """The endpoint holding `key` in the endpoint list, and what the looks saw when it is not there.

        `until_found=False` (after a lost answer): stop at the first readable list; the caller POSTs
        again with the same key whether that list lacks it or none could be read, which cannot make a
        second endpoint. `until_found=True` (the key is, or may be, held): look `MAX_LOOKUPS` times, as the
        list may lag the create.
        """
        failures: list[str] = []
        readable = 0
        for attempt in range(MAX_LOOKUPS):
            if attempt:
                self._sleep(LOOKUP_PAUSE_SECONDS)
            try:
                listed = self._client.list_endpoints()
            except errors.TokenFactoryError as exc:
                failures.append(str(exc))
                continue
            readable += 1
            found = next((e for e in listed if e.routing_key == key), None)
            if found is not None or not until_found:
                return found, ""
        if readable:
            return None, f"{readable} readable list(s) of the endpoints do not show routing key {key!r}"
        return None, (f"none of {MAX_LOOKUPS} look-ups of the endpoint list succeeded "
                      f"(last error: {failures[-1] if failures else 'none'})")

    def _found(self, spec: EndpointSpec, key: str, lost: errors.TokenFactoryError | None, why: str) -> Endpoint:
        """The endpoint holding `key`, which an earlier POST of this create may have made; else a named error."""
        found, seen = self._look(key, until_found=True)
        if found is None:
            raise errors.EndpointOperationError(
                f"Creating endpoint {spec.name!r}: the answer to its POST was lost ({lost}), and it could not be "
                f"found out whether an endpoint was created: {why}, and {seen}. Nothing more was posted and "
                f"nothing was recorded in the state. If an endpoint with routing key {key!r} appears (GET "
                f"/v0/dedicated_endpoints, or the Token Factory console), it is this create's and is billed: take "
                f"it over with adopt_id=\"<its id>\" on this resource, or delete it, then run `pulumi up` again")
        return found

    def _take(self, endpoint: Endpoint, spec: EndpointSpec, *, answer_lost: bool) -> CreateOutcome:
        if not self.claim(endpoint.id):
            raise errors.EndpointOperationError(
                f"Creating endpoint {spec.name!r}: the API answered with endpoint {endpoint.id}, which another "
                f"resource of this deployment already holds; nothing was recorded for this one. Check the "
                f"endpoints named {spec.name!r} in the Token Factory console", endpoint_id=endpoint.id)
        return CreateOutcome(endpoint, answer_lost=answer_lost)
