"""Shared fixtures: live emulator processes.

Keep this file small; feature-specific fixtures belong in their test modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_tokenfactory.emulator.testing import EmulatorProcess


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """One emulator for the whole session (provisioning takes 0.5 s). Use `clean_emulator` for a blank one."""
    with EmulatorProcess(provision_seconds=0.5) as emu:
        yield emu


@pytest.fixture
def clean_emulator(emulator: EmulatorProcess) -> EmulatorProcess:
    """The session emulator with no endpoints, faults or logged requests."""
    emulator.reset()
    emulator.clear_requests()
    emulator.clear_faults()
    return emulator


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., EmulatorProcess]]:
    """Start extra emulators with their own flags (EmulatorProcess keyword arguments); all stop at teardown."""
    started: list[EmulatorProcess] = []

    def start(**options: Any) -> EmulatorProcess:
        emu = EmulatorProcess(**options)
        started.append(emu)
        return emu.start()

    yield start
    for emu in reversed(started):
        emu.stop()
