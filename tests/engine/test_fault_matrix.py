"""Fault matrix: every provider operation against every way an HTTP exchange can fail.

Each cell arms one fault in the emulator, runs one operation through the real
provider host, and holds the provider to the one outcome `EXPECTED` gives
that cell, so that a cell fails whichever way the provider's behaviour moves:

- absorbed: retries, recovery or tolerance hide the fault; the operation
  succeeds with exactly one endpoint and a state that matches the API;
- fails: the operation fails with one readable line naming what happened
  (the status, or the unreadable JSON), the state stays exactly as it was,
  and the API holds what the state says, except where the fault let the
  change land (`applied`): then the API shows the change and the error names
  the endpoint. Re-running the command (as a user would) then converges with
  no duplicate and no orphan.

Endpoints are counted after every cell.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

from devtools.enginehost import CheckFailed, ProviderCallError, ProviderHost, ResourceSteps
from devtools.harness import EmulatorAccount, endpoint_inputs
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.accounts import AccountSettings

TOKEN = "tf-fault-matrix-token"
BASE: dict[str, Any] = endpoint_inputs("fault-matrix")
SCALED = {**BASE, "scaling": {"min_replicas": 2, "max_replicas": 3}}
CLIENT_TIMEOUT = 1.0

FAULTS: dict[str, dict[str, Any]] = {
    "500": {"action": "error", "status": 500},
    "502": {"action": "error", "status": 502},
    "503": {"action": "error", "status": 503},
    "acted-then-500": {"action": "apply_then_error", "status": 500},
    "429-retry-after": {"action": "error", "status": 429, "retry_after": 1},
    "dropped": {"action": "drop"},
    "acted-then-dropped": {"action": "apply_then_drop"},
    "slower-than-timeout": {"action": "delay", "delay": CLIENT_TIMEOUT + 0.6},
    "401": {"action": "error", "status": 401},
    "403": {"action": "error", "status": 403},
    "malformed-json": {"action": "malformed"},
    "truncated-json": {"action": "truncated"},
    "extra-fields": {"action": "extra_fields"},
    "alternate-shape": {"action": "alternate_shape"},
}
# (method, path) each operation's faulted request goes to.
OPERATIONS: dict[str, tuple[str, str]] = {
    "check": ("GET", "/v0/dedicated_endpoints/templates"),
    "create": ("POST", "/v0/dedicated_endpoints"),
    "poll": ("GET", "/v0/dedicated_endpoints"),
    "update": ("PATCH", "/v0/dedicated_endpoints/*"),
    "read": ("GET", "/v0/dedicated_endpoints"),
    "delete": ("DELETE", "/v0/dedicated_endpoints/*"),
}


@dataclass(frozen=True)
class Fails:
    """The operation must fail with one line matching `names`, leaving the state exactly as it was."""

    #: What the error line must say (a regular expression): what happened, in words a user can act on.
    names: str
    #: The API made the change although the answer said otherwise: the account is ahead of the state, and the
    #: error must name the endpoint so that the user knows which one a refresh will pick up.
    applied: bool = False


ABSORBED = "absorbed"
Outcome = Fails | str

#: What each failing cell's error must name.
NAMES = {"500": r"\b500\b", "acted-then-500": r"\b500\b", "401": r"\b401\b", "403": r"\b403\b",
         "malformed-json": r"(?i)\bjson\b"}
# The cells that must fail, per operation, and whether the change landed all the same; every other cell must be
# absorbed. Why these fail:
# - 401 and 403 are never retried: a token or a permission does not mend itself, and repeating a refused request
#   only delays the message. During a create's poll the provider deletes the endpoint it has just made, so
#   nothing is left running unrecorded.
# - A plain 500 is not retried either (the client retries 429, 502, 503, 504 and lost connections): a server error
#   may well repeat. A create and its polls absorb it all the same, by looking for the endpoint before trying again.
# - A 200 whose body is not JSON is a broken server, not a busy one: only a create and its polls re-read.
# - `acted-then-500` and `malformed-json` behave alike for a PATCH and a DELETE, whose change has landed.
FAILING: dict[str, dict[str, bool]] = {
    "check": {"500": False, "acted-then-500": False, "401": False, "403": False, "malformed-json": False},
    "create": {"401": False, "403": False},
    "poll": {"401": False, "403": False},
    "update": {"500": False, "acted-then-500": True, "401": False, "403": False, "malformed-json": True},
    "read": {"500": False, "acted-then-500": False, "401": False, "403": False, "malformed-json": False},
    "delete": {"500": False, "acted-then-500": True, "401": False, "403": False, "malformed-json": True},
}
EXPECTED: dict[tuple[str, str], Outcome] = {
    (operation, fault): Fails(NAMES[fault], FAILING[operation][fault]) if fault in FAILING[operation] else ABSORBED
    for operation in OPERATIONS for fault in FAULTS
}


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN, emulator={"provision_seconds": 0.3, "delete_seconds": 0.1}, poll_max=0.2,
                           host_env={"TOKENFACTORY_HTTP_TIMEOUT": str(CLIENT_TIMEOUT)})


def run_operation(operation: str, steps: ResourceSteps) -> None:
    if operation in ("check", "create", "poll"):
        steps.up(BASE)
    elif operation == "update":
        steps.up(SCALED)
    elif operation == "read":
        steps.refresh()
    else:
        steps.destroy()


def program_after(operation: str) -> dict[str, Any]:
    return SCALED if operation == "update" else BASE


def test_every_cell_has_one_expected_outcome() -> None:
    # A misspelt operation or fault in FAILING would otherwise turn its cell into an expected success unnoticed.
    assert set(FAILING) == set(OPERATIONS) and all(set(f) <= set(FAULTS) for f in FAILING.values())
    outcomes = [o if isinstance(o, str) else "fails, applied" if o.applied else "fails" for o in EXPECTED.values()]
    assert {o: outcomes.count(o) for o in set(outcomes)} == {ABSORBED: 60, "fails": 20, "fails, applied": 4}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_fault_cell(operation: str, fault: str, tf_account: EmulatorAccount, emulator: EmulatorProcess,
                    host: ProviderHost) -> None:
    expected = EXPECTED[(operation, fault)]
    emulator.reset()
    # A check fault needs a host that has not fetched the catalogue yet; the other cells share the module's.
    with tf_account.host() if operation == "check" else contextlib.nullcontext(host) as cell_host:
        steps = tf_account.resource(cell_host, f"{operation}-{fault}")
        if operation in ("create", "poll"):
            steps.preview(BASE)  # templates fetched and the duplicate check done, as in `pulumi preview`
        elif operation != "check":
            steps.up(BASE)
        method, path = OPERATIONS[operation]
        state_before = (steps.id, dict(steps.outputs), dict(steps.inputs))
        emulator.clear_requests()
        emulator.inject_fault(method=method, path=path, **FAULTS[fault])
        error: str | None = None
        try:
            run_operation(operation, steps)
        except (ProviderCallError, CheckFailed) as exc:
            error = exc.last_line if isinstance(exc, ProviderCallError) else str(exc)
        emulator.clear_faults()
        faulted = _faulted_requests(emulator)
        assert len(faulted) == 1 and faulted[0]["method"] == method, f"the fault did not fire once: {faulted}"

        if not isinstance(expected, Fails):
            assert error is None, f"{operation} under {fault} should have been absorbed, got: {error}"
        else:
            assert error is not None, f"{operation} under {fault} should have failed naming {expected.names!r}"
            _assert_clear_failure(operation, error, expected, steps, state_before, emulator)
            # The user runs the command again, with the API healthy now.
            if operation == "read":
                steps.refresh()
            elif operation == "delete":
                steps.refresh()
                steps.destroy()
            else:
                steps.up(program_after(operation))

        live = tf_account.live()
        if operation == "delete":
            assert live == [] and steps.id == "", f"delete left {live}"
            return
        assert [e["id"] for e in live] == [steps.id], f"the API holds {[e['id'] for e in live]}, state {steps.id}"
        expected = program_after(operation)["scaling"]
        assert live[0]["scaling"] == expected and steps.outputs["scaling"] == {k: float(v) for k, v in expected.items()}
        assert steps.outputs["routing_key"] == live[0]["routing_key"]
        steps.destroy()


def _assert_clear_failure(operation: str, error: str, expected: Fails, steps: ResourceSteps,
                          state_before: tuple[str, dict[str, Any], dict[str, Any]], emulator: EmulatorProcess) -> None:
    """One readable line naming what happened; the state as it was; the account as the state says, or ahead."""
    assert error.strip() and "\n" not in error.strip() and "Traceback" not in error, error
    assert re.search(expected.names, error), f"the error should name {expected.names!r}: {error}"
    assert (steps.id, steps.outputs, steps.inputs) == state_before, "a failed operation must not change the state"
    live = [e for e in emulator.endpoints() if e["status"] != "deleting"]
    recorded = state_before[1].get("scaling")
    if not expected.applied:
        assert [e["id"] for e in live] == ([steps.id] if steps.id else []), (
            f"after the error the API holds {[e['id'] for e in live]} but the state says {steps.id!r}: {error}")
        if live:
            assert {k: float(v) for k, v in live[0]["scaling"].items()} == recorded, "the change must not land"
        return
    assert steps.id and steps.id in error, f"the error must name the endpoint the change landed on: {error}"
    if operation == "delete":
        assert live == [], f"the DELETE landed, yet the API still holds {live}"
    else:
        assert [e["id"] for e in live] == [steps.id] and live[0]["scaling"] == SCALED["scaling"], (
            f"the PATCH landed, yet the API holds {live}")


def _faulted_requests(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    """Faulted requests in the log; a delayed one is logged when the server finishes it, so allow for that."""
    deadline = time.monotonic() + 2 * CLIENT_TIMEOUT + 1
    while True:
        faulted = [r for r in emulator.requests() if r.get("fault")]
        if faulted or time.monotonic() > deadline:
            return faulted
        time.sleep(0.1)
