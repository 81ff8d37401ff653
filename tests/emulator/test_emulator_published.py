"""The published API's shapes (the default) and the legacy option, in process with a manual clock.

Each published answer, projects, routing-key uniqueness, the deployment pairs an operator can pin,
the /openapi.json document, and the request log after bodies no JSON encoder can write back.
"""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.endpoint.fields import REGIONS
from tests.harness.emulators import InProcessEmulator, in_process_emulator
from tests.harness.published import nullable, published_properties

SEED: dict[str, Any] = dict(SEED_EXAMPLE)
ENDPOINTS = "/v0/dedicated_endpoints"
JSON = {"content-type": "application/json"}
PROVISION = 600.0


@pytest.fixture
def emu() -> InProcessEmulator:
    return in_process_emulator(provision_seconds=PROVISION)


def create(emu: InProcessEmulator, project: str | None = None, **changes: Any) -> dict[str, Any]:
    params = {"ai_project_id": project} if project else None
    response = emu.http.post(ENDPOINTS, json={**SEED, **changes}, params=params)
    assert response.status_code == 201, response.text
    return dict(response.json()["endpoint"])


def listed(emu: InProcessEmulator, project: str | None = None) -> list[dict[str, Any]]:
    response = emu.http.get(ENDPOINTS, params={"ai_project_id": project} if project else None)
    assert response.status_code == 200 and response.json()["object"] == "list"
    return list(response.json()["data"])


def locs(response: Any) -> list[list[str]]:
    return [item["loc"] for item in response.json()["detail"]]


def test_templates_are_published_models(emu: InProcessEmulator) -> None:
    body = emu.http.get(f"{ENDPOINTS}/templates").json()
    assert set(body) == {"data", "object"} and body["object"] == "list"
    model = next(m for m in body["data"] if m["name"] == "openai/gpt-oss-120b")
    assert model["type"] == "text2text"
    assert set(model["metadata"]) == {"vendor", "context_window_k", "size_b", "huggingface_url", "license"}
    assert set(model["metadata"]["license"]) == {"name", "url"}
    assert set(model["flavors"]) == {"base", "fast"}
    assert model["flavors"]["base"]["regions"] == list(REGIONS)
    assert "gpu-h100-sxm" in model["flavors"]["base"]["gpu_types"] and 1 in model["flavors"]["base"]["gpu_counts"]


def test_create_is_201_wrapped_and_the_endpoint_has_the_published_fields(emu: InProcessEmulator) -> None:
    endpoint = create(emu)
    published = published_properties("DedicatedEndpoint")
    assert set(endpoint) == set(published)
    # What the create request left out is answered as null where the API publishes it nullable.
    left_out = {k for k in published if nullable(published[k]) and k not in SEED}
    assert left_out and all(endpoint[k] is None for k in left_out), left_out
    assert endpoint["deployment"] == {"status": "starting", "readiness": "not_ready", "ready_replicas": 0}
    assert listed(emu) == [endpoint]


def test_there_is_no_get_of_one_endpoint(emu: InProcessEmulator) -> None:
    endpoint = create(emu)
    assert emu.http.get(f"{ENDPOINTS}/{endpoint['id']}").status_code in (404, 405)


@pytest.mark.parametrize(("moves", "status", "readiness", "ready"), [
    ([], "starting", "not_ready", 0),
    ([PROVISION], "running", "ready", 2),
])
def test_deployment_follows_the_lifecycle(emu: InProcessEmulator, moves: list[float], status: str, readiness: str,
                                          ready: int) -> None:
    endpoint = create(emu, scaling={"min_replicas": 2, "max_replicas": 3})
    for seconds in moves:
        emu.clock.advance(seconds)
    assert listed(emu)[0]["deployment"] == {"status": status, "readiness": readiness, "ready_replicas": ready}
    assert endpoint["id"] == listed(emu)[0]["id"]


def test_gpu_change_is_an_update_served_by_the_old_replicas_and_delete_shows_stopping(emu: InProcessEmulator) -> None:
    endpoint = create(emu)
    emu.clock.advance(PROVISION)
    patched = emu.http.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"gpu_count": 2})
    assert patched.status_code == 200 and patched.json()["gpu_count"] == 2
    assert patched.json()["deployment"] == {"status": "updating", "readiness": "ready", "ready_replicas": 1}
    deleted = emu.http.delete(f"{ENDPOINTS}/{endpoint['id']}").json()
    assert deleted["deployment"] == {"status": "stopping", "readiness": "not_ready", "ready_replicas": 0}
    assert "status" not in deleted and "updated_at" not in deleted


def test_create_ignores_enabled_and_requires_a_region(emu: InProcessEmulator) -> None:
    assert create(emu, enabled=False)["deployment"]["status"] == "starting"
    response = emu.http.post(ENDPOINTS, json={k: v for k, v in SEED.items() if k != "region"})
    assert response.status_code == 422 and locs(response) == [["body", "region"]]


