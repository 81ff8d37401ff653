"""The emulator suites' fixtures: the session emulator, blank, and an HTTP client on it.

The emulator in its own process comes from tests/conftest.py (`emulator`, `clean_emulator`,
`emulator_factory`); an in-process one with a manual clock from `tests.harness.emulators`.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pulumi_tokenfactory.emulator.testing import EmulatorProcess


@pytest.fixture
def emu(clean_emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The session emulator with no endpoints or logged requests; the faults a test arms are cleared after it."""
    yield clean_emulator
    clean_emulator.clear_faults()


@pytest.fixture
def api(emu: EmulatorProcess) -> Iterator[httpx.Client]:
    """A client on `emu`'s API that ignores proxy settings from the environment (the emulator is on loopback)."""
    with httpx.Client(base_url=emu.base_url, timeout=10, trust_env=False) as client:
        yield client
