"""Client retry policy and error mapping, at the transport level (exact timings, no server needed).

The live-emulator tests cover the same client end to end; these pin down the
policy itself: which failures are retried, how long it waits, and that a
create is never repeated unless the API certainly did not act.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable

import httpx
import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient, resolve_base_url
from pulumi_tokenfactory.api.models import EndpointPatch, EndpointSpec, Scaling

TOKEN = "tf-SECRET-token-0123456789"
SPEC = EndpointSpec(
    name="e",
    model_name="m",
    flavor_name="base",
    gpu_type="gpu-h100-sxm",
    gpu_count=1,
    scaling=Scaling(min_replicas=1, max_replicas=2),
)
ENDPOINT = {"id": "ep-1", "routing_key": "dedicated/m-abc", "name": "e", "status": "starting"}


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **policy: float
) -> tuple[TokenFactoryClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    retry = RetryPolicy(**policy) if policy else RetryPolicy()  # type: ignore[arg-type]
    client = TokenFactoryClient(
        api_key=TOKEN,
        base_url="http://api.test",
        transport=httpx.MockTransport(record),
        retry=retry,
        sleep=sleeps.append,
    )
    return client, seen


def sequence(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def test_bearer_token_is_sent_and_never_shown() -> None:
    sleeps: list[float] = []
    client, seen = client_for(sequence(httpx.Response(401, json={"error": {"message": "bad token"}})), sleeps)
    with pytest.raises(errors.AuthenticationError) as info:
        client.list_endpoints()
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    for text in (str(info.value), repr(info.value), repr(client), repr(client._api_key)):
        assert TOKEN not in text
    assert info.value.status_code == 401 and info.value.path == "/v0/dedicated_endpoints"
    assert sleeps == [], "a 401 is not retried"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, errors.RequestValidationError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.RequestValidationError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
def test_status_codes_map_to_typed_errors_with_request_id(
        status: int, error_type: type[errors.TokenFactoryError]) -> None:
    response = httpx.Response(
        status, json={"error": {"message": "nope", "field": "gpu_type"}}, headers={"x-request-id": "req-42"}
    )
    client, _ = client_for(sequence(response), [], max_attempts=1)
    with pytest.raises(error_type) as info:
        client.delete_endpoint("ep-1")
    assert info.value.request_id == "req-42"
    assert "nope (field: gpu_type)" in str(info.value) and "DELETE /v0/dedicated_endpoints/ep-1" in str(info.value)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_idempotent_requests_retry_gateway_errors_with_backoff(status: int) -> None:
    sleeps: list[float] = []
    client, seen = client_for(
        sequence(httpx.Response(status), httpx.Response(status), httpx.Response(200, json={"endpoints": [ENDPOINT]})),
        sleeps,
    )
    assert [e.id for e in client.list_endpoints()] == ["ep-1"]
    assert len(seen) == 3
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0, sleeps


def test_retry_after_is_honoured() -> None:
    sleeps: list[float] = []
    client, seen = client_for(
        sequence(httpx.Response(429, headers={"retry-after": "3"}), httpx.Response(200, json=ENDPOINT)), sleeps
    )
    client.update_endpoint("ep-1", EndpointPatch(name="x"))
    assert sleeps == [3.0] and len(seen) == 2


@pytest.mark.parametrize("header", ["soon", "", "nan", "inf", "Mon, 99 Foo 2026 25:61:00 GMT"])
def test_an_unreadable_retry_after_falls_back_to_the_backoff(header: str) -> None:
    sleeps: list[float] = []
    client, seen = client_for(
        sequence(httpx.Response(429, headers={"retry-after": header}), httpx.Response(200, json=ENDPOINT)), sleeps
    )
    client.update_endpoint("ep-1", EndpointPatch(name="x"))
    assert len(seen) == 2 and len(sleeps) == 1 and 0 < sleeps[0] <= 1.0, sleeps


def test_an_http_date_retry_after_is_waited_for() -> None:
    sleeps: list[float] = []
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    client, _ = client_for(
        sequence(httpx.Response(429, headers={"retry-after": when}), httpx.Response(200, json=ENDPOINT)), sleeps
    )
    client.update_endpoint("ep-1", EndpointPatch(name="x"))
    assert len(sleeps) == 1 and 3.0 <= sleeps[0] <= 5.0, sleeps


def test_retry_after_beyond_the_deadline_is_raised_not_slept() -> None:
    sleeps: list[float] = []
    client, _ = client_for(sequence(httpx.Response(429, headers={"retry-after": "600"})), sleeps, total_deadline=10.0)
    with pytest.raises(errors.RateLimitError) as info:
        client.list_endpoints()
    assert info.value.retry_after == 600.0 and sleeps == []


def test_attempts_are_bounded() -> None:
    sleeps: list[float] = []
    client, seen = client_for(sequence(httpx.Response(503)), sleeps, max_attempts=4)
    with pytest.raises(errors.ServerError):
        client.get_endpoint("ep-1")
    assert len(seen) == 4 and len(sleeps) == 3


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503),
        httpx.Response(502),
        httpx.Response(500),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
)
def test_create_is_never_retried_blindly(failure: httpx.Response | Exception) -> None:
    client, seen = client_for(sequence(failure, httpx.Response(200, json=ENDPOINT)), [])
    with pytest.raises((errors.ServerError, errors.TransportError)) as info:
        client.create_endpoint(SPEC)
    assert len(seen) == 1, "a POST whose outcome is unknown must not be repeated by the client"
    if isinstance(info.value, errors.TransportError):
        assert info.value.request_sent is True


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(429, headers={"retry-after": "1"}),
        httpx.ConnectError("refused"),
    ],
)
def test_create_is_retried_when_the_api_certainly_did_not_act(failure: httpx.Response | Exception) -> None:
    client, seen = client_for(sequence(failure, httpx.Response(200, json=ENDPOINT)), [])
    assert client.create_endpoint(SPEC).id == "ep-1"
    assert len(seen) == 2


def test_an_unreachable_api_says_why_it_could_not_be_reached() -> None:
    """A name that does not resolve, a port nobody listens on and a TLS refusal ask for different fixes."""
    client = TokenFactoryClient(api_key="k", base_url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(errors.TransportError) as info:
        client.list_endpoints()
    assert "Could not reach the API at http://127.0.0.1:9 (ConnectError: " in str(info.value)
    assert "refused" in str(info.value).lower(), str(info.value)


def test_create_payload_is_the_documented_body() -> None:
    client, seen = client_for(sequence(httpx.Response(200, json={"endpoint_id": "ep-9"})), [])
    assert client.create_endpoint(SPEC).id == "ep-9"  # `endpoint_id` is accepted too
    import json

    assert json.loads(seen[0].content) == {
        "name": "e",
        "model_name": "m",
        "flavor_name": "base",
        "gpu_type": "gpu-h100-sxm",
        "gpu_count": 1,
        "scaling": {"min_replicas": 1, "max_replicas": 2},
        "region": "eu-north1",
    }, "the published create request has no `enabled`"


def test_patch_sends_only_the_given_fields() -> None:
    client, seen = client_for(sequence(httpx.Response(200, json={})), [])
    assert client.update_endpoint("ep-1", EndpointPatch(scaling=Scaling(min_replicas=2, max_replicas=4))) is None
    import json

    assert json.loads(seen[0].content) == {"scaling": {"min_replicas": 2, "max_replicas": 4}}


@pytest.mark.parametrize("body", [b"{not json", b'{"endpoints": [{"name": "no id"}]}', b'"a string"'])
def test_malformed_bodies_are_reported_clearly(body: bytes) -> None:
    client, _ = client_for(sequence(httpx.Response(200, content=body)), [])
    with pytest.raises(errors.UnexpectedResponseError) as info:
        client.list_endpoints()
    assert "GET /v0/dedicated_endpoints" in str(info.value)


def test_a_redirect_names_where_it_points_and_is_not_followed() -> None:
    """`http://` for an API served on `https://` is the usual base URL slip: the token must not be sent on."""
    moved = httpx.Response(301, headers={"location": "https://api.test/v0/dedicated_endpoints"}, text="Moved")
    client, seen = client_for(sequence(moved), [])
    with pytest.raises(errors.APIStatusError) as info:
        client.list_endpoints()
    assert len(seen) == 1
    assert "redirects to https://api.test/v0/dedicated_endpoints" in str(info.value)
    assert "HTTP 301" in str(info.value) and info.value.status_code == 301


#: JSON nested deeper than Python's recursion limit: `json.loads` raises RecursionError, not a ValueError.
_TOO_DEEP = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_nested_too_deep_is_an_unexpected_answer_not_a_crash(status: int) -> None:
    client, _ = client_for(sequence(httpx.Response(status, content=_TOO_DEEP)), [], max_attempts=1)
    with pytest.raises(errors.TokenFactoryError) as info:
        client.list_endpoints()
    assert "GET /v0/dedicated_endpoints" in str(info.value)
    assert len(str(info.value)) < 600, "one readable line, not the body"


def test_unknown_fields_and_both_shapes_are_accepted() -> None:
    listed = [{**ENDPOINT, "future_field": {"x": 1}, "status": "SOMETHING_NEW"}]
    for body in (listed, {"endpoints": listed}):
        client, _ = client_for(sequence(httpx.Response(200, json=body)), [])
        endpoint = client.list_endpoints()[0]
        assert endpoint.lifecycle.value == "unknown" and endpoint.model_extra == {"future_field": {"x": 1}}
    templates = {"templates": [{"template_name": "m", "flavors": [{"flavor_name": "base"}]}]}
    client, _ = client_for(sequence(httpx.Response(200, json=templates)), [])
    assert client.list_templates()[0].model_name == "m"


def test_get_reads_one_endpoint_through_the_list() -> None:
    """The published API has no single-endpoint route: one list call, never a GET of /{id}."""
    client, seen = client_for(sequence(*[httpx.Response(200, json={"data": [ENDPOINT], "object": "list"})] * 3), [])
    assert client.get_endpoint("ep-1").routing_key == "dedicated/m-abc"
    with pytest.raises(errors.NotFoundError):
        client.get_endpoint("ep-404")
    assert [r.url.path for r in seen] == ["/v0/dedicated_endpoints"] * 2


def test_get_of_an_unreadable_item_is_not_not_found() -> None:
    body = {"data": [ENDPOINT, {"id": "ep-2", "scaling": "broken"}], "object": "list"}
    client, _ = client_for(sequence(httpx.Response(200, json=body)), [])
    with pytest.raises(errors.UnexpectedResponseError, match="ep-2"):
        client.get_endpoint("ep-2")


def test_missing_token_and_bad_base_url_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    with pytest.raises(errors.MissingApiKeyError, match="pulumi config set --secret tokenfactory:apiKey"):
        TokenFactoryClient()
    with pytest.raises(errors.MissingApiKeyError):
        TokenFactoryClient(api_key="   ")
    for bad in ("api.tokenfactory.nebius.com", "ftp://x", "http://"):
        with pytest.raises(errors.ConfigurationError, match="base URL"):
            resolve_base_url(bad)


def test_client_and_key_refuse_to_be_pickled() -> None:
    import pickle

    client, _ = client_for(sequence(httpx.Response(200, json=[])), [])
    with pytest.raises(TypeError):
        pickle.dumps(client)
    with pytest.raises(TypeError):
        pickle.dumps(client._api_key)
