"""An interrupted `pulumi up` on the real CLI: `kill -9` during a create-with-wait, then what a user is told.

Recorded step by step, each step asserted:

1. `kill -9` of the CLI after the POST: the endpoint exists and bills; the state holds a
   pending `creating` operation; the provider host notices its engine is gone and exits
   (without that it would serve forever).
2. The next `up` refuses: the file backend's lock; the CLI says to run `pulumi cancel`.
3. `pulumi cancel` removes the lock.
4. The next `up` warns of the pending create and our check refuses to create a twin,
   naming the endpoint and the one action that works, `adopt_id=...`: 0 POST.
5. `pulumi up` with `adopt_id` takes the endpoint over (0 POST); `pulumi refresh
   --clear-pending-creates` then drops the engine's record of the interrupted create.
6. Keeping or removing `adopt_id` then changes nothing; destroy deletes the one endpoint.

The CLI's own `pulumi refresh --import-pending-creates` (second test) drops the pending create
without adding a resource, orphaning the endpoint; adoption recovers it.

A SIGINT to the whole process tree (third test; some CI runners stop a job that way) reaches the
provider host too: the create stops waiting, answers with the endpoint as it is, and the engine
records it, so nothing bills outside the state; the output names the endpoint.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program, example
from devtools.realcli import REPO, Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness import processes
from tests.harness.acceptance import Scenario, Step

API_KEY = "tf-interrupt-canary-0c3d"
PROJECT = "tokenfactory-basic"
URN = f"urn:pulumi:dev::{PROJECT}::{RESOURCE_TYPE}::gpt-120b"


@pytest.fixture
def orphans() -> Iterator[list[int]]:
    """Processes the killed CLI leaves behind; ended at teardown whatever the test found."""
    found: list[int] = []
    yield found
    processes.kill_all(found)


def _pending(stack: auto.Stack) -> list[tuple[str, str]]:
    deployment = stack.export_stack().deployment or {}
    return [(op["type"], op["resource"]["urn"]) for op in deployment.get("pending_operations") or []]


def _endpoints_in_state(stack: auto.Stack) -> list[str]:
    deployment = stack.export_stack().deployment or {}
    return [r["id"] for r in deployment.get("resources", []) if r["type"] == RESOURCE_TYPE]


def _is_pulumi_up(argv: str) -> bool:
    words = argv.split()
    return bool(words) and words[0].endswith("/pulumi") and "up" in words[1:3]


def _start_up(backend: Backend, stdout: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """`pulumi up` of examples/basic, in a driver process of its own (see tests/harness/cli_up.py)."""
    (backend.root / "extra_env.json").write_text(json.dumps(dict(backend.extra_env)))
    return subprocess.Popen([sys.executable, "-m", "tests.harness.cli_up", str(backend.cli.bin_dir),
                             str(backend.root), PROJECT, "dev", "basic"], cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=stdout, stderr=subprocess.DEVNULL)


def _cli_once_posted(driver: subprocess.Popen[bytes], emulator: EmulatorProcess) -> int:
    """The driver's `pulumi up` process, once its create's POST has landed."""
    deadline = time.monotonic() + 120
    while not emulator.endpoints():
        assert driver.poll() is None, f"the up ended ({driver.returncode}) before its POST"
        assert time.monotonic() < deadline, "the create never reached the API"
        time.sleep(0.05)
    clis = [pid for pid in processes.descendants(driver.pid) if _is_pulumi_up(processes.command_line(pid))]
    assert len(clis) == 1, f"expected one `pulumi up`: {[processes.command_line(p) for p in clis]}"
    return clis[0]


def _kill_cli_during_create(backend: Backend, emulator: EmulatorProcess,
                            hosts: list[int]) -> tuple[int, list[int]]:
    """Run `up` (in a driver process) and SIGKILL its CLI once the POST has landed.

    Returns the driver's exit status and the processes the CLI had started (its plugins); the provider
    hosts among them are added to `hosts`."""
    driver = _start_up(backend)
    try:
        clis = [_cli_once_posted(driver, emulator)]
        left = processes.descendants(clis[0])
        hosts.extend(pid for pid in left if "-m pulumi.dynamic" in processes.command_line(pid))
        processes.kill_all(clis)
        return driver.wait(60), left
    finally:
        if driver.poll() is None:
            driver.kill()


def _interrupted(backend: Backend, emulator_factory: Any, orphans: list[int],
                 hosts: list[int] | None = None) -> tuple[auto.Stack, EmulatorProcess, dict[str, Any]]:
    """examples/basic's stack after `kill -9` of its first `up` once the POST landed: (stack, emulator, endpoint)."""
    emulator: EmulatorProcess = emulator_factory(provision_seconds=4.0, api_key=API_KEY)
    stack = backend.stack(PROJECT, "dev", example("basic"), config={"tokenfactory:baseUrl": emulator.base_url},
                          secrets={"tokenfactory:apiKey": API_KEY})
    status, left = _kill_cli_during_create(backend, emulator, hosts if hosts is not None else [])
    orphans.extend(left)
    assert status != 0
    [endpoint] = emulator.endpoints()
    return stack, emulator, endpoint


