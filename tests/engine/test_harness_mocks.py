"""`run_program` leaves nothing running or unreported behind when a program fails inside an `apply`.

Reported problem: after such a failure, pending tasks and unretrieved futures outlived
`run_program`; the garbage collector later printed their tracebacks from inside whatever
was running, and on CPython 3.11 that corrupted the `ast` module's state, so a later test
died with `SystemError: AST constructor recursion depth mismatch`. These tests reproduce
that sequence (they fail on the old harness) and pin the fix.
"""

from __future__ import annotations

import ast
import gc
import inspect
import logging
import threading
from collections.abc import Iterator

import pulumi
import pulumi.output
import pytest

from tests.harness.mocks import run_program
from tests.harness.sample_provider import SampleThing

pytestmark = pytest.mark.timeout(60)

STRAY_MESSAGES = ("never retrieved", "destroyed but it is pending", "Event loop is closed")


def failing_apply_program() -> None:
    """Several resources whose inputs depend on an `apply` that raises: many futures fail at once."""
    for i in range(5):
        source = SampleThing(f"source-{i}", {"name": f"source-{i}"})
        broken = source.id.apply(lambda _id: 1 / 0)
        SampleThing(f"dependent-{i}", {"name": broken})
    pulumi.export("never", broken)


@pytest.fixture
def aggressive_gc() -> Iterator[None]:
    """Collect garbage at nearly every allocation, as a busy test session eventually does."""
    old = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def test_failed_apply_propagates_and_leaves_no_threads_tasks_or_stray_tracebacks(
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    # Garbage an earlier test in this worker left (say an inline program whose `up` failed on the real CLI,
    # whose SDK futures then fail with "Resource monitor has terminated") is reported now and set aside:
    # only what this run leaves behind counts below.
    gc.collect()
    caplog.clear()
    capfd.readouterr()
    threads_before = set(threading.enumerate())
    with caplog.at_level(logging.DEBUG, logger="asyncio"), pytest.raises(ZeroDivisionError):
        run_program(failing_apply_program)
    assert set(threading.enumerate()) <= threads_before, "executor threads outlived run_program"
    gc.collect()  # whatever the run left behind is reported now, if at all
    stray = [r.getMessage() for r in caplog.records if any(m in r.getMessage() for m in STRAY_MESSAGES)]
    assert stray == [], stray
    err = capfd.readouterr().err
    assert not any(m in err for m in STRAY_MESSAGES), err


def test_ast_still_works_under_gc_after_failed_applies(aggressive_gc: None) -> None:
    """The reported crash, reproduced: before the fix this raised SystemError on CPython 3.11."""
    for _ in range(3):
        with pytest.raises(ZeroDivisionError):
            run_program(failing_apply_program)
    source = inspect.getsource(pulumi.output)
    for _ in range(20):
        ast.parse(source)


def test_a_later_run_is_unaffected_and_reports_no_background_errors() -> None:
    with pytest.raises(ZeroDivisionError):
        run_program(failing_apply_program)

    def healthy() -> None:
        thing = SampleThing("fine", {"name": "fine"})
        pulumi.export("name", thing.id.apply(lambda i: f"{i}!"))

    result = run_program(healthy)
    assert result.exports == {"name": "fine-id!"}
    assert result.background_errors == []
