"""Thread lending (host/hostpool.py): gated on tested versions, under the executor's lock, loud once when off."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata

import grpc
import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.host import hostpool
from pulumi_tokenfactory.host.hostpool import lend_thread_while_waiting
from pulumi_tokenfactory.settings import Settings

HERE = (sys.version_info[0], sys.version_info[1])
SDK = tuple(int(p) for p in metadata.version("pulumi").split(".")[:2])
#: The gate as shipped, before the fixture widens it to this venv's versions.
SHIPPED = (hostpool.TESTED_SDK, hostpool.TESTED_PYTHON)


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test decides again; the versions of this venv count as tested unless a test says otherwise."""
    monkeypatch.setattr(hostpool, "TESTED_SDK", (SDK, SDK))
    monkeypatch.setattr(hostpool, "TESTED_PYTHON", frozenset({HERE}))
    hostpool._reset_for_tests()
    yield
    hostpool._reset_for_tests()


def _second_starts_during_the_first_wait(*, enabled: bool | None = True) -> tuple[bool, int, int]:
    """One worker; the first call waits under lending, the second is queued behind it.

    Returns whether the second ran while the first still waited, and the pool's limit during and after.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    release, second_ran = threading.Event(), threading.Event()
    during: list[int] = []

    def waiter() -> None:
        with lend_thread_while_waiting(enabled):
            time.sleep(0.2)  # the second call has been submitted by now
            during.append(pool._max_workers)
            release.wait(5)

    first = pool.submit(waiter)
    time.sleep(0.05)
    second = pool.submit(second_ran.set)
    ran = second_ran.wait(0.6)  # it starts at once when lent; otherwise only after the release
    release.set()
    first.result(5)
    second.result(5)
    after = pool._max_workers
    pool.shutdown()
    return ran, during[0], after


def test_a_waiting_call_lends_its_thread_and_the_limit_returns_afterwards(capfd: pytest.CaptureFixture[str]) -> None:
    ran, during, after = _second_starts_during_the_first_wait()
    assert ran, "the queued call did not start while the first one only waited"
    assert (during, after) == (2, 1)
    assert "thread lending is off" not in capfd.readouterr().err


def test_switched_off_it_neither_lends_nor_warns(capfd: pytest.CaptureFixture[str]) -> None:
    ran, during, after = _second_starts_during_the_first_wait(enabled=False)
    assert not ran and (during, after) == (1, 1)
    assert capfd.readouterr().err == ""


def test_the_switch_is_read_from_the_settings_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_HOST_WIDENING", "0")
    ran, _, _ = _second_starts_during_the_first_wait(enabled=None)
    assert not ran


@pytest.mark.parametrize("untested", ["sdk", "python"])
def test_an_untested_version_runs_unwidened_and_says_so_once(
        untested: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    if untested == "sdk":
        monkeypatch.setattr(hostpool, "TESTED_SDK", ((3, 0), (3, 1)))
    else:
        monkeypatch.setattr(hostpool, "TESTED_PYTHON", frozenset({(2, 7)}))
    for _ in range(2):
        ran, during, after = _second_starts_during_the_first_wait()
        assert not ran and (during, after) == (1, 1)
    err = capfd.readouterr().err
    assert err.count("thread lending is off") == 1, err
    assert "untested" in err and ("3.0 to 3.1" in err if untested == "sdk" else "tested: 2.7" in err)


def test_no_executor_behind_the_thread_means_no_lending_and_one_warning(capfd: pytest.CaptureFixture[str]) -> None:
    def wait_twice() -> None:
        for _ in range(2):
            with lend_thread_while_waiting(True):
                pass

    plain = threading.Thread(target=wait_twice)
    plain.start()
    plain.join()
    wait_twice()  # the main thread: not a host worker either
    err = capfd.readouterr().err
    assert err.count("thread lending is off") == 1 and "no thread pool runs this call" in err, err


def test_a_missing_private_field_means_no_lending_and_one_warning(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(hostpool, "REQUIRED_FIELDS", (*hostpool.REQUIRED_FIELDS, "_gone_in_a_later_python"))
    ran, during, after = _second_starts_during_the_first_wait()
    assert not ran and (during, after) == (1, 1)
    err = capfd.readouterr().err
    assert err.count("thread lending is off") == 1 and "lacks _gone_in_a_later_python" in err, err


@pytest.mark.parametrize(("sdk", "python", "problem"), [
    ("3.272.0", (3, 11), None),
    ("3.273.0", (3, 11), "pulumi SDK 3.273.0 is untested"),
    ("3.271.9", (3, 11), "pulumi SDK 3.271.9 is untested"),
    ("4.0.0", (3, 11), "untested"),
    ("3.272.0", (3, 12), "Python 3.12 is untested"),
    ("dev", (3, 11), "not a version it can read"),
])
def test_the_gate_itself(sdk: str, python: tuple[int, int], problem: str | None,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostpool, "TESTED_SDK", ((3, 272), (3, 272)))
    monkeypatch.setattr(hostpool, "TESTED_PYTHON", frozenset({(3, 11)}))
    found = hostpool._version_problem(sdk, python)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_the_shipped_gate_admits_the_versions_it_was_tested_on() -> None:
    """The constants as shipped (not the fixture's): this venv is what the real-CLI tests ran on."""
    hostpool.TESTED_SDK, hostpool.TESTED_PYTHON = SHIPPED  # the fixture's monkeypatch restores them after
    assert hostpool._version_problem(metadata.version("pulumi"), HERE) is None


def test_a_bad_switch_fails_when_the_waiter_is_built_before_any_post() -> None:
    from pulumi_tokenfactory.host.waiting import Waiter

    with pytest.raises(errors.InvalidSettingError, match="TOKENFACTORY_HOST_WIDENING"):
        Waiter(object(), settings=Settings({}, environ={"TOKENFACTORY_HOST_WIDENING": "on"}))  # type: ignore[arg-type]


def test_a_call_queued_for_a_thread_is_not_cancelled_by_the_unrequested_time_limit() -> None:
    """What the stake is: the SDK's 30-minute `grpc.server_max_unrequested_time_in_server` does not
    cancel a call that waits for a free worker (the server has requested it already), so without
    lending a fleet is slower, not failed. Shown with a 1 s limit, 1 worker and calls of 1.5 s."""
    server = grpc.server(ThreadPoolExecutor(max_workers=1),
                         options=[("grpc.server_max_unrequested_time_in_server", 1)])

    def handler(request: bytes, context: grpc.ServicerContext) -> bytes:
        time.sleep(1.5)
        return request

    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "t.S", {"Echo": grpc.unary_unary_rpc_method_handler(handler)})])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    outcomes: list[tuple[str, float]] = []
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            echo = channel.unary_unary("/t.S/Echo")

            def call() -> None:
                started = time.monotonic()
                try:
                    echo(b"x", timeout=30)
                    outcomes.append(("ok", time.monotonic() - started))
                except grpc.RpcError as exc:
                    outcomes.append((exc.code().name, time.monotonic() - started))

            callers = [threading.Thread(target=call) for _ in range(3)]
            for caller in callers:
                caller.start()
                time.sleep(0.02)
            for caller in callers:
                caller.join()
    finally:
        server.stop(0)
    assert [kind for kind, _ in outcomes] == ["ok"] * 3, outcomes
    assert max(elapsed for _, elapsed in outcomes) > 2.5, f"no call waited past the 1 s limit: {outcomes}"
