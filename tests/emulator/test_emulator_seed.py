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

ENDPOINTS = "/v0/dedicated_endpoints"
RECORDED: dict[str, Any] = {
    "id": "ep-seeded0000000001",
    "routing_key": "dedicated/openai/gpt-oss-120b-Seeded0Key01",
    **SEED_EXAMPLE,
    "region": "eu-north1",
    "enabled": True,
    "status": "running",
    "created_at": "2025-01-01T00:00:00.000Z",
    "updated_at": "2025-01-01T00:00:01.250Z",
}


def test_seeded_endpoint_is_returned_and_served_exactly_as_given(clean_emulator: EmulatorProcess) -> None:
    seeded = clean_emulator.seed_endpoint(RECORDED)
    # Seeding is an operator action: nothing in the API's request log.
    assert clean_emulator.requests() == []
    assert seeded == RECORDED
    assert clean_emulator.endpoints() == [RECORDED]
    got = httpx.get(f"{clean_emulator.base_url}{ENDPOINTS}/{RECORDED['id']}", trust_env=False)
    assert got.status_code == 200
    assert got.json() == RECORDED


def test_seeded_endpoint_serves_inference_under_its_routing_key(clean_emulator: EmulatorProcess) -> None:
    clean_emulator.seed_endpoint(RECORDED)
    answer = httpx.post(f"{clean_emulator.base_url}/v1/chat/completions", trust_env=False, json={
        "model": RECORDED["routing_key"], "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200, answer.text


def test_seeded_endpoint_has_the_normal_lifecycle_afterwards(clean_emulator: EmulatorProcess) -> None:
    clean_emulator.seed_endpoint(RECORDED)
    url = f"{clean_emulator.base_url}{ENDPOINTS}/{RECORDED['id']}"
    patched = httpx.patch(url, json={"scaling": {"max_replicas": 4}}, trust_env=False).json()
    assert patched["status"] == "updating"
    assert patched["scaling"] == {"min_replicas": 1, "max_replicas": 4}
    assert patched["updated_at"] > RECORDED["updated_at"]
    assert patched["created_at"] == RECORDED["created_at"]
    clean_emulator.advance_clock(60)
    assert httpx.get(url, trust_env=False).json()["status"] == "running"
    assert httpx.delete(url, trust_env=False).json()["status"] == "deleting"
    clean_emulator.advance_clock(60)
    assert clean_emulator.endpoints() == []


@pytest.mark.parametrize(("status", "enabled", "then"), [
    ("starting", True, "running"),
    ("updating", True, "running"),
    ("stopping", False, "stopped"),
    ("stopped", False, "stopped"),
    ("error", True, "error"),
    ("deleting", True, None),
])
def test_a_transitional_status_starts_now_and_settles_like_the_apis(
        clean_emulator: EmulatorProcess, status: str, enabled: bool, then: str | None) -> None:
    seeded = clean_emulator.seed_endpoint({**RECORDED, "status": status, "enabled": enabled})
    assert seeded["status"] == status
    clean_emulator.advance_clock(60)
    assert [e["status"] for e in clean_emulator.endpoints()] == ([then] if then else [])


def test_timestamps_and_status_are_optional(clean_emulator: EmulatorProcess) -> None:
    body = {k: v for k, v in RECORDED.items() if k not in ("created_at", "updated_at", "status")}
    seeded = clean_emulator.seed_endpoint({**body, "enabled": False})
    assert seeded["status"] == "stopped"
    assert seeded["created_at"] == seeded["updated_at"]
    assert seeded["created_at"] > RECORDED["created_at"]


def test_the_same_id_or_routing_key_twice_is_a_conflict(clean_emulator: EmulatorProcess) -> None:
    clean_emulator.seed_endpoint(RECORDED)
    with pytest.raises(EmulatorAdminError, match=r"HTTP 409.*already exists"):
        clean_emulator.seed_endpoint(RECORDED)
    with pytest.raises(EmulatorAdminError, match=r"HTTP 409.*routing key"):
        clean_emulator.seed_endpoint({**RECORDED, "id": "ep-other"})
    assert clean_emulator.endpoints() == [RECORDED]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"id": None}, "id", "id is required"),
    ({"id": "ep/1"}, "id", "without surrounding blanks or /"),
    ({"routing_key": ""}, "routing_key", "non-empty"),
    ({"status": "rebooting"}, "status", "cannot be seeded"),
    ({"status": "running", "enabled": False}, "status", "needs enabled=True"),
    ({"created_at": "yesterday"}, "created_at", "ISO-8601"),
    ({"created_at": "2026-01-01T00:00:00"}, "created_at", "with a zone"),
    ({"gpu_count": 3}, "gpu_count", "is not offered"),
    ({"colour": "red"}, "colour", "unknown field"),
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
    assert emulator.endpoints() == [RECORDED]
