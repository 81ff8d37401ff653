"""Exactly-once create, at the transport level: a lost POST answer never buys a second endpoint.

Every create carries a routing key chosen before its first POST, and the API refuses a second
endpoint with a key one already holds. An in-memory account behind httpx.MockTransport, which
enforces that rule as the API does, lets each case decide precisely whether the server acted
before the answer was lost and when a late POST lands; it logs every request, so each case
also counts what one create costs. The same guarantees are exercised end to end against the
emulator in tests/engine/test_exactly_once.py.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient
from pulumi_tokenfactory.api.models import Endpoint, EndpointSpec, Scaling
from pulumi_tokenfactory.host import creation
from pulumi_tokenfactory.host.creation import MAX_LOOKUPS, MAX_POSTS, ExactlyOnceCreator, twin_failure

KEY = "dedicated/openai-gpt-oss-120b-k3y0f7h1sc4e"
SPEC = EndpointSpec(name="gpt", model_name="openai/gpt-oss-120b", flavor_name="base", gpu_type="gpu-h100-sxm",
                    gpu_count=1, scaling=Scaling(min_replicas=1, max_replicas=2), routing_key=KEY)

Hook = Callable[[str, int], None]


def key_taken(key: str) -> httpx.Response:
    """The API's refusal of a taken routing key: FastAPI's shape, `loc` naming the field (as the emulator answers)."""
    return httpx.Response(409, json={"detail": [{"loc": ["body", "routing_key"], "type": "conflict",
                                                 "msg": f"routing_key {key!r} is already taken by another endpoint"}]})


class FakeApi:
    """An account in memory that, like the API, refuses a second endpoint with a routing key one holds.

    `post_outcomes` scripts each POST whose key is free (a POST with a taken key is refused, 409,
    whatever its script says):

    * ``ok``: made, answered 201 ``{"endpoint": ...}``;
    * ``acted-then-503``: made, answered 503 (the answer says "failed", the server acted);
    * ``503``: not made, answered 503;
    * ``late``: not made yet, the answer lost (read timeout); it lands when `land_late_posts()` is
      called, and is then refused if its key was taken meanwhile, like any POST.

    `before(method, n)` and `after(method, n)` run around the n-th request of that method.
    `failing_lists` list calls answer 503 (-1: all of them); `hidden` ids are left out of lists (a
    list lagging behind a create). `log` holds every request as "METHOD status".
    """

    def __init__(self, post_outcomes: list[str] | None = None, *, failing_lists: int = 0) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.post_outcomes = list(post_outcomes or [])
        self.failing_lists = failing_lists
        self.hidden: set[str] = set()
        self.late: list[dict[str, Any]] = []
        self.refused_late: list[str] = []
        self.post_bodies: list[dict[str, Any]] = []
        self.log: list[str] = []
        self.before: Hook = lambda method, n: None
        self.after: Hook = lambda method, n: None
        self._counts: Counter[str] = Counter()
        self._ids = itertools.count(1)

    # -- what the account holds ------------------------------------------------------------------

    def holder(self, key: str) -> dict[str, Any] | None:
        return next((e for e in self.endpoints.values() if e["routing_key"] == key), None)

    def seed(self, **fields: Any) -> str:
        """An endpoint made outside this creator (another stack, the console, an interrupted run)."""
        endpoint = {**SPEC.payload(), "id": f"ep-{next(self._ids)}", "deployment": {"status": "running"}, **fields}
        self.endpoints[endpoint["id"]] = endpoint
        return str(endpoint["id"])

    def land_late_posts(self) -> None:
        for endpoint in self.late:
            if self.holder(endpoint["routing_key"]) is None:
                self.endpoints[endpoint["id"]] = endpoint
            else:
                self.refused_late.append(endpoint["id"])  # the API's uniqueness rule, applied when it lands
        self.late.clear()

    def count(self, method: str) -> int:
        return sum(1 for line in self.log if line.startswith(f"{method} "))

    def methods(self) -> list[str]:
        return [line.split()[0] for line in self.log]

    # -- the transport -----------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method = request.method
        self._counts[method] += 1
        number = self._counts[method]
        self.before(method, number)
        status: int | str = "lost"
        try:
            response = self._serve(request)
            status = response.status_code
            return response
        finally:
            self.log.append(f"{method} {status}")
            self.after(method, number)

    def _serve(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            if self.failing_lists:
                self.failing_lists -= 1 if self.failing_lists > 0 else 0
                return httpx.Response(503, json={"detail": "list unavailable"})
            shown = [e for e in self.endpoints.values() if e["id"] not in self.hidden]
            return httpx.Response(200, json={"data": shown, "object": "list"})
        if request.method == "DELETE":
            endpoint_id = request.url.path.rsplit("/", 1)[-1]
            return httpx.Response(204 if self.endpoints.pop(endpoint_id, None) else 404)
        body = json.loads(request.content)
        self.post_bodies.append(body)
        key = body.get("routing_key")
        if key is not None and self.holder(key) is not None:
            return key_taken(key)
        outcome = self.post_outcomes.pop(0) if self.post_outcomes else "ok"
        endpoint = {**body, "id": f"ep-{next(self._ids)}", "deployment": {"status": "starting"}}
        if outcome == "ok":
            self.endpoints[endpoint["id"]] = endpoint
            return httpx.Response(201, json={"endpoint": endpoint})
        if outcome == "acted-then-503":
            self.endpoints[endpoint["id"]] = endpoint
            return httpx.Response(503)
        if outcome == "late":
            self.late.append(endpoint)
            raise httpx.ReadTimeout("the answer never came")
        assert outcome == "503", outcome
        return httpx.Response(503)


def client_for(transport: Callable[[httpx.Request], httpx.Response]) -> TokenFactoryClient:
    """One attempt per request, so that the account's log counts exactly what the creator asked for."""
    return TokenFactoryClient(api_key="k", base_url="http://api.test", transport=httpx.MockTransport(transport),
                              retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)


