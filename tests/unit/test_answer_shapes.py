"""Every answer parser, against every form sdk-docs/api-shapes.md names, and against shapes it does not.

Published forms (api-notes): templates and the list under `data`, `flavors` keyed by flavor name, the create
answer wrapped in `endpoint`, the PATCH answer bare, FastAPI 422 `detail` lists. Legacy forms: what this
provider read before (bare lists, `templates`/`endpoints`/`items` keys, flavor lists, flat `status`). Unknown
shapes are errors that name the operation and the keys that arrived, never their values, and never "nothing there".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient
from pulumi_tokenfactory.api.models import (
    EndpointPatch,
    EndpointSpec,
    LifecycleState,
    Readiness,
    Scaling,
    catalogue_violations,
)

TOKEN = "tfk-secret-token-0123456789"
SECRET_VALUE = "value-that-must-not-show-0xdeadbeef"
ENDPOINT = {"id": "ep-1", "name": "e", "routing_key": "dedicated/m-abc", "model_name": "m",
            "deployment": {"status": "running", "readiness": "ready", "ready_replicas": 1}}
SPEC = EndpointSpec(name="e", model_name="m", flavor_name="base", gpu_type="gpu-h100-sxm", gpu_count=1,
                    scaling=Scaling(min_replicas=1, max_replicas=2), region="eu-north1",
                    routing_key="dedicated/m-abc")
#: Shapes no documented form has: each must be an error for every parser.
UNKNOWN_SHAPES: list[Any] = [{"results": [ENDPOINT]}, {"data": {"id": "ep-1"}}, "a string", None,
                             {"token": SECRET_VALUE}]


def client_answering(status: int, body: Any, seen: list[httpx.Request] | None = None) -> TokenFactoryClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        content = b"" if body is None and status == 204 else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers={"content-type": "application/json"})

    return TokenFactoryClient(api_key=TOKEN, base_url="http://api.test", transport=httpx.MockTransport(handler),
                              retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)


Call = Callable[[TokenFactoryClient], Any]
OPERATIONS: dict[str, tuple[Call, str]] = {
    "templates": (lambda c: c.list_templates(), "GET /v0/dedicated_endpoints/templates"),
    "list": (lambda c: c.list_endpoints(), "GET /v0/dedicated_endpoints"),
    "create": (lambda c: c.create_endpoint(SPEC), "POST /v0/dedicated_endpoints"),
    "patch": (lambda c: c.update_endpoint("ep-1", EndpointPatch(name="n")), "PATCH /v0/dedicated_endpoints/ep-1"),
}


# -- templates ---------------------------------------------------------------------------------------

PUBLISHED_TEMPLATES = {"data": [{"name": "openai/gpt-oss-120b", "type": "text2text", "metadata": {"vendor": "x"},
                                 "flavors": {"base": {"gpu_types": ["gpu-h100-sxm"], "gpu_counts": [1, 2],
                                                      "regions": ["eu-north1"]},
                                             "fast": {}}}],
                       "object": "list"}
LEGACY_TEMPLATE = {"model_name": "openai/gpt-oss-120b",
                   "flavors": [{"flavor_name": "base", "gpu_types": ["gpu-h100-sxm"], "gpu_counts": [1, 2]},
                               {"name": "fast"}]}


@pytest.mark.parametrize("body", [
    PUBLISHED_TEMPLATES,
    [LEGACY_TEMPLATE],
    {"templates": [LEGACY_TEMPLATE]},
    {"items": [LEGACY_TEMPLATE]},
    {"templates": [{"template_name": "openai/gpt-oss-120b", "flavors": [{"name": "base"}, {"name": "fast"}]}]},
], ids=["published", "bare-list", "templates-key", "items-key", "template_name"])
def test_every_documented_templates_form_reads_the_same_catalogue(body: Any) -> None:
    templates = client_answering(200, body).list_templates()
    assert [t.model_name for t in templates] == ["openai/gpt-oss-120b"]
    assert [f.flavor_name for f in templates[0].flavors] == ["base", "fast"]
    assert catalogue_violations(templates, model_name="openai/gpt-oss-120b", flavor_name="base",
                                gpu_type="gpu-h100-sxm", gpu_count=1, region="eu-north1") == []


def test_the_published_catalogue_refuses_what_a_flavor_does_not_offer() -> None:
    templates = client_answering(200, PUBLISHED_TEMPLATES).list_templates()
    found = catalogue_violations(templates, model_name="openai/gpt-oss-120b", flavor_name="base",
                                 gpu_type="gpu-b200-sxm", gpu_count=8, region="tf-us1")
    assert [v.property for v in found] == ["gpu_type", "gpu_count", "region"]
    # A flavor that says nothing about its hardware restricts nothing (the values are not published).
    assert catalogue_violations(templates, model_name="openai/gpt-oss-120b", flavor_name="fast",
                                gpu_type="gpu-b200-sxm", gpu_count=8, region="tf-us1") == []
    unknown = catalogue_violations(templates, model_name="nope", flavor_name="base")
    assert "allowed: 'openai/gpt-oss-120b'" in unknown[0].reason, "never 'allowed: (none)' for a readable catalogue"


# -- the endpoint list ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"data": [ENDPOINT], "object": "list"},
    [ENDPOINT],
    {"endpoints": [ENDPOINT]},
    {"dedicated_endpoints": [ENDPOINT]},
    {"items": [ENDPOINT]},
], ids=["published", "bare-list", "endpoints-key", "dedicated_endpoints-key", "items-key"])
def test_every_documented_list_form_reads_the_endpoint(body: Any) -> None:
    listed = client_answering(200, body).list_endpoints()
    assert [e.id for e in listed] == ["ep-1"]


def test_an_empty_published_list_is_an_empty_account() -> None:
    assert client_answering(200, {"data": [], "object": "list"}).list_endpoints() == []


# -- create and PATCH answers ---------------------------------------------------------------------------

LEGACY_ID = {k: v for k, v in ENDPOINT.items() if k != "id"} | {"endpoint_id": "ep-1"}


@pytest.mark.parametrize("body", [{"endpoint": ENDPOINT}, ENDPOINT, LEGACY_ID],
                         ids=["published-201-wrapped", "bare", "endpoint_id"])
def test_every_documented_create_answer_gives_the_id(body: Any) -> None:
    assert client_answering(201, body).create_endpoint(SPEC).id == "ep-1"


@pytest.mark.parametrize("body", [{"endpoint": {"name": "e"}}, {"name": "e", "routing_key": "dedicated/m-x"},
                                  {"id": ""}, {}],
                         ids=["wrapped-without-id", "bare-without-id", "empty-id", "empty-object"])
def test_a_create_answer_without_a_readable_id_is_an_error_not_nothing_made(body: Any) -> None:
    with pytest.raises(errors.UnexpectedResponseError, match=r"no readable endpoint id|not an endpoint") as info:
        client_answering(201, body).create_endpoint(SPEC)
    assert "POST /v0/dedicated_endpoints" in str(info.value)


@pytest.mark.parametrize("body,expected", [(ENDPOINT, "ep-1"), ({"endpoint": ENDPOINT}, "ep-1"), ({}, None)],
                         ids=["published-bare", "wrapped", "empty-object-no-echo"])
def test_every_documented_patch_answer(body: Any, expected: str | None) -> None:
    patched = client_answering(200, body).update_endpoint("ep-1", EndpointPatch(name="n"))
    assert (patched.id if patched else None) == expected


def test_an_empty_patch_body_is_no_echo() -> None:
    assert client_answering(204, None).update_endpoint("ep-1", EndpointPatch(name="n")) is None


# -- unknown shapes: errors naming the operation and the keys, never the values ---------------------

UNKNOWN_CASES = [(operation, body) for operation in sorted(OPERATIONS) for body in UNKNOWN_SHAPES
                 if not (operation == "patch" and body is None)]  # an empty PATCH answer is the documented no-echo


@pytest.mark.parametrize("operation,body", UNKNOWN_CASES,
                         ids=[f"{op}-{json.dumps(body)[:20]}" for op, body in UNKNOWN_CASES])
def test_an_unknown_shape_is_an_error_naming_what_arrived(operation: str, body: Any) -> None:
    call, where = OPERATIONS[operation]
    with pytest.raises(errors.UnexpectedResponseError) as info:
        call(client_answering(200, body))
    message = str(info.value)
    assert where in message
    assert SECRET_VALUE not in message and TOKEN not in message
    if isinstance(body, dict):
        assert all(repr(key) in message for key in body), message
    else:
        assert ("null" if body is None else "a string") in message


@pytest.mark.parametrize("operation,body,named", [
    ("create", {"endpoint": {**ENDPOINT, "scaling": "1-2"}}, "scaling"),
    ("create", {**ENDPOINT, "deployment": "running"}, "deployment"),
    ("patch", {**ENDPOINT, "gpu_count": "eight"}, "gpu_count"),
    ("templates", {"data": [{"name": "openai/gpt-oss-120b", "flavors": None}], "object": "list"}, "flavors"),
    ("templates", {"data": [{"type": "text2text", "flavors": {}}], "object": "list"}, "model_name"),
], ids=["create-scaling", "create-deployment", "patch-gpu_count", "templates-flavors", "templates-no-name"])
def test_an_answer_of_a_known_shape_with_an_unreadable_field_names_the_field(operation: str, body: Any,
                                                                            named: str) -> None:
    """Not pydantic's bare "1 validation error for Endpoint", which says nothing of what arrived."""
    call, where = OPERATIONS[operation]
    with pytest.raises(errors.UnexpectedResponseError) as info:
        call(client_answering(200, body))
    assert named in str(info.value) and where in str(info.value)
    assert "validation error for" not in str(info.value)


