"""Endpoint status over time: exact transitions with a manual clock, real timing with a live process."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.emulator.shapes import ENDPOINTS, created, find, listed, status_of
from tests.harness.emulators import InProcessEmulator, in_process_emulator

SEED: dict[str, Any] = {k: v for k, v in SEED_EXAMPLE.items() if k != "description"}
PROVISION, UPDATE, STOP, DELETE = 600.0, 120.0, 60.0, 30.0


class Api:
    """An in-process emulator with a clock that moves only when told to."""

    def __init__(self, emulator: InProcessEmulator) -> None:
        self.app, self.clock, self.http = emulator.app, emulator.clock, emulator.http

    def create(self, **changes: Any) -> str:
        return str(created(self.http.post(ENDPOINTS, json={**SEED, **changes}))["id"])

    def patch(self, endpoint_id: str, **body: Any) -> str:
        """The deployment status the PATCH answers."""
        response = self.http.patch(f"{ENDPOINTS}/{endpoint_id}", json=body)
        assert response.status_code == 200, response.text
        return status_of(response.json())

    def status(self, endpoint_id: str) -> str | None:
        """The deployment status through the list (the published API has no GET of one endpoint); None: not listed."""
        endpoint = find(self.http, endpoint_id)
        return None if endpoint is None else status_of(endpoint)

    def admin(self, path: str, body: Any = None) -> Any:
        response = self.http.post(f"/_emulator/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def admin_status(self, path: str) -> str:
        """The deployment status an operator action answers."""
        return status_of(self.admin(path))

    def at(self, seconds: float) -> None:
        """Move to `seconds` after the clock's start."""
        self.clock.advance(seconds - self.clock.offset)


def timings(**options: Any) -> InProcessEmulator:
    return in_process_emulator(provision_seconds=PROVISION, update_seconds=UPDATE, stop_seconds=STOP,
                               delete_seconds=DELETE, **options)


@pytest.fixture
def api() -> Api:
    return Api(timings())


@pytest.fixture
def legacy() -> InProcessEmulator:
    """The same timings, answering in the legacy shapes (a flat status, updated_at, a GET of one endpoint)."""
    return timings(api_shapes="legacy")


def test_create_is_starting_until_exactly_the_provision_time(api: Api) -> None:
    endpoint_id = api.create()
    assert api.status(endpoint_id) == "starting"
    api.at(PROVISION - 0.001)
    assert api.status(endpoint_id) == "starting"
    api.at(PROVISION)
    assert api.status(endpoint_id) == "running"


def test_created_at_is_the_moment_of_the_create(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION + 50)
    running = find(api.http, endpoint_id)
    assert running is not None and running["created_at"] == "2026-01-01T00:00:00.000Z"
    assert "updated_at" not in running, "the published endpoint has no updated_at"


def test_legacy_updated_at_dates_the_moment_it_became_running(legacy: InProcessEmulator) -> None:
    endpoint_id = legacy.http.post(ENDPOINTS, json=SEED).json()["id"]
    first = legacy.http.get(f"{ENDPOINTS}/{endpoint_id}").json()
    legacy.clock.advance(PROVISION + 50)
    running = legacy.http.get(f"{ENDPOINTS}/{endpoint_id}").json()
    assert running["created_at"] == first["created_at"] == "2026-01-01T00:00:00.000Z"
    assert running["updated_at"] == "2026-01-01T00:10:00.000Z" and running["status"] == "running"


