"""An interrupted `pulumi up` on the real CLI: `kill -9` during a create-with-wait, then what a user is told.

Recorded step by step, each step asserted, so that the recovery work (adoption, which must
not depend on the engine's import) changes this test when it lands. Today's sequence:

1. `kill -9` of the CLI after the POST: the endpoint exists and bills; the state holds a
   pending `creating` operation; the dynamic-provider host is orphaned and keeps running.
2. The next `up` refuses: the file backend's lock; the CLI says to run `pulumi cancel`.
3. `pulumi cancel` removes the lock.
4. The next `up` warns of the pending create and our check refuses to create a twin,
   naming the endpoint and recommending `import_`: 0 POST.
5. Following that advice fails in the dynamic host (`KeyError: '__provider'`).
6. `pulumi refresh --import-pending-creates URN ID` succeeds but drops the pending create
   without adding a resource: the endpoint is left outside the state, still billing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from devtools.programs import example
from devtools.realcli import REPO, Backend
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness import processes

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


def _kill_cli_during_create(backend: Backend, emulator: EmulatorProcess) -> tuple[int, list[int]]:
    """Run `up` (in a driver process) and SIGKILL its CLI once the POST has landed.

    Returns the driver's exit status and the processes the CLI had started (its plugins)."""
    (backend.root / "extra_env.json").write_text(json.dumps(dict(backend.extra_env)))
    driver = subprocess.Popen([sys.executable, "-m", "tests.harness.cli_up", str(backend.cli.bin_dir),
                               str(backend.root), PROJECT, "dev", "basic"], cwd=REPO, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not emulator.endpoints():
            assert driver.poll() is None, f"the up ended ({driver.returncode}) before its POST"
            assert time.monotonic() < deadline, "the create never reached the API"
            time.sleep(0.05)
        clis = [pid for pid in processes.descendants(driver.pid) if _is_pulumi_up(processes.command_line(pid))]
        assert len(clis) == 1, f"expected one `pulumi up`: {[processes.command_line(p) for p in clis]}"
        left = processes.descendants(clis[0])
        processes.kill_all(clis)
        return driver.wait(60), left
    finally:
        if driver.poll() is None:
            driver.kill()


def test_kill_9_during_create_and_what_the_user_is_told(cli_backend: Backend, emulator_factory: Any,
                                                        orphans: list[int]) -> None:
    emulator: EmulatorProcess = emulator_factory(provision_seconds=4.0, api_key=API_KEY)
    stack = cli_backend.stack(PROJECT, "dev", example("basic"), config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})

    # 1. kill -9 after the POST.
    status, left = _kill_cli_during_create(cli_backend, emulator)
    orphans.extend(left)
    assert status != 0
    [endpoint] = emulator.endpoints()
    assert _pending(stack) == [("creating", URN)]
    assert _endpoints_in_state(stack) == []
    hosts = [pid for pid in left if "-m pulumi.dynamic" in processes.command_line(pid)]
    assert hosts and all(processes.alive(pid) for pid in hosts), "the orphaned provider host keeps running"

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
    assert endpoint["id"] in text and "interrupted `pulumi up`" in text and "import_" in text
    assert [r["method"] for r in emulator.requests() if r["method"] != "GET"] == [], "no POST, no twin"
    assert len(emulator.endpoints()) == 1

    # 5. The advice fails on the real engine.
    def adopt_with_import() -> None:
        import pulumi

        import pulumi_tokenfactory as tokenfactory

        args = dict(SEED_EXAMPLE)
        scaling = args.pop("scaling")
        tokenfactory.DedicatedEndpoint("gpt-120b", scaling=tokenfactory.ScalingArgs(**scaling), **args,
                                       opts=pulumi.ResourceOptions(import_=endpoint["id"]))

    stack.workspace.program = adopt_with_import
    with pytest.raises(auto.CommandError) as imported:
        stack.up()
    assert "KeyError: '__provider'" in str(imported.value)

    # 6. The CLI's own repair drops the pending create and adopts nothing: the endpoint is orphaned.
    cli_backend.run(PROJECT, "refresh", "--stack", "dev", "--yes",
                    "--import-pending-creates", URN, "--import-pending-creates", endpoint["id"])
    assert _pending(stack) == []
    assert _endpoints_in_state(stack) == []
    assert [e["id"] for e in emulator.endpoints()] == [endpoint["id"]], "still in the account, billing"

    httpx.delete(f"{emulator.base_url}/v0/dedicated_endpoints/{endpoint['id']}",
                 headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10).raise_for_status()
