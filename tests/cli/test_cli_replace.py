"""Asking the real CLI for a new endpoint: what does not work says so before anything is spent, and the way that
works makes exactly one new endpoint and deletes the old one.

The engine checks a forced replacement (`pulumi up --replace`) as a new resource, without its state, so the
provider cannot tell the resource's own endpoint from one an interrupted `up` left, and refuses; and it applies
`replace_on_changes` only to changed inputs the provider reports, which Pulumi's dynamic-provider host never
does, so that option is refused at declaration. Declaring the resource under a new name with a new `name` is the
way (sdk-docs/dedicated-endpoint.md, "Changing GPUs").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program
from devtools.realcli import Backend
from pulumi_tokenfactory.api.models import parse_created
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

API_KEY = "tf-replace-canary-77c1"
POST = "POST /v0/dedicated_endpoints"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"


@pytest.fixture
def account(emulator_factory: Any) -> EmulatorProcess:
    return emulator_factory(provision_seconds=0.3, delete_seconds=0.3, api_key=API_KEY)


def _endpoint_urn(stack: auto.Stack) -> str:
    deployment = stack.export_stack().deployment
    assert deployment is not None
    resources = deployment["resources"]
    return str(next(r["urn"] for r in resources if r["type"].endswith(":DedicatedEndpoint")))


def test_up_replace_is_refused_naming_the_way_and_a_new_name_replaces(cli_backend: Backend,
                                                                      account: EmulatorProcess) -> None:
    stack = cli_backend.stack("tokenfactory-replace", "dev", endpoint_program(),
                              config={"tokenfactory:baseUrl": account.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    stack.up(on_output=lambda _: None)
    [first] = account.endpoints()
    urn = _endpoint_urn(stack)

    with pytest.raises(auto.CommandError) as refused:
        stack.up(replace=[urn], on_output=lambda _: None)
    assert "If this is a replacement Pulumi forces (`pulumi up --replace`, `replace_with`)" in str(refused.value)
    assert "declare the resource under a new name with a new `name`" in str(refused.value)
    assert [e["id"] for e in account.endpoints()] == [first["id"]], "the refused replace changed nothing"
    assert account.call_counts()[POST] == 1 and account.call_counts()[DELETE] == 0
    assert _endpoint_urn(stack) == urn

    stack.workspace.program = _with_replace_on_changes()
    with pytest.raises(auto.CommandError) as ignored:
        stack.preview(on_output=lambda _: None)
    text = str(ignored.value)
    assert "ResourceOptions(replace_on_changes=['gpu_type']) would be silently ignored" in text

    stack.workspace.program = endpoint_program("gpt-120b-fresh", name="GPT-120B on H200", gpu_type="gpu-h200-sxm")
    result = stack.up(on_output=lambda _: None)
    assert result.summary.resource_changes == {"create": 1, "delete": 1, "same": 1}, result.summary.resource_changes
    [second] = account.endpoints()
    assert second["id"] != first["id"] and second["routing_key"] != first["routing_key"]
    assert second["gpu_type"] == "gpu-h200-sxm"
    assert account.call_counts()[POST] == 2 and account.call_counts()[DELETE] == 1


def _with_replace_on_changes() -> Any:
    def program() -> None:
        import pulumi

        import pulumi_tokenfactory as tokenfactory
        from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE

        args = {**SEED_EXAMPLE, "gpu_type": "gpu-h200-sxm"}
        scaling = args.pop("scaling")
        tokenfactory.DedicatedEndpoint("gpt-120b", pulumi.ResourceOptions(replace_on_changes=["gpu_type"]),
                                       scaling=tokenfactory.ScalingArgs(**scaling), **args)

    return program


def test_up_replace_of_a_resource_that_kept_adopt_id_never_deletes_its_endpoint(cli_backend: Backend,
                                                                                account: EmulatorProcess) -> None:
    """The replacement adopts the endpoint again (no POST); the original's delete must leave it (it deleted it)."""
    made = httpx.post(f"{account.base_url}/v0/dedicated_endpoints", timeout=10,
                      headers={"Authorization": f"Bearer {API_KEY}"}, json={**SEED_EXAMPLE, "region": "eu-north1"})
    made.raise_for_status()
    endpoint_id = parse_created(made.json()).id
    stack = cli_backend.stack("tokenfactory-replace", "dev", endpoint_program(adopt_id=endpoint_id),
                              config={"tokenfactory:baseUrl": account.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    stack.up(on_output=lambda _: None)
    lines: list[str] = []
    stack.up(replace=[_endpoint_urn(stack)], on_output=lines.append)
    assert [e["id"] for e in account.endpoints()] == [endpoint_id], "the adopted endpoint is still there"
    assert account.call_counts()[DELETE] == 0 and account.call_counts()[POST] == 1
    assert f"endpoint {endpoint_id} is not deleted: another resource of this update took it over" in "".join(lines)
    assert stack.preview(on_output=lambda _: None).change_summary == {"same": 2}, "the state holds it, as it is"