def test_kill_9_during_create_and_what_the_user_is_told(cli_backend: Backend, emulator_factory: Any,
                                                        orphans: list[int]) -> None:
    # 1. kill -9 after the POST.
    hosts: list[int] = []
    stack, emulator, endpoint = _interrupted(cli_backend, emulator_factory, orphans, hosts)
    assert _pending(stack) == [("creating", URN)]
    assert _endpoints_in_state(stack) == []
    assert hosts, "the killed CLI had started a provider host"
    deadline = time.monotonic() + 10
    while any(processes.alive(pid) for pid in hosts) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(processes.alive(pid) for pid in hosts), "the provider host must not outlive its engine"

    # 2. The next up meets the file backend's lock.
    with pytest.raises(auto.CommandError) as locked:
        stack.up()
    assert "the stack is currently locked" in str(locked.value) and "pulumi cancel" in str(locked.value)

    # 3. pulumi cancel.
    cancelled = cli_backend.run(PROJECT, "cancel", "--stack", "dev", "--yes")
    assert "has been canceled" in cancelled.stdout

    # 4. The next up: the engine's pending-create warning, and our check refuses the twin.
    emulator.clear_requests()
    with pytest.raises(auto.CommandError) as refused:
        stack.up()
    text = str(refused.value)
    assert "1 pending operations from previous deployment" in text and "interrupted while creating" in text
    assert endpoint["id"] in text and "interrupted `pulumi up`" in text and f"adopt_id={endpoint['id']!r}" in text
    assert [r["method"] for r in emulator.requests() if r["method"] != "GET"] == [], "no POST, no twin"
    assert len(emulator.endpoints()) == 1

    # 5. The advice works: the same program with adopt_id takes the endpoint over, with no POST.
    stack.workspace.program = endpoint_program(adopt_id=endpoint["id"])
    scenario = Scenario(cli_backend, emulator, stack)
    scenario.run([Step("up with adopt_id", ops={"gpt-120b": ("create",)}, mutations={}, endpoints=1)])
    assert _endpoints_in_state(stack) == [endpoint["id"]]
    assert any(f"takes over the existing endpoint {endpoint['id']}" in line for line in scenario.transcript)
    assert not any("for another resource" in line for line in scenario.transcript), "its own endpoint: no warning"
    # The engine keeps the interrupted create's record (and its warning) until a refresh clears it; the
    # endpoint, now in the state, stays.
    assert _pending(stack) == [("creating", URN)]
    emulator.clear_requests()
    cli_backend.run(PROJECT, "refresh", "--stack", "dev", "--yes", "--clear-pending-creates")
    assert _pending(stack) == [] and _endpoints_in_state(stack) == [endpoint["id"]]
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []

    # 6. Keeping or removing adopt_id afterwards changes nothing; destroy deletes the one endpoint.
    scenario.run([
        Step("adopt_id removed: nothing to do", program=endpoint_program(), endpoints=1),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)},
             mutations={"DELETE /v0/dedicated_endpoints/{id}": 1}, endpoints=0),
    ])
    assert [r["method"] for r in emulator.requests() if r["method"] == "POST"] == []


