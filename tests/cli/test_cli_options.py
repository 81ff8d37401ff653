"""Resource options a dynamic provider never receives, on the real CLI (issue 20, item 8).

`custom_timeouts` would bound nothing: `pulumi.dynamic`'s provider host reads no timeout from the
engine's requests. `DedicatedEndpoint` refuses the option in the program, so `pulumi preview` says
so (naming `ready_timeout`) before any API call, as it does for `import_` (tests/cli/test_cli_import.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

API_KEY = "tf-options-canary-0c7a"


@pytest.fixture
def account(emulator_factory: Any) -> EmulatorProcess:
    return emulator_factory(provision_seconds=0.2, api_key=API_KEY)


def test_custom_timeouts_are_refused_in_preview_naming_ready_timeout(cli_backend: Backend,
                                                                     account: EmulatorProcess) -> None:
    def program() -> None:
        import pulumi

        import pulumi_tokenfactory as tokenfactory

        args = dict(SEED_EXAMPLE)
        scaling = args.pop("scaling")
        tokenfactory.DedicatedEndpoint(
            "gpt-120b", scaling=tokenfactory.ScalingArgs(**scaling), **args,
            opts=pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="45m")))

    stack = cli_backend.stack("tokenfactory-options", "dev", program,
                              config={"tokenfactory:baseUrl": account.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    account.clear_requests()
    with pytest.raises(auto.CommandError) as refused:
        stack.preview()
    text = str(refused.value)
    print("\n" + text)
    assert ("DedicatedEndpoint 'gpt-120b': ResourceOptions(custom_timeouts=CustomTimeouts(create='45m')) would be "
            "silently ignored") in text
    assert "Use ready_timeout=2700 instead (and drop custom_timeouts)" in text
    assert account.requests() == [], "refused in the program, before any API call"
