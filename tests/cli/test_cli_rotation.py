"""A rotated API key through the real Pulumi CLI (issue 20, item 2), and what a refresh says it found (item 4).

`pulumi refresh` and `pulumi destroy` do not run the program: the engine configures the provider
from the settings the last `pulumi up` saved in the state, so after `pulumi config set --secret
tokenfactory:apiKey NEW` they still send the old key (and TOKENFACTORY_API_KEY cannot win over a
configured key). `--run-program` makes them run the program, and so configure the provider from the
current stack config: the 401 message on these paths names exactly that way out, and this test walks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program
from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

OLD_KEY, NEW_KEY = "tf-rotation-old-0a1b", "tf-rotation-new-9f8e"
NAME = "GPT-120B Endpoint"
ROW = "pulumi-python:dynamic/tokenfactory:DedicatedEndpoint gpt-120b"


def row_lines(output: str, marker: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if ROW in line and marker in line]


def failed(run: Any) -> str:
    with pytest.raises(auto.CommandError) as info:
        run()
    return str(info.value)


def test_after_a_key_rotation_refresh_and_destroy_name_the_way_out_and_it_works(
        cli_backend: Backend, emulator_factory: Any, tmp_path: Path) -> None:
    emulator: EmulatorProcess = emulator_factory(provision_seconds=0.3, api_key=OLD_KEY,
                                                 state_file=tmp_path / "account.json")
    stack = cli_backend.stack("rotation", "dev", endpoint_program(name=NAME),
                              config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": OLD_KEY})
    stack.up(color="never")
    [endpoint] = emulator.endpoints()

    # The key is rotated: the account now accepts only the new one; the user sets it as the docs say.
    base_url = emulator.base_url
    emulator.api_key = NEW_KEY
    emulator.restart()
    assert emulator.base_url == base_url, "the emulator must come back on the same port (the state names the URL)"
    cli_backend.run("rotation", "config", "set", "--secret", "tokenfactory:apiKey", NEW_KEY, "--stack", "dev")

    for command, run in (("refresh", lambda: stack.refresh(color="never")),
                         ("destroy", lambda: stack.destroy(color="never"))):
        output = failed(run)
        assert "Traceback (most recent call last)" not in output, output
        operation = "refresh" if command == "refresh" else "delete"
        [line, *_] = row_lines(output, "error:")
        assert f"{operation} '{NAME}': the Token Factory API refused the API key: " in line, line
        assert "HTTP 401" in line and "pulumi refresh --run-program" in line and "pulumi destroy --run-program" in line
        assert "saved in the state by the last `pulumi up`" in line, line
        assert OLD_KEY not in output and NEW_KEY not in output
    assert [e["id"] for e in emulator.endpoints()] == [endpoint["id"]]

    # The way out the message names.
    refreshed = stack.refresh(color="never", run_program=True).stdout
    assert "2 unchanged" in refreshed, refreshed  # the progress line's diff changes nothing (troubleshooting.md)
    stack.destroy(color="never", run_program=True)
    assert emulator.endpoints() == []
    assert stack.export_stack().deployment.get("resources", []) == []  # type: ignore[union-attr]


def test_refresh_says_what_changed_outside_pulumi_in_the_direction_it_happened(
        cli_backend: Backend, emulator_factory: Any) -> None:
    emulator: EmulatorProcess = emulator_factory(provision_seconds=0.3, update_seconds=0.2, api_key=OLD_KEY)
    stack = cli_backend.stack("refresh-line", "dev", endpoint_program(name=NAME),
                              config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": OLD_KEY})
    stack.up(color="never")
    [endpoint] = emulator.endpoints()
    raised = httpx.patch(f"{emulator.base_url}/v0/dedicated_endpoints/{endpoint['id']}",
                         headers={"Authorization": f"Bearer {OLD_KEY}"},
                         json={"scaling": {"min_replicas": 2, "max_replicas": 2}}, timeout=10)
    assert raised.status_code == 200, raised.text  # min_replicas 1 -> 2 in the console, outside Pulumi
    output = stack.refresh(color="never").stdout
    assert row_lines(output, "refresh found a change made outside Pulumi: +1 gpu-h100-sxm reserved (1 -> 2); the "
                             "next `pulumi up` sets it back to what the program declares"), output
    assert not row_lines(output, "-1 gpu-h100-sxm reserved (2 -> 1)"), output
