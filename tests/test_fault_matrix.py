"""Fault matrix: every provider operation against every way an HTTP exchange can fail.

Each cell arms one fault in the emulator, runs one operation through the real
provider host, and then holds the provider to its promise: either success
with exactly one endpoint and a state that matches the API, or a clear error
(one readable line) after which the API holds exactly what the state says,
and re-running the command (as a user would) converges with no duplicate
and no orphan. Endpoints are counted after every cell.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.enginehost import (
    CheckFailed,
    ProviderCallError,
    ProviderHost,
    ResourceSteps,
    make_urn,
    serialized_provider,
)
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE

TOKEN = "tf-fault-matrix-token"
BASE: dict[str, Any] = {
    "name": "fault-matrix", "model_name": "openai/gpt-oss-20b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 2}, "region": "eu-north1",
}
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
# Faults that retries, recovery or tolerance must absorb completely, per operation.
ALWAYS_ABSORBED = {"502", "503", "429-retry-after", "dropped", "slower-than-timeout", "extra-fields",
                   "alternate-shape"}
MUST_SUCCEED: dict[str, set[str]] = {
    "check": ALWAYS_ABSORBED,
    "create": ALWAYS_ABSORBED | {"500", "acted-then-500", "acted-then-dropped", "malformed-json", "truncated-json"},
    "poll": ALWAYS_ABSORBED | {"500", "acted-then-500", "acted-then-dropped", "malformed-json", "truncated-json"},
    "update": ALWAYS_ABSORBED | {"acted-then-dropped"},
    "read": ALWAYS_ABSORBED | {"acted-then-dropped"},
    "delete": ALWAYS_ABSORBED | {"acted-then-dropped"},
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(provision_seconds=0.3, delete_seconds=0.1, api_key=TOKEN) as emu:
        yield emu


def new_host(emulator: EmulatorProcess) -> ProviderHost:
    config = {"tokenfactory:apiKey": TOKEN, "tokenfactory:baseUrl": emulator.base_url}
    return ProviderHost(config=config, secret_keys=["tokenfactory:apiKey"],
                        env={"TOKENFACTORY_HTTP_TIMEOUT": str(CLIENT_TIMEOUT), "TOKENFACTORY_POLL_MAX_INTERVAL": "0.2"})


@pytest.fixture(scope="module")
def shared_host(emulator: EmulatorProcess) -> Iterator[ProviderHost]:
    with new_host(emulator) as host:
        yield host


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


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_fault_cell(operation: str, fault: str, emulator: EmulatorProcess, shared_host: ProviderHost) -> None:
    emulator.reset()
    provider = serialized_provider(DedicatedEndpointProvider())
    with new_host(emulator) if operation == "check" else _borrow(shared_host) as host:
        steps = ResourceSteps(host, provider, make_urn(RESOURCE_TYPE, f"{operation}-{fault}"))
        if operation in ("create", "poll"):
            steps.preview(BASE)  # templates fetched and the duplicate check done, as in `pulumi preview`
        elif operation != "check":
            steps.up(BASE)
        method, path = OPERATIONS[operation]
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

        if fault in MUST_SUCCEED[operation]:
            assert error is None, f"{operation} under {fault} should have been absorbed, got: {error}"
        if error is not None:
            assert error.strip() and "Traceback" not in error, error
            live_ids = {e["id"] for e in emulator.endpoints() if e["status"] != "deleting"}
            state_ids = {steps.id} if steps.id else set()
            assert live_ids == state_ids or any(i in error for i in live_ids ^ state_ids), (
                f"after the error the API holds {live_ids} but the state says {state_ids}: {error}")
            # The user runs the command again, with the API healthy now.
            if operation == "read":
                steps.refresh()
            elif operation == "delete":
                steps.refresh()
                steps.destroy()
            else:
                steps.up(program_after(operation))

        live = [e for e in emulator.endpoints() if e["status"] != "deleting"]
        if operation == "delete":
            assert live == [] and steps.id == "", f"delete left {live}"
            return
        assert [e["id"] for e in live] == [steps.id], f"the API holds {[e['id'] for e in live]}, state {steps.id}"
        expected = program_after(operation)["scaling"]
        assert live[0]["scaling"] == expected and steps.outputs["scaling"] == {k: float(v) for k, v in expected.items()}
        assert steps.outputs["routing_key"] == live[0]["routing_key"]
        steps.destroy()


def _faulted_requests(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    """Faulted requests in the log; a delayed one is logged when the server finishes it, so allow for that."""
    deadline = time.monotonic() + 2 * CLIENT_TIMEOUT + 1
    while True:
        faulted = [r for r in emulator.requests() if r.get("fault")]
        if faulted or time.monotonic() > deadline:
            return faulted
        time.sleep(0.1)


class _borrow:
    """Use the shared host as a context manager without closing it."""

    def __init__(self, host: ProviderHost) -> None:
        self.host = host

    def __enter__(self) -> ProviderHost:
        return self.host

    def __exit__(self, *exc: object) -> None:
        return None
