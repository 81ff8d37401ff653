"""host.interrupts: an interrupted provider host finishes the calls that spend money, and starts none.

The whole path (a real host, a real SIGINT) is in tests/engine/test_lifecycle_faults.py and, through the
real CLI, tests/cli/test_cli_interrupted.py; these pin each piece on its own.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.models import Endpoint
from pulumi_tokenfactory.api.models import LifecycleState as LS
from pulumi_tokenfactory.endpoint.controller import ENGINE_LOG
from pulumi_tokenfactory.host import interrupts
from tests.harness.emulators import in_process_emulator, provider_on
from tests.unit.test_messages import Clock, _endpoint, waiter


@pytest.fixture(autouse=True)
def host_reopened() -> Iterator[None]:
    """Each test starts with a host that no `stop` has closed."""
    yield
    interrupts._closed = False


@pytest.fixture
def host_interrupted() -> Iterator[None]:
    interrupts._interrupted.set()
    yield
    interrupts._interrupted.clear()


def test_a_wait_stops_at_the_next_poll_and_hands_back_the_endpoint_as_last_read(host_interrupted: None) -> None:
    lines: list[str] = []
    with pytest.raises(errors.WaitInterrupted) as info:
        waiter(iter([_endpoint("starting")] * 3), lines, Clock()).until_state("ep-1", LS.RUNNING, 600,
                                                                              label="create 'x'")
    assert info.value.last is None, "interrupted before the first poll: nothing read yet"
    assert str(info.value) == "create 'x': interrupted while waiting for endpoint ep-1 to become ready"


def test_a_wait_interrupted_between_polls_keeps_what_it_read() -> None:
    lines: list[str] = []
    clock = Clock()

    def answers() -> Iterator[Any]:
        yield _endpoint("starting")
        interrupts._interrupted.set()
        yield _endpoint("starting")

    try:
        with pytest.raises(errors.WaitInterrupted) as info:
            waiter(answers(), lines, clock).until_state("ep-1", LS.RUNNING, 600, label="create 'x'")
    finally:
        interrupts._interrupted.clear()
    assert isinstance(info.value.last, Endpoint) and info.value.last.status == "starting"
    assert info.value.endpoint_id == "ep-1"


def test_a_delete_wait_stops_too(host_interrupted: None) -> None:
    with pytest.raises(errors.WaitInterrupted, match="to go"):
        waiter(iter([None]), [], Clock()).until_gone("ep-1", 600, label="delete 'x'")


def test_no_create_update_or_delete_starts_once_the_host_is_interrupted(host_interrupted: None) -> None:
    with pytest.raises(errors.EndpointOperationError) as info, interrupts.spending("create"):
        raise AssertionError("must not run")
    assert "interrupted (SIGINT) before this create started; nothing was changed" in str(info.value)


def test_the_pause_ends_when_the_host_is_interrupted() -> None:
    threading.Timer(0.1, interrupts._interrupted.set).start()
    started = time.monotonic()
    try:
        interrupts.pause(30)
    finally:
        interrupts._interrupted.clear()
    assert time.monotonic() - started < 5


class FakeServer:
    def __init__(self) -> None:
        self.stops: list[tuple[float, int]] = []

    def stop(self, grace: float) -> threading.Event:
        with interrupts._idle:
            self.stops.append((grace, interrupts._in_flight))
        done = threading.Event()
        done.set()
        return done


def test_stop_with_nothing_in_flight_is_the_sdks_own() -> None:
    server = FakeServer()
    interrupts._stop_finishing_first(server.stop)(0)
    assert server.stops == [(0, 0)] and not interrupts.interrupted()


def test_after_an_idle_stop_no_create_update_or_delete_starts() -> None:
    """The engine stops an idle host; a call let in an instant later would be cut off uncounted, mid-POST."""
    interrupts._stop_finishing_first(FakeServer().stop)(0)
    with pytest.raises(errors.EndpointOperationError) as info, interrupts.spending("create"):
        raise AssertionError("must not run")
    assert "stopping before this create started; nothing was changed" in str(info.value)


def test_stop_with_a_call_in_flight_lets_it_finish_first() -> None:
    server = FakeServer()
    entered = threading.Event()

    def call() -> None:
        with interrupts.spending("create"):
            entered.set()
            interrupts.pause(30)  # a wait; ends when stop() interrupts the host

    worker = threading.Thread(target=call)
    worker.start()
    entered.wait(5)
    previous = signal.getsignal(signal.SIGINT)
    try:
        interrupts._stop_finishing_first(server.stop)(0)
        assert signal.getsignal(signal.SIGINT) is interrupts._ignore_while_finishing, "a second ^C is ignored"
    finally:
        signal.signal(signal.SIGINT, previous)
        interrupts._interrupted.clear()
    worker.join(5)
    assert server.stops == [(interrupts.ANSWER_GRACE_SECONDS, 0)], "stopped once the call had ended, with a grace"


#: The dynamic host's main thread as the SDK leaves it (an untimed wait, KeyboardInterrupt caught), with the
#: SIGINT handed by the kernel to another thread; argv[1] says whether the host wakes its main thread.
_SIGINT_TO_ANOTHER_THREAD = """
import signal, sys, threading, time
from pulumi_tokenfactory.host import interrupts