def test_scaling_change_goes_updating_then_running(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.patch(endpoint_id, scaling={"min_replicas": 2, "max_replicas": 4}) == "updating"
    api.at(PROVISION + UPDATE - 1)
    assert api.status(endpoint_id) == "updating"
    api.at(PROVISION + UPDATE)
    assert api.status(endpoint_id) == "running"


def test_same_scaling_or_metadata_changes_leave_the_status_alone(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.patch(endpoint_id, scaling=SEED["scaling"]) == "running"
    assert api.patch(endpoint_id, name="renamed", description="new") == "running"
    starting = api.create()
    assert api.patch(starting, scaling={"min_replicas": 1, "max_replicas": 3}) == "starting"
    api.at(2 * PROVISION)
    assert api.status(starting) == "running"


def test_disable_stops_and_enable_starts_again(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.patch(endpoint_id, enabled=False) == "stopping"
    api.at(PROVISION + STOP)
    assert api.status(endpoint_id) == "stopped"
    assert api.patch(endpoint_id, scaling={"min_replicas": 1, "max_replicas": 5}) == "stopped"
    assert api.patch(endpoint_id, enabled=True) == "starting"
    api.at(2 * PROVISION + STOP)
    assert api.status(endpoint_id) == "running"


def test_stopped_stays_stopped_until_enabled(api: Api) -> None:
    """The published create has no `enabled`: an endpoint is stopped by a PATCH, and stays so."""
    endpoint_id = api.create(enabled=False)
    assert api.status(endpoint_id) == "starting", "enabled is ignored on create"
    assert api.patch(endpoint_id, enabled=False) == "stopping"
    api.at(STOP)
    assert api.status(endpoint_id) == "stopped"
    api.at(PROVISION * 3)
    assert api.status(endpoint_id) == "stopped"
    assert api.patch(endpoint_id, enabled=True) == "starting"


def test_legacy_created_disabled_then_enabled(legacy: InProcessEmulator) -> None:
    endpoint = legacy.http.post(ENDPOINTS, json={**SEED, "enabled": False}).json()
    url = f"{ENDPOINTS}/{endpoint['id']}"
    assert endpoint["status"] == "stopped"
    legacy.clock.advance(PROVISION * 3)
    assert legacy.http.get(url).json()["status"] == "stopped"
    assert legacy.http.patch(url, json={"enabled": True}).json()["status"] == "starting"


def test_delete_goes_stopping_then_gone(api: Api) -> None:
    """A deletion under way shows as a stopping deployment (the published statuses have no `deleting`)."""
    endpoint_id = api.create()
    stopping = {"status": "stopping", "readiness": "not_ready", "ready_replicas": 0}
    assert api.http.delete(f"{ENDPOINTS}/{endpoint_id}").json()["deployment"] == stopping
    api.at(DELETE - 1)
    shown = find(api.http, endpoint_id)
    assert shown is not None and shown["deployment"] == stopping
    assert api.http.delete(f"{ENDPOINTS}/{endpoint_id}").status_code == 200, "repeating a DELETE is harmless"
    assert api.http.patch(f"{ENDPOINTS}/{endpoint_id}", json={"name": "x"}).status_code == 404
    api.at(DELETE)
    assert api.status(endpoint_id) is None
    assert listed(api.http) == []


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
    assert api.admin_status(f"endpoints/{endpoint_id}/fail") == "error"
    api.at(PROVISION * 5)
    assert api.status(endpoint_id) == "error"
    assert api.admin_status(f"endpoints/{endpoint_id}/recover") == "running"
    assert api.admin_status(f"endpoints/{endpoint_id}/stuck") == "starting"
    api.at(PROVISION * 50)
    assert api.status(endpoint_id) == "starting"
    # Stuck sticks: a stop never completes either, until recovered.
    assert api.patch(endpoint_id, enabled=False) == "stopping"
    api.at(PROVISION * 60)
    assert api.status(endpoint_id) == "stopping"
    assert api.admin_status(f"endpoints/{endpoint_id}/recover") == "stopped"


def test_a_pinned_deployment_outlasts_the_lifecycle_and_a_restart_until_recover(tmp_path: Any) -> None:
    emulator = timings(state_file=tmp_path / "state.json")
    api = Api(emulator)
    endpoint_id = api.create()
    pinned = api.admin(f"endpoints/{endpoint_id}/deployment", {"status": "running", "readiness": "not_ready"})
    assert pinned["deployment"] == {"status": "running", "readiness": "not_ready", "ready_replicas": 0}
    api.at(PROVISION * 5)
    again = Api(in_process_emulator(emulator.app.config, clock=emulator.clock))
    shown = find(again.http, endpoint_id)
    assert shown is not None and shown["deployment"]["readiness"] == "not_ready", "the pin is kept in the state file"
    assert again.admin(f"endpoints/{endpoint_id}/recover")["deployment"] == {
        "status": "running", "readiness": "ready", "ready_replicas": 1}


def test_an_errored_endpoint_restarts_through_disable_and_enable(api: Api) -> None:
    endpoint_id = api.create()
    api.admin(f"endpoints/{endpoint_id}/fail")
    assert api.patch(endpoint_id, scaling={"min_replicas": 1, "max_replicas": 3}) == "error"
    api.patch(endpoint_id, enabled=False)
    api.at(STOP)
    assert api.patch(endpoint_id, enabled=True) == "starting"
    api.at(STOP + PROVISION)
    assert api.status(endpoint_id) == "running"


def test_admin_clock_skips_a_realistic_start(api: Api) -> None:
    endpoint_id = api.create()
    moved = api.admin("clock", {"advance": PROVISION})
    assert moved["offset"] == PROVISION
    assert api.status(endpoint_id) == "running"


def test_zero_durations_settle_at_once() -> None:
    http = in_process_emulator(provision_seconds=0, delete_seconds=0).http
    endpoint = created(http.post(ENDPOINTS, json=SEED))
    assert endpoint["deployment"] == {"status": "running", "readiness": "ready", "ready_replicas": 1}
    http.delete(f"{ENDPOINTS}/{endpoint['id']}")
    assert find(http, endpoint["id"]) is None


def test_transitions_survive_a_restart_through_the_state_file(tmp_path: Any) -> None:
    first = in_process_emulator(provision_seconds=PROVISION, state_file=tmp_path / "state.json")
    endpoint_id = created(first.http.post(ENDPOINTS, json=SEED))["id"]
    clock = first.clock
    clock.advance(PROVISION / 2)
    again = Api(in_process_emulator(first.app.config, clock=clock))
    assert again.status(endpoint_id) == "starting"
    clock.advance(PROVISION / 2)
    assert again.status(endpoint_id) == "running"


# -- real time, real process ---------------------------------------------------------------------


def wait_for(client: httpx.Client, endpoint_id: str, status: str, timeout: float = 5.0) -> float:
    """Seconds until the endpoint's deployment reports `status` (read through the list)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        endpoint = find(client, endpoint_id)
        if endpoint is not None and status_of(endpoint) == status:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{endpoint_id} did not become {status} within {timeout}s")


def test_live_emulator_follows_its_configured_timings(emulator_factory: Any) -> None:
    emu: EmulatorProcess = emulator_factory(provision_seconds=0.6, update_seconds=0.3, stop_seconds=0.3,
                                            delete_seconds=0.3)
    with httpx.Client(base_url=emu.base_url, trust_env=False, timeout=5) as client:
        started = time.monotonic()
        endpoint_id = created(client.post(ENDPOINTS, json=SEED))["id"]
        assert status_of(listed(client)[0]) == "starting"
        wait_for(client, endpoint_id, "running")
        assert 0.5 <= time.monotonic() - started < 3.0
        client.patch(f"{ENDPOINTS}/{endpoint_id}", json={"scaling": {"min_replicas": 2, "max_replicas": 3}})
        assert 0.2 <= wait_for(client, endpoint_id, "running") < 2.0
        assert status_of(client.patch(f"{ENDPOINTS}/{endpoint_id}", json={"enabled": False}).json()) == "stopping"
        assert 0.2 <= wait_for(client, endpoint_id, "stopped") < 2.0
        assert status_of(client.delete(f"{ENDPOINTS}/{endpoint_id}").json()) == "stopping"
        deleted = time.monotonic()
        while find(client, endpoint_id) is not None:
            assert time.monotonic() - deleted < 3.0
            time.sleep(0.02)
        assert time.monotonic() - deleted >= 0.25
        assert listed(client) == []
