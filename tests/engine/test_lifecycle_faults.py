"""Lifecycle faults: what happens to the account when an endpoint, the provider host or the API misbehaves.

`test_fault_matrix.py` breaks single HTTP exchanges; this file breaks the lifecycle
around them: an endpoint that never becomes ready, a clean-up that fails, a provider
host killed while it waits, an API restarted mid-create, changes made behind Pulumi's
back, and many creates at once. Every test drives the real provider host over gRPC
(as `pulumi up` would) against the emulator, and ends by counting the emulator's
endpoints: a GPU endpoint nobody knows about is billed, so "no duplicate, no orphan"
is asserted after each scenario, with the request log proving how many POSTs happened.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.enginehost import CheckFailed, ProviderCallError, ProviderHost
from devtools.harness import ENDPOINTS, EmulatorAccount, endpoint_inputs
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.accounts import AccountSettings

pytestmark = pytest.mark.timeout(90)

TOKEN = "tf-lifecycle-faults-token-3a7c"
BASE: dict[str, Any] = endpoint_inputs("lifecycle-faults", description="")
POLL_MAX = 0.1
HOST_ENV = {"TOKENFACTORY_HTTP_TIMEOUT": "3"}
ENDPOINT_ID = re.compile(r"\bep-[a-z0-9]+\b")


# --------------------------------------------------------------------------- helpers


def extra_account(emulator_factory: Callable[..., EmulatorProcess], **options: Any) -> EmulatorAccount:
    """A second emulator with its own timings (stopped at teardown), for the suite's token."""
    return EmulatorAccount(emulator_factory(api_key=TOKEN, **options), TOKEN, POLL_MAX, HOST_ENV)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Background:
    """Run one engine call on a thread, keeping its result or exception for the test to inspect."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True, name="engine-call")
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as exc:  # handed to the test thread, which asserts on it
            self.error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the engine call did not return within {timeout}s"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN, poll_max=POLL_MAX, host_env=HOST_ENV, emulator={
        "provision_seconds": 0.5, "update_seconds": 0.3, "stop_seconds": 0.3, "delete_seconds": 0.1})


@pytest.fixture
def account(tf_account: EmulatorAccount) -> Iterator[EmulatorAccount]:
    """The module's account, blank; after the test it must hold no endpoint at all (no orphan)."""
    tf_account.emulator.reset()
    yield tf_account
    tf_account.emulator.clear_faults()
    left = tf_account.settled()
    assert left == [], f"orphaned endpoints after the test: {[(e['id'], e['status']) for e in left]}"


# --------------------------------------------------------------------------- 1. never ready


@pytest.mark.parametrize(("behaviour", "ready_timeout", "says"), [
    ("stuck", 1.5, r"did not become ready within 1\.5s \(last status: starting\)"),
    ("error", 10, r"reported status error instead of becoming ready"),
], ids=["stuck-in-starting", "ends-in-error"])
def test_endpoint_never_ready_is_deleted_again_and_nothing_recorded(
        behaviour: str, ready_timeout: float, says: str, account: EmulatorAccount, host: ProviderHost) -> None:
    account.emulator.admin("POST", "behaviour", {"next_create": behaviour, "count": 1})
    steps = account.resource(host, f"never-ready-{behaviour}")
    started = time.monotonic()
    with pytest.raises(ProviderCallError) as info:
        steps.up({**BASE, "ready_timeout": ready_timeout})
    line = info.value.last_line
    assert line.startswith("pulumi_tokenfactory.errors.EndpointOperationError: "), info.value.details
    posts = account.requests_of("POST", ENDPOINTS)
    assert len(posts) == 1, f"expected one POST, got {len(posts)}"
    ids = set(ENDPOINT_ID.findall(line))
    assert len(ids) == 1, f"the error must name the one endpoint it made: {line}"
    (endpoint_id,) = ids
    assert re.search(says, line), f"{line!r} does not say {says!r}"
    assert "deleted again" in line, line
    assert [r["status"] for r in account.requests_of("DELETE", f"{ENDPOINTS}/{endpoint_id}")] == [200]
    assert steps.id == "" and steps.outputs == {}, "a failed create records nothing"
    if behaviour == "error":
        assert time.monotonic() - started < ready_timeout, "an error status must end the wait, not the timeout"
    assert account.settled() == []


