"""The emulator's management routes over HTTP: paths, payloads and validation, like the real API."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory.api import models
from pulumi_tokenfactory.api.client import TokenFactoryClient
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

SEED: dict[str, Any] = dict(SEED_EXAMPLE)
ENDPOINTS = "/v0/dedicated_endpoints"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def create(api: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = api.post(ENDPOINTS, json={**SEED, **changes})
    assert response.status_code == 200, response.text
    return dict(response.json())


def error_of(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """The error object, after checking the status and that the body names the request id."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["request_id"] == response.headers["x-request-id"]
    return dict(error)


# -- templates -----------------------------------------------------------------------------------


def test_templates_are_a_realistic_catalogue_in_the_model_shape(api: httpx.Client) -> None:
    response = api.get(f"{ENDPOINTS}/templates")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"templates"}
    templates = models.parse_templates(body)
    names = [t.model_name for t in templates]
    assert {"openai/gpt-oss-120b", "openai/gpt-oss-20b", "deepseek-ai/DeepSeek-V3.1"} <= set(names)
    assert len(names) == len(set(names))
    for template in templates:
        assert [f.flavor_name for f in template.flavors] == ["base", "fast"]
        for flavor in template.flavors:
            assert flavor.gpu_types and flavor.gpu_counts
            assert set(flavor.gpu_types) <= {"gpu-l40s-d", "gpu-h100-sxm", "gpu-h200-sxm", "gpu-b200-sxm"}
    # The API description's own example is a valid choice.
    assert not models.catalogue_violations(templates, model_name="openai/gpt-oss-120b", flavor_name="base",
                                           gpu_type="gpu-h100-sxm", gpu_count=1)
    # A 671B model does not fit on one GPU.
    assert 1 not in templates[names.index("deepseek-ai/DeepSeek-V3.1")].flavors[0].gpu_counts


# -- create, get, list -----------------------------------------------------------------------------


def test_create_answers_the_endpoint_with_its_id_and_routing_key(api: httpx.Client) -> None:
    endpoint = create(api)
    assert re.fullmatch(r"ep-[a-z0-9]{8,}", endpoint["id"])
    assert re.fullmatch(r"dedicated/openai/gpt-oss-120b-[A-Za-z0-9]{12}", endpoint["routing_key"])
    for key in ("name", "description", "model_name", "flavor_name", "gpu_type", "gpu_count", "scaling"):
        assert endpoint[key] == SEED[key]
    assert endpoint["region"] == models.DEFAULT_REGION
    assert endpoint["enabled"] is True
    assert endpoint["status"] == "starting"
    assert ISO_UTC.match(endpoint["created_at"]) and ISO_UTC.match(endpoint["updated_at"])
    parsed = models.Endpoint.model_validate(endpoint)
    assert parsed.lifecycle == models.LifecycleState.STARTING


def test_two_creates_get_distinct_ids_and_routing_keys(api: httpx.Client) -> None:
    first, second = create(api), create(api)
    assert first["id"] != second["id"] and first["routing_key"] != second["routing_key"]


def test_get_and_list_return_what_create_returned(api: httpx.Client) -> None:
    created = create(api, region="us-central1", description=None)
    assert created["region"] == "us-central1" and created["description"] is None
    fetched = api.get(f"{ENDPOINTS}/{created['id']}")
    assert fetched.status_code == 200
    assert {k: v for k, v in fetched.json().items() if k != "status"} == {
        k: v for k, v in created.items() if k != "status"}
    listed = api.get(ENDPOINTS).json()
    assert set(listed) == {"endpoints"}
    assert [e["id"] for e in listed["endpoints"]] == [created["id"]]


def test_created_disabled_endpoint_is_stopped(api: httpx.Client) -> None:
    endpoint = create(api, enabled=False)
    assert endpoint["enabled"] is False and endpoint["status"] == "stopped"


def test_integral_float_counts_are_accepted(api: httpx.Client) -> None:
    endpoint = create(api, gpu_count=2.0, scaling={"min_replicas": 1.0, "max_replicas": 3})
    assert endpoint["gpu_count"] == 2 and endpoint["scaling"] == {"min_replicas": 1, "max_replicas": 3}


