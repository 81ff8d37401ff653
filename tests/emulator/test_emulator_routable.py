"""The routable gap: a running endpoint's routing key answers 404 for `routable_seconds` more after a (re)start.

Exact instants with a manual clock, as the lifecycle tests do, plus one live
process to show the flag reaches a real server. The gap is what lets the
provider's `wait_for_inference` gate be tested; without it (the default) the
emulator must behave exactly as before.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pulumi_tokenfactory.emulator.__main__ import build_parser
from pulumi_tokenfactory.emulator.app import create_app
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.clock import ManualClock
from pulumi_tokenfactory.emulator.config import EmulatorConfig
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.emulator.shapes import ENDPOINTS, created, find, status_of

SEED: dict[str, Any] = {k: v for k, v in SEED_EXAMPLE.items() if k != "description"}
PROVISION, UPDATE, STOP, GAP = 600.0, 120.0, 60.0, 90.0


class Api:
    """An in-process emulator whose clock moves only when told to."""

    def __init__(self, gap: float, **config: Any) -> None:
        self.clock = ManualClock()
        self.config = EmulatorConfig(provision_seconds=PROVISION, update_seconds=UPDATE, stop_seconds=STOP,
                                     routable_seconds=gap, **config)
        self.http = TestClient(create_app(self.config, clock=self.clock))
        self.routing_keys: dict[str, str] = {}

    def create(self, **changes: Any) -> str:
        endpoint = created(self.http.post(ENDPOINTS, json={**SEED, **changes}))
        self.routing_keys[endpoint["id"]] = endpoint["routing_key"]
        return str(endpoint["id"])

    def patch(self, endpoint_id: str, **body: Any) -> str:
        response = self.http.patch(f"{ENDPOINTS}/{endpoint_id}", json=body)
        assert response.status_code == 200, response.text
        return status_of(response.json())

    def status(self, endpoint_id: str) -> str:
        """The deployment status through the list (the published API has no GET of one endpoint)."""
        endpoint = find(self.http, endpoint_id)
        assert endpoint is not None, f"{endpoint_id} is not listed"
        return status_of(endpoint)

    def chat(self, endpoint_id: str) -> Any:  # the test client's response type
        return self.http.post("/v1/chat/completions", json={
            "model": self.routing_keys[endpoint_id], "messages": [{"role": "user", "content": "ping"}],
            "max_tokens": 1})

    def answers(self, endpoint_id: str) -> int:
        return self.chat(endpoint_id).status_code

    def models(self) -> list[str]:
        return [m["id"] for m in self.http.get("/v1/models").json()["data"]]

    def at(self, seconds: float) -> None:
        """Move to `seconds` after the clock's start."""
        self.clock.advance(seconds - self.clock.offset)


@pytest.fixture
def api() -> Api:
    return Api(GAP)


def test_without_a_gap_a_running_endpoint_answers_at_once() -> None:
    api = Api(0.0)
    endpoint_id = api.create()
    api.at(PROVISION - 0.001)
    assert api.answers(endpoint_id) == 404
    api.at(PROVISION)
    assert (api.status(endpoint_id), api.answers(endpoint_id)) == ("running", 200)


def test_a_new_endpoint_is_running_but_404_until_the_gap_has_passed(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION - 0.001)
    starting = api.chat(endpoint_id)
    assert (api.status(endpoint_id), starting.status_code) == ("starting", 404)
    assert "is starting; it answers once running" in starting.json()["error"]["message"]
    api.at(PROVISION)
    warming = api.chat(endpoint_id)
    assert (api.status(endpoint_id), warming.status_code) == ("running", 404)
    assert warming.json()["error"]["code"] == "model_not_found"
    assert "still warming up" in warming.json()["error"]["message"]
    assert api.routing_keys[endpoint_id] not in api.models()
    api.at(PROVISION + GAP - 0.001)
    assert api.answers(endpoint_id) == 404
    api.at(PROVISION + GAP)
    assert api.answers(endpoint_id) == 200
    assert api.routing_keys[endpoint_id] in api.models()
    assert api.http.get(f"/v1/models/{api.routing_keys[endpoint_id]}").status_code == 200


