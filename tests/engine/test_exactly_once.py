"""Class 2 of issue 11: no second POST after a create whose outcome is unknown, unless absence is proven.

A POST whose answer is lost may have made a GPU endpoint, and may still make one
after we gave up on it. These tests drive the real provider host against the
emulator and count POSTs and endpoints afterwards:

- the POST is applied, its answer is lost, and every look-up that could find it
  fails too: the provider must refuse, naming the endpoint and what to check,
  instead of concluding "absent" and buying a second endpoint;
- the POST lands well after the client's timeout: it must be found and adopted,
  not duplicated, with `wait_for_ready` true or false;
- a POST that never landed is posted again only after the settle period, with
  successful look-ups showing nothing new.

A duplicate that a POST breaking the settle assumption still produces is swept
whether or not the create waits for readiness; that path is shown in-process,
where the moment the late POST lands can be chosen exactly.
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
from pulumi_tokenfactory.host import controller as controller_module
from pulumi_tokenfactory.host.controller import EndpointController
from tests.harness.accounts import AccountSettings

pytestmark = pytest.mark.timeout(120)

TOKEN = "tf-exactly-once-token-51c2"
PROGRAM: dict[str, Any] = endpoint_inputs("exactly-once")


def wait_until_served(account: EmulatorAccount, which: Callable[[dict[str, Any]], bool], timeout: float) -> None:
    """Until the request log shows a matching request: a delayed request is logged once the server finished it."""
    deadline = time.monotonic() + timeout
    while not any(which(r) for r in account.emulator.requests()):
        assert time.monotonic() < deadline, "the request never finished at the server"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN)


@pytest.fixture
def account(tf_account: EmulatorAccount) -> Iterator[EmulatorAccount]:
    """The module's account, blank; whatever a test leaves in it is deleted afterwards."""
    tf_account.emulator.reset()
    yield tf_account
    tf_account.delete_all()


# --------------------------------------------------------------------------- (a) look-ups fail too


@pytest.mark.parametrize("wait_for_ready", [False, True], ids=["no-wait", "wait"])
def test_applied_post_whose_answer_and_lookups_fail_is_not_posted_again(
        wait_for_ready: bool, account: EmulatorAccount) -> None:
    program = {**PROGRAM, "name": f"lookups-fail-{wait_for_ready}", "wait_for_ready": wait_for_ready,
               "ready_timeout": 4}
    with account.host(TOKENFACTORY_HTTP_TIMEOUT="1") as host:
        steps = account.resource(host, "lookups-fail")
        steps.preview(program)  # the duplicate check has listed: the next request is the POST
        account.emulator.clear_requests()
        account.emulator.inject_fault(method="POST", path=ENDPOINTS, action="apply_then_drop")
        account.emulator.inject_fault(method="GET", path=ENDPOINTS, action="error", status=503, count=None)
        with pytest.raises(ProviderCallError) as info:
            steps.up(program)
    line = info.value.last_line
    assert line.startswith("pulumi_tokenfactory.errors.EndpointOperationError: "), info.value.details
    assert len(account.requests_of("POST", ENDPOINTS)) == 1, f"a second POST was made after an unknown outcome: {line}"
    (landed,) = account.live()
    assert program["name"] in line, f"the error must name the endpoint: {line}"
    assert "could not be proven" in line and "console" in line, f"the error must say what to check: {line}"
    assert steps.id == "", "nothing is recorded for a create that failed"
    assert landed["name"] == program["name"]


# --------------------------------------------------------------------------- (b) lands after the timeout


@pytest.mark.parametrize("wait_for_ready", [False, True], ids=["no-wait", "wait"])
def test_post_landing_well_after_the_client_timeout_is_adopted_not_duplicated(
        wait_for_ready: bool, account: EmulatorAccount) -> None:
    # Client timeout 3 s; the server acts 8.2 s after receiving the POST: 5.2 s after the answer was given
    # up on, inside the settle period (twice the timeout), but after look-ups made 0, 1 and 4 s after the loss.
    program = {**PROGRAM, "name": f"late-landing-{wait_for_ready}", "wait_for_ready": wait_for_ready}
    with account.host(TOKENFACTORY_HTTP_TIMEOUT="3") as host:
        steps = account.resource(host, "late-landing")
        steps.preview(program)
        account.emulator.clear_requests()
        account.emulator.inject_fault(method="POST", path=ENDPOINTS, action="delay", delay=8.2)
        steps.up(program)
        wait_until_served(account, lambda r: r.get("fault") is not None, timeout=15)  # the delayed POST landed
        endpoints = account.live()
        assert len(account.requests_of("POST", ENDPOINTS)) == 1, "the late POST must be adopted, not repeated"
        assert [e["id"] for e in endpoints] == [steps.id], f"one endpoint, the one in the state: {endpoints}"
        assert steps.outputs["routing_key"] == endpoints[0]["routing_key"]
        steps.destroy()


