"""The API token never reaches state, the serialized provider, logs, errors or the emulator's log.

Runs a whole lifecycle with a recognisable token through the real provider
host and scans everything the engine would store or print.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from devtools.enginehost import ProviderCallError, ProviderHost, ResourceSteps, make_urn, serialized_provider
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE

TOKEN = "tfk-CANARY-7b1e4f0d9a2c55e3"
PROGRAM = {
    "name": "secret-scan", "model_name": "openai/gpt-oss-20b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 1},
}


def _contains_token(value: object) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return TOKEN in text or base64.b64encode(TOKEN.encode()).decode()[:20] in text


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(provision_seconds=0.3, api_key=TOKEN) as emu:
        yield emu


def test_lifecycle_leaks_the_token_nowhere(emulator: EmulatorProcess) -> None:
    provider_str = serialized_provider(DedicatedEndpointProvider())
    recorded: list[object] = [base64.b64decode(provider_str).decode("latin-1")]
    config = {"tokenfactory:apiKey": TOKEN, "tokenfactory:baseUrl": emulator.base_url}
    with ProviderHost(config=config, secret_keys=["tokenfactory:apiKey"],
                      env={"TOKENFACTORY_POLL_MAX_INTERVAL": "0.1"}) as host:
        steps = ResourceSteps(host, provider_str, make_urn(RESOURCE_TYPE,
                                                           "scan"))
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
    assert not _contains_token(repr(DedicatedEndpointProvider()))


def test_a_wrong_token_gives_a_clear_error_without_echoing_it(emulator: EmulatorProcess) -> None:
    wrong = "tfk-WRONG-0000000000000000"
    with ProviderHost(config={"tokenfactory:apiKey": wrong, "tokenfactory:baseUrl": emulator.base_url},
                      secret_keys=["tokenfactory:apiKey"]) as host:
        with pytest.raises(ProviderCallError) as info:
            host.check(make_urn(RESOURCE_TYPE, "x"), {},
                       {**PROGRAM, "__provider": serialized_provider(DedicatedEndpointProvider())})
        assert "HTTP 401" in info.value.last_line
        assert wrong not in info.value.details and wrong not in host.stderr_text()


def test_a_missing_token_says_how_to_set_it(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    emulator.clear_requests()
    with ProviderHost(config={"tokenfactory:baseUrl": emulator.base_url}) as host:
        with pytest.raises(ProviderCallError) as info:
            host.check(make_urn(RESOURCE_TYPE, "x"), {},
                       {**PROGRAM, "__provider": serialized_provider(DedicatedEndpointProvider())})
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
    assert before == after, "configuring must not change what is pickled"
    assert len(after) < 1024 and TOKEN.encode() not in raw
    assert b"pulumi_tokenfactory.provider" in raw and b"DedicatedEndpointProvider" in raw
