"""Import on the real CLI, shown as it is today (pulumi/pulumi#16175), not skipped.

The engine's import Read carries the endpoint id alone: no inputs, no state. The
dynamic-provider host looks for the serialized provider in them and fails with
`KeyError: '__provider'` before any of our code runs. Shown here for
`ResourceOptions(import_=...)` in the program; the `pulumi import` command goes through
the same ImportStep, but cannot run on this machine at all: it loads the project's
language host (`pulumi-language-python`), a Go module the module proxy here refuses.
The endpoint is untouched and the stack gains nothing. So `DedicatedEndpoint` refuses the
option in the program, naming `adopt_id`, which takes an endpoint over without the engine's
import (tests/cli/test_cli_adoption.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from devtools.realcli import Backend, stack_resources
from pulumi_tokenfactory.api.models import parse_created
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_MODULE, RESOURCE_NAME, RESOURCE_TYPE

API_KEY = "tf-import-canary-9b2e"
DYNAMIC_HOST_IMPORT_FAILURE = "KeyError: '__provider'"


@pytest.fixture
def account(emulator_factory: Any) -> EmulatorProcess:
    return emulator_factory(provision_seconds=0.2, api_key=API_KEY)


def _made_in_console(emulator: EmulatorProcess) -> dict[str, Any]:
    import httpx

    response = httpx.post(f"{emulator.base_url}/v0/dedicated_endpoints", json={**SEED_EXAMPLE, "region": "eu-north1"},
                          headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    response.raise_for_status()
    return parse_created(response.json()).model_dump()


def _stack(backend: Backend, emulator: EmulatorProcess, program: Any) -> auto.Stack:
    return backend.stack("tokenfactory-import", "dev", program, config={"tokenfactory:baseUrl": emulator.base_url},
                         secrets={"tokenfactory:apiKey": API_KEY})


def test_import_option_fails_in_the_dynamic_host_before_our_code(cli_backend: Backend,
                                                                 account: EmulatorProcess) -> None:
    """What the engine does with `import_`, shown with the bare dynamic resource (DedicatedEndpoint itself
    refuses the option earlier, see the next test)."""
    endpoint = _made_in_console(account)

    def program() -> None:
        import pulumi
        import pulumi.dynamic

        from pulumi_tokenfactory.provider import DedicatedEndpointProvider

        class Bare(pulumi.dynamic.Resource, module=RESOURCE_MODULE, name=RESOURCE_NAME):
            """The same type token as DedicatedEndpoint, without its constructor's refusal of import_."""

        Bare(DedicatedEndpointProvider(), "adopted", {**SEED_EXAMPLE, "region": "eu-north1"},
             pulumi.ResourceOptions(import_=endpoint["id"]))

    stack = _stack(cli_backend, account, program)
    account.clear_requests()
    with pytest.raises(auto.CommandError) as preview_failure:
        stack.preview()
    with pytest.raises(auto.CommandError) as up_failure:
        stack.up()
    for failure in (preview_failure, up_failure):
        assert DYNAMIC_HOST_IMPORT_FAILURE in str(failure.value)
    assert account.requests() == [], "the host fails before any provider code, so before any API call"
    assert [e["id"] for e in account.endpoints()] == [endpoint["id"]]
    assert not [r for r in stack_resources(stack).values() if r["type"] == RESOURCE_TYPE]


def test_dedicated_endpoint_refuses_import_and_names_adopt_id(cli_backend: Backend,
                                                              account: EmulatorProcess) -> None:
    endpoint = _made_in_console(account)

    def program() -> None:
        import pulumi

        import pulumi_tokenfactory as tokenfactory

        args = dict(SEED_EXAMPLE)
        scaling = args.pop("scaling")
        tokenfactory.DedicatedEndpoint("adopted", scaling=tokenfactory.ScalingArgs(**scaling), **args,
                                       opts=pulumi.ResourceOptions(import_=endpoint["id"]))

    stack = _stack(cli_backend, account, program)
    account.clear_requests()
    with pytest.raises(auto.CommandError) as refused:
        stack.preview()
    text = str(refused.value)
    assert "ResourceOptions(import_=...) cannot work for this resource" in text
    assert f"Use adopt_id={endpoint['id']!r} instead" in text and DYNAMIC_HOST_IMPORT_FAILURE not in text
    assert account.requests() == []
