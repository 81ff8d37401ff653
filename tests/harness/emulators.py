"""The emulator in the test process: its ASGI app behind a TestClient, on a clock that moves only when told to.

For what real time would make slow or flaky (a 600 s provisioning, request-log limits); the
emulator in a process of its own is `EmulatorProcess` (fixtures in tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from pulumi_tokenfactory.api.client import TokenFactoryClient
from pulumi_tokenfactory.emulator import EmulatorConfig, ManualClock, create_app
from pulumi_tokenfactory.emulator.app import EmulatorApp
from pulumi_tokenfactory.endpoint.controller import _Session
from pulumi_tokenfactory.host.directory import EndpointDirectory
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.settings import Settings


@dataclass(frozen=True)
class InProcessEmulator:
    app: EmulatorApp
    clock: ManualClock
    http: TestClient


def in_process_emulator(config: EmulatorConfig | None = None, *, clock: ManualClock | None = None,
                        raise_server_exceptions: bool = True, **options: Any) -> InProcessEmulator:
    """An emulator app made from `config` (or `EmulatorConfig(**options)`) on `clock` (a fresh manual one).

    `raise_server_exceptions=False` lets a test see the 500 a client would get instead of the exception.
    """
    clock = clock or ManualClock()
    app = create_app(config or EmulatorConfig(**options), clock=clock)
    return InProcessEmulator(app, clock, TestClient(app, raise_server_exceptions=raise_server_exceptions))


def provider_on(emulator: InProcessEmulator, settings: Settings | None = None) -> DedicatedEndpointProvider:
    """A provider (a provider host of its own) whose API session is the in-process emulator; `settings` plays the
    host's configuration (default: the provider's own)."""
    def forward(request: httpx.Request) -> httpx.Response:
        answer = emulator.http.request(request.method, request.url.path, params=request.url.params,
                                       content=request.content, headers=dict(request.headers))
        return httpx.Response(answer.status_code, content=answer.content, headers=dict(answer.headers))

    provider = DedicatedEndpointProvider()
    controller = provider._control().controller
    client = TokenFactoryClient("key", "http://testserver", transport=httpx.MockTransport(forward),
                                settings=settings or controller.settings)
    controller._session = _Session(client, directory=EndpointDirectory(client), reads=EndpointDirectory(client),
                                   existing=EndpointDirectory(client), settings=controller.settings)
    return provider


def writes(emulator: InProcessEmulator) -> list[str]:
    """The emulator's requests that may change something, `METHOD /path`, in order."""
    return [f"{e['method']} {e['path']}" for e in emulator.app.requests.entries() if e["method"] != "GET"]
