"""The readiness gate (endpoint/readiness.py) and the client's inference probe, against scripted answers.

No server and no real time: an httpx MockTransport answers, and a fake clock
moves only when the gate sleeps, so the counts and messages are exact.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient
from pulumi_tokenfactory.endpoint.properties import EndpointInputs
from pulumi_tokenfactory.endpoint.readiness import ReadinessGate, starts_replicas
from pulumi_tokenfactory.endpoint.validation import option_conflict
from pulumi_tokenfactory.host.waiting import PollSchedule
from pulumi_tokenfactory.provider import DedicatedEndpointProvider

TOKEN = "tfk-readiness-secret-0123456789"
ROUTING_KEY = "dedicated/openai/gpt-oss-120b-AbCdEf012345"
Answer = httpx.Response | Exception


class Scripted:
    """A transport that answers from a script (the last answer repeats) and records what it was sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def not_found() -> httpx.Response:
    return httpx.Response(404, json={"error": {"message": f"The model `{ROUTING_KEY}` does not exist",
                                               "code": "model_not_found"}})


def ok() -> httpx.Response:
    return httpx.Response(200, json={"object": "chat.completion", "choices": [],
                                     "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}})


def client_for(script: Scripted, base_url: str | None = "http://127.0.0.1:8080") -> TokenFactoryClient:
    return TokenFactoryClient(api_key=TOKEN, base_url=base_url, transport=httpx.MockTransport(script),
                              retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def gate_for(script: Scripted, progress: Callable[[str], None] | None = None) -> tuple[ReadinessGate, FakeTime]:
    fake = FakeTime()
    gate = ReadinessGate(client_for(script), schedule=PollSchedule(), progress=progress or (lambda _: None),
                         sleep=fake.sleep, clock=fake.clock)
    return gate, fake


def test_the_probe_is_one_tiny_completion_on_the_routing_key_with_the_token() -> None:
    script = Scripted(ok())
    url = client_for(script).probe_inference(ROUTING_KEY, "eu-north1")
    assert url == "http://127.0.0.1:8080/v1/chat/completions"
    (request,) = script.requests
    assert (request.method, str(request.url)) == ("POST", url)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {"model": ROUTING_KEY, "max_tokens": 1,
                                           "messages": [{"role": "user", "content": "ping"}]}


@pytest.mark.parametrize(("region", "host"), [("eu-north1", "api.tokenfactory.nebius.com"),
                                              ("eu-west1", "api.tokenfactory.eu-west1.nebius.com"),
                                              ("us-central1", "api.tokenfactory.us-central1.nebius.com")])
def test_against_the_public_api_the_probe_goes_to_the_regions_inference_host(region: str, host: str) -> None:
    script = Scripted(ok())
    url = client_for(script, base_url=None).probe_inference(ROUTING_KEY, region)
    assert url == f"https://{host}/v1/chat/completions"
    assert script.requests[0].url.host == host


def test_404_is_retried_at_the_waiters_backoff_until_answered() -> None:
    messages: list[str] = []
    script = Scripted(not_found(), not_found(), not_found(), ok())
    gate, fake = gate_for(script, messages.append)
    outcome = gate.until_routable("ep-1", ROUTING_KEY, "eu-north1", gate.budget(60), label="create 'gpt'")
    assert (outcome.probes, len(script.requests)) == (4, 4)
    assert fake.sleeps == [0.5, 1.0, 2.0]
    assert outcome.seconds == 3.5
    assert messages[0] == "create 'gpt': endpoint ep-1 is running but not yet routable (404), 0s elapsed"
    assert messages[-1] == "create 'gpt': endpoint ep-1 is routable (3s elapsed, 4 inference probes)"


def test_routable_at_once_costs_one_probe_and_prints_nothing() -> None:
    messages: list[str] = []
    script = Scripted(ok())
    gate, fake = gate_for(script, messages.append)
    assert gate.until_routable("ep-1", ROUTING_KEY, None, gate.budget(60), label="create 'gpt'").probes == 1
    assert (fake.sleeps, messages) == ([], [])


def test_progress_repeats_every_30_seconds_with_the_elapsed_time() -> None:
    messages: list[str] = []
    gate, _ = gate_for(Scripted(not_found()), messages.append)
    with pytest.raises(errors.EndpointOperationError):
        gate.until_routable("ep-1", ROUTING_KEY, None, gate.budget(120), label="update 'gpt'")
    elapsed = [m.rsplit(", ", 1)[1] for m in messages]
    assert elapsed == ["0s elapsed", "31s elapsed", "1m01s elapsed", "1m31s elapsed"]


def test_a_404_that_never_ends_fails_within_the_timeout_naming_the_endpoint() -> None:
    script = Scripted(not_found())
    gate, fake = gate_for(script)
    with pytest.raises(errors.EndpointOperationError) as caught:
        gate.until_routable("ep-7", ROUTING_KEY, None, gate.budget(10), label="create 'gpt'")
    assert caught.value.endpoint_id == "ep-7"
    assert str(caught.value) == (f"create 'gpt': endpoint ep-7 is running, but its routing key {ROUTING_KEY!r} did "
                                 f"not answer inference within ready_timeout (10s; last answer: 404, 6 probes)")
    assert sum(fake.sleeps) == 10, "the last pause is cut to the deadline, and there is a probe at it"
    assert len(script.requests) == 1 + PollSchedule().polls_for(10)


def test_a_spent_budget_still_makes_one_probe() -> None:
    gate, _ = gate_for(Scripted(ok()))
    assert gate.until_routable("ep-1", ROUTING_KEY, None, gate.budget(0), label="create 'gpt'").probes == 1
    script = Scripted(not_found())
    gate, fake = gate_for(script)
    with pytest.raises(errors.EndpointOperationError, match=r"within ready_timeout \(0s; last answer: 404, 1 probe\)"):
        gate.until_routable("ep-1", ROUTING_KEY, None, gate.budget(0), label="create 'gpt'")
    assert (len(script.requests), fake.sleeps) == (1, [])


def test_the_wait_for_running_is_taken_out_of_the_budget() -> None:
    script = Scripted(not_found())
    gate, fake = gate_for(script)
    budget = gate.budget(10)
    fake.sleep(7)  # the wait for `running` took 7 of the 10 seconds
    fake.sleeps.clear()
    with pytest.raises(errors.EndpointOperationError, match=r"within ready_timeout \(10s; last answer: 404"):
        gate.until_routable("ep-1", ROUTING_KEY, None, budget, label="create 'gpt'")
    assert sum(fake.sleeps) == 3
    assert len(script.requests) == 1 + PollSchedule().polls_for(3)


@pytest.mark.parametrize("passing", [
    httpx.Response(503, json={"error": {"message": "overloaded"}}),
    httpx.Response(429, json={"error": {"message": "slow down"}}),
    httpx.Response(502, text="<html>bad gateway</html>"),
    httpx.ConnectError("connection refused"),
    httpx.ReadTimeout("timed out"),
], ids=["503", "429", "502", "refused", "timeout"])
def test_passing_failures_are_tried_again(passing: Answer) -> None:
    script = Scripted(not_found(), passing, ok())
    gate, _ = gate_for(script)
    assert gate.until_routable("ep-1", ROUTING_KEY, None, gate.budget(60), label="create 'gpt'").probes == 3


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_a_refusal_ends_the_wait_at_once_naming_endpoint_and_status_never_the_token(status: int) -> None:
    echo = httpx.Response(status, json={"error": {"message": f"denied for Authorization: Bearer {TOKEN}"}})
    script = Scripted(not_found(), echo)
    gate, _ = gate_for(script)
    with pytest.raises(errors.EndpointOperationError) as caught:
        gate.until_routable("ep-9", ROUTING_KEY, None, gate.budget(600), label="create 'gpt'")
    text = str(caught.value)
    assert len(script.requests) == 2
    assert "endpoint ep-9 is running, but its inference probe" in text
    assert f"refused with HTTP {status}" in text
    assert TOKEN not in text and TOKEN not in repr(caught.value)
    assert "[REDACTED]" in text


def test_wait_for_inference_needs_wait_for_ready() -> None:
    conflict = option_conflict({"wait_for_inference": True, "wait_for_ready": False})
    assert conflict is not None
    prop, reason = conflict
    assert prop == "wait_for_inference"
    assert "wait_for_inference=True requires wait_for_ready=True" in reason
    assert option_conflict({"wait_for_inference": True, "wait_for_ready": True}) is None
    assert option_conflict({"wait_for_inference": True}) is None, "wait_for_ready defaults to True"
    assert option_conflict({"wait_for_inference": False, "wait_for_ready": False}) is None
    assert option_conflict({}) is None


SPEC = {"name": "GPT-120B Endpoint", "model_name": "openai/gpt-oss-120b", "flavor_name": "base",
        "gpu_type": "gpu-h100-sxm", "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 2},
        "region": "eu-north1"}


def test_check_refuses_the_pair_naming_both_before_any_api_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # No token anywhere: any API call (the catalogue, the duplicate list) would raise instead of answering.
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://127.0.0.1:9")
    provider = DedicatedEndpointProvider()
    result = provider.check({}, {**SPEC, "wait_for_inference": True, "wait_for_ready": False})
    assert [(f.property, f.reason) for f in result.failures] == [
        ("wait_for_inference", "wait_for_inference=True requires wait_for_ready=True (the inference probe starts "
                               "once the endpoint is running); set wait_for_ready=True, or wait_for_inference=False")]
    with pytest.raises(errors.MissingApiKeyError):  # the same inputs without the conflict do ask the API
        provider.check({}, {**SPEC, "wait_for_inference": True})


def test_create_and_update_refuse_the_pair_too_when_check_was_skipped() -> None:
    provider = DedicatedEndpointProvider()
    with pytest.raises(errors.ConfigurationError, match="wait_for_inference: wait_for_inference=True requires"):
        provider.create({**SPEC, "wait_for_inference": True, "wait_for_ready": False})


def inputs(**changes: object) -> EndpointInputs:
    return EndpointInputs.from_props({**SPEC, **changes})


@pytest.mark.parametrize(("current", "desired", "starts"), [
    ({"enabled": False}, {"enabled": True}, True),
    ({}, {"scaling": {"min_replicas": 2, "max_replicas": 2}}, True),
    ({"scaling": {"min_replicas": 2, "max_replicas": 3}}, {"scaling": {"min_replicas": 1, "max_replicas": 3}}, False),
    ({}, {"scaling": {"min_replicas": 1, "max_replicas": 5}}, False),
    ({}, {"enabled": False, "scaling": {"min_replicas": 3, "max_replicas": 3}}, False),
    ({}, {"name": "renamed"}, False),
], ids=["enable", "min-rise", "min-lower", "max-only", "disable-with-rise", "rename"])
def test_which_updates_start_replicas(current: dict[str, object], desired: dict[str, object], starts: bool) -> None:
    assert starts_replicas(inputs(**current), inputs(**desired)) is starts