def test_validation_is_fastapis_422_naming_the_field(emu: InProcessEmulator) -> None:
    response = emu.http.post(ENDPOINTS, json={**SEED, "name": "x" * 101,
                                              "scaling": {"min_replicas": 0, "max_replicas": 1}})
    assert response.status_code == 422
    assert sorted(locs(response)) == [["body", "name"], ["body", "scaling", "min_replicas"]]
    item = response.json()["detail"][0]
    assert {"loc", "msg", "type", "input"} <= set(item) and item["ctx"] == {"max_length": 100}


def test_other_errors_are_a_detail_text(emu: InProcessEmulator) -> None:
    response = emu.http.patch(f"{ENDPOINTS}/ep-none", json={"name": "x"})
    assert response.status_code == 404 and isinstance(response.json()["detail"], str)
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("field", ["model_name", "flavor_name", "region"])
def test_patch_refuses_what_cannot_change(emu: InProcessEmulator, field: str) -> None:
    endpoint = create(emu)
    response = emu.http.patch(f"{ENDPOINTS}/{endpoint['id']}", json={field: endpoint[field]})
    assert response.status_code == 422 and locs(response) == [["body", field]]


def test_custom_weights_are_set_and_cleared_with_unset(emu: InProcessEmulator) -> None:
    endpoint = create(emu, custom_weights_id="model-artifact_abc")
    assert endpoint["custom_weights_id"] == "model-artifact_abc"
    cleared = emu.http.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"custom_weights_id": "UNSET"}).json()
    assert cleared["custom_weights_id"] is None


def test_projects_are_kept_apart(emu: InProcessEmulator) -> None:
    mine, theirs = create(emu, "project-a"), create(emu, "project-b")
    default = create(emu)
    assert [e["id"] for e in listed(emu, "project-a")] == [mine["id"]]
    assert [e["id"] for e in listed(emu)] == [default["id"]]
    other = {"ai_project_id": "project-a"}
    assert emu.http.patch(f"{ENDPOINTS}/{theirs['id']}", json={"name": "x"}, params=other).status_code == 404
    assert emu.http.delete(f"{ENDPOINTS}/{theirs['id']}", params=other).status_code == 404
    assert emu.http.get(f"{ENDPOINTS}/templates", params=other).status_code == 200


def test_projects_survive_a_restart(tmp_path: Any) -> None:
    first = in_process_emulator(state_file=tmp_path / "state.json")
    endpoint = create(first, "project-a")
    again = in_process_emulator(first.app.config, clock=first.clock)
    assert [e["id"] for e in listed(again, "project-a")] == [endpoint["id"]]
    assert listed(again) == []


@pytest.mark.parametrize("key", ["dedicated/", "other/abcdefgh", "dedicated/" + "x" * 119, "dedicated/has space"])
def test_a_routing_key_of_the_wrong_form_is_refused(emu: InProcessEmulator, key: str) -> None:
    response = emu.http.post(ENDPOINTS, json={**SEED, "routing_key": key})
    assert response.status_code == 422 and locs(response) == [["body", "routing_key"]]


def test_a_chosen_routing_key_is_kept_and_unique_across_projects(emu: InProcessEmulator) -> None:
    key = "dedicated/team-search-gpt"
    assert create(emu, "project-a", routing_key=key)["routing_key"] == key
    taken = emu.http.post(ENDPOINTS, json={**SEED, "routing_key": key}, params={"ai_project_id": "project-b"})
    assert taken.status_code == 409 and locs(taken) == [["body", "routing_key"]]
    assert listed(emu, "project-b") == [], "a refused create creates nothing"
    other = create(emu)
    patched = emu.http.patch(f"{ENDPOINTS}/{other['id']}", json={"routing_key": key, "name": "renamed"})
    assert patched.status_code == 409 and locs(patched) == [["body", "routing_key"]]
    assert listed(emu)[0]["name"] == SEED["name"], "a refused PATCH changes nothing"
    moved = emu.http.patch(f"{ENDPOINTS}/{other['id']}", json={"routing_key": "dedicated/moved-key"})
    assert moved.status_code == 200 and moved.json()["routing_key"] == "dedicated/moved-key"


@pytest.mark.parametrize(("status", "readiness", "serves"), [
    ("warning", "ready", True),
    ("starting", "partially_ready", True),
    ("running", "not_ready", False),
    ("error", "ready", True),
])
def test_a_pinned_deployment_shows_until_recover(emu: InProcessEmulator, status: str, readiness: str,
                                                 serves: bool) -> None:
    endpoint = create(emu)
    emu.clock.advance(PROVISION)
    pinned = emu.http.post(f"/_emulator/endpoints/{endpoint['id']}/deployment",
                           json={"status": status, "readiness": readiness})
    assert pinned.status_code == 200, pinned.text
    assert listed(emu)[0]["deployment"]["status"] == status
    assert listed(emu)[0]["deployment"]["readiness"] == readiness
    chat = {"model": endpoint["routing_key"], "messages": [{"role": "user", "content": "hi"}]}
    assert (emu.http.post("/v1/chat/completions", json=chat).status_code == 200) is serves
    emu.http.post(f"/_emulator/endpoints/{endpoint['id']}/recover")
    assert listed(emu)[0]["deployment"] == {"status": "running", "readiness": "ready", "ready_replicas": 1}


