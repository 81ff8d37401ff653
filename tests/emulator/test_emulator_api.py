"""The emulator's management routes over HTTP: paths, payloads and validation, like the real API.

The published shapes (the default) throughout; the legacy shapes that only `api_shapes="legacy"` keeps
(a GET of one endpoint, `enabled` honoured on create, unknown keys refused, `{"error": {...}}`) are
tested at the end, in process.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pulumi_tokenfactory.api import models
from pulumi_tokenfactory.api.client import TokenFactoryClient
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.emulator.shapes import (
    ENDPOINTS,
    created,
    detail_of,
    field_of,
    fields_of,
    find,
    legacy_error,
    listed,
    problems,
    status_of,
)
from tests.harness.emulators import in_process_emulator

SEED: dict[str, Any] = dict(SEED_EXAMPLE)
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def create(api: httpx.Client, **changes: Any) -> dict[str, Any]:
    return created(api.post(ENDPOINTS, json={**SEED, **changes}))


def without_deployment(endpoint: dict[str, Any]) -> dict[str, Any]:
    """The endpoint less what the clock moves (the session emulator provisions in 0.5 s of real time)."""
    return {k: v for k, v in endpoint.items() if k != "deployment"}


@pytest.fixture
def legacy() -> TestClient:
    """An in-process emulator answering in the legacy shapes (`--legacy-shapes`)."""
    return in_process_emulator(api_shapes="legacy").http


# -- templates -----------------------------------------------------------------------------------


def test_templates_are_a_realistic_catalogue_in_the_model_shape(api: httpx.Client) -> None:
    response = api.get(f"{ENDPOINTS}/templates")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "object"} and body["object"] == "list"
    for model in body["data"]:
        assert set(model) == {"name", "type", "metadata", "flavors"}
        assert isinstance(model["flavors"], dict), "flavors are keyed by flavor name"
    templates = models.parse_templates(body)
    names = [t.model_name for t in templates]
    assert names == [m["name"] for m in body["data"]]
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


# -- create, list ----------------------------------------------------------------------------------


def test_create_answers_the_endpoint_with_its_id_and_routing_key(api: httpx.Client) -> None:
    endpoint = create(api)
    assert re.fullmatch(r"ep-[a-z0-9]{8,}", endpoint["id"])
    assert re.fullmatch(r"dedicated/openai/gpt-oss-120b-[A-Za-z0-9]{12}", endpoint["routing_key"])
    for key in ("name", "description", "model_name", "flavor_name", "gpu_type", "gpu_count", "scaling", "region"):
        assert endpoint[key] == SEED[key]
    assert endpoint["enabled"] is True and endpoint["custom_weights_id"] is None
    assert endpoint["deployment"] == {"status": "starting", "readiness": "not_ready", "ready_replicas": 0}
    assert ISO_UTC.match(endpoint["created_at"]) and "updated_at" not in endpoint and "status" not in endpoint
    parsed = models.Endpoint.model_validate(endpoint)
    assert parsed.lifecycle == models.LifecycleState.STARTING


def test_two_creates_get_distinct_ids_and_routing_keys(api: httpx.Client) -> None:
    first, second = create(api), create(api)
    assert first["id"] != second["id"] and first["routing_key"] != second["routing_key"]


def test_list_returns_what_create_returned(api: httpx.Client) -> None:
    endpoint = create(api, region="us-central1", description=None)
    assert endpoint["region"] == "us-central1" and endpoint["description"] is None
    [shown] = listed(api)
    assert without_deployment(shown) == without_deployment(endpoint)
    assert find(api, endpoint["id"]) == shown


def test_integral_float_counts_are_accepted(api: httpx.Client) -> None:
    endpoint = create(api, gpu_count=2.0, scaling={"min_replicas": 1.0, "max_replicas": 3})
    assert endpoint["gpu_count"] == 2 and endpoint["scaling"] == {"min_replicas": 1, "max_replicas": 3}


def test_unknown_endpoint_is_a_404_in_the_error_shape(api: httpx.Client) -> None:
    for method in ("PATCH", "DELETE"):
        body = {"name": "x"} if method == "PATCH" else None
        response = api.request(method, f"{ENDPOINTS}/ep-doesnotexist", json=body)
        assert "ep-doesnotexist" in detail_of(response, 404)
    # No GET of one endpoint in the published API: the path has PATCH and DELETE only.
    assert "GET" in detail_of(api.get(f"{ENDPOINTS}/ep-doesnotexist"), 405)


def test_every_response_carries_a_fresh_request_id(api: httpx.Client) -> None:
    ids = {api.get(ENDPOINTS).headers["x-request-id"] for _ in range(3)}
    ids.add(api.get("/no/such/route").headers["x-request-id"])
    assert len(ids) == 4 and all(ids)


def test_unknown_route_and_method_answer_json_errors(api: httpx.Client) -> None:
    assert "/v0/nothing" in detail_of(api.get("/v0/nothing"), 404)
    assert "PUT" in detail_of(api.put(ENDPOINTS, json={}), 405)


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
    (_without("region"), "region", "required"),
    ({**SEED, "scaling": {"min_replicas": 1}}, "scaling.max_replicas", "required"),
    ({**SEED, "name": ""}, "name", "empty"),
    ({**SEED, "name": "   "}, "name", "empty"),
    ({**SEED, "name": "x" * (models.NAME_MAX_LENGTH + 1)}, "name", str(models.NAME_MAX_LENGTH)),
    ({**SEED, "name": 7}, "name", "string"),
    ({**SEED, "gpu_count": "1"}, "gpu_count", "whole number"),
    ({**SEED, "gpu_count": 1.5}, "gpu_count", "whole number"),
    ({**SEED, "gpu_count": True}, "gpu_count", "whole number"),
    ({**SEED, "gpu_count": -1}, "gpu_count", ">= 0"),  # api-notes: ">= 0 (the template decides what is offered)"
    ({**SEED, "gpu_count": 0}, "gpu_count", "1, 2, 4, 8"),
    ({**SEED, "scaling": [1, 2]}, "scaling", "object"),
    ({**SEED, "scaling": {"min_replicas": 0, "max_replicas": 2}}, "scaling.min_replicas", ">= 1"),
    ({**SEED, "scaling": {"min_replicas": 3, "max_replicas": 2}}, "scaling.min_replicas", "must not exceed"),
    ({**SEED, "model_name": "openai/gpt-oss-12b"}, "model_name", "openai/gpt-oss-120b"),
    ({**SEED, "flavor_name": "turbo"}, "flavor_name", "'base', 'fast'"),
    ({**SEED, "gpu_type": "gpu-a100"}, "gpu_type", "gpu-h100-sxm"),
    ({**SEED, "gpu_count": 3}, "gpu_count", "1, 2, 4, 8"),
    ({**SEED, "region": "eu-central1"}, "region", "eu-north1"),
    ({**SEED, "routing_key": "team/search"}, "routing_key", "dedicated/"),
])
def test_create_refuses_bad_input_naming_the_field(api: httpx.Client, body: dict[str, Any], field: str,
                                                   words: str) -> None:
    [problem] = problems(api.post(ENDPOINTS, json=body))
    assert field_of(problem) == field
    assert words in problem["msg"]
    assert listed(api) == [], "a refused create must not create anything"


def test_create_lists_every_problem_at_once(api: httpx.Client) -> None:
    response = api.post(ENDPOINTS, json={**SEED, "name": "", "gpu_type": "gpu-x9000", "region": "mars-1"})
    assert set(fields_of(response)) == {"name", "gpu_type", "region"}


def test_create_ignores_keys_it_does_not_know(api: httpx.Client) -> None:
    """FastAPI's models ignore extra keys; so does the published create (`enabled` is not one of its fields)."""
    endpoint = create(api, replicas=2, enabled="yes", scaling={**SEED["scaling"], "target": 1}, x_note="hi")
    assert not {"replicas", "x_note"} & set(endpoint)
    assert endpoint["scaling"] == SEED["scaling"] and endpoint["enabled"] is True
    assert status_of(endpoint) == "starting"


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b'"a string"'])
def test_create_refuses_a_body_that_is_not_a_json_object(api: httpx.Client, content: bytes) -> None:
    response = api.post(ENDPOINTS, content=content, headers={"content-type": "application/json"})
    assert "JSON" in detail_of(response, 400)
    assert listed(api) == []