def test_one_unreadable_item_is_kept_aside_but_a_list_of_only_unreadable_items_is_an_error() -> None:
    listed = client_answering(200, {"data": [ENDPOINT, {"name": "no id"}]}).list_endpoints()
    assert [e.id for e in listed] == ["ep-1"] and len(listed.malformed) == 1
    with pytest.raises(errors.UnexpectedResponseError, match="none of the endpoint list's 1 item"):
        client_answering(200, {"data": [{"name": "no id"}]}).list_endpoints()


def test_one_endpoint_is_never_not_found_in_a_list_holding_an_unreadable_item_that_may_be_it() -> None:
    """`get_endpoint` (adopt_id's check, `lookup_endpoint`) read through the list: "does not exist" there would send a
    person to create a second endpoint, or tell them theirs is missing, when the API listed it in a form not read."""
    other = {**ENDPOINT, "id": "ep-other"}
    without_id = {**ENDPOINT, "id": 7, "name": "mine"}
    with pytest.raises(errors.UnexpectedResponseError) as info:
        client_answering(200, {"data": [other, without_id], "object": "list"}).get_endpoint("ep-1")
    assert not isinstance(info.value, errors.NotFoundError)
    assert "(name 'mine') without a readable id" in str(info.value), str(info.value)
    with pytest.raises(errors.NotFoundError):
        client_answering(200, {"data": [other], "object": "list"}).get_endpoint("ep-1")


