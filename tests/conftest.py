"""Shared fixtures: live emulator processes.

Keep this file small; feature-specific fixtures belong in their test modules.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.realcli import Backend, CliInstall, CliUnavailable, locate_cli
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

#: What `pickle._Pickler._batch_setitems` is before any Pulumi program code runs in this process.
_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _undo_the_sdks_pickler_patch() -> Iterator[None]:
    """Put back what each `pulumi.dynamic.serialize_provider` call wraps and never restores.

    The SDK (3.272) sets `pickle._Pickler._batch_setitems` to a wrapper of the current one on every call, so
    each dynamic resource constructed in one process adds a level of recursion to pickling any dict; this
    suite constructs about a thousand under mocks and would end in RecursionError. A test-process repair:
    a program runs once per process.
    """
    yield
    pickle._Pickler._batch_setitems = _BATCH_SETITEMS  # type: ignore[attr-defined]


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


@pytest.fixture(scope="session")
def pulumi_cli() -> CliInstall:
    """The real Pulumi CLI (found or built by scripts/pulumi-cli.sh).

    Under CI a missing CLI fails the run; elsewhere, with neither a CLI nor Go, the test skips and says why.
    """
    try:
        return locate_cli()
    except CliUnavailable as missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real Pulumi CLI, and none is available: {missing}")
        pytest.skip(f"no Pulumi CLI here and none could be built: {missing}")


@pytest.fixture
def cli_backend(pulumi_cli: CliInstall, tmp_path: Path) -> Backend:
    """A fresh offline file backend for the real CLI; polls capped at 0.2 s to match the emulator's short timings."""
    return Backend(pulumi_cli, tmp_path / "pulumi", extra_env={"TOKENFACTORY_POLL_MAX_INTERVAL": "0.2"})