def test_failed_clean_up_says_the_endpoint_still_exists_and_names_it(
        account: EmulatorAccount, host: ProviderHost) -> None:
    account.emulator.admin("POST", "behaviour", {"next_create": "stuck", "count": 1})
    account.emulator.inject_fault(method="DELETE", path=f"{ENDPOINTS}/*", action="error", status=403, count=None)
    steps = account.resource(host, "cleanup-fails")
    with pytest.raises(ProviderCallError) as info:
        steps.up({**BASE, "ready_timeout": 1.5})
    line = info.value.last_line
    assert line.startswith("pulumi_tokenfactory.errors.EndpointOperationError: "), info.value.details
    assert "STILL EXISTS" in line, line
    live = account.emulator.endpoints()
    assert len(live) == 1, f"exactly the one half-created endpoint must remain: {live}"
    assert set(ENDPOINT_ID.findall(line)) == {live[0]["id"]}, f"the error must name {live[0]['id']}: {line}"
    assert len(account.requests_of("POST", ENDPOINTS)) == 1
    assert [r["status"] for r in account.requests_of("DELETE")] == [403], "one DELETE, refused, not retried"
    assert steps.id == ""
    # What the message tells the user to do works: delete it by hand.
    account.emulator.clear_faults()
    account.api("DELETE", f"{ENDPOINTS}/{live[0]['id']}").raise_for_status()


# --------------------------------------------------------------------------- 2. host killed mid-create


def test_host_killed_mid_create_then_next_up_refuses_a_duplicate_and_import_adopts(
        emulator_factory: Callable[..., EmulatorProcess]) -> None:
    account = extra_account(emulator_factory, provision_seconds=30, delete_seconds=0.1)
    emulator = account.emulator
    with account.host() as first:
        steps = account.resource(first, "killed")
        call = Background(lambda: steps.up(BASE))
        wait_for(lambda: bool(account.requests_of("POST", ENDPOINTS)), 10, "the create's POST")
        time.sleep(0.3)  # let it settle into the wait for readiness
        assert call.running, "the create must still be waiting for readiness"
        first.kill()
        call.join(10)
    assert isinstance(call.error, ProviderCallError), f"the engine call should have failed: {call.error!r}"
    (orphan,) = emulator.endpoints()
    assert orphan["status"] == "starting"

    # The next `pulumi up`: a fresh host, an empty state, the same program.
    with account.host() as second:
        again = account.resource(second, "killed")
        with pytest.raises(CheckFailed) as info:
            again.up(BASE)
        reasons = dict(info.value.failures)
        assert set(reasons) == {"name"}, info.value.failures
        assert f"adopt_id={orphan['id']!r}" in reasons["name"], reasons["name"]
        assert len(account.requests_of("POST", ENDPOINTS)) == 1, "no second POST may be made"
        assert [e["id"] for e in emulator.endpoints()] == [orphan["id"]]

        # import_ cannot help: the engine reads with the id alone, which the dynamic host cannot serve.
        with pytest.raises(ProviderCallError) as no_import:
            account.resource(second, "killed").import_(orphan["id"])
        assert "KeyError: '__provider'" in no_import.value.details
        # The advice does: the same program with adopt_id takes the orphan over, with no POST.
        plan = again.up({**BASE, "adopt_id": orphan["id"]})
        assert plan.action == "create" and again.id == orphan["id"]
        assert again.outputs["status"] == "running"
        assert again.preview(BASE).action == "same", "dropping adopt_id afterwards changes nothing"
    # `pulumi destroy` is another command, with a provider host of its own (as the real CLI starts one per command).
    with account.host() as third:
        again.host = third
        again.destroy()
    assert len(account.requests_of("POST", ENDPOINTS)) == 1
    assert account.settled() == []


# --------------------------------------------------------------------------- 2b. host interrupted mid-create


def test_sigint_to_the_host_mid_create_records_the_endpoint_and_names_it(
        emulator_factory: Callable[..., EmulatorProcess]) -> None:
    """A SIGINT to the provider host (a CI runner signalling the whole tree) used to cut the create off: the
    endpoint billed, outside the state, unnamed. Now the create stops waiting, answers with the endpoint as it
    is, and says so; the host then stops by itself, with no traceback."""
    account = extra_account(emulator_factory, provision_seconds=30, delete_seconds=0.1)
    with account.host() as host:
        steps = account.resource(host, "interrupted")
        call = Background(lambda: steps.up(BASE))
        wait_for(lambda: bool(account.requests_of("POST", ENDPOINTS)), 10, "the create's POST")
        time.sleep(0.3)  # let it settle into the wait for readiness
        assert call.running, "the create must still be waiting for readiness"
        started = time.monotonic()
        os.kill(host.pid, signal.SIGINT)
        call.join(30)
        answered = time.monotonic() - started
        wait_for(lambda: not host.is_alive(), 15, "the host to stop")
        logs = host.logs_text()
    assert call.error is None, f"the create must answer: {call.error!r}"
    assert answered < 5, f"the wait must end at once, not at its next poll: {answered:.1f}s"
    (endpoint,) = account.emulator.endpoints()
    assert steps.id == endpoint["id"] and steps.outputs["status"] == "starting"
    assert f"interrupted while waiting for endpoint {endpoint['id']} to become ready" in logs
    assert "is recorded in the state as it is now (starting)" in logs, logs
    assert "letting 1 call(s) in flight record what they made" in logs
    assert "Traceback" not in logs and "KeyboardInterrupt" not in logs, logs
    assert host.returncode == 0
    assert len(account.requests_of("POST", ENDPOINTS)) == 1 and account.requests_of("DELETE") == []