def creator_for(api: FakeApi, pauses: list[float] | None = None) -> ExactlyOnceCreator:
    """The creator on `api`; its pauses between look-ups are recorded in `pauses`, and take no time."""
    kept = pauses if pauses is not None else []
    return ExactlyOnceCreator(client_for(api), sleep=kept.append)


# --------------------------------------------------------------------------- requests per create


def test_a_plain_create_is_one_post_carrying_the_key_and_no_list() -> None:
    api = FakeApi(["ok"])
    outcome = creator_for(api).create(SPEC)
    assert api.log == ["POST 201"], f"a create without faults must be exactly one POST: {api.log}"
    assert api.post_bodies[0]["routing_key"] == KEY, "the key must be chosen before the first POST and sent with it"
    assert list(api.endpoints) == [outcome.endpoint.id] and outcome.endpoint.routing_key == KEY
    assert not outcome.answer_lost


def test_a_lost_answer_whose_post_acted_costs_one_post_and_one_list_then_adopts() -> None:
    api = FakeApi(["acted-then-503"])
    outcome = creator_for(api).create(SPEC)
    assert api.log == ["POST 503", "GET 200"], api.log
    assert list(api.endpoints) == [outcome.endpoint.id] and outcome.endpoint.routing_key == KEY
    assert outcome.answer_lost


def test_a_lost_answer_whose_post_did_not_act_costs_one_post_one_list_and_one_more_post_with_the_same_key() -> None:
    api = FakeApi(["503", "ok"])
    outcome = creator_for(api).create(SPEC)
    assert api.log == ["POST 503", "GET 200", "POST 201"], api.log
    assert [b["routing_key"] for b in api.post_bodies] == [KEY, KEY], "every POST of a create carries its one key"
    assert list(api.endpoints) == [outcome.endpoint.id] and outcome.answer_lost


# --------------------------------------------------------------------------- a lost answer is resolved by the key


def test_a_lost_answer_adopts_the_endpoint_holding_its_key_not_a_same_named_twin() -> None:
    # Endpoints with the same name and spec but other keys (a sibling's, an earlier run's) are listed first:
    # only the key says which one this POST made.
    api = FakeApi(["acted-then-503"])
    twins = [api.seed(routing_key="dedicated/someone-elses-0001"), api.seed(routing_key="dedicated/someone-else-02")]
    outcome = creator_for(api).create(SPEC)
    assert outcome.endpoint.id not in twins and outcome.endpoint.routing_key == KEY
    assert sorted(api.endpoints) == sorted([*twins, outcome.endpoint.id]) and api.count("POST") == 1


def test_a_late_post_landing_after_the_repost_is_refused_by_the_key_so_one_endpoint_remains() -> None:
    # The first POST's answer is lost and it has not landed when the list is read; the second POST makes the
    # endpoint; then the first lands, and the API refuses it: the key is taken.
    api = FakeApi(["late", "ok"])
    api.after = lambda method, n: api.land_late_posts() if (method, n) == ("POST", 2) else None
    outcome = creator_for(api).create(SPEC)
    assert api.log == ["POST lost", "GET 200", "POST 201"], api.log
    assert api.refused_late == ["ep-1"], "the late POST must have landed (and been refused) for this case to count"
    assert list(api.endpoints) == [outcome.endpoint.id] == ["ep-2"]


