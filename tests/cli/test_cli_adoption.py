"""Bringing existing endpoints under management, on the real CLI: adoption, bulk adoption, look-ups.

Every adoption is a step list whose mutating requests are asserted: 0 POST, a PATCH only where
the program asks for a different in-place setting, and the next preview shows no changes.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program
from devtools.realcli import Backend, Program, stack_resources
from pulumi_tokenfactory.api.models import parse_created
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.acceptance import Scenario, Step

API_KEY = "tf-adoption-canary-3e8a"
PATCH = "PATCH /v0/dedicated_endpoints/{id}"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"


@pytest.fixture
def account(emulator_factory: Any) -> EmulatorProcess:
    return emulator_factory(provision_seconds=0.3, api_key=API_KEY)


def _console_create(emulator: EmulatorProcess, **changes: Any) -> dict[str, Any]:
    """An endpoint made outside Pulumi (the console, a script)."""
    response = httpx.post(f"{emulator.base_url}/v0/dedicated_endpoints", timeout=10,
                          headers={"Authorization": f"Bearer {API_KEY}"},
                          json={**SEED_EXAMPLE, "region": "eu-north1", **changes})
    response.raise_for_status()
    return parse_created(response.json()).model_dump()


def _stack(backend: Backend, emulator: EmulatorProcess, program: Program, project: str = "tokenfactory-adopt"
           ) -> auto.Stack:
    return backend.stack(project, "dev", program, config={"tokenfactory:baseUrl": emulator.base_url},
                         secrets={"tokenfactory:apiKey": API_KEY})


def test_adopting_a_console_endpoint_patches_what_differs_and_never_posts(cli_backend: Backend,
                                                                          account: EmulatorProcess) -> None:
    made = _console_create(account, name="made by hand")
    program = endpoint_program(adopt_id=made["id"], scaling={"min_replicas": 1, "max_replicas": 3})
    scenario = Scenario(cli_backend, account, _stack(cli_backend, account, program))

    def adopted_as_declared(s: Scenario) -> None:
        assert s.resources()["gpt-120b"]["id"] == made["id"]
        live = s.emulator.endpoints()[0]
        assert live["name"] == SEED_EXAMPLE["name"] and live["scaling"]["max_replicas"] == 3
        said = [line for line in s.transcript if f"takes over the existing endpoint {made['id']}" in line]
        assert said and "PATCH name 'made by hand' -> 'GPT-120B Endpoint', scaling 1..2 -> 1..3" in said[0]

    scenario.run([
        Step("adopt: the preview says so; up PATCHes name and scaling, no POST", ops={"gpt-120b": ("create",)},
             mutations={PATCH: 1}, endpoints=1, check=adopted_as_declared),
        Step("keep adopt_id: nothing to do", endpoints=1),
        Step("remove adopt_id: nothing to do", program=endpoint_program(
            scaling={"min_replicas": 1, "max_replicas": 3}), endpoints=1),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)}, mutations={DELETE: 1}, endpoints=0),
    ])


def test_adoption_refuses_what_cannot_change_in_place_and_a_second_claim(cli_backend: Backend,
                                                                         account: EmulatorProcess) -> None:
    made = _console_create(account)
    stack = _stack(cli_backend, account, endpoint_program(adopt_id=made["id"], region="eu-west1"))
    account.clear_requests()
    with pytest.raises(auto.CommandError) as mismatch:
        stack.preview()
    assert f"endpoint {made['id']} has region 'eu-north1', the program says 'eu-west1'" in str(mismatch.value)

    def two_resources() -> None:
        endpoint_program("first", adopt_id=made["id"])()
        endpoint_program("second", adopt_id=made["id"], name="another name")()

    stack.workspace.program = two_resources
    with pytest.raises(auto.CommandError) as twice:
        stack.preview()
    assert f"another resource of this stack adopts endpoint {made['id']} too" in str(twice.value)

    stack.workspace.program = endpoint_program(adopt_id="ep-does-not-exist")
    with pytest.raises(auto.CommandError) as missing:
        stack.preview()
    assert "no endpoint ep-does-not-exist in this account" in str(missing.value)
    assert [r for r in account.requests() if r["method"] != "GET"] == [], f"nothing changed: {account.requests()}"

    # An `up` of the two: whichever is checked first adopts it, the other is refused; never both, no POST.
    stack.workspace.program = two_resources
    with pytest.raises(auto.CommandError) as up_twice:
        stack.up()
    assert f"another resource of this stack adopts endpoint {made['id']} too" in str(up_twice.value)
    holders = [r["id"] for r in stack_resources(stack).values() if r["type"] == RESOURCE_TYPE]
    assert holders == [made["id"]]
    assert [r["method"] for r in account.requests() if r["method"] == "POST"] == []
    assert [e["id"] for e in account.endpoints()] == [made["id"]]


def test_adopting_an_endpoint_another_resource_created_is_warned_of_in_preview(cli_backend: Backend,
                                                                              account: EmulatorProcess) -> None:
    """Its routing key says this provider chose it for another resource, which may still manage it (here: does)."""
    stack = _stack(cli_backend, account, endpoint_program("first"))
    stack.up()
    [made] = account.endpoints()

    def both() -> None:
        endpoint_program("first")()
        endpoint_program("second", adopt_id=made["id"])()

    stack.workspace.program = both
    account.clear_requests()
    lines: list[str] = []
    stack.preview(on_output=lines.append)
    warning = (f"endpoint {made['id']}'s routing key {made['routing_key']} was chosen by pulumi-tokenfactory for "
               f"another resource")
    assert any(warning in line for line in lines), "\n".join(lines)
    assert [r for r in account.requests() if r["method"] != "GET"] == []


def test_bulk_adoption_writes_a_program_that_adopts_everything_as_it_is(
        cli_backend: Backend, account: EmulatorProcess, tmp_path: Path) -> None:
    running = _console_create(account, name="prod chat")
    scaled = _console_create(account, name="prod batch", scaling={"min_replicas": 2, "max_replicas": 4},
                             description="batch jobs")
    stopped = _console_create(account, name="prod idle")
    httpx.patch(f"{account.base_url}/v0/dedicated_endpoints/{stopped['id']}", json={"enabled": False}, timeout=10,
                headers={"Authorization": f"Bearer {API_KEY}"}).raise_for_status()  # the create request has no enabled
    broken = _console_create(account, name="prod broken")
    account.admin("POST", f"endpoints/{broken['id']}/fail")
    other = _console_create(account, name="staging chat")
    module = tmp_path / "adopted_endpoints.py"
    done = subprocess.run([sys.executable, "-m", "pulumi_tokenfactory.console.adopt", "--name-pattern", "prod *",
                           "--base-url", account.base_url, "--output", str(module)], capture_output=True,
                          text=True, env={"TOKENFACTORY_API_KEY": API_KEY, "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr
    print("\n" + done.stdout)
    assert "3 of 4 endpoint(s) declared" in done.stdout and "skipped: in error" in done.stdout
    text = module.read_text()
    assert other["id"] not in text and broken["id"] not in text and "enabled=False" in text
    compile(text, str(module), "exec")

    def generated() -> None:
        runpy.run_path(str(module))

    scenario = Scenario(cli_backend, account, _stack(cli_backend, account, generated, project="tokenfactory-bulk"))

    def holds_them(s: Scenario) -> None:
        assert sorted(r["id"] for r in s.resources().values()) == sorted(
            e["id"] for e in (running, scaled, stopped))

    scenario.run([
        Step("up adopts all three as they are", ops={"prod-batch": ("create",), "prod-chat": ("create",),
                                                     "prod-idle": ("create",)},
             mutations={}, endpoints=5, check=holds_them),
        Step("next preview: no changes", endpoints=5),
    ])


def test_get_and_lookup_read_an_endpoint_another_team_owns(cli_backend: Backend, account: EmulatorProcess) -> None:
    theirs = _console_create(account, name="their endpoint")

    def program() -> None:
        import pulumi

        import pulumi_tokenfactory as tokenfactory

        reference = tokenfactory.DedicatedEndpoint.get("theirs", theirs["id"])
        pulumi.export("routing_key", reference.routing_key)
        pulumi.export("scaling", reference.scaling)
        by_name = tokenfactory.lookup_endpoint(name="their endpoint")
        pulumi.export("looked_up", {"id": by_name.id, "routing_key": by_name.routing_key,
                                    "inference_base_url": by_name.inference_base_url})

    stack = _stack(cli_backend, account, program, project="tokenfactory-lookup")
    account.clear_requests()
    outputs = stack.up().outputs
    assert outputs["routing_key"].value == theirs["routing_key"]
    assert outputs["scaling"].value == {"min_replicas": 1, "max_replicas": 2}
    assert outputs["looked_up"].value == {"id": theirs["id"], "routing_key": theirs["routing_key"],
                                          "inference_base_url": f"{account.base_url}/v1/"}
    stack.destroy()
    assert [r for r in account.requests() if r["method"] != "GET"] == [], "a reference never changes the endpoint"
    assert [e["id"] for e in account.endpoints()] == [theirs["id"]], "destroying the stack leaves it alone"
