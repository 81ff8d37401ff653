"""Class 2 of issue 11: one resource never creates two endpoints, whatever happens to its POST's answer.

Every create carries a routing key chosen before its first POST (by `check`, from the URN, when
the program sets none) and sends it with every POST; the API refuses a second endpoint with a
key one already holds. These tests drive the real provider host against the emulator, which
enforces that rule, and count requests and endpoints afterwards:

- a create without faults is one POST carrying the key check chose, and no list;
- a lost answer costs one POST and one list, then the endpoint holding the key is adopted, or
  the POST is sent once more with the same key;
- the POST lands well after the client's timeout, after the create posted again: the late POST is
  refused for the key, so one endpoint remains, with `wait_for_ready` true or false; landing before
  the list, it is adopted without a second POST;
- the POST is applied, its answer lost, and every look-up fails too: the create may post again with
  the same key (refused: the first holds it) but fails naming the key, and one endpoint exists.

In-process (the moment a late POST lands chosen exactly): a POST landing just behind its repost is
refused, waiting or not, with nothing to clean up; a create whose check was skipped still sends a key.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devtools.enginehost import ProviderCallError
from devtools.harness import ENDPOINTS, EmulatorAccount, endpoint_inputs
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient
from pulumi_tokenfactory.endpoint import controller as controller_module
from pulumi_tokenfactory.endpoint.adapter import EngineAdapter
from pulumi_tokenfactory.endpoint.fields import ROUTING_KEY_PREFIX
from pulumi_tokenfactory.host.creation import MAX_LOOKUPS
from pulumi_tokenfactory.host.routingkey import SUFFIX_LENGTH
from pulumi_tokenfactory.schema import URN_FIELD
from tests.harness.accounts import AccountSettings
from tests.harness.live import delete_all, live_endpoints

pytestmark = pytest.mark.timeout(120)

TOKEN = "tf-exactly-once-token-51c2"
PROGRAM: dict[str, Any] = endpoint_inputs("exactly-once")
MODEL_KEY_PREFIX = f"{ROUTING_KEY_PREFIX}{PROGRAM['model_name']}-"


def wait_until_served(account: EmulatorAccount, which: Callable[[dict[str, Any]], bool], timeout: float) -> None:
    """Until the request log shows a matching request: a delayed request is logged once the server finished it."""
    deadline = time.monotonic() + timeout
    while not any(which(r) for r in account.emulator.requests()):
        assert time.monotonic() < deadline, "the request never finished at the server"
        time.sleep(0.1)


def from_first_post(account: EmulatorAccount) -> list[dict[str, Any]]:
    """The requests one create made: the logged ones from its first POST on (check may have listed before)."""
    log = [r for r in account.emulator.requests() if r["path"] == ENDPOINTS]
    first = next(i for i, r in enumerate(log) if r["method"] == "POST")
    return log[first:]


def shown(requests: list[dict[str, Any]]) -> list[str]:
    return [f"{r['method']} {r['status']}" for r in requests]


def posted_keys(account: EmulatorAccount) -> list[str]:
    return [r["body"]["routing_key"] for r in account.requests_of("POST", ENDPOINTS)]


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN)


@pytest.fixture
def account(tf_account: EmulatorAccount) -> Iterator[EmulatorAccount]:
    """The module's account, blank; whatever a test leaves in it is deleted afterwards."""
    tf_account.emulator.reset()
    yield tf_account
    delete_all(tf_account)


# --------------------------------------------------------------------------- requests per create