def test_a_late_post_landing_before_the_repost_is_found_through_the_refusal() -> None:
    # The first POST lands between the list and the second POST: the second is refused for the key, which
    # means an earlier POST of this create holds it: the list is read again and that endpoint adopted.
    api = FakeApi(["late"])
    api.before = lambda method, n: api.land_late_posts() if (method, n) == ("POST", 2) else None
    outcome = creator_for(api).create(SPEC)
    assert api.log == ["POST lost", "GET 200", "POST 409", "GET 200"], api.log
    assert list(api.endpoints) == [outcome.endpoint.id] == ["ep-1"] and outcome.answer_lost


def test_a_refused_repost_whose_endpoint_no_list_shows_fails_naming_the_key_without_another_post() -> None:
    # The API says the key is taken, but the list never shows the endpoint (it lags): the create must not
    # guess, post again or succeed; it names the key, so the endpoint can be found and adopted.
    api = FakeApi(["late"])
    api.before = lambda method, n: api.land_late_posts() if (method, n) == ("POST", 2) else None
    api.hidden = {"ep-1"}
    pauses: list[float] = []
    with pytest.raises(errors.EndpointOperationError) as info:
        creator_for(api, pauses).create(SPEC)
    message = str(info.value)
    assert api.methods() == ["POST", "GET", "POST"] + ["GET"] * MAX_LOOKUPS, api.log
    assert KEY in message and repr(SPEC.name) in message and "adopt_id" in message, message
    assert list(api.endpoints) == ["ep-1"]
    assert len(pauses) == MAX_LOOKUPS - 1, "the list is read again after pauses, since it may lag the create"


def test_a_made_endpoint_whose_answer_cannot_be_decoded_is_found_by_its_key_not_left_unnamed() -> None:
    # The POST makes the endpoint, and its 201 arrives with a body that cannot be decoded (a gateway's broken
    # gzip): a 2xx that cannot be read is a lost answer, which the key resolves, not an error of another kind
    # that leaves the endpoint billed and unnamed.
    api = FakeApi(["ok"])

    def answer(request: httpx.Request) -> httpx.Response:
        served = api(request)
        if request.method != "POST":
            return served
        return httpx.Response(201, headers={"content-encoding": "gzip", "content-type": "application/json"},
                              content=b"not gzip")

    outcome = ExactlyOnceCreator(client_for(answer), sleep=lambda _: None).create(SPEC)
    assert api.log == ["POST 201", "GET 200"], api.log
    assert list(api.endpoints) == [outcome.endpoint.id] and outcome.answer_lost


def test_lookups_failing_at_first_are_retried_and_the_endpoint_is_adopted_without_a_second_post() -> None:
    api = FakeApi(["acted-then-503"], failing_lists=2)
    pauses: list[float] = []
    outcome = creator_for(api, pauses).create(SPEC)
    assert api.log == ["POST 503", "GET 503", "GET 503", "GET 200"], api.log
    assert list(api.endpoints) == [outcome.endpoint.id] and pauses == [creation.LOOKUP_PAUSE_SECONDS] * 2


def test_an_acted_post_with_every_lookup_failing_never_makes_a_second_endpoint_and_names_the_key() -> None:
    # No list can be read: the create posts again with the same key (which cannot make a second endpoint),
    # is refused because its first POST holds the key, still cannot list, and fails naming the key.
    api = FakeApi(["acted-then-503", "ok"], failing_lists=-1)
    with pytest.raises(errors.EndpointOperationError) as info:
        creator_for(api).create(SPEC)
    message = str(info.value)
    assert api.methods() == ["POST"] + ["GET"] * MAX_LOOKUPS + ["POST"] + ["GET"] * MAX_LOOKUPS, api.log
    assert api.log[MAX_LOOKUPS + 1] == "POST 409", "the second POST must have been refused for the key"
    assert len(api.endpoints) == 1 and api.holder(KEY) is not None, api.endpoints
    assert KEY in message and repr(SPEC.name) in message and "console" in message, message