def test_unknown_endpoint_is_a_404_in_the_error_shape(api: httpx.Client) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "x"} if method == "PATCH" else None
        response = api.request(method, f"{ENDPOINTS}/ep-doesnotexist", json=body)
        error = error_of(response, 404)
        assert error["code"] == "not_found" and "ep-doesnotexist" in error["message"]


def test_every_response_carries_a_fresh_request_id(api: httpx.Client) -> None:
    ids = {api.get(ENDPOINTS).headers["x-request-id"] for _ in range(3)}
    ids.add(api.get("/no/such/route").headers["x-request-id"])
    assert len(ids) == 4 and all(ids)


def test_unknown_route_and_method_answer_json_errors(api: httpx.Client) -> None:
    assert error_of(api.get("/v0/nothing"), 404)["code"] == "not_found"
    assert error_of(api.put(ENDPOINTS, json={}), 405)["code"] == "method_not_allowed"


# -- validation ------------------------------------------------------------------------------------


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in SEED.items() if k != key}


@pytest.mark.parametrize(("body", "field", "words"), [
    (_without("name"), "name", "required"),
    (_without("model_name"), "model_name", "required"),
    (_without("flavor_name"), "flavor_name", "required"),
    (_without("gpu_type"), "gpu_type", "required"),
    (_without("gpu_count"), "gpu_count", "required"),
    (_without("scaling"), "scaling", "required"),
    ({**SEED, "scaling": {"min_replicas": 1}}, "scaling.max_replicas", "required"),
    ({**SEED, "name": ""}, "name", "empty"),
    ({**SEED, "name": "   "}, "name", "empty"),
    ({**SEED, "name": "x" * (models.NAME_MAX_LENGTH + 1)}, "name", str(models.NAME_MAX_LENGTH)),
    ({**SEED, "name": 7}, "name", "string"),
    ({**SEED, "gpu_count": "1"}, "gpu_count", "integer"),
    ({**SEED, "gpu_count": 1.5}, "gpu_count", "integer"),
    ({**SEED, "gpu_count": True}, "gpu_count", "integer"),
    ({**SEED, "gpu_count": 0}, "gpu_count", ">= 1"),
    ({**SEED, "enabled": "yes"}, "enabled", "boolean"),
    ({**SEED, "scaling": [1, 2]}, "scaling", "object"),
    ({**SEED, "scaling": {"min_replicas": 0, "max_replicas": 2}}, "scaling.min_replicas", ">= 1"),
    ({**SEED, "scaling": {"min_replicas": 3, "max_replicas": 2}}, "scaling.min_replicas", "must not exceed"),
    ({**SEED, "scaling": {"min_replicas": 1, "max_replicas": 2, "target": 1}}, "scaling.target", "unknown"),
    ({**SEED, "model_name": "openai/gpt-oss-12b"}, "model_name", "openai/gpt-oss-120b"),
    ({**SEED, "flavor_name": "turbo"}, "flavor_name", "'base', 'fast'"),
    ({**SEED, "gpu_type": "gpu-a100"}, "gpu_type", "gpu-h100-sxm"),
    ({**SEED, "gpu_count": 3}, "gpu_count", "1, 2, 4, 8"),
    ({**SEED, "region": "eu-central1"}, "region", "eu-north1"),
    ({**SEED, "replicas": 2}, "replicas", "unknown"),
])
def test_create_refuses_bad_input_naming_the_field(api: httpx.Client, body: dict[str, Any], field: str,
                                                   words: str) -> None:
    error = error_of(api.post(ENDPOINTS, json=body))
    assert error["field"] == field
    assert words in error["message"]
    assert any(d["field"] == field for d in error["details"])
    assert api.get(ENDPOINTS).json()["endpoints"] == [], "a refused create must not create anything"


def test_create_lists_every_problem_at_once(api: httpx.Client) -> None:
    error = error_of(api.post(ENDPOINTS, json={**SEED, "name": "", "gpu_type": "gpu-x9000", "extra": 1}))
    assert {d["field"] for d in error["details"]} == {"name", "gpu_type", "extra"}


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b'"a string"'])
def test_create_refuses_a_body_that_is_not_a_json_object(api: httpx.Client, content: bytes) -> None:
    response = api.post(ENDPOINTS, content=content, headers={"content-type": "application/json"})
    assert error_of(response)["code"] in ("invalid_json", "invalid_body")


