"""Exactly-once create, at the transport level: a lost POST answer never buys a second endpoint.

An in-memory API behind httpx.MockTransport lets each case decide precisely
whether the server acted before the answer was lost, and when a late POST
lands. The same guarantees are exercised end to end against the emulator's
fault injection in the fault-matrix tests.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import httpx
import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient
from pulumi_tokenfactory.api.models import Endpoint, EndpointSpec, Scaling
from pulumi_tokenfactory.host.creation import ExactlyOnceCreator, twin_failure

SPEC = EndpointSpec(name="gpt", model_name="openai/gpt-oss-120b", flavor_name="base", gpu_type="gpu-h100-sxm",
                    gpu_count=1, scaling=Scaling(min_replicas=1, max_replicas=2))


class FakeApi:
    """Endpoints in a dict; `post_outcomes` scripts each POST: 'ok', 'acted-then-503', '503', 'late'."""

    def __init__(self, post_outcomes: list[str], *, lands_after: float | None = None,
                 failing_lists: int = 0) -> None:
        self.endpoints: dict[str, dict[str, object]] = {}
        self.post_outcomes = post_outcomes
        self.posts = 0
        self.lists = 0
        self.late: list[dict[str, object]] = []
        self._ids = itertools.count(1)
        #: A 'late' POST lands by itself this many (fake) seconds after it was sent; None: only when told.
        self.lands_after = lands_after
        self._land_at: float | None = None
        #: How many list calls after the first POST answer 503 (-1: all of them).
        self.failing_lists = failing_lists
        self.clock: Callable[[], float] = lambda: 0.0
        self.post_times: list[float] = []

    def _new(self, body: dict[str, object]) -> dict[str, object]:
        endpoint = {**body, "id": f"ep-{next(self._ids)}", "status": "starting", "routing_key": "dedicated/x"}
        return endpoint

    def land_late_posts(self) -> None:
        for endpoint in self.late:
            self.endpoints[str(endpoint["id"])] = endpoint
        self.late.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.lists += 1
            if self.posts and self.failing_lists:
                self.failing_lists -= 1 if self.failing_lists > 0 else 0
                return httpx.Response(503)
            if self._land_at is not None and self.clock() >= self._land_at:
                self.land_late_posts()
                self._land_at = None
            return httpx.Response(200, json={"endpoints": list(self.endpoints.values())})
        if request.method == "DELETE":
            endpoint_id = request.url.path.rsplit("/", 1)[-1]
            return httpx.Response(204 if self.endpoints.pop(endpoint_id, None) else 404)
        self.posts += 1
        self.post_times.append(self.clock())
        outcome = self.post_outcomes.pop(0) if self.post_outcomes else "ok"
        endpoint = self._new(json.loads(request.content))
        if outcome == "ok":
            self.endpoints[str(endpoint["id"])] = endpoint
            return httpx.Response(200, json=endpoint)
        if outcome == "acted-then-503":
            self.endpoints[str(endpoint["id"])] = endpoint
            return httpx.Response(503)
        if outcome == "late":
            self.late.append(endpoint)
            if self.lands_after is not None:
                self._land_at = self.clock() + self.lands_after
            raise httpx.ReadTimeout("the answer never came")
        return httpx.Response(503)


class FakeTime:
    """A clock that only the creator's pauses move, so that a 60 s settle period takes no time."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def creator_for(api: FakeApi, on_sleep: Callable[[float], None] = lambda _: None,
                time: FakeTime | None = None) -> ExactlyOnceCreator:
    """The creator with the client's default 30 s timeout, on fake time."""
    time = time or FakeTime()
    api.clock = time.clock

    def sleep(seconds: float) -> None:
        on_sleep(seconds)
        time.sleep(seconds)

    client = TokenFactoryClient(api_key="k", base_url="http://api.test", transport=httpx.MockTransport(api),
                                retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)
    return ExactlyOnceCreator(client, sleep=sleep, clock=time.clock, answer_timeout=30.0)


def test_a_plain_create_posts_once() -> None:
    api = FakeApi(["ok"])
    outcome = creator_for(api).create(SPEC)
    assert api.posts == 1 and list(api.endpoints) == [outcome.endpoint.id] and not outcome.answer_lost


def test_acted_then_error_is_adopted_without_a_second_post() -> None:
    api = FakeApi(["acted-then-503"])
    outcome = creator_for(api).create(SPEC)
    assert api.posts == 1 and list(api.endpoints) == [outcome.endpoint.id] and outcome.answer_lost


def test_error_before_acting_posts_again_once_absence_is_certain() -> None:
    api = FakeApi(["503", "ok"])
    outcome = creator_for(api).create(SPEC)
    assert api.posts == 2 and list(api.endpoints) == [outcome.endpoint.id]


