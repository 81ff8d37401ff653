"""Upgrade safety on the real CLI: stacks written by released versions keep working with this code.

Each `tests/fixtures/cli-stack-v*.json` is `pulumi stack export` of examples/basic's stack as
that release left it (recorded once by tests/fixtures/record_cli_stack.py from the release's
own code). Here it is imported into a fresh backend, its endpoint seeded into a fresh emulator
(the emulator's address swapped for this run's), and the current code refreshes it, finds no
drift, shows no change for the unchanged program, scales it in place and destroys it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program, example
from devtools.realcli import Backend
from pulumi_tokenfactory import spend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.acceptance import Scenario, Step

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDINGS = sorted(FIXTURES.glob("cli-stack-v*.json"))


def _recorder_api_key() -> str:
    """The token the recording stack was configured with: its (encrypted) default provider state holds it."""
    spec = importlib.util.spec_from_file_location("record_cli_stack", FIXTURES / "record_cli_stack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.API_KEY)


def test_there_is_a_recording_of_the_previous_release() -> None:
    assert [p.name for p in RECORDINGS] >= ["cli-stack-v0.1.0.json"]


@pytest.mark.parametrize("recording", RECORDINGS, ids=[p.stem for p in RECORDINGS])
def test_recorded_stack_refreshes_updates_and_destroys(recording: Path, cli_backend: Backend,
                                                       emulator_factory: Any) -> None:
    api_key = _recorder_api_key()
    emulator: EmulatorProcess = emulator_factory(provision_seconds=0.5, api_key=api_key)
    record = json.loads(recording.read_text().replace(json.loads(recording.read_text())["recorded_base_url"],
                                                      emulator.base_url))
    emulator.seed_endpoint(record["endpoint"])
    stack = cli_backend.stack(record["project"], record["stack"], example("basic"),
                              config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": api_key})
    stack.import_stack(auto.Deployment(version=3, deployment=record["deployment"]))
    scenario = Scenario(cli_backend, emulator, stack)
    endpoint_id = record["endpoint"]["id"]

    def same_endpoint(s: Scenario) -> None:
        assert s.resources()["gpt-120b"]["id"] == endpoint_id

    recorded_outputs: dict[str, Any] = {}

    def remember_outputs(s: Scenario) -> None:
        recorded_outputs.update(s.outputs("gpt-120b"))

    def only_the_spend_outputs_are_new(s: Scenario) -> None:
        same_endpoint(s)
        after = s.outputs("gpt-120b")
        changed = {k for k in set(after) | set(recorded_outputs) if after.get(k) != recorded_outputs.get(k)}
        assert changed == {"reserved_gpus", "max_gpus", "readiness", "project_id"}, f"refresh changed {changed}"
        assert after["readiness"] == "ready" and after["project_id"] == ""
        expected = spend.reservation(recorded_outputs)
        assert expected is not None and expected.reserved_gpus > 0
        assert (after["reserved_gpus"], after["max_gpus"]) == (expected.reserved_gpus, expected.max_gpus)

    scenario.run([
        # The engine reports no change; the state only gains the spend outputs added in 0.2.0, the readiness
        # added in 0.3.0 and the project added in 0.4.0 (fields.py: added=), new information about an old state
        # (no price table here, so the costs stay None).
        Step("refresh: no drift", command="refresh", ops={"gpt-120b": ("refresh",)}, endpoints=1,
             before=remember_outputs, check=only_the_spend_outputs_are_new),
        Step("unchanged program: nothing to do", endpoints=1, check=same_endpoint),
        Step("scale in place", program=endpoint_program(scaling={"min_replicas": 2, "max_replicas": 3}),
             ops={"gpt-120b": ("update",)}, mutations={"PATCH /v0/dedicated_endpoints/{id}": 1}, endpoints=1,
             check=same_endpoint),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)},
             mutations={"DELETE /v0/dedicated_endpoints/{id}": 1}, endpoints=0),
    ])
