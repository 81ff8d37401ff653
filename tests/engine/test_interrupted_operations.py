"""A SIGINT to the provider host while an update, a delete, an adoption or a stopped create waits.

`test_lifecycle_faults.py` pins the create that waits for readiness. Every other operation that
waits after its request landed must end the same way: the call answers at once (no traceback), the
state records what exists as it is, the line the user sees is true, nothing is left billed outside
the state, and the next command (a fresh provider host, as the real CLI starts one per command)
converges without a second POST or a wrong DELETE.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from devtools.enginehost import ProviderHost, ResourceSteps
from devtools.harness import ENDPOINTS, EmulatorAccount
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.engine.test_lifecycle_faults import BASE, Background, extra_account, wait_for

pytestmark = pytest.mark.timeout(90)

#: Long enough that a wait is surely under way when the SIGINT comes; the emulator's clock ends it afterwards.
SLOW = 30.0


def interrupt_mid_wait(account: EmulatorAccount, host: ProviderHost, call: Callable[[], Any], *,
                       landed: Callable[[], bool]) -> Background:
    """Run `call` (one engine step), SIGINT the host once `landed` (its request reached the API) and it waits;
    return the finished call once the host has stopped by itself."""
    running = Background(call)
    wait_for(landed, 10, "the step's request")
    time.sleep(0.3)  # let it settle into its wait
    assert running.running, f"the step must still be waiting: {running.error!r}"
    started = time.monotonic()
    os.kill(host.pid, signal.SIGINT)
    running.join(30)
    assert time.monotonic() - started < 5, "the wait must end at once"
    wait_for(lambda: not host.is_alive(), 15, "the host to stop")
    assert host.returncode == 0
    return running


def clean_logs(host: ProviderHost) -> str:
    logs = host.logs_text()
    assert "Traceback" not in logs and "KeyboardInterrupt" not in logs, logs
    assert "letting 1 call(s) in flight record what they made" in logs, logs
    return logs


def next_command(account: EmulatorAccount, steps: ResourceSteps) -> ProviderHost:
    """A fresh provider host for `steps` (the next `pulumi` command), with every transition under way ended."""
    account.emulator.advance_clock(SLOW * 2)
    host = account.host()
    steps.host = host
    return host


def posts(account: EmulatorAccount) -> int:
    return len(account.requests_of("POST", ENDPOINTS))


def slow_account(emulator_factory: Callable[..., EmulatorProcess], **slow: float) -> EmulatorAccount:
    return extra_account(emulator_factory, **{"provision_seconds": 0.2, "update_seconds": 0.2,
                                              "stop_seconds": 0.2, "delete_seconds": 0.1, **slow})


@pytest.mark.parametrize("change", [
    {"scaling": {"min_replicas": 2, "max_replicas": 3}},
    {"gpu_count": 2},
    {"enabled": False},
], ids=["scaling", "gpu-count", "stop"])
def test_sigint_mid_update_records_the_patched_endpoint_and_the_next_up_has_nothing_to_do(
        change: dict[str, Any], emulator_factory: Callable[..., EmulatorProcess]) -> None:
    account = slow_account(emulator_factory, update_seconds=SLOW, stop_seconds=SLOW)
    changed = {**BASE, **change}
    with account.host() as host:
        steps = account.resource(host, "update-interrupted")
        steps.up(BASE)
        endpoint_id = steps.id
        call = interrupt_mid_wait(account, host, lambda: steps.up(changed),
                                  landed=lambda: bool(account.requests_of("PATCH")))
        logs = clean_logs(host)
    assert call.error is None, f"the update must answer: {call.error!r}"
    (live,) = account.emulator.endpoints()
    status = "stopping" if change == {"enabled": False} else "updating"
    assert live["status"] == status
    assert steps.id == endpoint_id and steps.outputs["status"] == status
    assert all(steps.outputs[k] == v for k, v in change.items()), "the state records the change the PATCH made"
    goal = "stopped" if change == {"enabled": False} else "ready"
    assert f"update 'lifecycle-faults': interrupted while waiting for endpoint {endpoint_id} to become {goal}" \
        in logs, logs
    assert f"Endpoint {endpoint_id} exists and is recorded in the state as it is now ({status}" in logs, logs
    assert len(account.requests_of("PATCH")) == 1 and account.requests_of("DELETE") == [] and posts(account) == 1

    with next_command(account, steps):
        assert steps.preview(changed).action == "same", "the PATCH landed: nothing is left to change"
        assert steps.refresh().get("status") == (status, "stopped" if goal == "stopped" else "running")
        steps.destroy()
    assert posts(account) == 1 and len(account.requests_of("PATCH")) == 1
    assert account.settled() == []


def test_sigint_mid_delete_leaves_the_state_and_the_endpoint_goes(
        emulator_factory: Callable[..., EmulatorProcess]) -> None:
    account = slow_account(emulator_factory, delete_seconds=SLOW)
    with account.host() as host:
        steps = account.resource(host, "delete-interrupted")
        steps.up(BASE)
        endpoint_id = steps.id
        call = interrupt_mid_wait(account, host, steps.destroy, landed=lambda: bool(account.requests_of("DELETE")))
        logs = clean_logs(host)
    assert call.error is None, f"the delete must answer: {call.error!r}"
    assert steps.id == "", "a delete the API accepted leaves the state"
    assert f"delete 'lifecycle-faults': interrupted while waiting for endpoint {endpoint_id} to go. The API " \
           f"accepted its DELETE: the endpoint is being removed, and it leaves the state" in logs, logs
    assert "recorded in the state" not in logs, logs
    assert [e["status"] for e in account.emulator.endpoints()] == ["deleting"]
    with next_command(account, steps):
        steps.destroy()  # `pulumi destroy` again: nothing left in the state, no request
    assert [r["status"] for r in account.requests_of("DELETE")] == [200], "one DELETE, never another"
    assert account.settled() == []


def test_sigint_mid_adoption_records_the_adopted_endpoint_and_never_deletes_it(
        emulator_factory: Callable[..., EmulatorProcess]) -> None:
    account = slow_account(emulator_factory, update_seconds=SLOW)
    (existing,) = account.seed([{**BASE, "scaling": {"min_replicas": 1, "max_replicas": 2}}])
    account.emulator.advance_clock(5)
    program = {**BASE, "adopt_id": existing, "scaling": {"min_replicas": 2, "max_replicas": 3}}
    account.emulator.clear_requests()
    with account.host() as host:
        steps = account.resource(host, "adopt-interrupted")
        call = interrupt_mid_wait(account, host, lambda: steps.up(program),
                                  landed=lambda: bool(account.requests_of("PATCH")))
        logs = clean_logs(host)
    assert call.error is None, f"the adoption must answer: {call.error!r}"
    assert steps.id == existing and steps.outputs["status"] == "updating"
    assert steps.outputs["scaling"] == {"min_replicas": 2.0, "max_replicas": 3.0}
    assert f"adopt 'lifecycle-faults': interrupted while waiting for endpoint {existing} to become ready. " \
           f"Endpoint {existing} exists and is recorded in the state as it is now (updating" in logs, logs
    assert len(account.requests_of("PATCH")) == 1 and account.requests_of("DELETE") == [] and posts(account) == 0

    with next_command(account, steps):
        assert steps.preview(program).action == "same", "adopted: a rerun neither adopts again nor changes"
        steps.destroy()
    assert posts(account) == 0 and [r["path"] for r in account.requests_of("DELETE")] == [f"{ENDPOINTS}/{existing}"]
    assert account.settled() == []


def test_sigint_mid_stopped_create_records_the_endpoint_stopping_and_nothing_is_billed_outside_the_state(
        emulator_factory: Callable[..., EmulatorProcess]) -> None:
    account = slow_account(emulator_factory, stop_seconds=SLOW)
    program = {**BASE, "enabled": False}
    with account.host() as host:
        steps = account.resource(host, "stopped-create-interrupted")
        call = interrupt_mid_wait(account, host, lambda: steps.up(program),
                                  landed=lambda: bool(account.requests_of("PATCH")))
        logs = clean_logs(host)
    assert call.error is None, f"the create must answer: {call.error!r}"
    (live,) = account.emulator.endpoints()
    assert steps.id == live["id"] and live["enabled"] is False
    assert steps.outputs["status"] == live["status"] == "stopping" and steps.outputs["enabled"] is False
    assert f"create 'lifecycle-faults': interrupted while waiting for endpoint {live['id']} to become stopped. " \
           f"Endpoint {live['id']} exists and is recorded in the state as it is now (stopping" in logs, logs
    assert [p["body"] for p in account.requests_of("PATCH")] == [{"enabled": False}]
    assert posts(account) == 1 and account.requests_of("DELETE") == []

    with next_command(account, steps):
        assert steps.preview(program).action == "same"
        assert steps.refresh().get("status") == ("stopping", "stopped")
        steps.destroy()
    assert posts(account) == 1 and account.settled() == []


def test_sigint_while_probing_inference_records_the_endpoint_as_last_read(
        emulator_factory: Callable[..., EmulatorProcess]) -> None:
    """The wait for running is over; the probe of the routing key is interrupted: the state must say `running`,
    as the last poll read it, not the status the POST answered."""
    account = slow_account(emulator_factory, routable_seconds=SLOW)
    program = {**BASE, "wait_for_inference": True}
    with account.host() as host:
        steps = account.resource(host, "probe-interrupted")
        call = interrupt_mid_wait(account, host, lambda: steps.up(program),
                                  landed=lambda: bool(account.requests_of("POST", "/v1/chat/completions")))
        logs = clean_logs(host)
    assert call.error is None, f"the create must answer: {call.error!r}"
    (live,) = account.emulator.endpoints()
    assert live["status"] == "running"
    assert steps.id == live["id"] and steps.outputs["status"] == "running", steps.outputs
    assert f"interrupted while waiting for endpoint {live['id']} to answer inference. Endpoint {live['id']} " \
           f"exists and is recorded in the state as it is now (running)" in logs, logs
    assert posts(account) == 1 and account.requests_of("DELETE") == []
    with next_command(account, steps):
        assert steps.preview(program).action == "same"
        steps.destroy()
    assert account.settled() == []