def test_a_late_landing_post_is_reaped_so_one_endpoint_remains() -> None:
    api = FakeApi(["late", "ok"])
    creator = creator_for(api)
    outcome = creator.create(SPEC)
    assert api.posts == 2
    api.land_late_posts()  # the first POST lands after we gave up on it
    assert len(api.endpoints) == 2
    listed = creator._client.list_endpoints()
    creator.reap_twins(outcome, SPEC, listed)
    assert list(api.endpoints) == [outcome.endpoint.id]


def test_an_existing_twin_is_named_with_how_to_adopt_it() -> None:
    twin = Endpoint.model_validate({**SPEC.payload(), "id": "ep-old", "status": "running"})
    reason = twin_failure(SPEC, [twin])
    assert reason is not None and "ep-old (running)" in reason and "adopt_id='ep-old'" in reason


def test_same_name_with_another_spec_is_not_a_twin() -> None:
    # A replacement keeps the name and changes the model: create-before-delete must work.
    other = Endpoint.model_validate({**SPEC.payload(), "model_name": "openai/gpt-oss-20b", "id": "ep-old"})
    deleting = Endpoint.model_validate({**SPEC.payload(), "id": "ep-del", "status": "deleting"})
    assert twin_failure(SPEC, [other, deleting]) is None


def test_known_ids_come_from_the_caller_so_a_create_is_a_single_post() -> None:
    api = FakeApi(["ok"])
    client = TokenFactoryClient(api_key="k", base_url="http://api.test", transport=httpx.MockTransport(api))
    ExactlyOnceCreator(client, known_ids=frozenset).create(SPEC)
    assert api.posts == 1 and api.lists == 0


def test_persistent_failure_gives_up_after_bounded_posts_and_creates_nothing() -> None:
    api = FakeApi(["503", "503", "503", "503"])
    with pytest.raises(errors.EndpointOperationError, match="nothing was created"):
        creator_for(api).create(SPEC)
    assert api.posts == 3 and api.endpoints == {}


def test_refused_connection_is_raised_without_searching() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=[])

    client = TokenFactoryClient(api_key="k", base_url="http://api.test", transport=httpx.MockTransport(refuse),
                                retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)
    with pytest.raises(errors.TransportError) as info:
        ExactlyOnceCreator(client).create(SPEC)
    assert info.value.request_sent is False


# -- issue 11, class 2: a second POST only once absence is proven -------------------------------------------


def test_acted_then_lost_with_every_lookup_failing_refuses_instead_of_posting_again() -> None:
    api = FakeApi(["acted-then-503", "ok"], failing_lists=-1)
    with pytest.raises(errors.EndpointOperationError) as info:
        creator_for(api).create(SPEC)
    message = str(info.value)
    assert api.posts == 1 and len(api.endpoints) == 1, f"posted {api.posts} times: {message}"
    assert "could not be proven" in message and repr(SPEC.name) in message and "console" in message, message


def test_lookups_that_fail_only_at_first_still_prove_absence_and_the_create_succeeds() -> None:
    api = FakeApi(["503", "ok"], failing_lists=3)
    outcome = creator_for(api).create(SPEC)
    assert api.posts == 2 and list(api.endpoints) == [outcome.endpoint.id]


def test_a_second_post_waits_for_the_whole_settle_period() -> None:
    time = FakeTime()
    api = FakeApi(["503", "ok"])
    creator_for(api, time=time).create(SPEC)
    first, second = api.post_times
    assert second - first >= 60.0, f"posted again {second - first:g}s after a lost answer (settle: 2 x 30 s)"


@pytest.mark.parametrize("lands_after", [5.0, 40.0, 59.0])
def test_a_post_landing_late_within_the_settle_period_is_adopted_not_repeated(lands_after: float) -> None:
    api = FakeApi(["late", "ok"], lands_after=lands_after)
    outcome = creator_for(api).create(SPEC)
    assert api.posts == 1, f"a POST landing {lands_after:g}s late was posted again"
    assert list(api.endpoints) == [outcome.endpoint.id] and outcome.answer_lost


def test_a_refusal_after_a_lost_answer_leaves_no_open_post_behind() -> None:
    # A definite 4xx answer means nothing was made: it must not keep blocking siblings' adoptions.
    api = FakeApi([])
    creator = creator_for(api)

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "no"}}) if request.method == "POST" else api(request)

    creator._client = TokenFactoryClient(api_key="k", base_url="http://api.test",
                                         transport=httpx.MockTransport(refuse), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.RequestValidationError):
        creator.create(SPEC)
    landed = Endpoint.model_validate({**SPEC.payload(), "id": "ep-9"})
    assert not creator.accounts_for(landed)