# -- the endpoint's deployment: status and readiness -----------------------------------------------------

@pytest.mark.parametrize("deployment,status,readiness", [
    ({"status": "running", "readiness": "ready"}, LifecycleState.RUNNING, Readiness.READY),
    ({"status": "running", "readiness": "not_ready"}, LifecycleState.RUNNING, Readiness.NOT_READY),
    ({"status": "error", "readiness": "ready"}, LifecycleState.ERROR, Readiness.READY),
    ({"status": "starting", "readiness": "partially_ready"}, LifecycleState.STARTING, Readiness.PARTIALLY_READY),
    ({"status": "warning", "readiness": "ready"}, LifecycleState.WARNING, Readiness.READY),
    ({"status": "hibernating", "readiness": "sort_of"}, LifecycleState.UNKNOWN, Readiness.UNKNOWN),
])
def test_published_deployment_pairs(deployment: dict[str, str], status: LifecycleState, readiness: Readiness) -> None:
    body = {"data": [{**ENDPOINT, "deployment": deployment}]}
    endpoint = client_answering(200, body).list_endpoints()[0]
    assert (endpoint.lifecycle, endpoint.readiness_state) == (status, readiness)
    assert endpoint.status == deployment["status"], "an unknown status is kept as the API said it"


@pytest.mark.parametrize("deployment", ["running", ["running", "ready"], 1, True],
                         ids=["string", "list", "number", "boolean"])
def test_a_deployment_that_is_not_an_object_is_unreadable_never_no_status(deployment: Any) -> None:
    """Read as "no status", a refresh would keep the status the state had and a wait would time out saying the API
    reported none; it is an item this provider cannot read, named as such."""
    odd = {**ENDPOINT, "id": "ep-2", "deployment": deployment}
    listed = client_answering(200, {"data": [ENDPOINT, odd], "object": "list"}).list_endpoints()
    assert [e.id for e in listed] == ["ep-1"]
    assert [(m.id, "deployment" in m.reason) for m in listed.malformed] == [("ep-2", True)]
    with pytest.raises(errors.UnexpectedResponseError):
        client_answering(201, {"endpoint": odd}).create_endpoint(SPEC)


