"""Create an endpoint exactly once, even when the POST's answer is lost.

A POST whose answer never arrives (timeout, dropped connection, a 5xx after
the server may have acted, an unreadable 2xx) leaves us not knowing whether a
GPU endpoint now exists, and the API documents no idempotency key that would
let a repeat be recognised. Repeating it blindly could buy a second endpoint,
which bills by the minute. The rules:

**Post again only when absence is proven.** After a lost answer the provider
lists the account until the *settle period* has passed: `SETTLE_TIMEOUT_FACTOR`
(2) times the client timeout, counted from the moment the answer was given up
on. A POST the server is still working on when its answer is lost lands within
that time or, we assume, never: a server slower than the client is willing to
wait is rare already (that is what the client timeout is chosen for), and the
settle period allows it twice that long again. This is an assumption, not a
fact the API guarantees (it documents no request deadline); the sweep below is
the second line of defence for a POST that breaks it. Only a successful listing that
*started* after the settle period, showing no endpoint that this POST could
have made, proves it did not land and cannot land any more; then, and only
then, the provider posts again (at most `MAX_POSTS` POSTs per create). If no
listing succeeds by the end of a second settle period, nothing is proven and
the create fails, naming the endpoint, what could not be proven and what to
check in the console. A request that certainly never reached the server (a
refused connection, `request_sent=False`) is the client's to repeat; it is not
an unknown outcome. A definite refusal (4xx) means nothing was made.

**An endpoint belongs to at most one resource, ever.** Every endpoint a create
of this process receives or adopts is claimed once; an endpoint already
claimed is never adopted, and a POST answered with a claimed id is an error.

**Adopt only what no other create can have made.** Several resources of one
`pulumi up` may share a name and spec and be created at once, so "a new
endpoint matching the fingerprint" is not proof that it is ours. Every POST is
registered before it is sent, with the ids known to exist before it. A
candidate (new to this POST, matching, unclaimed, not being deleted) is
adopted only when no other POST of this process whose outcome is still open
could have made it. Several candidates that could be ours, or one that a
sibling may have made, are waited on (a sibling's answer may still settle it)
and, if still ambiguous, an error naming them: never a guess. A POST proven
absent no longer makes candidates ambiguous for others (by the assumption
above it cannot land), but it still counts when deciding what may be deleted.

**Clean-up deletes only what this very create POSTed.** Only a create that
posted more than once (an earlier POST was proven absent) can have a late twin.
Its sweep deletes a new unclaimed endpoint matching its spec only when no POST
of any other create of this process could have made it. The sweep runs on
every poll while the create waits for readiness, and in any case until one
more settle period has passed after the create got its endpoint: it does not
depend on `wait_for_ready`.

What remains possible: an endpoint created at the same moment, with the same
name and spec, by something outside this process (another `pulumi up`, the
console) is indistinguishable from ours. A client-generated marker stored in
a field the API keeps (e.g. `description`) would tell them apart, but it would
alter a value the user declared and that refresh compares, so it is not done.

An endpoint with the same name and spec that already exists before a create
(typically left by an interrupted `pulumi up`) is reported by `check`, during
preview, using `twin_failure`: nothing is posted, and the user is told how to
adopt it (`adopt_id`, see adoption.py).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .. import errors
from ..api.client import TokenFactoryClient
from ..api.models import Endpoint, EndpointSpec, LifecycleState, MalformedItem, malformed_items
from ..fields import REPLACE_FIELDS
from .hostpool import lend_thread_while_waiting

log = logging.getLogger(__name__)

MAX_POSTS = 3
#: The settle period after a lost answer, in client timeouts (see the module docstring).
SETTLE_TIMEOUT_FACTOR = 2.0
#: Pauses between look-ups while settling: quick at first, then at most this often.
LOOKUP_FIRST_PAUSE = 0.25
LOOKUP_MAX_PAUSE = 5.0
#: The client's default read timeout, used when the caller does not say which one applies.
DEFAULT_ANSWER_TIMEOUT = 30.0

_LOST_ANSWER = (errors.ServerError, errors.TransportError, errors.UnexpectedResponseError)


def matches(endpoint: Endpoint, spec: EndpointSpec) -> bool:
    """Same name and the same immutable spec (`fields.REPLACE_FIELDS`): the fingerprint of an endpoint we asked for.

    An answer without a region is in the default one, which a spec always names.
    """
    return endpoint.name == spec.name and all(
        (getattr(endpoint, prop) or getattr(spec, prop) if prop == "region" else getattr(endpoint, prop))
        == getattr(spec, prop)
        for prop in REPLACE_FIELDS)


def twin_failure(spec: EndpointSpec, listed: Iterable[Endpoint]) -> str | None:
    """Why creating `spec` would duplicate an existing endpoint, or None when it would not."""
    twins = [e for e in listed if matches(e, spec) and e.lifecycle is not LifecycleState.DELETING]
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
    return (f"an endpoint named {spec.name!r} with the same model, flavor, GPU and region already exists: "
            f"{shown}{more}, most likely left by an interrupted `pulumi up` (its create was cut off after the "
            f"endpoint was made). Nothing was created. {action}; or delete it in the console, or choose another "
            f"name")


@dataclass(eq=False)
class _Post:
    """One POST of one create, registered before it is sent, kept while its outcome is open."""

    create: int
    spec: EndpointSpec
    #: Ids that existed before this POST was sent: it cannot have made any of them.
    known: frozenset[str]
    #: Proven absent after its settle period: it cannot make candidates ambiguous any more.
    given_up: bool = False

    def could_have_made(self, endpoint: Endpoint) -> bool:
        return endpoint.id not in self.known and matches(endpoint, self.spec)


@dataclass
class CreateOutcome:
    """The endpoint this resource owns, and what its sweep needs to know about the POSTs before it."""

    endpoint: Endpoint
    known_before: frozenset[str]
    answer_lost: bool = False
    reaped: list[str] = field(default_factory=list)
    create: int = 0
    #: This create's POSTs proven absent and still open: each could, against the odds, land late.
    given_up: list[_Post] = field(default_factory=list)
    #: When the endpoint was received or adopted: the sweep looks for one settle period after it.
    settled_at: float = 0.0


@dataclass
class _Verdict:
    adopted: Endpoint | None = None
    absent: bool = False
    #: Endpoints (or unreadable items) that could be this POST's but cannot be attributed to it.
    unresolved: list[str] = field(default_factory=list)
    #: Successful look-ups, and the errors of those that failed.
    lookups: int = 0
    failures: list[str] = field(default_factory=list)


def _pauses(settle: float) -> Iterator[float]:
    """0, then doubling from LOOKUP_FIRST_PAUSE, never above a quarter of the settle period (or 5 s)."""
    yield 0.0
    ceiling = max(min(LOOKUP_MAX_PAUSE, settle / 4), 0.01)
    pause = min(LOOKUP_FIRST_PAUSE, ceiling)
    while True:
        yield pause
        pause = min(ceiling, pause * 2)


class ExactlyOnceCreator:
    """The one place a POST is made; shared by every create of a provider process (see the module docstring)."""

    def __init__(self, client: TokenFactoryClient, *, known_ids: Callable[[], frozenset[str]] | None = None,
                 on_change: Callable[[], None] = lambda: None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 answer_timeout: float = DEFAULT_ANSWER_TIMEOUT) -> None:
        """`known_ids` names every endpoint seen before a POST (default: list them); `answer_timeout` is the
        client's timeout, which sets the settle period."""
        self._client = client
        self._known_ids = known_ids or (lambda: frozenset(e.id for e in client.list_endpoints()))
        self._on_change = on_change
        self._sleep = sleep
        self._clock = clock
        self.settle_seconds = SETTLE_TIMEOUT_FACTOR * answer_timeout
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self._open: list[_Post] = []
        self._seen: set[str] = set()
        self._creates = itertools.count(1)

    # -- who holds, or may have made, an endpoint -------------------------------------------------

    def owns(self, endpoint_id: str) -> bool:
        """Whether a create of this process made (or adopted) that endpoint."""
        with self._lock:
            return endpoint_id in self._claimed

    def claim(self, endpoint_id: str) -> bool:
        """Record that a resource of this process takes over an existing endpoint (`adopt_id`); False if one
        already holds it, made or adopted (an endpoint belongs to one resource only)."""
        with self._lock:
            if endpoint_id in self._claimed:
                return False
            self._claimed.add(endpoint_id)
            return True

    def accounts_for(self, endpoint: Endpoint) -> bool:
        """Whether the endpoint is claimed, or may be the product of a POST of this process.

        `check` leaves such endpoints out of its duplicate check: they are this deployment's own,
        held or named by one of its creates, not something an interrupted run left behind.
        """
        with self._lock:
            return endpoint.id in self._claimed or any(p.could_have_made(endpoint) for p in self._open)

    def _makers(self, endpoint: Endpoint, *, including_given_up: bool) -> set[int]:
        """The creates with an open POST that could have made `endpoint` (call with the lock held)."""
        return {p.create for p in self._open
                if (including_given_up or not p.given_up) and p.could_have_made(endpoint)}

    def _close(self, post: _Post) -> None:
        with self._lock:
            if post in self._open:
                self._open.remove(post)

    # -- create -----------------------------------------------------------------------------------

    def create(self, spec: EndpointSpec) -> CreateOutcome:
        create = next(self._creates)
        given_up: list[_Post] = []
        first_known: frozenset[str] | None = None
        last_error: errors.TokenFactoryError | None = None
        for _ in range(MAX_POSTS):
            listed_before = self._known_ids()
            with self._lock:
                post = _Post(create, spec, listed_before | frozenset(self._seen))
                self._open.append(post)
            first_known = post.known if first_known is None else first_known
            try:
                endpoint = self._client.create_endpoint(spec)
            except _LOST_ANSWER as exc:
                if isinstance(exc, errors.TransportError) and not exc.request_sent:
                    self._close(post)  # never reached the server: nothing was made by it
                    raise
                last_error = exc
                self._on_change()
                log.warning("create of %r: the answer was lost (%s); looking for the endpoint", spec.name, exc)
                verdict = self._settle(post)
                if verdict.adopted is not None:
                    return CreateOutcome(verdict.adopted, first_known, answer_lost=True, create=create,
                                         given_up=given_up, settled_at=self._clock())
                if not verdict.absent:
                    raise self._unproven(spec, exc, verdict) from None
                given_up.append(post)
                continue
            except BaseException:
                self._close(post)  # a definite answer (4xx, configuration): the server made nothing
                raise
            self._on_change()
            with self._lock:
                if post in self._open:
                    self._open.remove(post)
                taken = endpoint.id in self._claimed
                self._claimed.add(endpoint.id)
            if taken:
                raise errors.EndpointOperationError(
                    f"Creating endpoint {spec.name!r}: the API answered with endpoint {endpoint.id}, which another "
                    f"resource of this deployment already holds; nothing was recorded for this one. Check the "
                    f"endpoints named {spec.name!r} in the Token Factory console", endpoint_id=endpoint.id)
            return CreateOutcome(endpoint, first_known, answer_lost=bool(given_up), create=create,
                                 given_up=given_up, settled_at=self._clock())
        raise errors.EndpointOperationError(
            f"Creating endpoint {spec.name!r} failed {MAX_POSTS} times (last error: {last_error}); after each, "
            f"the endpoint list showed for {self.settle_seconds:g}s that nothing had been created, so nothing "
            f"was created")

    def _settle(self, post: _Post) -> _Verdict:
        """Look until the POST's endpoint is found, proven absent, or the time to prove either is up."""
        lost_at = self._clock()
        deadline, give_up = lost_at + self.settle_seconds, lost_at + 2 * self.settle_seconds
        verdict = _Verdict()
        lookups, failures = 0, []
        with lend_thread_while_waiting():
            for pause in _pauses(self.settle_seconds):
                if self._clock() >= give_up:
                    break
                self._sleep(pause)
                started = self._clock()
                try:
                    listed = self._client.list_endpoints()
                except errors.TokenFactoryError as exc:
                    failures.append(str(exc))
                    log.warning("listing endpoints after a lost create answer failed: %s", exc)
                    continue
                lookups += 1
                verdict = self._judge(post, listed, proof=started >= deadline)
                if verdict.adopted is not None or verdict.absent:
                    break
        verdict.lookups, verdict.failures = lookups, failures
        return verdict

    def _judge(self, post: _Post, listed: list[Endpoint], *, proof: bool) -> _Verdict:
        """One listing's verdict on one POST: adopt, proven absent, or not settled yet."""
        unreadable = malformed_items(listed)
        with self._lock:
            self._seen.update(e.id for e in listed)
            self._seen.update(m.id for m in unreadable if m.id is not None)
            candidates = [e for e in listed if e.id not in self._claimed and post.could_have_made(e)
                          and e.lifecycle is not LifecycleState.DELETING]
            for candidate in candidates:
                if self._makers(candidate, including_given_up=False) == {post.create}:
                    self._claimed.add(candidate.id)
                    if post in self._open:
                        self._open.remove(post)  # one POST makes one endpoint: this one is accounted for
                    return _Verdict(adopted=candidate)
            doubtful = [m for m in unreadable if m.id is None or (m.id not in post.known and m.id not in self._claimed)]
            if not candidates and not doubtful and proof:
                post.given_up = True
                return _Verdict(absent=True)
            return _Verdict(unresolved=[e.id for e in candidates] + [_describe(m) for m in doubtful])

    def _unproven(self, spec: EndpointSpec, lost: errors.TokenFactoryError, verdict: _Verdict) -> Exception:
        failures = verdict.failures
        if verdict.unresolved:
            what = (f"{len(verdict.unresolved)} new endpoint(s) matching it appeared that it, or another resource "
                    f"with the same name and spec being created at the same time, may have made, so none was "
                    f"adopted (that would be a guess): {', '.join(verdict.unresolved)}")
        elif verdict.lookups == 0:
            last = f" (last error: {failures[-1]})" if failures else ""
            what = f"none of the {len(failures)} look-ups of the endpoint list succeeded{last}"
        else:
            last = f" (last error: {failures[-1]})" if failures else ""
            what = (f"no look-up made after the {self.settle_seconds:g}s settle period, in which the POST may "
                    f"still land, succeeded{last}")
        return errors.EndpointOperationError(
            f"Creating endpoint {spec.name!r}: the answer to its POST was lost ({lost}), and it could not be "
            f"proven whether an endpoint was created: {what}. Nothing more was posted, so as never to buy a "
            f"second endpoint, and nothing was recorded in the state. Check the Token Factory console (or "
            f"GET /v0/dedicated_endpoints) for endpoints named {spec.name!r} ({spec.model_name}, "
            f"{spec.gpu_count}x {spec.gpu_type}, {spec.region}) made just now: each one that no resource "
            f"holds is billed, so delete it (DELETE /v0/dedicated_endpoints/<id>) or take it over with "
            f"adopt_id=\"<id>\" on this resource, then run `pulumi up` again")

    # -- the sweep: late twins of this create's own POSTs ------------------------------------------

    def reap_twins(self, outcome: CreateOutcome, spec: EndpointSpec, listed: Iterable[Endpoint]) -> None:
        """Delete endpoints that a POST of this create, proven absent, made after all.

        Never raises: a twin that cannot be deleted now is tried again on the next poll, and a
        failed clean-up of a twin must not undo the create that owns a good endpoint.
        """
        if not outcome.given_up:
            return
        for twin in listed:
            if twin.id == outcome.endpoint.id or twin.id in outcome.reaped \
                    or twin.lifecycle is LifecycleState.DELETING:
                continue
            with self._lock:
                if twin.id in self._claimed or twin.id in outcome.known_before or not matches(twin, spec) \
                        or self._makers(twin, including_given_up=True) != {outcome.create}:
                    continue
                self._claimed.add(twin.id)  # nobody else may adopt it while it is being deleted
            log.warning("deleting %s: a duplicate made by a POST of %r whose answer was lost", twin.id, spec.name)
            try:
                self._client.delete_endpoint(twin.id, missing_ok=True)
            except errors.TokenFactoryError as exc:
                with self._lock:
                    self._claimed.discard(twin.id)
                log.warning("could not delete the duplicate %s yet (%s); it will be tried again", twin.id, exc)
                continue
            outcome.reaped.append(twin.id)
            retired = outcome.given_up.pop()  # the late POST is accounted for now
            self._close(retired)
            self._on_change()
            if not outcome.given_up:
                return

    def sweep(self, outcome: CreateOutcome, spec: EndpointSpec) -> None:
        """Look for late twins until one settle period after the create got its endpoint.

        Called after every create, waiting or not: a waiting create has swept on each poll, and
        may already be past the period; one that does not wait has no polls and sweeps here. Only
        a create that posted again after a POST proven absent can have a twin, so every other
        create returns at once, without a single request.
        """
        until = outcome.settled_at + self.settle_seconds
        with lend_thread_while_waiting():
            for pause in _pauses(self.settle_seconds):
                if not outcome.given_up or self._clock() >= until:
                    return
                self._sleep(min(pause, max(0.0, until - self._clock())))
                try:
                    listed = self._client.list_endpoints()
                except errors.TokenFactoryError as exc:
                    log.warning("could not look for duplicates of %r after its create: %s", spec.name, exc)
                    continue
                self.reap_twins(outcome, spec, listed)


def _describe(item: MalformedItem) -> str:
    return f"{item.label()} (unreadable: {item.reason})"
