"""The emulator in the test process: its ASGI app behind a TestClient, on a clock that moves only when told to.

For what real time would make slow or flaky (a 600 s provisioning, request-log limits); the
emulator in a process of its own is `EmulatorProcess` (fixtures in tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from pulumi_tokenfactory.emulator import EmulatorConfig, ManualClock, create_app
from pulumi_tokenfactory.emulator.app import EmulatorApp


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