def test_a_pin_must_use_the_published_values(emu: InProcessEmulator) -> None:
    endpoint = create(emu)
    response = emu.http.post(f"/_emulator/endpoints/{endpoint['id']}/deployment",
                             json={"status": "sleeping", "readiness": "ready"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "status"


def test_the_openapi_document_names_the_published_schemas(emu: InProcessEmulator) -> None:
    document = emu.http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"DedicatedEndpointCreateRequest", "DedicatedEndpointUpdateRequest", "DedicatedEndpoint",
            "DeploymentStatus", "DeploymentReadiness", "Model"} <= set(schemas)
    create_request = schemas["DedicatedEndpointCreateRequest"]
    assert "enabled" not in create_request["properties"]
    assert {"name", "model_name", "flavor_name", "gpu_type", "gpu_count", "scaling", "region"} <= set(
        create_request["required"])
    assert create_request["properties"]["region"]["enum"] == list(REGIONS)
    assert {"gpu_type", "gpu_count", "routing_key", "custom_weights_id", "enabled"} <= set(
        schemas["DedicatedEndpointUpdateRequest"]["properties"])
    assert set(schemas["DeploymentStatus"]["enum"]) == {"starting", "running", "updating", "stopping", "stopped",
                                                         "error", "warning"}
    assert set(schemas["DeploymentReadiness"]["enum"]) == {"ready", "partially_ready", "not_ready"}
    assert "deployment" in schemas["DedicatedEndpoint"]["required"]
    paths = document["paths"]
    operations = [(path, method) for path, item in paths.items() for method in item]
    assert len(operations) == 5
    assert "201" in paths[ENDPOINTS]["post"]["responses"]
    parameters = [item[method]["parameters"] for item in paths.values() for method in item]
    assert all(any(p["name"] == "ai_project_id" for p in given) for given in parameters)


@pytest.mark.parametrize("body", [b'{"name": NaN}', b'{"gpu_count": 1e400}', b'{"a": -Infinity}',
                                  b'{"name": "\\ud800"}'])
def test_unencodable_bodies_are_400_invalid_json_and_the_log_still_reads(body: bytes) -> None:
    emu = in_process_emulator(api_shapes="legacy")
    response = emu.http.post(ENDPOINTS, content=body, headers=JSON)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json", response.text
    log = emu.http.get("/_emulator/requests")
    assert log.status_code == 200
    assert log.json()["requests"][0]["body"] == body.decode(), "kept as the text that was sent"
    published = in_process_emulator(raise_server_exceptions=False)
    assert published.http.post(ENDPOINTS, content=body, headers=JSON).status_code == 400
    assert published.http.get("/_emulator/requests").status_code == 200


# -- the legacy option ------------------------------------------------------------------------------


def test_legacy_shapes_stay_available() -> None:
    emu = in_process_emulator(api_shapes="legacy", provision_seconds=PROVISION)
    created = emu.http.post(ENDPOINTS, json={**SEED, "enabled": False})
    assert created.status_code == 200 and created.json()["status"] == "stopped" and "updated_at" in created.json()
    assert set(emu.http.get(ENDPOINTS).json()) == {"endpoints"}
    assert set(emu.http.get(f"{ENDPOINTS}/templates").json()) == {"templates"}
    assert emu.http.get(f"{ENDPOINTS}/{created.json()['id']}").status_code == 200
    bad = emu.http.post(ENDPOINTS, json={**SEED, "replicas": 1})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "replicas"
    emu.http.delete(f"{ENDPOINTS}/{created.json()['id']}")
    assert emu.http.get(ENDPOINTS).json()["endpoints"][0]["status"] == "deleting"
    assert emu.http.get("/openapi.json").status_code == 404


def test_legacy_routing_key_conflict_names_the_field() -> None:
    emu = in_process_emulator(api_shapes="legacy")
    first = emu.http.post(ENDPOINTS, json=SEED).json()
    taken = emu.http.post(ENDPOINTS, json={**SEED, "routing_key": first["routing_key"]})
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "routing_key"
    assert len(emu.http.get(ENDPOINTS).json()["endpoints"]) == 1


def test_the_option_is_checked_and_parsed() -> None:
    from pulumi_tokenfactory.emulator.__main__ import build_parser
    from pulumi_tokenfactory.emulator.config import EmulatorConfig

    with pytest.raises(ValueError, match="api_shapes"):
        EmulatorConfig(api_shapes="old")  # type: ignore[arg-type]
    assert build_parser().parse_args(["--legacy-shapes"]).legacy_shapes is True
    assert build_parser().parse_args([]).legacy_shapes is False