def test_sigint_to_an_idle_host_stops_it_as_before(emulator_factory: Callable[..., EmulatorProcess]) -> None:
    """How the engine itself stops its plugins (SIGINT, then SIGKILL a second later): nothing in flight, so
    the SDK's own stop, at once and silently."""
    account = extra_account(emulator_factory, provision_seconds=0.2, delete_seconds=0.1)
    with account.host() as host:
        steps = account.resource(host, "idle")
        steps.up(BASE)
        started = time.monotonic()
        os.kill(host.pid, signal.SIGINT)
        wait_for(lambda: not host.is_alive(), 5, "the host to stop")
        assert time.monotonic() - started < 2
        assert "in flight" not in host.logs_text() and "Traceback" not in host.logs_text()
        assert host.returncode == 0
    (endpoint,) = account.emulator.endpoints()
    account.api("DELETE", f"{ENDPOINTS}/{endpoint['id']}").raise_for_status()


# --------------------------------------------------------------------------- 3. API restarted


@pytest.mark.parametrize("when", ["while-waiting-for-ready", "before-the-post"])
def test_create_survives_an_api_restart_and_state_survives_another(
        when: str, emulator_factory: Callable[..., EmulatorProcess], tmp_path: Path) -> None:
    """While waiting, polls must tolerate refused connections; a refused POST is safe to repeat and must be."""
    account = extra_account(emulator_factory, provision_seconds=1.5, delete_seconds=0.1,
                            state_file=tmp_path / "emulator-state.json")
    emulator = account.emulator
    base_url = emulator.base_url
    with account.host(poll_max=0.2) as host:
        steps = account.resource(host, f"restarted-{when}")
        if when == "before-the-post":
            steps.preview(BASE)  # catalogue and duplicate check done: the next request is the POST
            emulator.kill()
            down_at = time.monotonic()
            call = Background(lambda: steps.up(BASE))
            time.sleep(0.5)
            assert call.running, f"the create gave up while the API was down: {call.error!r}"
            emulator.start()
            assert time.monotonic() - down_at >= 0.5
            posts_before = 0
        else:
            call = Background(lambda: steps.up(BASE))
            wait_for(lambda: bool(account.requests_of("POST", ENDPOINTS)), 10, "the create's POST")
            posts_before = len(account.requests_of("POST", ENDPOINTS))
            assert call.running and emulator.endpoints()[0]["status"] == "starting", "restart must hit mid-wait"
            emulator.restart()
        assert emulator.base_url == base_url, "the emulator came back on another port; the test cannot go on"
        call.join(30)
        assert call.error is None, f"the create must ride out the restart: {call.error!r}"
        live = emulator.endpoints()
        posts = posts_before + len(account.requests_of("POST", ENDPOINTS))
        assert posts == 1, f"exactly one POST across the restart, got {posts}"
        assert [(e["id"], e["status"]) for e in live] == [(steps.id, "running")]
        assert steps.outputs["status"] == "running"

        emulator.restart()
        assert emulator.base_url == base_url
        assert steps.refresh() == {}, "the endpoint survived the restart unchanged"
        assert steps.id == live[0]["id"]
        assert steps.preview(BASE).action == "same"
        steps.destroy()
    assert account.settled() == []


# --------------------------------------------------------------------------- 4. changed out of band


def test_out_of_band_rename_and_scale_show_as_drift_and_one_patch_restores_both(
        account: EmulatorAccount, host: ProviderHost) -> None:
    steps = account.resource(host, "drifted")
    steps.up(BASE)
    account.api("PATCH", f"{ENDPOINTS}/{steps.id}",
        {"name": "renamed-in-console", "scaling": {"min_replicas": 3, "max_replicas": 5}}).raise_for_status()

    drift = steps.refresh()
    assert drift.get("name") == (BASE["name"], "renamed-in-console"), drift
    assert drift.get("scaling") == ({"min_replicas": 1.0, "max_replicas": 2.0},
                                    {"min_replicas": 3.0, "max_replicas": 5.0}), drift

    account.emulator.clear_requests()
    assert steps.up(BASE).action == "update"
    patches = account.requests_of("PATCH")
    assert [p["body"] for p in patches] == [{"name": BASE["name"], "scaling": BASE["scaling"]}], patches
    assert account.requests_of("POST") == [] and account.requests_of("DELETE") == []
    (live,) = account.emulator.endpoints()
    assert (live["id"], live["name"], live["scaling"]) == (steps.id, BASE["name"], BASE["scaling"])
    assert steps.outputs["status"] == "running" and live["status"] == "running"
    assert steps.preview(BASE).action == "same"
    steps.destroy()