def test_enabling_a_stopped_endpoint_starts_the_gap_again(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION + GAP)
    assert api.answers(endpoint_id) == 200
    assert api.patch(endpoint_id, enabled=False) == "stopping"
    api.at(PROVISION + GAP + STOP)
    assert (api.status(endpoint_id), api.answers(endpoint_id)) == ("stopped", 404)
    enabled_at = PROVISION + GAP + STOP
    assert api.patch(endpoint_id, enabled=True) == "starting"
    api.at(enabled_at + PROVISION)
    assert (api.status(endpoint_id), api.answers(endpoint_id)) == ("running", 404)
    api.at(enabled_at + PROVISION + GAP - 0.001)
    assert api.answers(endpoint_id) == 404
    api.at(enabled_at + PROVISION + GAP)
    assert api.answers(endpoint_id) == 200


def test_a_min_replicas_rise_is_404_from_the_patch_until_the_gap_after_running(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION + GAP)
    assert api.patch(endpoint_id, scaling={"min_replicas": 2, "max_replicas": 4}) == "updating"
    assert api.answers(endpoint_id) == 404
    api.at(PROVISION + GAP + UPDATE)
    assert (api.status(endpoint_id), api.answers(endpoint_id)) == ("running", 404)
    api.at(PROVISION + GAP + UPDATE + GAP - 0.001)
    assert api.answers(endpoint_id) == 404
    api.at(PROVISION + GAP + UPDATE + GAP)
    assert api.answers(endpoint_id) == 200


@pytest.mark.parametrize("scaling", [{"min_replicas": 2, "max_replicas": 5}, {"min_replicas": 1, "max_replicas": 3}],
                         ids=["max-only", "min-lower"])
def test_scaling_changes_that_start_no_replica_keep_serving(api: Api, scaling: dict[str, int]) -> None:
    endpoint_id = api.create(scaling={"min_replicas": 2, "max_replicas": 3})
    api.at(PROVISION + GAP)
    assert api.patch(endpoint_id, scaling=scaling) == "updating"
    assert api.answers(endpoint_id) == 200
    api.at(PROVISION + GAP + UPDATE)
    assert (api.status(endpoint_id), api.answers(endpoint_id)) == ("running", 200)


def test_without_a_gap_a_min_replicas_rise_keeps_serving_as_before() -> None:
    api = Api(0.0)
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.patch(endpoint_id, scaling={"min_replicas": 3, "max_replicas": 4}) == "updating"
    assert api.answers(endpoint_id) == 200