@pytest.mark.parametrize("refusal", [
    httpx.Response(429, json={"detail": "too many requests"}),
    httpx.Response(401, json={"detail": "token expired"}),
    httpx.ConnectError("refused"),
], ids=["429", "401", "connection-refused"])
def test_a_repost_refused_for_another_reason_after_an_acted_post_names_the_key_not_nothing_made(
        refusal: httpx.Response | httpx.ConnectError) -> None:
    # The first POST made the endpoint and lost its answer; the list lags and does not show it yet, so the POST
    # is sent again, and that one is refused for a reason of its own (rate limit, an expired token, no
    # connection). Its refusal proves nothing about the first POST: the create must look again and, not finding
    # it, name the key (the endpoint exists and bills), not pass on the second POST's error alone.
    api = FakeApi(["acted-then-503"])
    api.hidden = {"ep-1"}
    posts = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.method == "POST":
            posts += 1
            if posts == 2:
                if isinstance(refusal, Exception):
                    raise refusal
                return refusal
        return api(request)

    with pytest.raises(errors.EndpointOperationError) as info:
        ExactlyOnceCreator(client_for(answer), sleep=lambda _: None).create(SPEC)
    message = str(info.value)
    assert list(api.endpoints) == ["ep-1"] and posts == 2
    assert KEY in message and "adopt_id" in message and "is billed" in message, message


def test_persistent_failure_gives_up_after_bounded_posts_names_the_key_and_creates_nothing() -> None:
    api = FakeApi(["503"] * (MAX_POSTS + 2))
    with pytest.raises(errors.EndpointOperationError) as info:
        creator_for(api).create(SPEC)
    # After each lost answer one list; after the last, a patient look (any endpoint with the key would be ours).
    assert api.log == ["POST 503", "GET 200"] * MAX_POSTS + ["GET 200"] * MAX_LOOKUPS, api.log
    assert api.endpoints == {} and KEY in str(info.value), info.value
    assert f"{MAX_POSTS} POSTs lost their answers, and {MAX_LOOKUPS} readable list(s)" in str(info.value)


def test_posts_whose_answers_are_all_lost_stop_at_the_bound_and_cannot_have_made_two() -> None:
    # Three lost POSTs, none landed by the time each list is read; then all land: the API keeps one.
    api = FakeApi(["late"] * (MAX_POSTS + 1))
    with pytest.raises(errors.EndpointOperationError, match=KEY):
        creator_for(api).create(SPEC)
    assert api.count("POST") == MAX_POSTS
    api.land_late_posts()
    assert len(api.endpoints) == 1 and len(api.refused_late) == MAX_POSTS - 1


# --------------------------------------------------------------------------- definite answers: nothing made


def test_refused_connection_is_raised_without_searching() -> None:
    seen: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if request.method == "POST":
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"data": [], "object": "list"})

    with pytest.raises(errors.TransportError) as info:
        ExactlyOnceCreator(client_for(refuse)).create(SPEC)
    assert info.value.request_sent is False
    assert seen == ["POST"], f"a POST that never reached the server needs no search: {seen}"


@pytest.mark.parametrize("refusal", [
    key_taken(KEY),
    httpx.Response(409, json={"error": {"message": "already in use", "field": "routing_key"}}),
    httpx.Response(400, json={"detail": "routing key is already in use"}),
], ids=["fastapi-loc", "error-field", "message"])
def test_a_first_post_refused_for_its_key_means_nothing_made_and_names_the_key(refusal: httpx.Response) -> None:
    # The key belongs to another endpoint (same name and spec even): it is not ours to adopt.
    api = FakeApi()
    other = api.seed(routing_key=KEY)

    def answer(request: httpx.Request) -> httpx.Response:
        return refusal if request.method == "POST" else api(request)

    creator = ExactlyOnceCreator(client_for(answer))
    with pytest.raises(errors.EndpointOperationError) as info:
        creator.create(SPEC)
    message = str(info.value)
    assert KEY in message and "nothing was created" in message, message
    assert api.log == [], f"nothing to look for after a first POST refused: {api.log}"
    assert list(api.endpoints) == [other] and not creator.owns(other)