# --------------------------------------------------------------------------- re-POST only after the settle period


def test_post_that_never_landed_is_repeated_only_after_the_settle_period(account: EmulatorAccount) -> None:
    http_timeout = 3.0
    program = {**PROGRAM, "name": "never-landed", "wait_for_ready": False}
    with account.host(TOKENFACTORY_HTTP_TIMEOUT=str(http_timeout)) as host:
        steps = account.resource(host, "never-landed")
        steps.preview(program)
        account.emulator.clear_requests()
        account.emulator.inject_fault(method="POST", path=ENDPOINTS, action="error", status=503)
        started = time.monotonic()
        steps.up(program)
        elapsed = time.monotonic() - started
        log = account.emulator.requests()
        made = [r for r in log if r["method"] == "POST" and r["path"] == ENDPOINTS]
        assert [r["status"] for r in made] == [503, 200]
        between = log[log.index(made[0]) + 1: log.index(made[1])]
        assert any(r["method"] == "GET" and r["path"] == ENDPOINTS and r["status"] == 200 for r in between), \
            "the second POST must follow a successful look-up"
        assert elapsed >= 2 * http_timeout, (
            f"posted again {elapsed:.1f}s after a 503: a POST may still land up to twice the client timeout "
            f"({2 * http_timeout:g}s) after its answer was lost")
        assert [e["id"] for e in account.live()] == [steps.id]
        steps.destroy()


# --------------------------------------------------------------------------- the sweep, with and without waiting


class LateLandingApi:
    """An account in memory: the first POST times out and lands only when a second POST is answered.

    That is a POST breaking the settle assumption: it lands after the provider proved it absent and
    posted again. Endpoints are `running` as soon as the second POST exists, so a wait ends at once.
    """

    def __init__(self) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.posts = 0
        self.deleted: list[str] = []
        self._late: dict[str, Any] | None = None
        self._ids = itertools.count(1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/templates"):
            return httpx.Response(200, json={"templates": []})
        if request.method == "GET":
            if self.posts >= 2:
                for endpoint in self.endpoints.values():
                    endpoint["status"] = "running"
            return httpx.Response(200, json={"endpoints": list(self.endpoints.values())})
        if request.method == "DELETE":
            endpoint_id = request.url.path.rsplit("/", 1)[-1]
            self.deleted.append(endpoint_id)
            return httpx.Response(200 if self.endpoints.pop(endpoint_id, None) else 404)
        self.posts += 1
        endpoint = {**json.loads(request.content), "id": f"ep-{next(self._ids)}", "status": "starting",
                    "routing_key": f"dedicated/x-{self.posts}"}
        if self.posts == 1:
            self._late = endpoint
            raise httpx.ReadTimeout("the answer never came")
        self.endpoints[endpoint["id"]] = endpoint
        if self._late is not None:
            self.endpoints[self._late["id"]] = self._late  # the lost POST finally lands, just behind this one
            self._late = None
        return httpx.Response(200, json=endpoint)


def controller_on(api: LateLandingApi, monkeypatch: pytest.MonkeyPatch) -> EndpointController:
    """A controller whose HTTP client talks to `api` in memory, with a 50 ms client timeout."""

    def client(**kwargs: Any) -> TokenFactoryClient:
        return TokenFactoryClient(**kwargs, transport=httpx.MockTransport(api), retry=RetryPolicy(max_attempts=1),
                                  sleep=lambda _: None)

    monkeypatch.setattr(controller_module, "TokenFactoryClient", client)
    monkeypatch.setenv("TOKENFACTORY_HTTP_TIMEOUT", "0.05")
    monkeypatch.setenv("TOKENFACTORY_POLL_MAX_INTERVAL", "0.05")
    return EndpointController({"tokenfactory:apiKey": "k", "tokenfactory:baseUrl": "http://api.test"})


@pytest.mark.parametrize("wait_for_ready", [False, True], ids=["no-wait", "wait"])
def test_duplicate_from_a_post_landing_after_the_settle_period_is_swept_waiting_or_not(
        wait_for_ready: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    api = LateLandingApi()
    created = controller_on(api, monkeypatch).create({**PROGRAM, "wait_for_ready": wait_for_ready})
    assert api.posts == 2
    assert list(api.endpoints) == [created.id], (
        f"the late POST's duplicate must be deleted, waiting or not: the account holds {list(api.endpoints)}")
    assert api.deleted == ["ep-1"] and created.id == "ep-2"