def test_out_of_band_disable_shows_on_refresh_and_up_enables_and_waits(
        account: EmulatorAccount, host: ProviderHost) -> None:
    steps = account.resource(host, "disabled")
    steps.up(BASE)
    account.api("PATCH", f"{ENDPOINTS}/{steps.id}", {"enabled": False}).raise_for_status()

    drift = steps.refresh()
    assert drift.get("enabled") == (True, False), drift
    assert drift.get("status", (None, None))[1] in ("stopping", "stopped"), drift

    account.emulator.clear_requests()
    assert steps.up(BASE).action == "update"
    assert [p["body"] for p in account.requests_of("PATCH")] == [{"enabled": True}]
    assert account.requests_of("POST") == []
    (live,) = account.emulator.endpoints()
    assert steps.outputs["enabled"] is True and steps.outputs["status"] == "running", "up waits until running"
    assert live["status"] == "running" and live["enabled"] is True
    steps.destroy()


# --------------------------------------------------------------------------- 5. deleted out of band


def test_update_of_an_endpoint_deleted_out_of_band_says_so_and_delete_tolerates_it(
        account: EmulatorAccount, host: ProviderHost) -> None:
    steps = account.resource(host, "vanished")
    steps.up({**BASE, "wait_for_ready": False})
    endpoint_id = steps.id
    account.api("DELETE", f"{ENDPOINTS}/{endpoint_id}").raise_for_status()
    assert account.settled() == []

    account.emulator.clear_requests()
    with pytest.raises(ProviderCallError) as info:
        steps.up({**BASE, "wait_for_ready": False, "scaling": {"min_replicas": 2, "max_replicas": 3}})
    line = info.value.last_line
    assert line.startswith("pulumi_tokenfactory.errors.EndpointOperationError: "), info.value.details
    assert endpoint_id in line and "no longer exists" in line and "pulumi refresh" in line, line
    assert account.requests_of("POST") == [], "an update never recreates behind the user's back"
    assert steps.id == endpoint_id, "the failed update leaves the state alone"

    account.emulator.clear_requests()
    steps.destroy()  # `pulumi destroy` with the stale state
    assert [r["status"] for r in account.requests_of("DELETE")] == [404]
    assert steps.id == ""


# --------------------------------------------------------------------------- 6. concurrency


def test_six_creates_at_once_share_one_poll_list(emulator_factory: Callable[..., EmulatorProcess]) -> None:
    provision, poll = 2.5, 0.2
    account = extra_account(emulator_factory, provision_seconds=provision, delete_seconds=0.1)
    emulator = account.emulator
    with account.host(poll_max=poll) as host:
        fleet = [account.resource(host, f"fleet-{i}") for i in range(6)]
        programs = [{**BASE, "name": f"fleet-{i}"} for i in range(6)]
        emulator.clear_requests()
        started = time.monotonic()
        plans = host.run_concurrently(
            [functools.partial(steps.up, program) for steps, program in zip(fleet, programs, strict=True)])
        elapsed = time.monotonic() - started
        assert [p.action for p in plans] == ["create"] * 6
        live = {e["id"]: e for e in emulator.endpoints()}
        assert len(live) == 6 and {s.id for s in fleet} == set(live), "one endpoint per resource, no more"
        assert all(e["status"] == "running" for e in live.values())
        assert all(s.outputs["status"] == "running" for s in fleet)
        assert len(account.requests_of("POST", ENDPOINTS)) == 6
        # All six waited together (the host lends threads to waiters), not in waves of four.
        assert elapsed < 2 * provision, f"the fleet took {elapsed:.1f}s for a {provision}s provisioning"
        lists = len(account.requests_of("GET", ENDPOINTS))
        one_per_waiter = 6 * elapsed / poll
        assert lists <= one_per_waiter / 3, (
            f"{lists} list calls in {elapsed:.1f}s: waiters are not sharing (one each would be {one_per_waiter:.0f})")
        assert len(account.requests_of("GET", f"{ENDPOINTS}/templates")) == 1, "one catalogue per host"

        host.run_concurrently([steps.destroy for steps in fleet])
    assert account.settled() == []