def test_a_create_without_faults_is_one_post_carrying_the_key_check_chose_and_no_list(
        account: EmulatorAccount) -> None:
    program = {**PROGRAM, "name": "no-faults", "wait_for_ready": False}
    with account.host() as host:
        steps = account.resource(host, "no-faults")
        program = {**program, URN_FIELD: steps.urn}  # as a program's DedicatedEndpoint passes it
        key = steps.preview(program).inputs["routing_key"]
        account.emulator.clear_requests()
        plan = steps.up(program)
        assert shown(from_first_post(account)) == ["POST 201"], "a create without faults is one POST, no list"
        assert plan.inputs["routing_key"] == key, "preview and up must choose the same key for one URN"
        assert key.startswith(MODEL_KEY_PREFIX) and len(key) == len(MODEL_KEY_PREFIX) + SUFFIX_LENGTH, key
        assert posted_keys(account) == [key]
        (endpoint,) = live_endpoints(account)
        assert endpoint["id"] == steps.id and endpoint["routing_key"] == steps.outputs["routing_key"] == key
        twin = account.resource(host, "no-faults-twin")
        other = twin.preview({**program, URN_FIELD: twin.urn}).inputs["routing_key"]
        assert other != key, "two resources never share a chosen key"
        steps.destroy()


@pytest.mark.parametrize(("fault", "expected"), [
    ({"action": "apply_then_drop"}, ["POST dropped", "GET 200"]),
    ({"action": "error", "status": 503}, ["POST 503", "GET 200", "POST 201"]),
], ids=["acted-then-adopted", "not-acted-then-posted-again"])
def test_a_lost_answer_costs_one_post_and_one_list_then_adoption_or_one_more_post(
        fault: dict[str, Any], expected: list[str], account: EmulatorAccount) -> None:
    program = {**PROGRAM, "name": "one-lost-answer", "wait_for_ready": False}
    with account.host() as host:
        steps = account.resource(host, "one-lost-answer")
        program = {**program, URN_FIELD: steps.urn}  # as a program's DedicatedEndpoint passes it
        key = steps.preview(program).inputs["routing_key"]
        account.emulator.clear_requests()
        account.emulator.inject_fault(method="POST", path=ENDPOINTS, **fault)
        steps.up(program)
        assert shown(from_first_post(account)) == expected
        assert set(posted_keys(account)) == {key}, "every POST of one create carries its one key"
        assert [(e["id"], e["routing_key"]) for e in live_endpoints(account)] == [(steps.id, key)]
        steps.destroy()


# --------------------------------------------------------------------------- a late-landing POST


@pytest.mark.parametrize("wait_for_ready", [False, True], ids=["no-wait", "wait"])
def test_post_landing_after_its_repost_is_refused_for_the_key_so_one_endpoint_remains(
        wait_for_ready: bool, account: EmulatorAccount) -> None:
    # Client timeout 1 s; the server acts on the first POST 3 s after receiving it: the answer is lost, the
    # list shows nothing, the POST is sent again (and made), then the first lands and must be refused.
    program = {**PROGRAM, "name": f"late-landing-{wait_for_ready}", "wait_for_ready": wait_for_ready}
    with account.host(TOKENFACTORY_HTTP_TIMEOUT="1") as host:
        steps = account.resource(host, "late-landing")
        program = {**program, URN_FIELD: steps.urn}  # as a program's DedicatedEndpoint passes it
        key = steps.preview(program).inputs["routing_key"]
        account.emulator.clear_requests()
        account.emulator.inject_fault(method="POST", path=ENDPOINTS, action="delay", delay=3.0)
        steps.up(program)
        wait_until_served(account, lambda r: r.get("fault") is not None, timeout=15)  # the delayed POST landed
        posts = account.requests_of("POST", ENDPOINTS)
        late = next(r for r in posts if r.get("fault") is not None)
        assert late["status"] == 409, f"the late POST must be refused for its key: {shown(posts)}"
        assert len(posts) == 2 and set(posted_keys(account)) == {key}, shown(posts)
        endpoints = live_endpoints(account)
        assert [(e["id"], e["routing_key"]) for e in endpoints] == [(steps.id, key)], endpoints
        steps.destroy()


