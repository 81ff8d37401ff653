"""Where the API token is in the Pulumi state, on the real CLI (issue 20, item 9a).

The docs used to say that the token never reaches the state. It does: the engine records the stack
config among the inputs (and outputs) of the default provider of the dynamic resources
(`pulumi:providers:pulumi-python::default`), so a token set with
`pulumi config set --secret tokenfactory:apiKey` is in the state there, as a secret encrypted with the
stack's secrets provider. `pulumi stack export` shows ciphertext; `pulumi stack export --show-secrets`
shows the token in plain text, in that resource only. A token from `TOKENFACTORY_API_KEY` is in no state.
sdk-docs/installation-configuration.md says exactly this.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools.programs import endpoint_program
from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

API_KEY = "tf-state-canary-5d1e"
PROJECT = "tokenfactory-secrets"
DEFAULT_PROVIDER = f"urn:pulumi:dev::{PROJECT}::pulumi:providers:pulumi-python::default"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


@pytest.fixture
def account(emulator_factory: Any) -> EmulatorProcess:
    return emulator_factory(provision_seconds=0.2, api_key=API_KEY)


def _export(backend: Backend, *flags: str) -> tuple[str, list[dict[str, Any]]]:
    text = backend.run(PROJECT, "stack", "export", "--stack", "dev", *flags).stdout
    return text, json.loads(text)["deployment"].get("resources") or []


def _holders(resources: list[dict[str, Any]], needle: str) -> list[tuple[str, str]]:
    """(urn, section) of every place of the state whose text holds `needle`."""
    return [(r["urn"], section) for r in resources for section, value in r.items()
            if needle in json.dumps(value)]


def test_a_config_token_is_in_the_state_only_encrypted_in_the_default_providers_inputs(
        cli_backend: Backend, account: EmulatorProcess) -> None:
    stack = cli_backend.stack(PROJECT, "dev", endpoint_program(), config={"tokenfactory:baseUrl": account.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    stack.up(on_output=print)

    exported, resources = _export(cli_backend)
    assert API_KEY not in exported, "without --show-secrets the state never holds the token"
    assert _holders(resources, "tokenfactory:apiKey") == [(DEFAULT_PROVIDER, "inputs"), (DEFAULT_PROVIDER, "outputs")]
    [provider] = [r for r in resources if r["urn"] == DEFAULT_PROVIDER]
    stored = provider["inputs"]["tokenfactory:apiKey"]
    assert stored[SECRET_SIG] and set(stored) == {SECRET_SIG, "ciphertext"}, "a secret, encrypted"
    assert provider["inputs"]["tokenfactory:baseUrl"] == account.base_url, "the whole stack config is recorded"

    shown, resources = _export(cli_backend, "--show-secrets")
    assert API_KEY in shown
    assert _holders(resources, API_KEY) == [(DEFAULT_PROVIDER, "inputs"), (DEFAULT_PROVIDER, "outputs")], \
        "in plain text with --show-secrets, in the default provider only: never in an endpoint's state"
    print(f"\n`pulumi stack export` (the default provider's inputs):\n"
          f"{json.dumps(provider['inputs'], indent=2)}")

    stack.destroy(on_output=print)
    shown, _ = _export(cli_backend, "--show-secrets")
    assert API_KEY not in shown, "an empty stack has no default provider, so no token"


def test_a_token_from_the_environment_is_in_no_state(cli_backend: Backend, account: EmulatorProcess) -> None:
    backend = Backend(cli_backend.cli, cli_backend.root,
                      extra_env={**cli_backend.extra_env, "TOKENFACTORY_API_KEY": API_KEY})
    stack = backend.stack(PROJECT, "dev", endpoint_program(), config={"tokenfactory:baseUrl": account.base_url})
    stack.up(on_output=print)
    shown, resources = _export(backend, "--show-secrets")
    assert API_KEY not in shown and _holders(resources, "tokenfactory:apiKey") == []
    assert account.endpoints(), "the up did run with the token"
    stack.destroy(on_output=print)
