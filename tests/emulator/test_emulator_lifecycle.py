"""Endpoint status over time: exact transitions with a manual clock, real timing with a live process."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.emulators import InProcessEmulator, in_process_emulator

SEED: dict[str, Any] = {k: v for k, v in SEED_EXAMPLE.items() if k != "description"}
ENDPOINTS = "/v0/dedicated_endpoints"
PROVISION, UPDATE, STOP, DELETE = 600.0, 120.0, 60.0, 30.0


class Api:
    """An in-process emulator with a clock that moves only when told to."""

    def __init__(self, emulator: InProcessEmulator) -> None:
        self.app, self.clock, self.http = emulator.app, emulator.clock, emulator.http

    def create(self, **changes: Any) -> str:
        response = self.http.post(ENDPOINTS, json={**SEED, **changes})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def patch(self, endpoint_id: str, **body: Any) -> dict[str, Any]:
        response = self.http.patch(f"{ENDPOINTS}/{endpoint_id}", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def status(self, endpoint_id: str) -> str | None:
        response = self.http.get(f"{ENDPOINTS}/{endpoint_id}")
        return str(response.json()["status"]) if response.status_code == 200 else None

    def admin(self, path: str, body: Any = None) -> Any:
        response = self.http.post(f"/_emulator/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def at(self, seconds: float) -> None:
        """Move to `seconds` after the clock's start."""
        self.clock.advance(seconds - self.clock.offset)


@pytest.fixture
def api() -> Api:
    return Api(in_process_emulator(provision_seconds=PROVISION, update_seconds=UPDATE, stop_seconds=STOP,
                                   delete_seconds=DELETE))


def test_create_is_starting_until_exactly_the_provision_time(api: Api) -> None:
    endpoint_id = api.create()
    assert api.status(endpoint_id) == "starting"
    api.at(PROVISION - 0.001)
    assert api.status(endpoint_id) == "starting"
    api.at(PROVISION)
    assert api.status(endpoint_id) == "running"


def test_updated_at_dates_the_moment_it_became_running(api: Api) -> None:
    endpoint_id = api.create()
    created = api.http.get(f"{ENDPOINTS}/{endpoint_id}").json()
    api.at(PROVISION + 50)
    running = api.http.get(f"{ENDPOINTS}/{endpoint_id}").json()
    assert running["created_at"] == created["created_at"] == "2026-01-01T00:00:00.000Z"
    assert running["updated_at"] == "2026-01-01T00:10:00.000Z"