def test_a_definite_refusal_not_about_the_key_means_nothing_made_and_leaves_the_key_free() -> None:
    api = FakeApi()

    def refuse_once(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and not api.log:
            api.log.append("POST 422")
            return httpx.Response(422, json={"detail": [{"loc": ["body", "gpu_count"], "msg": "too many"}]})
        return api(request)

    creator = ExactlyOnceCreator(client_for(refuse_once))
    with pytest.raises(errors.RequestValidationError):
        creator.create(SPEC)
    assert api.log == ["POST 422"] and api.endpoints == {}
    landed = Endpoint.model_validate({**SPEC.payload(), "id": "ep-9"})
    assert not creator.accounts_for(landed), "a refused create must not keep its key open"
    outcome = creator.create(SPEC)  # the key is free again: the same create may be tried again
    assert api.log == ["POST 422", "POST 201"] and list(api.endpoints) == [outcome.endpoint.id]


def test_a_conflict_not_naming_the_key_is_a_definite_refusal() -> None:
    def conflict(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST", "nothing to look for after a definite refusal"
        return httpx.Response(409, json={"detail": "quota of GPUs exceeded"})

    with pytest.raises(errors.ConflictError):
        ExactlyOnceCreator(client_for(conflict)).create(SPEC)


def test_a_create_without_a_routing_key_posts_nothing() -> None:
    api = FakeApi()
    with pytest.raises(errors.ConfigurationError, match="no routing key"):
        creator_for(api).create(SPEC.model_copy(update={"routing_key": None}))
    assert api.log == []


# --------------------------------------------------------------------------- one endpoint, one resource


def test_an_answer_naming_an_endpoint_another_resource_holds_is_refused() -> None:
    api = FakeApi(["ok"])
    creator = creator_for(api)
    assert creator.claim("ep-1")  # e.g. adopted by another resource through adopt_id
    with pytest.raises(errors.EndpointOperationError, match="already holds"):
        creator.create(SPEC)
    assert not creator.claim("ep-1")


def test_the_key_of_a_create_in_flight_accounts_for_its_endpoint_and_is_released_after() -> None:
    api = FakeApi(["ok"])
    creator = creator_for(api)
    made = Endpoint.model_validate({**SPEC.payload(), "id": "ep-1"})
    stranger = Endpoint.model_validate({**SPEC.payload(), "id": "ep-7", "routing_key": "dedicated/stranger-001"})
    during: list[bool] = []
    api.before = lambda method, n: during.extend([creator.accounts_for(made), creator.accounts_for(stranger)])
    outcome = creator.create(SPEC)
    assert during == [True, False], "while it is posted, only the endpoint holding the key is this create's"
    assert creator.accounts_for(outcome.endpoint) and creator.owns("ep-1") and not creator.accounts_for(stranger)


# --------------------------------------------------------------------------- what check reports before a create


def test_an_existing_twin_is_named_with_how_to_adopt_it() -> None:
    twin = Endpoint.model_validate({**SPEC.payload(), "routing_key": "dedicated/left-over-001", "id": "ep-old",
                                    "status": "running"})
    reason = twin_failure(SPEC, [twin])
    assert reason is not None and "ep-old (running)" in reason and "adopt_id='ep-old'" in reason


@pytest.mark.parametrize("twin_by", ["spec", "routing key"])
def test_a_stopping_twin_may_be_one_an_interrupted_destroy_is_deleting(twin_by: str) -> None:
    """The API publishes no `deleting` status: adopting an endpoint on its way out would fail once it is gone."""
    fields = {"routing_key": "dedicated/left-over-001"} if twin_by == "spec" else {"name": "another"}
    stopping = Endpoint.model_validate({**SPEC.payload(), **fields, "id": "ep-old", "status": "stopping"})
    reason = twin_failure(SPEC, [stopping])
    assert reason is not None and "interrupted `pulumi destroy` is deleting it, wait until it is gone" in reason
    running = twin_failure(SPEC, [stopping.model_copy(update={"status": "running"})])
    assert running is not None and "pulumi destroy" not in running


def test_same_name_with_another_spec_is_not_a_twin() -> None:
    # A replacement keeps the name and changes the model: create-before-delete must work.
    other = Endpoint.model_validate({**SPEC.payload(), "model_name": "openai/gpt-oss-20b", "id": "ep-old",
                                     "routing_key": "dedicated/old-key-0001"})
    deleting = Endpoint.model_validate({**SPEC.payload(), "id": "ep-del", "status": "deleting"})
    assert twin_failure(SPEC, [other, deleting]) is None


def test_a_key_held_by_another_endpoint_is_reported_before_anything_is_posted() -> None:
    holder = Endpoint.model_validate({**SPEC.payload(), "name": "another", "id": "ep-3"})
    reason = twin_failure(SPEC, [holder])
    assert reason is not None and KEY in reason and "ep-3" in reason and "nothing was created" in reason
    assert twin_failure(SPEC.model_copy(update={"routing_key": "dedicated/free-key-001"}), [holder]) is None
