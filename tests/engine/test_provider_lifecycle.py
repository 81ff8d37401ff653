"""Acceptance test: the provider driven over gRPC exactly as the engine drives it, against a live emulator.

Written the way terraform-provider acceptance tests are: a declarative list of
steps (program inputs -> expected plan, state and API calls), then an import
step that must reproduce the created state, then destroy. After each step the
API's own view (the emulator's list route and request log) is compared with
what the state says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from devtools.enginehost import CheckFailed, ProviderCallError, ProviderHost, ResourceSteps
from devtools.harness import DELETE, ENDPOINTS, EmulatorAccount
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.accounts import AccountSettings

TOKEN = "tf-test-TOKEN-9f8e7d6c5b4a"
BASE: dict[str, Any] = {**SEED_EXAMPLE, "region": "eu-north1"}


@dataclass
class Step:
    name: str
    program: dict[str, Any] | None = None
    plan: str | None = None
    replaces: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    exact_calls: dict[str, int] = field(default_factory=dict)
    out_of_band: Callable[[EmulatorAccount, str], None] | None = None
    refresh: bool = False
    drift: set[str] = field(default_factory=set)


def patch_out_of_band(body: dict[str, Any]) -> Callable[[EmulatorAccount, str], None]:
    def act(account: EmulatorAccount, endpoint_id: str) -> None:
        account.api("PATCH", f"{ENDPOINTS}/{endpoint_id}", body).raise_for_status()
    return act


SCALED = {**BASE, "scaling": {"min_replicas": 2, "max_replicas": 4}}
RENAMED = {**SCALED, "name": "GPT-120B (prod)", "description": "owned by team-ml"}
NEW_MODEL = {**RENAMED, "model_name": "openai/gpt-oss-20b"}

STEPS = [
    Step("create", BASE, plan="create",
         state={"status": "running", "scaling": {"min_replicas": 1.0, "max_replicas": 2.0},
},
         exact_calls={"POST /v0/dedicated_endpoints": 1, "GET /v0/dedicated_endpoints/templates": 1}),
    Step("no-op preview and up", BASE, plan="same", exact_calls={"POST /v0/dedicated_endpoints": 0,
                                                                  "PATCH /v0/dedicated_endpoints/{id}": 0}),
    Step("scale in place", SCALED, plan="update", state={"scaling": {"min_replicas": 2.0, "max_replicas": 4.0}},
         exact_calls={"PATCH /v0/dedicated_endpoints/{id}": 1, "POST /v0/dedicated_endpoints": 0,
                      "DELETE /v0/dedicated_endpoints/{id}": 0}),
    Step("rename in place", RENAMED, plan="update", state={"name": "GPT-120B (prod)"},
         exact_calls={"PATCH /v0/dedicated_endpoints/{id}": 1, "POST /v0/dedicated_endpoints": 0}),
    Step("refresh after out-of-band scaling", RENAMED, refresh=True, plan="update",
         out_of_band=patch_out_of_band({"scaling": {"min_replicas": 3, "max_replicas": 5}}),
         drift={"scaling"}, state={"scaling": {"min_replicas": 2.0, "max_replicas": 4.0}},
         exact_calls={"PATCH /v0/dedicated_endpoints/{id}": 1}),
    Step("stop without deleting", {**RENAMED, "enabled": False}, plan="update",
         state={"status": "stopped", "enabled": False}),
    Step("start again", RENAMED, plan="update", state={"status": "running", "enabled": True}),
    Step("replace on model change", NEW_MODEL, plan="replace", replaces=["model_name"],
         state={"model_name": "openai/gpt-oss-20b", "status": "running"},
         exact_calls={"POST /v0/dedicated_endpoints": 1, "DELETE /v0/dedicated_endpoints/{id}": 1,
                      "PATCH /v0/dedicated_endpoints/{id}": 0}),
]


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN, emulator={"provision_seconds": 0.6}, poll_max=0.2)


def test_full_lifecycle_create_update_refresh_replace_import_destroy(
        tf_account: EmulatorAccount, emulator: EmulatorProcess, host: ProviderHost) -> None:
    emulator.reset()
    resource = tf_account.resource(host, "gpt")
    created_routing_keys = set()
    for step in STEPS:
        emulator.clear_requests()
        if step.out_of_band:
            step.out_of_band(tf_account, resource.id)
            emulator.clear_requests()
        if step.refresh:
            drift = resource.refresh()
            assert step.drift <= set(drift), f"{step.name}: drift {drift} lacks {step.drift}"
        old_id = resource.id
        plan = resource.up(step.program or {})
        assert plan.action == step.plan, f"{step.name}: planned {plan.action}, expected {step.plan}"
        assert plan.replaces == step.replaces, step.name
        for key, value in step.state.items():
            assert resource.outputs.get(key) == value, f"{step.name}: {key}={resource.outputs.get(key)!r}"
        served = emulator.call_counts()
        for call, count in step.exact_calls.items():
            assert served[call] == count, f"{step.name}: {call} x{served[call]}, expected {count}"
        if plan.action in ("update", "same"):
            assert resource.id == old_id, f"{step.name}: the endpoint id changed without a replace"
        # The API holds exactly the endpoint the state describes.
        live = emulator.endpoints()
        assert [e["id"] for e in live] == [resource.id], f"{step.name}: API has {[e['id'] for e in live]}"
        for key in ("name", "model_name", "gpu_count", "scaling", "enabled"):
            assert live[0][key] == resource.outputs[key], f"{step.name}: API {key}={live[0][key]!r}"
        assert resource.outputs["routing_key"] == live[0]["routing_key"]
        assert resource.preview(step.program or {}).action == "same", f"{step.name}: not converged"
        created_routing_keys.add(resource.outputs["routing_key"])
    assert len(created_routing_keys) == 2, "exactly one replacement happened"
    assert resource.outputs["inference_base_url"] == f"{emulator.base_url}/v1/", "inference goes where the API is"

    # Import, as the real engine sends it (the id alone), fails in the dynamic host before our code runs.
    imported = tf_account.resource(host, "adopted")
    emulator.clear_requests()
    with pytest.raises(ProviderCallError) as no_import:
        imported.import_(resource.id)
    assert "KeyError: '__provider'" in no_import.value.details and emulator.requests() == []

    emulator.clear_requests()
    resource.destroy()
    assert emulator.endpoints() == []
    assert emulator.call_counts()[DELETE] == 1
    assert TOKEN not in host.stderr_text()


def test_deleted_out_of_band_disappears_on_refresh_and_update_says_so(
        tf_account: EmulatorAccount, emulator: EmulatorProcess, host: ProviderHost) -> None:
    emulator.reset()
    resource = tf_account.resource(host, "gone")
    resource.up({**BASE, "wait_for_ready": False})
    tf_account.api("DELETE", f"{ENDPOINTS}/{resource.id}").raise_for_status()
    stale = ResourceSteps(host, resource.provider, resource.urn)
    stale.id, stale.outputs, stale.inputs = resource.id, dict(resource.outputs), dict(resource.inputs)
    with pytest.raises(Exception, match="no longer exists"):
        stale.up({**BASE, "wait_for_ready": False, "name": "renamed"})
    assert tf_account.settled() == []
    assert resource.refresh() == {} and resource.id == ""
    stale.destroy()  # delete of an already-deleted endpoint succeeds
    assert emulator.endpoints() == []


def test_check_failures_name_the_property_and_nothing_is_mutated(
        tf_account: EmulatorAccount, emulator: EmulatorProcess, host: ProviderHost) -> None:
    emulator.reset()
    emulator.clear_requests()
    resource = tf_account.resource(host, "bad")
    with pytest.raises(CheckFailed) as info:
        resource.up({**BASE, "gpu_type": "gpu-a100", "scaling": {"min_replicas": 3, "max_replicas": 1}})
    props = dict(info.value.failures)
    assert "gpu-h100-sxm" in props["gpu_type"] and props[""].startswith("scaling.min_replicas (3) must not exceed")
    assert all(r["method"] == "GET" for r in emulator.requests())