def another_thread():
    if sys.argv[1] == "woken":
        interrupts.wake_the_main_thread_regularly()  # from a gRPC worker thread, as configure does
    time.sleep(0.2)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
    time.sleep(60)

threading.Thread(target=another_thread, daemon=True).start()
try:
    threading.Event().wait()
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_a_sigint_another_thread_received_is_acted_on_by_the_woken_main_thread() -> None:
    done = subprocess.run([sys.executable, "-c", _SIGINT_TO_ANOTHER_THREAD, "woken"], capture_output=True,
                          text=True, timeout=10)
    assert done.stdout.strip() == "interrupted", done.stderr


def test_without_waking_the_main_thread_that_sigint_is_never_acted_on() -> None:
    """Why the host wakes its main thread. Should a later CPython act on it unaided, this fails: the waking
    can then go."""
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", _SIGINT_TO_ANOTHER_THREAD, "asleep"], capture_output=True,
                       timeout=3)


def test_an_interrupted_update_says_what_is_recorded_only_once_it_has_read_the_endpoint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The PATCH answered with no echo and the host was interrupted before the first poll: the endpoint is read
    once more to be recorded. Should that read fail, the update fails and the state keeps what it had, so no line
    may have said "recorded in the state" already."""
    program: dict[str, Any] = {
        "name": "GPT", "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
        "gpu_count": 1.0, "scaling": {"min_replicas": 1.0, "max_replicas": 2.0}, "region": "eu-north1",
        "wait_for_ready": False}
    provider = provider_on(in_process_emulator(provision_seconds=0))
    made = provider.create(dict(program))
    client = provider._control().controller._api().client
    lines: list[str] = []

    def patched_then_interrupted(endpoint_id: str, patch: Any) -> None:
        interrupts._interrupted.set()  # SIGINT while the PATCH was in flight
        return None  # an empty answer: no echo

    def unread(endpoint_id: str) -> Endpoint:
        raise errors.ServerError("the API failed", status_code=503)

    monkeypatch.setattr(ENGINE_LOG, "progress", lines.append)
    monkeypatch.setattr(client, "update_endpoint", patched_then_interrupted)
    monkeypatch.setattr(client, "get_endpoint", unread)
    try:
        with pytest.raises(errors.ServerError, match="update 'GPT': the API failed"):
            provider.update(made.id, dict(made.outs or {}),
                            {**program, "wait_for_ready": True, "scaling": {"min_replicas": 2.0, "max_replicas": 3.0}})
    finally:
        interrupts._interrupted.clear()
    assert not [line for line in lines if "recorded in the state" in line], lines