def test_post_landing_late_but_before_a_lookup_is_adopted_without_a_second_post(account: EmulatorAccount) -> None:
    # Client timeout 1 s; the POST lands 1.3 s after it was sent. The first look-up is unreadable, so the
    # second comes a pause later, after the landing: the endpoint holding the key is adopted.
    program = {**PROGRAM, "name": "lands-before-lookup", "wait_for_ready": False}
    with account.host(TOKENFACTORY_HTTP_TIMEOUT="1") as host:
        steps = account.resource(host, "lands-before-lookup")
        program = {**program, URN_FIELD: steps.urn}  # as a program's DedicatedEndpoint passes it
        key = steps.preview(program).inputs["routing_key"]
        account.emulator.clear_requests()
        account.emulator.inject_fault(method="POST", path=ENDPOINTS, action="delay", delay=1.3)
        account.emulator.inject_fault(method="GET", path=ENDPOINTS, action="malformed")
        steps.up(program)
        assert len(account.requests_of("POST", ENDPOINTS)) == 1, "the late POST must be adopted, not repeated"
        assert [(e["id"], e["routing_key"]) for e in live_endpoints(account)] == [(steps.id, key)]
        steps.destroy()


# --------------------------------------------------------------------------- the look-ups fail too


@pytest.mark.parametrize("wait_for_ready", [False, True], ids=["no-wait", "wait"])
def test_applied_post_whose_answer_and_lookups_fail_never_makes_a_second_endpoint_and_names_the_key(
        wait_for_ready: bool, account: EmulatorAccount) -> None:
    program = {**PROGRAM, "name": f"lookups-fail-{wait_for_ready}", "wait_for_ready": wait_for_ready,
               "ready_timeout": 4}
    with account.host(TOKENFACTORY_HTTP_TIMEOUT="1") as host:
        steps = account.resource(host, "lookups-fail")
        program = {**program, URN_FIELD: steps.urn}  # as a program's DedicatedEndpoint passes it
        key = steps.preview(program).inputs["routing_key"]
        account.emulator.clear_requests()
        account.emulator.inject_fault(method="POST", path=ENDPOINTS, action="apply_then_drop")
        # Unreadable lists (answered at once, so the client does not retry them).
        account.emulator.inject_fault(method="GET", path=ENDPOINTS, action="malformed", count=None)
        with pytest.raises(ProviderCallError) as info:
            steps.up(program)
    line = info.value.last_line
    assert line.startswith("pulumi_tokenfactory.errors.EndpointOperationError: "), info.value.details
    posts = account.requests_of("POST", ENDPOINTS)
    assert [r["status"] for r in posts] == ["dropped", 409], (
        f"a POST after an unknown outcome must be refused for the key, never make an endpoint: {shown(posts)}")
    assert len(account.requests_of("GET", ENDPOINTS)) >= MAX_LOOKUPS
    (landed,) = live_endpoints(account)
    assert landed["routing_key"] == key and key in line, f"the error must name the key to find it by: {line}"
    assert program["name"] in line and "console" in line and "adopt_id" in line, f"and what to do: {line}"
    assert steps.id == "", "nothing is recorded for a create that failed"


# --------------------------------------------------------------------------- in process: the exact moments


