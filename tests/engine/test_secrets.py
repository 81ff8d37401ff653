"""The API token never reaches state, the serialized provider, logs, errors or the emulator's log.

Runs a whole lifecycle with a recognisable token through the real provider
host and scans everything the engine would store or print.
"""

from __future__ import annotations

import base64
import json

import pytest

from devtools.enginehost import PROVIDER_KEY, ProviderCallError, make_urn, serialized_provider
from devtools.harness import EmulatorAccount, endpoint_host, endpoint_inputs
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.accounts import AccountSettings

TOKEN = "tfk-CANARY-7b1e4f0d9a2c55e3"
PROGRAM = endpoint_inputs("secret-scan", scaling={"min_replicas": 1, "max_replicas": 1})


def _contains_token(value: object) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return TOKEN in text or base64.b64encode(TOKEN.encode()).decode()[:20] in text


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN, emulator={"provision_seconds": 0.3})


def test_lifecycle_leaks_the_token_nowhere(tf_account: EmulatorAccount, emulator: EmulatorProcess,
                                          provider_str: str) -> None:
    recorded: list[object] = [base64.b64decode(provider_str).decode("latin-1")]
    with tf_account.host() as host:
        steps = tf_account.resource(host, "scan")
        steps.up(PROGRAM)
        recorded += [steps.outputs, steps.inputs]
        steps.up({**PROGRAM, "scaling": {"min_replicas": 1, "max_replicas": 3}})
        recorded += [steps.outputs, steps.inputs]
        recorded.append(steps.refresh())
        recorded += [steps.outputs, steps.inputs]
        with pytest.raises(ProviderCallError) as failure:  # an error path: a create the API refuses later
            host.create(steps.urn, {**steps.inputs, "gpu_count": 3})
        recorded.append(failure.value.details)
        steps.destroy()
        recorded += [host.stderr_text(), host.stdout_text()]
    recorded += [emulator.requests(), emulator.output()]
    leaks = [type(item).__name__ for item in recorded if _contains_token(item)]
    assert leaks == [], f"the token leaked into: {leaks}"


def test_a_wrong_token_gives_a_clear_error_without_echoing_it(tf_account: EmulatorAccount, provider_str: str) -> None:
    wrong = "tfk-WRONG-0000000000000000"
    with tf_account.host(token=wrong) as host:
        with pytest.raises(ProviderCallError) as info:
            host.check(make_urn(RESOURCE_TYPE, "x"), {}, {**PROGRAM, PROVIDER_KEY: provider_str})
        assert "HTTP 401" in info.value.last_line
        assert wrong not in info.value.details and wrong not in host.stderr_text()


def test_a_missing_token_says_how_to_set_it(emulator: EmulatorProcess, provider_str: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    emulator.clear_requests()
    with endpoint_host(emulator.base_url, None) as host:
        with pytest.raises(ProviderCallError) as info:
            host.check(make_urn(RESOURCE_TYPE, "x"), {}, {**PROGRAM, PROVIDER_KEY: provider_str})
        assert "pulumi config set --secret tokenfactory:apiKey" in info.value.last_line
        assert emulator.requests() == [], "no request is made without a token"


def test_the_serialized_provider_is_a_small_reference_with_no_state() -> None:
    provider = DedicatedEndpointProvider()
    before = serialized_provider(provider)
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    provider.configure(ConfigureRequest(Config({"tokenfactory:apiKey": TOKEN}, "proj")))
    after = serialized_provider(provider)
    raw = base64.b64decode(after)
    assert not _contains_token(repr(provider)) and not _contains_token(str(provider)), "a configured provider's repr"
    assert before == after, "configuring must not change what is pickled"
    assert len(after) < 1024 and TOKEN.encode() not in raw
    assert b"pulumi_tokenfactory.provider" in raw and b"DedicatedEndpointProvider" in raw
