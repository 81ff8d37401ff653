"""One way to stand the provider up against the emulator: an account, a configured provider host, resources.

The engine-protocol tests (through the fixtures in ``tests/engine/conftest.py``) and the benchmarks
(``benchmarks/run.py``) need the same things: an emulator that accepts one API token, a provider host
started the way the engine starts it and configured with that token as a secret stack setting, and
resources driven through the engine's steps (:class:`devtools.enginehost.ResourceSteps`). Building
them once, here, keeps the token handling and the host's environment the same everywhere, and lets
the tests and the benchmarks share code without importing each other.

    with open_account(token="t", provision_seconds=0.3) as account, account.host() as host:
        gpt = account.resource(host, "gpt")
        gpt.up(endpoint_inputs("gpt"))
"""

from __future__ import annotations

import collections
import contextlib
import functools
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from devtools.enginehost import ProviderHost, ResourceSteps, make_urn, serialized_provider
from pulumi_tokenfactory.api.models import parse_created
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE

API_KEY_CONFIG = "tokenfactory:apiKey"
BASE_URL_CONFIG = "tokenfactory:baseUrl"
ENDPOINTS = "/v0/dedicated_endpoints"
# Keys of `EmulatorProcess.call_counts()`: method and route template.
TEMPLATES = f"GET {ENDPOINTS}/templates"
LIST = f"GET {ENDPOINTS}"
POST = f"POST {ENDPOINTS}"
PATCH = f"PATCH {ENDPOINTS}/{{id}}"
DELETE = f"DELETE {ENDPOINTS}/{{id}}"
MUTATING = frozenset({"POST", "PATCH", "DELETE"})
"""HTTP methods that change the account (and may cost money)."""

_PROGRAM: Mapping[str, Any] = {
    "model_name": "openai/gpt-oss-20b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm", "gpu_count": 1,
    "scaling": {"min_replicas": 1, "max_replicas": 2}, "region": "eu-north1",
}


def endpoint_inputs(name: str, **changes: Any) -> dict[str, Any]:
    """The inputs a program gives one `DedicatedEndpoint`: the smallest endpoint the emulator's catalogue offers,
    displayed as `name`, with `changes` laid over it."""
    return {**_PROGRAM, "scaling": dict(_PROGRAM["scaling"]), "name": name, **changes}


@functools.cache
def provider_string() -> str:
    """The ``__provider`` input every `DedicatedEndpoint` carries (the same bytes for all of them)."""
    return serialized_provider(DedicatedEndpointProvider())


def stack_config(base_url: str, token: str | None) -> dict[str, str]:
    """The stack config a program pointed at `base_url` has; no `tokenfactory:apiKey` when `token` is None."""
    config = {BASE_URL_CONFIG: base_url}
    if token is not None:
        config[API_KEY_CONFIG] = token
    return config


def endpoint_host(base_url: str, token: str | None, *, poll_max: float = 0.1,
                  env: Mapping[str, str] | None = None) -> ProviderHost:
    """A not yet started provider host configured as for a stack pointed at `base_url` with `token` as a
    secret, polling at most every `poll_max` seconds (the emulator provisions in seconds, not minutes).

    `env` adds to the host's environment (e.g. ``TOKENFACTORY_HTTP_TIMEOUT``); use it as a context manager.
    """
    config = stack_config(base_url, token)
    return ProviderHost(config=config, secret_keys=[API_KEY_CONFIG] if token is not None else [],
                        env={"TOKENFACTORY_POLL_MAX_INTERVAL": str(poll_max), **(env or {})})


@dataclass(frozen=True)
class EmulatorAccount:
    """A running emulator and the one API token it accepts, with the hosts and resources that use them."""

    emulator: EmulatorProcess
    token: str
    poll_max: float = 0.1
    host_env: Mapping[str, str] = field(default_factory=dict)
    """Added to every host's environment (a suite's client timeout, say)."""

    def host(self, *, poll_max: float | None = None, token: str | None = None, **env: str) -> ProviderHost:
        """A not yet started host configured for this account (or with another `token`, to see it refused)."""
        return endpoint_host(self.emulator.base_url, self.token if token is None else token,
                             poll_max=self.poll_max if poll_max is None else poll_max, env={**self.host_env, **env})

    def resource(self, host: ProviderHost, name: str, provider: str | None = None) -> ResourceSteps:
        """The engine's steps for one `DedicatedEndpoint` named `name` (its URN's name) served by `host`."""
        return ResourceSteps(host, provider or provider_string(), make_urn(RESOURCE_TYPE, name))

    def api(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """A request straight at the API with the account's token: a change made outside Pulumi."""
        return httpx.request(method, f"{self.emulator.base_url}{path}", json=json,
                             headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def seed(self, programs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Create endpoints outside Pulumi, one per program; their ids in order."""
        ids = []
        for body in programs:
            response = self.api("POST", ENDPOINTS, dict(body))
            response.raise_for_status()
            ids.append(parse_created(response.json()).id)
        return ids

    def live(self) -> list[dict[str, Any]]:
        """The account's endpoints, leaving out those being deleted."""
        return [e for e in self.emulator.endpoints() if e["status"] != "deleting"]

    def settled(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The account's endpoints once no deletion is under way any more (or after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            endpoints = self.emulator.endpoints()
            if all(e["status"] != "deleting" for e in endpoints) or time.monotonic() > deadline:
                return endpoints
            time.sleep(0.05)

    def delete_all(self) -> None:
        """Clear the faults and delete every endpoint left, through the API."""
        self.emulator.clear_faults()
        for endpoint in self.live():
            self.api("DELETE", f"{ENDPOINTS}/{endpoint['id']}").raise_for_status()

    def requests_of(self, method: str, path: str | None = None) -> list[dict[str, Any]]:
        """Logged requests with this method (and this exact path, if given)."""
        return [r for r in self.emulator.requests()
                if r["method"] == method and (path is None or r["path"] == path)]


@contextlib.contextmanager
def open_account(token: str, *, poll_max: float = 0.1, host_env: Mapping[str, str] | None = None,
                 **emulator_options: Any) -> Iterator[EmulatorAccount]:
    """Start an emulator that accepts only `token` (`emulator_options` are `EmulatorProcess` keywords,
    e.g. ``provision_seconds``); stopped when the block ends."""
    with EmulatorProcess(api_key=token, **emulator_options) as emulator:
        yield EmulatorAccount(emulator, token, poll_max, dict(host_env or {}))


def lifecycle_calls(account: EmulatorAccount, host: ProviderHost,
                    inputs: Mapping[str, Any]) -> dict[str, collections.Counter[str]]:
    """API calls of one create with its wait, one in-place scale and one destroy, each counted after its preview
    (what `pulumi up` costs beyond `pulumi preview`)."""
    steps = account.resource(host, "lifecycle")
    scaled = {**inputs, "scaling": {"min_replicas": 2, "max_replicas": 3}}
    calls = {}
    for label, step_inputs in (("create", inputs), ("update", scaled), ("delete", None)):
        if step_inputs is not None:
            steps.preview(step_inputs)
        account.emulator.clear_requests()
        if step_inputs is None:
            steps.destroy()
        else:
            steps.up(step_inputs)
        calls[label] = account.emulator.call_counts()
    return calls