class LateLandingApi:
    """An account in memory, refusing a taken routing key as the API does: the first POST times out and
    lands only just after a second POST is answered.

    Endpoints are `running` as soon as the second POST exists, so a wait ends at once.
    """

    def __init__(self, *, late_first: bool = True) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.refused: list[str] = []
        self._late: dict[str, Any] | None = None
        self._late_first = late_first
        self._ids = itertools.count(1)

    def _holds(self, key: str) -> bool:
        return any(e["routing_key"] == key for e in self.endpoints.values())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/templates"):
            return httpx.Response(200, json={"data": [], "object": "list"})
        if request.method == "GET":
            if len(self.posts) >= 2 or not self._late_first:
                for endpoint in self.endpoints.values():
                    endpoint["deployment"] = {"status": "running"}
            return httpx.Response(200, json={"data": list(self.endpoints.values()), "object": "list"})
        if request.method == "DELETE":
            endpoint_id = request.url.path.rsplit("/", 1)[-1]
            self.deleted.append(endpoint_id)
            return httpx.Response(200 if self.endpoints.pop(endpoint_id, None) else 404)
        body = json.loads(request.content)
        self.posts.append(body)
        endpoint = {**body, "id": f"ep-{next(self._ids)}", "deployment": {"status": "starting"}}
        if self._holds(body["routing_key"]):
            self.refused.append(endpoint["id"])
            return httpx.Response(409, json={"detail": [{"loc": ["body", "routing_key"], "msg": "taken"}]})
        if len(self.posts) == 1 and self._late_first:
            self._late = endpoint
            raise httpx.ReadTimeout("the answer never came")
        self.endpoints[endpoint["id"]] = endpoint
        if self._late is not None:  # the lost POST finally lands, just behind this one: the key is taken
            late, self._late = self._late, None
            if self._holds(late["routing_key"]):
                self.refused.append(late["id"])
            else:
                self.endpoints[late["id"]] = late
        return httpx.Response(201, json={"endpoint": endpoint})


def controller_on(api: LateLandingApi, monkeypatch: pytest.MonkeyPatch) -> EngineAdapter:
    """A controller whose HTTP client talks to `api` in memory, with a 50 ms client timeout."""

    def client(**kwargs: Any) -> TokenFactoryClient:
        return TokenFactoryClient(**kwargs, transport=httpx.MockTransport(api), retry=RetryPolicy(max_attempts=1),
                                  sleep=lambda _: None)

    monkeypatch.setattr(controller_module, "TokenFactoryClient", client)
    monkeypatch.setenv("TOKENFACTORY_HTTP_TIMEOUT", "0.05")
    monkeypatch.setenv("TOKENFACTORY_POLL_MAX_INTERVAL", "0.05")
    return EngineAdapter({"tokenfactory:apiKey": "k", "tokenfactory:baseUrl": "http://api.test"})


@pytest.mark.parametrize("wait_for_ready", [False, True], ids=["no-wait", "wait"])
def test_a_post_landing_just_behind_its_repost_is_refused_waiting_or_not_and_nothing_is_deleted(
        wait_for_ready: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    api = LateLandingApi()
    created = controller_on(api, monkeypatch).create({**PROGRAM, "wait_for_ready": wait_for_ready})
    assert len(api.posts) == 2 and api.posts[0]["routing_key"] == api.posts[1]["routing_key"]
    assert api.refused == ["ep-1"], "the late POST must have landed, and been refused, for this case to count"
    assert list(api.endpoints) == [created.id] == ["ep-2"], f"the account holds {list(api.endpoints)}"
    assert api.deleted == [], "with one endpoint per key there is no duplicate to clean up"


@pytest.mark.parametrize("urn", [None, "urn:pulumi:dev::proj::tokenfactory:index:DedicatedEndpoint::gpt"],
                         ids=["no-urn", "urn"])
def test_a_create_whose_check_was_skipped_still_posts_a_chosen_key(
        urn: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    api = LateLandingApi(late_first=False)
    props = {**PROGRAM, "wait_for_ready": False} | ({URN_FIELD: urn} if urn else {})
    created = controller_on(api, monkeypatch).create(props)
    (body,) = api.posts
    key = body["routing_key"]
    assert key.startswith(MODEL_KEY_PREFIX) and len(key) == len(MODEL_KEY_PREFIX) + SUFFIX_LENGTH, key
    assert created.outs is not None and created.outs["routing_key"] == key
    assert [e["routing_key"] for e in api.endpoints.values()] == [key]


def test_a_routing_key_the_program_sets_is_the_one_posted(monkeypatch: pytest.MonkeyPatch) -> None:
    api = LateLandingApi()
    mine = "dedicated/my-own-key-01"
    created = controller_on(api, monkeypatch).create({**PROGRAM, "routing_key": mine, "wait_for_ready": False})
    assert [p["routing_key"] for p in api.posts] == [mine, mine] and list(api.endpoints) == [created.id]
