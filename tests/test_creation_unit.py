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
from pulumi_tokenfactory.client import RetryPolicy, TokenFactoryClient
from pulumi_tokenfactory.creation import ExactlyOnceCreator, twin_failure
from pulumi_tokenfactory.models import Endpoint, EndpointSpec, Scaling

SPEC = EndpointSpec(name="gpt", model_name="openai/gpt-oss-120b", flavor_name="base", gpu_type="gpu-h100-sxm",
                    gpu_count=1, scaling=Scaling(min_replicas=1, max_replicas=2))


class FakeApi:
    """Endpoints in a dict; `post_outcomes` scripts each POST: 'ok', 'acted-then-503', '503', 'late'."""

    def __init__(self, post_outcomes: list[str]) -> None:
        self.endpoints: dict[str, dict[str, object]] = {}
        self.post_outcomes = post_outcomes
        self.posts = 0
        self.lists = 0
        self.late: list[dict[str, object]] = []
        self._ids = itertools.count(1)

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
            return httpx.Response(200, json={"endpoints": list(self.endpoints.values())})
        if request.method == "DELETE":
            endpoint_id = request.url.path.rsplit("/", 1)[-1]
            return httpx.Response(204 if self.endpoints.pop(endpoint_id, None) else 404)
        self.posts += 1
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
            raise httpx.ReadTimeout("the answer never came")
        return httpx.Response(503)


def creator_for(api: FakeApi, on_sleep: Callable[[float], None] = lambda _: None) -> ExactlyOnceCreator:
    client = TokenFactoryClient(api_key="k", base_url="http://api.test", transport=httpx.MockTransport(api),
                                retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)
    return ExactlyOnceCreator(client, sleep=on_sleep)


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
    assert reason is not None and "ep-old (running)" in reason and "import_=" in reason


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
