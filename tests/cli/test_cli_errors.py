"""Provider errors through the real Pulumi CLI: one line naming the operation, the resource and the cause (issue 20).

Before, each of these arrived as a 15-25-line Python traceback and the row read
`error: Traceback (most recent call last):`. Each case asserts the row's error line as the user sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program
from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

KEY = "tf-errors-key-5c1d"
NAME = "GPT-120B Endpoint"
ROW = "pulumi-python:dynamic/tokenfactory:DedicatedEndpoint gpt-120b"


@pytest.fixture
def keyed_emulator(emulator_factory: Any) -> EmulatorProcess:
    return emulator_factory(provision_seconds=0.3, api_key=KEY)


def failed_up(backend: Backend, project: str, config: dict[str, str], secrets: dict[str, str],
              program: Callable[[], None] | None = None) -> str:
    stack = backend.stack(project, "dev", program or endpoint_program(name=NAME), config=config, secrets=secrets)
    with pytest.raises(auto.CommandError) as info:
        stack.up(color="never")
    return str(info.value)


def error_lines(output: str) -> list[str]:
    """The resource row's error lines, as the CLI prints them."""
    return [line.strip() for line in output.splitlines() if ROW in line and "error:" in line]


def shows_one_line(output: str, expected: str) -> str:
    assert "Traceback (most recent call last)" not in output, output
    assert 'File "' not in output, output
    lines = error_lines(output)
    assert lines, output
    line = lines[-1]
    assert expected in line, line
    return line


def test_missing_key(cli_backend: Backend, keyed_emulator: EmulatorProcess) -> None:
    output = failed_up(cli_backend, "err-missing", {"tokenfactory:baseUrl": keyed_emulator.base_url}, {})
    shows_one_line(output, f"error: pulumi_tokenfactory.errors.MissingApiKeyError: check '{NAME}': The configured "
                           f"Token Factory API key is empty. Set it with `pulumi config set --secret "
                           f"tokenfactory:apiKey <token>` or export TOKENFACTORY_API_KEY.")


def test_bad_base_url(cli_backend: Backend) -> None:
    output = failed_up(cli_backend, "err-url", {"tokenfactory:baseUrl": "htp:/nowhere"},
                       {"tokenfactory:apiKey": KEY})
    shows_one_line(output, f"error: pulumi_tokenfactory.errors.InvalidSettingError: check '{NAME}': Invalid Token "
                           f"Factory base URL 'htp:/nowhere' (from tokenfactory:baseUrl)")


def test_wrong_key_401(cli_backend: Backend, keyed_emulator: EmulatorProcess) -> None:
    output = failed_up(cli_backend, "err-401", {"tokenfactory:baseUrl": keyed_emulator.base_url},
                       {"tokenfactory:apiKey": "not-the-key"})
    line = shows_one_line(output, f"error: pulumi_tokenfactory.errors.AuthenticationError: check '{NAME}': the Token "
                                  f"Factory API refused the API key: ")
    assert "HTTP 401" in line and "Check `tokenfactory:apiKey`" in line and "not-the-key" not in output


def test_connection_refused(cli_backend: Backend) -> None:
    output = failed_up(cli_backend, "err-refused", {"tokenfactory:baseUrl": "http://127.0.0.1:9"},
                       {"tokenfactory:apiKey": KEY})
    line = shows_one_line(output, f"check '{NAME}': Could not fetch the template catalogue to validate the "
                                  f"endpoint's model, flavor and GPU: Could not reach the API at http://127.0.0.1:9 "
                                  f"(ConnectError: ")
    assert "Connection refused" in line, line


def test_failed_rollback_names_the_endpoint_left_behind(cli_backend: Backend,
                                                        keyed_emulator: EmulatorProcess) -> None:
    keyed_emulator.admin("POST", "behaviour", json={"next_create": "error"})
    keyed_emulator.inject_fault(method="DELETE", path="/v0/dedicated_endpoints/*", action="error", status=500,
                                count=None)
    output = failed_up(cli_backend, "err-rollback", {"tokenfactory:baseUrl": keyed_emulator.base_url},
                       {"tokenfactory:apiKey": KEY})
    [left] = keyed_emulator.endpoints()
    line = shows_one_line(output, f"error: pulumi_tokenfactory.errors.EndpointOperationError: create '{NAME}': "
                                  f"endpoint {left['id']} reported status error instead of becoming ready. Deleting "
                                  f"the half-created endpoint {left['id']} also failed")
    assert f"it STILL EXISTS and may be billed: delete it in the Token Factory console or with DELETE " \
           f"/v0/dedicated_endpoints/{left['id']}" in line


def test_rollback_whose_delete_worked_says_only_that(cli_backend: Backend, keyed_emulator: EmulatorProcess) -> None:
    keyed_emulator.admin("POST", "behaviour", json={"next_create": "error"})
    output = failed_up(cli_backend, "err-undone", {"tokenfactory:baseUrl": keyed_emulator.base_url},
                       {"tokenfactory:apiKey": KEY})
    line = shows_one_line(output, "was deleted again so that nothing is left running or billed; nothing was "
                                  "recorded in the state.")
    assert "STILL EXISTS" not in output and keyed_emulator.endpoints() == [], line


def test_min_above_max_names_the_nested_property_cleanly(cli_backend: Backend,
                                                         keyed_emulator: EmulatorProcess) -> None:
    program = endpoint_program(name=NAME, scaling={"min_replicas": 3, "max_replicas": 2})
    output = failed_up(cli_backend, "err-minmax", {"tokenfactory:baseUrl": keyed_emulator.base_url},
                       {"tokenfactory:apiKey": KEY}, program)
    assert "{<nil>}" not in output, output
    shows_one_line(output, "error: pulumi-python:dynamic/tokenfactory:DedicatedEndpoint resource 'gpt-120b' has a "
                           "problem: scaling.min_replicas (3) must not exceed scaling.max_replicas (2)")