def test_scaling_change_goes_updating_then_running(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.patch(endpoint_id, scaling={"min_replicas": 2, "max_replicas": 4})["status"] == "updating"
    api.at(PROVISION + UPDATE - 1)
    assert api.status(endpoint_id) == "updating"
    api.at(PROVISION + UPDATE)
    assert api.status(endpoint_id) == "running"


def test_same_scaling_or_metadata_changes_leave_the_status_alone(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.patch(endpoint_id, scaling=SEED["scaling"])["status"] == "running"
    assert api.patch(endpoint_id, name="renamed", description="new")["status"] == "running"
    starting = api.create()
    assert api.patch(starting, scaling={"min_replicas": 1, "max_replicas": 3})["status"] == "starting"
    api.at(2 * PROVISION)
    assert api.status(starting) == "running"


def test_disable_stops_and_enable_starts_again(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.patch(endpoint_id, enabled=False)["status"] == "stopping"
    api.at(PROVISION + STOP)
    assert api.status(endpoint_id) == "stopped"
    assert api.patch(endpoint_id, scaling={"min_replicas": 1, "max_replicas": 5})["status"] == "stopped"
    assert api.patch(endpoint_id, enabled=True)["status"] == "starting"
    api.at(2 * PROVISION + STOP)
    assert api.status(endpoint_id) == "running"


def test_created_disabled_then_enabled(api: Api) -> None:
    endpoint_id = api.create(enabled=False)
    assert api.status(endpoint_id) == "stopped"
    api.at(PROVISION * 3)
    assert api.status(endpoint_id) == "stopped"
    assert api.patch(endpoint_id, enabled=True)["status"] == "starting"


def test_delete_goes_deleting_then_gone(api: Api) -> None:
    endpoint_id = api.create()
    assert api.http.delete(f"{ENDPOINTS}/{endpoint_id}").json()["status"] == "deleting"
    api.at(DELETE - 1)
    assert api.status(endpoint_id) == "deleting"
    assert api.http.delete(f"{ENDPOINTS}/{endpoint_id}").status_code == 200, "repeating a DELETE is harmless"
    assert api.http.patch(f"{ENDPOINTS}/{endpoint_id}", json={"name": "x"}).status_code == 404
    api.at(DELETE)
    assert api.status(endpoint_id) is None
    assert api.http.get(ENDPOINTS).json() == {"endpoints": []}


def test_next_creates_can_be_scripted_to_fail_or_hang(api: Api) -> None:
    assert api.admin("behaviour", {"next_create": "error", "count": 1}) == {"next_creates": ["error"]}
    api.admin("behaviour", {"next_create": "stuck", "count": 2})
    failing, stuck, also_stuck, normal = (api.create() for _ in range(4))
    api.at(PROVISION * 10)
    assert [api.status(i) for i in (failing, stuck, also_stuck, normal)] == ["error", "starting", "starting", "running"]
    api.admin("behaviour", {"next_create": "error", "count": 3})
    assert api.admin("behaviour", {"next_create": "normal"}) == {"next_creates": []}


def test_fail_stuck_and_recover(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.admin(f"endpoints/{endpoint_id}/fail")["status"] == "error"
    api.at(PROVISION * 5)
    assert api.status(endpoint_id) == "error"
    assert api.admin(f"endpoints/{endpoint_id}/recover")["status"] == "running"
    assert api.admin(f"endpoints/{endpoint_id}/stuck")["status"] == "starting"
    api.at(PROVISION * 50)
    assert api.status(endpoint_id) == "starting"
    # Stuck sticks: a stop never completes either, until recovered.
    assert api.patch(endpoint_id, enabled=False)["status"] == "stopping"
    api.at(PROVISION * 60)
    assert api.status(endpoint_id) == "stopping"
    assert api.admin(f"endpoints/{endpoint_id}/recover")["status"] == "stopped"


def test_an_errored_endpoint_restarts_through_disable_and_enable(api: Api) -> None:
    endpoint_id = api.create()
    api.admin(f"endpoints/{endpoint_id}/fail")
    assert api.patch(endpoint_id, scaling={"min_replicas": 1, "max_replicas": 3})["status"] == "error"
    api.patch(endpoint_id, enabled=False)
    api.at(STOP)
    assert api.patch(endpoint_id, enabled=True)["status"] == "starting"
    api.at(STOP + PROVISION)
    assert api.status(endpoint_id) == "running"


def test_admin_clock_skips_a_realistic_start(api: Api) -> None:
    endpoint_id = api.create()
    moved = api.admin("clock", {"advance": PROVISION})
    assert moved["offset"] == PROVISION
    assert api.status(endpoint_id) == "running"


def test_zero_durations_settle_at_once() -> None:
    http = in_process_emulator(provision_seconds=0, delete_seconds=0).http
    endpoint = http.post(ENDPOINTS, json=SEED).json()
    assert endpoint["status"] == "running"
    http.delete(f"{ENDPOINTS}/{endpoint['id']}")
    assert http.get(f"{ENDPOINTS}/{endpoint['id']}").status_code == 404


def test_transitions_survive_a_restart_through_the_state_file(tmp_path: Any) -> None:
    first = in_process_emulator(provision_seconds=PROVISION, state_file=tmp_path / "state.json")
    endpoint_id = first.http.post(ENDPOINTS, json=SEED).json()["id"]
    clock = first.clock
    clock.advance(PROVISION / 2)
    again = in_process_emulator(first.app.config, clock=clock).http
    assert again.get(f"{ENDPOINTS}/{endpoint_id}").json()["status"] == "starting"
    clock.advance(PROVISION / 2)
    assert again.get(f"{ENDPOINTS}/{endpoint_id}").json()["status"] == "running"


# -- real time, real process ---------------------------------------------------------------------


def wait_for(client: httpx.Client, endpoint_id: str, status: str, timeout: float = 5.0) -> float:
    """Seconds until the endpoint reports `status`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if client.get(f"{ENDPOINTS}/{endpoint_id}").json()["status"] == status:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{endpoint_id} did not become {status} within {timeout}s")


def test_live_emulator_follows_its_configured_timings(emulator_factory: Any) -> None:
    emu: EmulatorProcess = emulator_factory(provision_seconds=0.6, update_seconds=0.3, stop_seconds=0.3,
                                            delete_seconds=0.3)
    with httpx.Client(base_url=emu.base_url, trust_env=False, timeout=5) as client:
        started = time.monotonic()
        endpoint_id = client.post(ENDPOINTS, json=SEED).json()["id"]
        assert client.get(f"{ENDPOINTS}/{endpoint_id}").json()["status"] == "starting"
        wait_for(client, endpoint_id, "running")
        assert 0.5 <= time.monotonic() - started < 3.0
        client.patch(f"{ENDPOINTS}/{endpoint_id}", json={"scaling": {"min_replicas": 2, "max_replicas": 3}})
        assert 0.2 <= wait_for(client, endpoint_id, "running") < 2.0
        assert client.patch(f"{ENDPOINTS}/{endpoint_id}", json={"enabled": False}).json()["status"] == "stopping"
        assert 0.2 <= wait_for(client, endpoint_id, "stopped") < 2.0
        assert client.delete(f"{ENDPOINTS}/{endpoint_id}").json()["status"] == "deleting"
        deleted = time.monotonic()
        while client.get(f"{ENDPOINTS}/{endpoint_id}").status_code == 200:
            assert time.monotonic() - deleted < 3.0
            time.sleep(0.02)
        assert time.monotonic() - deleted >= 0.25
        assert client.get(ENDPOINTS).json() == {"endpoints": []}