# -- patch -----------------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(api: httpx.Client) -> None:
    endpoint = create(api)
    payload = {"name": "GPT-120B Endpoint (updated)", "scaling": {"min_replicas": 2, "max_replicas": 4}}
    response = api.patch(f"{ENDPOINTS}/{endpoint['id']}", json=payload)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "GPT-120B Endpoint (updated)"
    assert updated["scaling"] == {"min_replicas": 2, "max_replicas": 4}
    for key in ("id", "routing_key", "description", "model_name", "gpu_type", "gpu_count", "region", "created_at"):
        assert updated[key] == endpoint[key]
    assert api.get(f"{ENDPOINTS}/{endpoint['id']}").json()["name"] == "GPT-120B Endpoint (updated)"


def test_patch_with_one_scaling_bound_keeps_the_other(api: httpx.Client) -> None:
    endpoint = create(api)
    updated = api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"scaling": {"max_replicas": 5}}).json()
    assert updated["scaling"] == {"min_replicas": 1, "max_replicas": 5}
    error = error_of(api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"scaling": {"min_replicas": 6}}))
    assert error["field"] == "scaling.min_replicas"


def test_patch_can_clear_the_description(api: httpx.Client) -> None:
    endpoint = create(api)
    assert api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"description": None}).json()["description"] is None


@pytest.mark.parametrize("field", ["region", "model_name", "flavor_name", "gpu_type", "gpu_count"])
def test_patch_refuses_immutable_fields(api: httpx.Client, field: str) -> None:
    endpoint = create(api)
    error = error_of(api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={field: endpoint[field], "name": "new"}))
    assert error["field"] == field and error["code"] == "immutable_field"
    assert "immutable" in error["message"]
    assert api.get(f"{ENDPOINTS}/{endpoint['id']}").json()["name"] == SEED["name"], "nothing may change"


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"colour": "red"}, "colour", "unknown_field"),
    ({"routing_key": "dedicated/x"}, "routing_key", "read_only_field"),
    ({"name": ""}, "name", "invalid_value"),
    ({"name": None}, "name", "invalid_type"),
    ({"enabled": "false"}, "enabled", "invalid_type"),
    ({"scaling": {"min_replicas": 0}}, "scaling.min_replicas", "invalid_value"),
])
def test_patch_refuses_bad_fields_naming_them(api: httpx.Client, body: dict[str, Any], field: str,
                                              code: str) -> None:
    endpoint = create(api)
    error = error_of(api.patch(f"{ENDPOINTS}/{endpoint['id']}", json=body))
    assert (error["field"], error["code"]) == (field, code)


# -- delete ----------------------------------------------------------------------------------------


def test_delete_then_the_endpoint_is_gone(api: httpx.Client) -> None:
    endpoint = create(api)
    response = api.delete(f"{ENDPOINTS}/{endpoint['id']}")
    assert response.status_code == 200
    assert response.json()["status"] == "deleting"
    deadline = time.monotonic() + 5
    while api.get(f"{ENDPOINTS}/{endpoint['id']}").status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    error_of(api.get(f"{ENDPOINTS}/{endpoint['id']}"), 404)
    assert api.get(ENDPOINTS).json() == {"endpoints": []}
    error_of(api.delete(f"{ENDPOINTS}/{endpoint['id']}"), 404)
    error_of(api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"name": "late"}), 404)


# -- the project's own client --------------------------------------------------------------------


def test_the_project_client_round_trips_through_the_emulator(clean_emulator: EmulatorProcess) -> None:
    with TokenFactoryClient(api_key="any-token", base_url=clean_emulator.base_url) as client:
        assert "openai/gpt-oss-120b" in [t.model_name for t in client.list_templates()]
        created = client.create_endpoint(models.EndpointSpec.model_validate(SEED))
        assert created.routing_key and created.lifecycle == models.LifecycleState.STARTING
        patched = client.update_endpoint(created.id, models.EndpointPatch(description="changed"))
        assert patched is not None and patched.description == "changed"
        assert [e.id for e in client.list_endpoints()] == [created.id]
        assert client.get_endpoint(created.id).description == "changed"
        assert client.delete_endpoint(created.id) is True