# -- patch -----------------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(api: httpx.Client) -> None:
    endpoint = create(api)
    payload = {"name": "GPT-120B Endpoint (updated)", "scaling": {"min_replicas": 2, "max_replicas": 4}}
    response = api.patch(f"{ENDPOINTS}/{endpoint['id']}", json=payload)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "GPT-120B Endpoint (updated)"
    assert updated["scaling"] == {"min_replicas": 2, "max_replicas": 4}
    for key in ("id", "routing_key", "description", "model_name", "gpu_type", "gpu_count", "region", "created_at",
                "custom_weights_id", "enabled"):
        assert updated[key] == endpoint[key]
    shown = find(api, endpoint["id"])
    assert shown is not None and shown["name"] == "GPT-120B Endpoint (updated)"


def test_patch_with_one_scaling_bound_keeps_the_other(api: httpx.Client) -> None:
    endpoint = create(api)
    updated = api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"scaling": {"max_replicas": 5}}).json()
    assert updated["scaling"] == {"min_replicas": 1, "max_replicas": 5}
    response = api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"scaling": {"min_replicas": 6}})
    assert fields_of(response) == ["scaling.min_replicas"]


def test_patch_can_clear_the_description(api: httpx.Client) -> None:
    endpoint = create(api)
    assert api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"description": None}).json()["description"] is None


