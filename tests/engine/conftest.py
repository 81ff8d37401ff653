"""The engine suites' fixtures: one emulator account per module, a provider host configured for it, the provider.

A module states what its account needs by overriding `account_settings` (its own recognisable
token, provisioning times, the host's client timeout); everything else comes from here, built by
`devtools.harness`, which the benchmarks use too:

    @pytest.fixture(scope="module")
    def account_settings() -> AccountSettings:
        return AccountSettings(token=TOKEN, emulator={"provision_seconds": 0.6})

    def test_it(account: EmulatorAccount, host: ProviderHost) -> None:
        account.resource(host, "gpt").up(endpoint_inputs("gpt"))
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.enginehost import ProviderHost
from devtools.harness import EmulatorAccount, open_account, provider_string
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.accounts import AccountSettings


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    """What this module's account looks like; override it in the module to change it."""
    return AccountSettings()


@pytest.fixture(scope="module")
def tf_account(account_settings: AccountSettings) -> Iterator[EmulatorAccount]:
    """An emulator accepting only the module's token, for the whole module."""
    with open_account(account_settings.token, poll_max=account_settings.poll_max,
                      host_env=account_settings.host_env, **account_settings.emulator) as account:
        yield account


@pytest.fixture(scope="module")
def emulator(tf_account: EmulatorAccount) -> EmulatorProcess:
    """The module's emulator (it replaces the session-wide, token-less one of tests/conftest.py here)."""
    return tf_account.emulator


@pytest.fixture(scope="module")
def token(tf_account: EmulatorAccount) -> str:
    """The API token the module's emulator accepts, set as the stack's secret `tokenfactory:apiKey`."""
    return tf_account.token


@pytest.fixture(scope="module")
def host(tf_account: EmulatorAccount) -> Iterator[ProviderHost]:
    """One provider host for the module, configured for its account: a `pulumi up` that runs every test."""
    with tf_account.host() as started:
        yield started


@pytest.fixture(scope="session")
def provider_str() -> str:
    """The serialized `DedicatedEndpointProvider` every resource carries as `__provider`."""
    return provider_string()


#: The environment variables that could rescue (or spoil) a configuration case if the shell had them set.
AMBIENT_SETTINGS = ("TOKENFACTORY_API_KEY", "TOKENFACTORY_BASE_URL", "TOKENFACTORY_HTTP_TIMEOUT")


@pytest.fixture
def quiet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ambient token, URL or timeout may rescue (or spoil) a configuration case."""
    for key in AMBIENT_SETTINGS:
        monkeypatch.delenv(key, raising=False)