@pytest.mark.parametrize("status,readiness", [("running", Readiness.READY), ("starting", Readiness.NOT_READY)])
def test_a_legacy_flat_status_implies_readiness(status: str, readiness: Readiness) -> None:
    legacy = {"id": "ep-1", "status": status, "updated_at": "2026-01-01T00:00:00Z"}
    endpoint = client_answering(200, [legacy]).list_endpoints()[0]
    assert endpoint.readiness_state is readiness and endpoint.readiness is None


# -- error answers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("status,body,message,fields", [
    (422, {"detail": [{"loc": ["body", "scaling", "min_replicas"], "msg": "Input should be greater than 0",
                       "type": "greater_than", "input": 0, "ctx": {"gt": 0}}]},
     "scaling.min_replicas: Input should be greater than 0", ("scaling.min_replicas",)),
    (409, {"detail": [{"loc": ["body", "routing_key"], "msg": "already in use", "type": "conflict"}]},
     "routing_key: already in use", ("routing_key",)),
    (404, {"detail": "Endpoint not found"}, "Endpoint not found", ()),
    (400, {"error": {"message": "too long", "field": "name"}}, "too long (field: name)", ("name",)),
    (400, {"message": "plain"}, "plain", ()),
], ids=["published-422", "conflict-loc", "published-detail-text", "legacy-error-object", "legacy-message"])
def test_error_answers_name_the_field_and_quote_the_message(status: int, body: Any, message: str,
                                                            fields: tuple[str, ...]) -> None:
    with pytest.raises(errors.APIStatusError) as info:
        client_answering(status, body).create_endpoint(SPEC)
    assert info.value.message == message and info.value.fields == fields
    assert info.value.status_code == status


# -- the request side --------------------------------------------------------------------------------

def test_the_project_is_sent_as_ai_project_id_on_control_plane_calls_only(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    monkeypatch.setenv("TOKENFACTORY_PROJECT_ID", "project-e00abc")
    client = client_answering(200, {"data": [], "object": "list"}, seen)
    client.list_endpoints()
    assert seen[0].url.params.get("ai_project_id") == "project-e00abc"
    monkeypatch.delenv("TOKENFACTORY_PROJECT_ID")
    client_answering(200, {"data": []}, seen).list_endpoints()
    assert "ai_project_id" not in seen[1].url.params


def test_the_create_body_is_the_published_create_request() -> None:
    seen: list[httpx.Request] = []
    client_answering(201, {"endpoint": ENDPOINT}, seen).create_endpoint(SPEC)
    body = json.loads(seen[0].content)
    assert "enabled" not in body and body["routing_key"] == "dedicated/m-abc" and body["region"] == "eu-north1"
    assert "custom_weights_id" not in body, "an optional field without a value is left out, never null"


# -- waits: an answer not understood is never "gone" ---------------------------------------------------

def test_a_delete_wait_never_concludes_gone_while_an_unreadable_item_may_be_the_endpoint() -> None:
    """A list whose only trace of ep-1 may be an item without a readable id does not confirm the DELETE: the wait
    keeps polling, then says the removal could not be confirmed and why, rather than report the endpoint gone."""
    from pulumi_tokenfactory.host.directory import EndpointDirectory
    from pulumi_tokenfactory.host.waiting import PollSchedule, Waiter
    from pulumi_tokenfactory.settings import Settings
    from tests.unit.test_messages import Clock

    other = {**ENDPOINT, "id": "ep-other", "routing_key": "dedicated/m-other"}
    unreadable = {**ENDPOINT, "id": 7, "name": "mine"}
    clock = Clock()
    lines: list[str] = []
    waiter = Waiter(EndpointDirectory(client_answering(200, {"data": [other, unreadable], "object": "list"}), clock),
                    schedule=PollSchedule(initial=1.0, factor=1.0, maximum=1.0), progress=lines.append,
                    sleep=clock.sleep, clock=clock, settings=Settings({}, environ={}))
    with pytest.raises(errors.EndpointOperationError) as info:
        waiter.until_gone("ep-1", 600, label="delete 'mine'")
    message = str(info.value)
    assert "could not be confirmed" in message and "(name 'mine') without a readable id" in message, message
    assert clock.now < 600, "an item that stays unreadable fails the wait after a few polls, not at the timeout"