def test_the_clis_own_repair_orphans_the_endpoint_and_adoption_recovers_it(
        cli_backend: Backend, emulator_factory: Any, orphans: list[int]) -> None:
    """`pulumi refresh --import-pending-creates URN ID` looks like the fix, but drops the pending create
    without adding a resource (the engine's import cannot reach a dynamic provider): the endpoint is left
    outside the state, billing. The next up names it, and adopt_id brings it back."""
    stack, emulator, endpoint = _interrupted(cli_backend, emulator_factory, orphans)
    cli_backend.run(PROJECT, "cancel", "--stack", "dev", "--yes")
    cli_backend.run(PROJECT, "refresh", "--stack", "dev", "--yes",
                    "--import-pending-creates", URN, "--import-pending-creates", endpoint["id"])
    assert _pending(stack) == [] and _endpoints_in_state(stack) == []
    assert [e["id"] for e in emulator.endpoints()] == [endpoint["id"]], "still in the account, billing"
    with pytest.raises(auto.CommandError) as refused:
        stack.up()
    assert f"adopt_id={endpoint['id']!r}" in str(refused.value)
    stack.workspace.program = endpoint_program(adopt_id=endpoint["id"])
    Scenario(cli_backend, emulator, stack).run([
        Step("up with adopt_id", ops={"gpt-120b": ("create",)}, mutations={}, endpoints=1),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)},
             mutations={"DELETE /v0/dedicated_endpoints/{id}": 1}, endpoints=0),
    ])


def test_sigint_to_the_whole_tree_mid_create_records_the_endpoint_and_names_it(
        cli_backend: Backend, emulator_factory: Any, orphans: list[int], tmp_path: Any) -> None:
    # Provisioning far longer than any run: the signal always comes before it is ready, under any load. (A
    # deletion takes a fifth of it unless set: the destroy at the end would wait a minute for nothing.)
    emulator: EmulatorProcess = emulator_factory(provision_seconds=300.0, delete_seconds=1.0, api_key=API_KEY)
    stack = cli_backend.stack(PROJECT, "dev", example("basic"), config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    output = tmp_path / "up.txt"
    with output.open("w") as sink:
        driver = _start_up(cli_backend, stdout=sink)
    try:
        cli = _cli_once_posted(driver, emulator)
        time.sleep(1.0)  # into the wait for readiness
        tree = [cli, *processes.descendants(cli)]
        orphans.extend(tree)
        assert any("-m pulumi.dynamic" in processes.command_line(pid) for pid in tree), "no provider host"
        for pid in tree:
            processes.signal_quietly(pid, signal.SIGINT)
        driver.wait(90)
    finally:
        if driver.poll() is None:
            driver.kill()
    text = output.read_text()  # what the CLI printed (the driver's own CommandError traceback is not kept)
    [endpoint] = emulator.endpoints()
    # Recorded: in the state as it was when the signal came (before it was ready), no pending operation, and
    # the output names it. (The emulator's own status may have moved on since: it provisions regardless.)
    assert _endpoints_in_state(stack) == [endpoint["id"]], text
    [recorded] = [r for r in (stack.export_stack().deployment or {}).get("resources", [])
                  if r["type"] == RESOURCE_TYPE]
    assert recorded["outputs"]["status"] == "starting", "the signal came before it was ready"
    assert _pending(stack) == []
    assert f"interrupted while waiting for endpoint {endpoint['id']} to become ready" in text, text
    assert f"Endpoint {endpoint['id']} exists and is recorded in the state" in text
    assert "KeyboardInterrupt" not in text and "Traceback" not in text, text
    # The next up buys nothing: the same endpoint, now ready; destroy deletes it.
    emulator.clear_requests()
    cli_backend.run(PROJECT, "refresh", "--stack", "dev", "--yes")
    assert [r for r in emulator.requests() if r["method"] not in ("GET",)] == []
    Scenario(cli_backend, emulator, stack).run([
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)},
             mutations={"DELETE /v0/dedicated_endpoints/{id}": 1}, endpoints=0),
    ])
    assert [r for r in emulator.requests() if r["method"] == "POST"] == []
