"""`POST /_emulator/endpoints`: an endpoint put in place exactly as given.

Replaying a recorded Pulumi state (tests/engine/test_upgrade_replay.py) needs an
endpoint whose id and routing key the state already names; the API never
lets a caller choose those, so the emulator has an operator route for it.
These tests pin that the seeded endpoint is indistinguishable from one the
API made: same JSON back, same lifecycle afterwards, same validation.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorAdminError, EmulatorProcess
from tests.emulator.shapes import ENDPOINTS, as_listed, status_of
from tests.harness.emulators import in_process_emulator
from tests.harness.published import nullable, published_properties

#: An endpoint as the published API lists it (what the seed leaves out is null where the API publishes it so).
RECORDED: dict[str, Any] = {
    **{name: None for name, schema in published_properties("DedicatedEndpoint").items() if nullable(schema)},
    "id": "ep-seeded0000000001",
    "routing_key": "dedicated/openai/gpt-oss-120b-Seeded0Key01",
    **SEED_EXAMPLE,
    "region": "eu-north1",
    "enabled": True,
    "deployment": {"status": "running", "readiness": "ready", "ready_replicas": 1},
    "created_at": "2025-01-01T00:00:00.000Z",
}
#: The same endpoint as the legacy shapes show it: a flat status, and updated_at.
LEGACY_RECORDED: dict[str, Any] = {
    **{k: v for k, v in RECORDED.items() if k != "deployment"},
    "status": "running",
    "updated_at": "2025-01-01T00:00:01.250Z",
}


def api_list(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    response = httpx.get(f"{emulator.base_url}{ENDPOINTS}", trust_env=False)
    assert response.status_code == 200
    return list(response.json()["data"])


def test_seeded_endpoint_is_returned_and_served_exactly_as_given(clean_emulator: EmulatorProcess) -> None:
    seeded = clean_emulator.seed_endpoint(RECORDED)
    # Seeding is an operator action: nothing in the API's request log.
    assert clean_emulator.requests() == []
    assert seeded == RECORDED
    assert [as_listed(e) for e in clean_emulator.endpoints()] == [RECORDED]
    assert api_list(clean_emulator) == [RECORDED]


def test_a_legacy_seed_is_returned_exactly_as_given_in_the_legacy_shapes() -> None:
    http = in_process_emulator(api_shapes="legacy").http
    seeded = http.post("/_emulator/endpoints", json=LEGACY_RECORDED)
    assert seeded.status_code == 200 and seeded.json() == LEGACY_RECORDED
    got = http.get(f"{ENDPOINTS}/{LEGACY_RECORDED['id']}")
    assert got.status_code == 200 and got.json() == LEGACY_RECORDED
    assert http.get(ENDPOINTS).json() == {"endpoints": [LEGACY_RECORDED]}


def test_a_seed_in_the_legacy_form_is_shown_in_the_published_one(clean_emulator: EmulatorProcess) -> None:
    """A recorded state may hold the legacy form: the seed route reads both, the API answers as published."""
    assert clean_emulator.seed_endpoint(LEGACY_RECORDED) == RECORDED


def test_seeded_endpoint_serves_inference_under_its_routing_key(clean_emulator: EmulatorProcess) -> None:
    clean_emulator.seed_endpoint(RECORDED)
    answer = httpx.post(f"{clean_emulator.base_url}/v1/chat/completions", trust_env=False, json={
        "model": RECORDED["routing_key"], "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200, answer.text


def test_seeded_endpoint_has_the_normal_lifecycle_afterwards(clean_emulator: EmulatorProcess) -> None:
    clean_emulator.seed_endpoint(RECORDED)
    url = f"{clean_emulator.base_url}{ENDPOINTS}/{RECORDED['id']}"
    patched = httpx.patch(url, json={"scaling": {"max_replicas": 4}}, trust_env=False).json()
    assert status_of(patched) == "updating"
    assert patched["scaling"] == {"min_replicas": 1, "max_replicas": 4}
    assert patched["created_at"] == RECORDED["created_at"]
    clean_emulator.advance_clock(60)
    assert [status_of(e) for e in api_list(clean_emulator)] == ["running"]
    deleted = httpx.delete(url, trust_env=False).json()
    assert deleted["deployment"] == {"status": "stopping", "readiness": "not_ready", "ready_replicas": 0}
    clean_emulator.advance_clock(60)
    assert clean_emulator.endpoints() == []


@pytest.mark.parametrize(("status", "enabled", "shown", "then"), [
    ("starting", True, "starting", "running"),
    ("updating", True, "updating", "running"),
    ("stopping", False, "stopping", "stopped"),
    ("stopped", False, "stopped", "stopped"),
    ("error", True, "error", "error"),
    ("deleting", True, "stopping", None),  # a deletion under way shows as stopping, then the endpoint is gone
])
def test_a_transitional_status_starts_now_and_settles_like_the_apis(
        clean_emulator: EmulatorProcess, status: str, enabled: bool, shown: str, then: str | None) -> None:
    seeded = clean_emulator.seed_endpoint({**RECORDED, "deployment": {"status": status}, "enabled": enabled})
    assert status_of(seeded) == shown
    clean_emulator.advance_clock(60)
    assert [status_of(e) for e in api_list(clean_emulator)] == ([then] if then else [])


def test_timestamps_and_status_are_optional(clean_emulator: EmulatorProcess) -> None:
    body = {k: v for k, v in RECORDED.items() if k not in ("created_at", "deployment")}
    seeded = clean_emulator.seed_endpoint({**body, "enabled": False})
    assert seeded["deployment"] == {"status": "stopped", "readiness": "not_ready", "ready_replicas": 0}
    assert seeded["created_at"] > RECORDED["created_at"]


def test_the_same_id_or_routing_key_twice_is_a_conflict(clean_emulator: EmulatorProcess) -> None:
    clean_emulator.seed_endpoint(RECORDED)
    with pytest.raises(EmulatorAdminError, match=r"HTTP 409.*already exists"):
        clean_emulator.seed_endpoint(RECORDED)
    with pytest.raises(EmulatorAdminError, match=r"HTTP 409.*routing_key.*already taken"):
        clean_emulator.seed_endpoint({**RECORDED, "id": "ep-other"})
    assert api_list(clean_emulator) == [RECORDED]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"id": None}, "id", "id is required"),
    ({"id": "ep/1"}, "id", "without surrounding blanks or /"),
    ({"routing_key": ""}, "routing_key", "non-empty"),
    ({"status": "rebooting"}, "status", "cannot be seeded"),
    ({"status": "running", "enabled": False}, "status", "needs enabled=True"),
    ({"created_at": "yesterday"}, "created_at", "ISO-8601"),
    ({"created_at": "2026-01-01T00:00:00"}, "created_at", "with a zone"),
    ({"gpu_count": 3}, "gpu_count", "is not offered"),
    ({"colour": "red"}, "colour", "unknown property"),
])
def test_a_bad_seed_is_refused_with_the_field_named(
        clean_emulator: EmulatorProcess, change: dict[str, Any], field: str, words: str) -> None:
    body = {k: v for k, v in {**RECORDED, **change}.items() if v is not None}
    response = httpx.post(f"{clean_emulator.base_url}/_emulator/endpoints", json=body, trust_env=False)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert words in error["message"]
    assert clean_emulator.endpoints() == []


def test_every_problem_of_a_seed_is_listed_at_once(clean_emulator: EmulatorProcess) -> None:
    body = {**RECORDED, "id": "", "status": "rebooting", "gpu_type": "gpu-none"}
    response = httpx.post(f"{clean_emulator.base_url}/_emulator/endpoints", json=body, trust_env=False)
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["error"]["details"]} >= {"id", "status", "gpu_type"}


def test_a_seeded_endpoint_survives_a_restart_with_a_state_file(emulator_factory: Any, tmp_path: Any) -> None:
    emulator = emulator_factory(state_file=tmp_path / "state.json")
    emulator.seed_endpoint(RECORDED)
    emulator.restart()
    assert [as_listed(e) for e in emulator.endpoints()] == [RECORDED]
    assert api_list(emulator) == [RECORDED]
