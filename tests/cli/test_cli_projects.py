"""On the real CLI: a refresh or destroy run under another Token Factory project is refused and changes nothing.

There the endpoint is not listed and its DELETE answers 404, so a refresh would drop a billed endpoint from the
state and a destroy would leave it running (tests/unit/test_projects.py pins each call).
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program
from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

API_KEY = "tf-projects-canary-5d21"


def test_refresh_and_destroy_under_another_project_are_refused_until_it_is_set_back(
        cli_backend: Backend, emulator_factory: Any) -> None:
    account: EmulatorProcess = emulator_factory(provision_seconds=0.3, delete_seconds=0.3, api_key=API_KEY)
    stack = cli_backend.stack("tokenfactory-projects", "dev", endpoint_program(),
                              config={"tokenfactory:baseUrl": account.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    stack.up(on_output=lambda _: None)
    [endpoint] = account.endpoints()
    assert stack.outputs()["endpoint_id"].value == endpoint["id"]

    usual = stack.workspace.env_vars
    stack.workspace.env_vars = {**usual, "TOKENFACTORY_PROJECT_ID": "team-b"}  # another shell, another project
    for command in (stack.refresh, stack.destroy):
        with pytest.raises(auto.CommandError) as refused:
            command(on_output=lambda _: None)
        assert (f"Endpoint {endpoint['id']} belongs to the API key's default project, but the provider now acts in "
                f"project 'team-b'") in str(refused.value)
    assert [e["id"] for e in account.endpoints()] == [endpoint["id"]], "nothing was deleted"
    assert account.call_counts()["DELETE /v0/dedicated_endpoints/{id}"] == 0
    assert stack.outputs()["endpoint_id"].value == endpoint["id"], "the state still holds the endpoint"

    stack.workspace.env_vars = usual
    stack.destroy(on_output=lambda _: None)
    assert account.endpoints() == []
