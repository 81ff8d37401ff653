"""The GPU-spend policy pack through the real CLI: `pulumi preview --policy-pack ...`.

The pack runs as a binary analyzer plugin (examples/policy-pack/pulumi-analyzer-tokenfactory),
the engine's route for a pack when no Python language host is installed. A program whose
endpoint may autoscale past the ceiling is blocked with the policy's message, and its `up`
creates nothing; the compliant examples/basic passes and is created.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from devtools.programs import endpoint_program, example
from devtools.realcli import REPO, Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

PACK = REPO / "examples" / "policy-pack" / "pulumi-analyzer-tokenfactory"
API_KEY = "tf-policy-canary-77aa"
MANDATORY_CEILING = "tokenfactory-max-replicas-ceiling"


def _policy_events(events: list[auto.EngineEvent]) -> list[auto.events.PolicyEvent]:
    return [e.policy_event for e in events if e.policy_event is not None]


def test_pack_blocks_a_violating_program_and_passes_a_compliant_one(cli_backend: Backend,
                                                                    emulator_factory: Any) -> None:
    emulator: EmulatorProcess = emulator_factory(provision_seconds=0.3, api_key=API_KEY)
    stack = cli_backend.stack("tokenfactory-policy", "dev", endpoint_program(scaling={"min_replicas": 1,
                                                                                      "max_replicas": 12}),
                              config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    events: list[auto.EngineEvent] = []
    with pytest.raises(auto.CommandError) as blocked:
        stack.preview(policy_packs=[str(PACK)], on_event=events.append)
    violations = _policy_events(events)
    assert [(v.policy_name, v.enforcement_level) for v in violations] == [(MANDATORY_CEILING, "mandatory")]
    assert "sets scaling.max_replicas to 12, above the ceiling of 8" in violations[0].message
    assert MANDATORY_CEILING in str(blocked.value)
    with pytest.raises(auto.CommandError):
        stack.up(policy_packs=[str(PACK)])
    assert emulator.endpoints() == [], "a blocked up creates nothing"

    stack.workspace.program = example("basic")
    events.clear()
    stack.preview(policy_packs=[str(PACK)], on_event=events.append)
    assert [v for v in _policy_events(events) if v.enforcement_level == "mandatory"] == []
    stack.up(policy_packs=[str(PACK)])
    assert len(emulator.endpoints()) == 1
    stack.destroy()
    assert emulator.endpoints() == []
