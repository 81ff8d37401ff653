"""Shared fixtures: live emulator processes, the real CLI; which tests are slow, and which run alone.

Keep this file small; feature-specific fixtures belong in their test modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devtools.realcli import Backend, CliInstall, CliUnavailable, locate_cli
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.alone import AloneGate

#: Slow by path (prefixes of node ids): what drives the real Pulumi CLI, and the install tests (fresh venvs).
#: Any test that asks for the `pulumi_cli` fixture is slow too, wherever it lives.
SLOW_PATHS = ("tests/cli/", "tests/docs/test_install.py")
#: Slow by name (node ids without their [parameters]): soaks, and the tests of several seconds of CPU each (mypy
#: runs), which a 2-core machine feels most when the rest run in parallel (`pytest --durations=40` finds more).
SLOW_TESTS = frozenset({
    # soaks
    "tests/engine/test_twins_concurrency.py::test_twenty_seeded_runs_of_twenty_concurrent_twin_creates_under_heavy_faults",
    "tests/engine/test_lifecycle_faults.py::test_host_killed_mid_create_then_next_up_refuses_a_duplicate_and_import_adopts",
    "tests/unit/test_sdk_repair.py::test_more_endpoints_than_the_recursion_limit_in_one_process",
    # mypy on whole programs
    "tests/unit/test_surface.py::test_mypy_checks_an_example_program_against_the_installed_package",
    "tests/unit/test_surface.py::test_mypy_rejects_a_wrong_program",
    "tests/unit/test_user_testing.py::test_the_documented_example_type_checks",
})


#: Tests that time against the wall clock with margins for a quiet machine, which the other workers' load breaks:
#: marked `alone`, so that under pytest-xdist they run while no other test does, at the start of the run
#: (tests/harness/alone.py).
ALONE_TESTS = frozenset({
    "tests/cli/test_cli_fleet.py::test_fleet_readiness_with_and_without_host_widening",
    "tests/cli/test_cli_readiness.py::test_without_it_up_returns_at_running_and_the_first_call_is_404",
    # three requests within the session emulator's 0.5 s of provisioning
    "tests/emulator/test_emulator_inference.py::test_openai_client_gets_404_while_starting_and_an_answer_once_running",
})
_GATE = pytest.StashKey[AloneGate]()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests `slow` (`bash scripts/test.sh --fast` runs `-m "not slow"`), by path, fixture and name,
    and the wall-clock ones `alone`.

    On a pytest-xdist worker, also put the alone tests first, then the slow ones, then the rest with the files of
    most tests first (every worker orders alike): under `--dist loadfile --no-loadscope-reorder`, as scripts/test.sh
    runs, a file goes to a worker whole in the order of its first test, so the long ones start first and the short
    ones fill in behind (the fault matrix, 85 tests and a minute and a half, sets the fast lane's pace).
    """
    seen: set[str] = set()
    for item in items:
        name = item.nodeid.split("[", 1)[0]
        seen.add(name)
        if (name.startswith(SLOW_PATHS) or name in SLOW_TESTS
                or "pulumi_cli" in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if name in ALONE_TESTS:
            item.add_marker(pytest.mark.alone)
    # A renamed test would quietly lose its mark: when whole files were collected, say so.
    if not any("::" in arg for arg in config.args):
        files = {name.split("::", 1)[0] for name in seen}
        stale = sorted(name for name in SLOW_TESTS | ALONE_TESTS if name.split("::", 1)[0] in files
                       and name not in seen)
        if stale:
            warnings.warn(pytest.PytestConfigWarning(f"tests/conftest.py names no collected test: {stale}"),
                          stacklevel=1)
    if hasattr(config, "workerinput"):
        per_file = Counter(item.nodeid.split("::", 1)[0] for item in items)

        def rank(item: pytest.Item) -> tuple[bool, bool, int]:  # sorted stably: a file's tests stay in their order
            alone, slow = (item.get_closest_marker(mark) is not None for mark in ("alone", "slow"))
            return not alone, not slow, 0 if slow else -per_file[item.nodeid.split("::", 1)[0]]

        items.sort(key=rank)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Locate (or build) the real CLI before any test that needs it starts its clock, one process at a time; on a
    pytest-xdist worker of a run that holds alone tests, open the run's gate (tests/harness/alone.py)."""
    if any("pulumi_cli" in getattr(item, "fixturenames", ()) for item in session.items):
        with contextlib.suppress(Exception), _cli_build_lock():
            locate_cli()  # cached for the `pulumi_cli` fixture, which reports a failure
    workerinput = getattr(session.config, "workerinput", None)
    alone = [item.nodeid for item in session.items if item.get_closest_marker("alone")]
    if workerinput is None or workerinput.get("workercount", 1) < 2 or not alone:
        return
    basetemp = session.config.option.basetemp  # xdist gives each worker <the run's basetemp>/popen-gwN
    root = (Path(basetemp).parent if basetemp else Path(tempfile.gettempdir()) / f"pytest-{workerinput['testrunuid']}")
    session.config.stash[_GATE] = AloneGate(root / "alone-gate", alone)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outside pytest-timeout's clock: waiting at the gate is no test's time
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    gate = item.config.stash.get(_GATE, None)
    if gate is None:
        return (yield)
    with gate.passage(item.nodeid):
        return (yield)


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
        with _cli_build_lock():
            return locate_cli()
    except CliUnavailable as missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real Pulumi CLI, and none is available: {missing}")
        pytest.skip(f"no Pulumi CLI here and none could be built: {missing}")


@contextmanager
def _cli_build_lock() -> Iterator[None]:
    """One process at a time runs scripts/pulumi-cli.sh, which builds the CLI into its cache when it is missing:
    parallel workers (pytest-xdist), or the test runs of several clones, wait for the first build and reuse it."""
    if os.environ.get("PULUMI_CLI_BIN"):
        yield  # nothing is built
        return
    cache = Path(os.environ.get("PULUMI_TOKENFACTORY_CACHE")
                 or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulumi-tokenfactory")
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "pulumi-cli.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


@pytest.fixture
def cli_backend(pulumi_cli: CliInstall, tmp_path: Path) -> Backend:
    """A fresh offline file backend for the real CLI; polls capped at 0.2 s to match the emulator's short timings."""
    return Backend(pulumi_cli, tmp_path / "pulumi", extra_env={"TOKENFACTORY_POLL_MAX_INTERVAL": "0.2"})