def test_a_rise_during_the_gap_never_shortens_it(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    # A scale-up right at `running` ends its own warm-up at PROVISION + UPDATE + GAP, after the first one.
    assert api.patch(endpoint_id, scaling={"min_replicas": 2, "max_replicas": 2}) == "updating"
    api.at(PROVISION + GAP)
    assert api.answers(endpoint_id) == 404
    api.at(PROVISION + UPDATE + GAP)
    assert api.answers(endpoint_id) == 200


def test_renames_and_stops_do_not_touch_the_gap(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION + GAP)
    assert api.patch(endpoint_id, name="renamed", description="new") == "running"
    assert api.answers(endpoint_id) == 200


def test_recover_makes_it_routable_at_once(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    assert api.answers(endpoint_id) == 404
    assert api.http.post(f"/_emulator/endpoints/{endpoint_id}/recover").status_code == 200
    assert api.answers(endpoint_id) == 200


def test_a_seeded_starting_endpoint_gets_the_gap_and_a_running_one_does_not(api: Api) -> None:
    seeded = {**SEED, "status": "starting", "id": "ep-seededstarting", "routing_key": "dedicated/seeded-a"}
    assert api.http.post("/_emulator/endpoints", json=seeded).status_code == 200
    running = {**seeded, "status": "running", "id": "ep-seededrunning", "routing_key": "dedicated/seeded-b"}
    assert api.http.post("/_emulator/endpoints", json=running).status_code == 200
    api.routing_keys.update({"ep-seededstarting": "dedicated/seeded-a", "ep-seededrunning": "dedicated/seeded-b"})
    assert api.answers("ep-seededrunning") == 200
    api.at(PROVISION)
    assert api.answers("ep-seededstarting") == 404
    api.at(PROVISION + GAP)
    assert api.answers("ep-seededstarting") == 200


def test_faults_on_inference_still_apply_during_and_after_the_gap(api: Api) -> None:
    endpoint_id = api.create()
    api.at(PROVISION)
    fault = {"method": "POST", "path": "/v1/chat/completions", "action": "error", "status": 503, "count": 1}
    assert api.http.post("/_emulator/faults", json=fault).status_code == 200
    assert api.answers(endpoint_id) == 503, "the armed fault takes the request, gap or not"
    assert api.answers(endpoint_id) == 404, "then the gap answers again"
    api.at(PROVISION + GAP)
    assert api.http.post("/_emulator/faults", json=fault).status_code == 200
    assert api.answers(endpoint_id) == 503
    assert api.answers(endpoint_id) == 200


def test_the_gap_survives_a_restart_through_the_state_file(tmp_path: Any) -> None:
    first = Api(GAP, state_file=tmp_path / "state.json")
    endpoint_id = first.create()
    first.at(PROVISION + GAP / 2)
    again = TestClient(create_app(first.config, clock=first.clock))
    chat = {"model": first.routing_keys[endpoint_id], "messages": [{"role": "user", "content": "ping"}]}
    assert again.post("/v1/chat/completions", json=chat).status_code == 404
    first.at(PROVISION + GAP)
    assert again.post("/v1/chat/completions", json=chat).status_code == 200


def test_the_setting_is_checked_shown_and_parsed() -> None:
    with pytest.raises(ValueError, match="routable_seconds must be a number >= 0"):
        EmulatorConfig(routable_seconds=-1)
    assert EmulatorConfig().routable_seconds == 0.0
    assert Api(GAP).http.get("/_emulator/config").json()["routable_seconds"] == GAP
    assert build_parser().parse_args(["--routable-seconds", "2.5"]).routable_seconds == 2.5
    assert build_parser().parse_args([]).routable_seconds == 0.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--routable-seconds", "-1"])


def test_a_live_emulator_started_with_the_flag_keeps_the_gap(emulator_factory: Any) -> None:
    gap = 1.0
    emu: EmulatorProcess = emulator_factory(provision_seconds=0.3, routable_seconds=gap)
    with httpx.Client(base_url=emu.base_url, trust_env=False, timeout=5) as client:
        endpoint = created(client.post(ENDPOINTS, json=SEED))
        chat = {"model": endpoint["routing_key"], "messages": [{"role": "user", "content": "ping"}]}
        started = time.monotonic()
        while status_of(find(client, endpoint["id"]) or endpoint) != "running":
            assert time.monotonic() - started < 10, "never became running"
            time.sleep(0.02)
        running_after = time.monotonic() - started
        assert client.post("/v1/chat/completions", json=chat).status_code == 404
        while client.post("/v1/chat/completions", json=chat).status_code == 404:
            assert time.monotonic() - started < 10, "never became routable"
            time.sleep(0.05)
        routable_after = time.monotonic() - started
    # Routable no sooner than the gap after running (a loaded machine may make both later, never earlier).
    assert routable_after - running_after >= gap * 0.9, (running_after, routable_after)
    assert emu.admin("GET", "config")["routable_seconds"] == gap