@pytest.mark.parametrize("field", ["region", "model_name", "flavor_name"])
def test_patch_refuses_immutable_fields(api: httpx.Client, field: str) -> None:
    endpoint = create(api)
    [problem] = problems(api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={field: endpoint[field], "name": "new"}))
    assert field_of(problem) == field and problem["type"] == "immutable_field"
    assert "immutable" in problem["msg"] and problem["input"] == endpoint[field]
    shown = find(api, endpoint["id"])
    assert shown is not None and shown["name"] == SEED["name"], "nothing may change"


def test_patch_changes_the_gpus_within_the_catalogue_only(api: httpx.Client) -> None:
    """gpu_type and gpu_count are PATCHable, but only to a combination the model's template offers."""
    endpoint = create(api)
    url = f"{ENDPOINTS}/{endpoint['id']}"
    changed = api.patch(url, json={"gpu_type": "gpu-h200-sxm", "gpu_count": 2})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["gpu_type"], changed.json()["gpu_count"]) == ("gpu-h200-sxm", 2)
    [problem] = problems(api.patch(url, json={"gpu_count": 3, "name": "new"}))
    assert field_of(problem) == "gpu_count" and "1, 2, 4, 8" in problem["msg"]
    [problem] = problems(api.patch(url, json={"gpu_type": "gpu-l40s-d"}))
    assert field_of(problem) == "gpu_type" and "not offered" in problem["msg"]
    shown = find(api, endpoint["id"])
    assert shown is not None
    assert (shown["gpu_type"], shown["gpu_count"], shown["name"]) == ("gpu-h200-sxm", 2, SEED["name"])


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"name": ""}, "name", "invalid_value"),
    ({"name": None}, "name", "invalid_type"),
    ({"enabled": "false"}, "enabled", "invalid_type"),
    ({"scaling": {"min_replicas": 0}}, "scaling.min_replicas", "invalid_value"),
    ({"routing_key": "team/search"}, "routing_key", "invalid_value"),
    ({"routing_key": None}, "routing_key", "invalid_type"),
])
def test_patch_refuses_bad_fields_naming_them(api: httpx.Client, body: dict[str, Any], field: str,
                                              code: str) -> None:
    endpoint = create(api)
    [problem] = problems(api.patch(f"{ENDPOINTS}/{endpoint['id']}", json=body))
    assert (field_of(problem), problem["type"]) == (field, code)


def test_patch_ignores_keys_it_cannot_change(api: httpx.Client) -> None:
    """Unknown and read-only keys are ignored (FastAPI); only the update request's fields change anything."""
    endpoint = create(api)
    body = {"colour": "red", "id": "ep-other", "status": "running", "created_at": "2020-01-01T00:00:00Z",
            "description": "kept"}
    response = api.patch(f"{ENDPOINTS}/{endpoint['id']}", json=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert "colour" not in updated and "status" not in updated
    assert (updated["id"], updated["created_at"]) == (endpoint["id"], endpoint["created_at"])
    assert updated["description"] == "kept"


# -- delete ----------------------------------------------------------------------------------------


def test_delete_then_the_endpoint_is_gone(api: httpx.Client) -> None:
    endpoint = create(api)
    response = api.delete(f"{ENDPOINTS}/{endpoint['id']}")
    assert response.status_code == 200
    assert response.json()["deployment"] == {"status": "stopping", "readiness": "not_ready", "ready_replicas": 0}
    deadline = time.monotonic() + 5
    while find(api, endpoint["id"]) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert listed(api) == []
    assert endpoint["id"] in detail_of(api.delete(f"{ENDPOINTS}/{endpoint['id']}"), 404)
    assert endpoint["id"] in detail_of(api.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"name": "late"}), 404)


# -- the legacy shapes (api_shapes="legacy") --------------------------------------------------------


def test_legacy_get_of_one_endpoint_returns_what_create_returned(legacy: TestClient) -> None:
    response = legacy.post(ENDPOINTS, json={**SEED, "region": "us-central1", "description": None})
    assert response.status_code == 200, response.text
    endpoint = response.json()
    assert endpoint["status"] == "starting" and ISO_UTC.match(endpoint["updated_at"])
    fetched = legacy.get(f"{ENDPOINTS}/{endpoint['id']}")
    assert fetched.status_code == 200 and fetched.json() == endpoint
    assert legacy.get(ENDPOINTS).json() == {"endpoints": [endpoint]}
    assert set(legacy.get(f"{ENDPOINTS}/templates").json()) == {"templates"}


def test_legacy_create_lets_the_region_default(legacy: TestClient) -> None:
    response = legacy.post(ENDPOINTS, json=_without("region"))
    assert response.status_code == 200 and response.json()["region"] == models.DEFAULT_REGION


def test_legacy_created_disabled_endpoint_is_stopped(legacy: TestClient) -> None:
    endpoint = legacy.post(ENDPOINTS, json={**SEED, "enabled": False}).json()
    assert endpoint["enabled"] is False and endpoint["status"] == "stopped"


def test_legacy_unknown_endpoint_is_a_404_in_the_legacy_error_shape(legacy: TestClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "x"} if method == "PATCH" else None
        error = legacy_error(legacy.request(method, f"{ENDPOINTS}/ep-doesnotexist", json=body), 404)
        assert error["code"] == "not_found" and "ep-doesnotexist" in error["message"]
    assert legacy_error(legacy.put(ENDPOINTS, json={}), 405)["code"] == "method_not_allowed"


@pytest.mark.parametrize(("body", "field", "words"), [
    ({**SEED, "enabled": "yes"}, "enabled", "true or false"),
    ({**SEED, "scaling": {"min_replicas": 1, "max_replicas": 2, "target": 1}}, "scaling.target", "unknown"),
    ({**SEED, "replicas": 2}, "replicas", "unknown"),
    ({**SEED, "gpu_count": -1}, "gpu_count", ">= 0"),
])
def test_legacy_create_refuses_unknown_keys_with_a_400(legacy: TestClient, body: dict[str, Any], field: str,
                                                       words: str) -> None:
    error = legacy_error(legacy.post(ENDPOINTS, json=body), 400)
    assert error["field"] == field and words in error["message"]
    assert any(d["field"] == field for d in error["details"])
    assert legacy.get(ENDPOINTS).json() == {"endpoints": []}


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"colour": "red"}, "colour", "unknown_field"),
    ({"status": "running"}, "status", "read_only_field"),
    ({"region": "eu-north1"}, "region", "immutable_field"),
])
def test_legacy_patch_refuses_unknown_and_read_only_keys(legacy: TestClient, body: dict[str, Any], field: str,
                                                         code: str) -> None:
    endpoint = legacy.post(ENDPOINTS, json=SEED).json()
    error = legacy_error(legacy.patch(f"{ENDPOINTS}/{endpoint['id']}", json=body), 400)
    assert (error["field"], error["code"]) == (field, code)


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
