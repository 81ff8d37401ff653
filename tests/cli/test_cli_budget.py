"""The stack GPU budget through the real CLI: `pulumi preview --policy-pack ... --policy-pack-config ...`.

A two-endpoint stack reserves 12 GPUs (gpt-120b: 2 x 4 gpu-h100-sxm, llama-70b: 1 x 4 gpu-h200-sxm),
$48.00/h at the configured prices. Against maxReservedGpus=10 and maxHourlyCost=$30.00/h:

* mandatory: the preview fails with both messages (each naming its limit and the total) and
  nothing is created, so a `pulumi up` that previews first (the CLI's default) stops there;
* but the engine runs stack policies only once every step is done: an `up --skip-preview` (what the
  Automation API's `up` runs) creates the endpoints first and only then fails. The last test pins
  that down, since the docs tell users to keep the preview in front of `up` for this reason;
* advisory: the preview warns with the same messages and passes;
* under budget (12 GPUs, $48.00/h allowed): no budget message, and `up` creates both endpoints;
  then a scale-up of llama-70b to 2 replicas (16 GPUs) is blocked at its preview.

The expected totals are computed with pulumi_tokenfactory.spend from the program's own arguments.
The raw text of the blocked preview goes to /tmp/spend/policy-blocked.txt for the closing note.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from devtools.realcli import REPO, Backend
from pulumi_tokenfactory import spend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

PACK = REPO / "examples" / "policy-pack" / "pulumi-analyzer-tokenfactory"
API_KEY = "tf-budget-canary-31c9"
BUDGET = "tokenfactory-stack-gpu-budget"
PRICES = {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5, "gpu-h200-sxm": 5.0}}
BLOCKED_OUTPUT = Path("/tmp/spend/policy-blocked.txt")

ENDPOINTS: dict[str, dict[str, Any]] = {
    "gpt-120b": {"name": "team-search-gpt-120b", "description": "team-search: reasoning, owner @alice",
                 "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
                 "gpu_count": 4, "scaling": {"min_replicas": 2, "max_replicas": 2}},
    "llama-70b": {"name": "team-search-llama-70b", "description": "team-search: rewriting, owner @bob",
                  "model_name": "meta-llama/Llama-3.3-70B-Instruct", "flavor_name": "base",
                  "gpu_type": "gpu-h200-sxm", "gpu_count": 4, "scaling": {"min_replicas": 1, "max_replicas": 2}},
}


def make_program(endpoints: dict[str, dict[str, Any]]) -> Callable[[], None]:
    def program() -> None:
        import pulumi_tokenfactory as tokenfactory

        for resource, args in endpoints.items():
            fields = dict(args)
            scaling = fields.pop("scaling")
            tokenfactory.DedicatedEndpoint(resource, scaling=tokenfactory.ScalingArgs(**scaling), **fields)

    return program


program = make_program(ENDPOINTS)


def expected_totals() -> tuple[int, float]:
    """Reserved GPUs and hourly cost of the program's endpoints, by the spend module the policy must use."""
    table = spend.parse_price_table(PRICES)
    outputs = [spend.spend_outputs(args, table) for args in ENDPOINTS.values()]
    return sum(o["reserved_gpus"] for o in outputs), sum(o["hourly_cost_min"] for o in outputs)


def policy_config(tmp_path: Path, level: str, **limits: Any) -> str:
    path = tmp_path / f"budget-{level}.json"
    path.write_text(json.dumps({BUDGET: {"enforcementLevel": level, **limits, "gpuHourlyPrices": PRICES}}))
    return str(path)


def budget_events(events: list[auto.EngineEvent]) -> list[auto.events.PolicyEvent]:
    return [e.policy_event for e in events if e.policy_event is not None and e.policy_event.policy_name == BUDGET]


@pytest.fixture
def budget_stack(cli_backend: Backend, emulator_factory: Any) -> tuple[auto.Stack, EmulatorProcess]:
    emulator: EmulatorProcess = emulator_factory(provision_seconds=0.3, api_key=API_KEY)
    stack = cli_backend.stack("tokenfactory-budget", "dev", program,
                              config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    return stack, emulator


def test_mandatory_budget_blocks_the_preview_naming_limit_and_total(
        budget_stack: tuple[auto.Stack, EmulatorProcess], tmp_path: Path) -> None:
    stack, emulator = budget_stack
    gpus, cost = expected_totals()
    assert (gpus, cost) == (12, 48.0)  # the premise of the limits below
    config = policy_config(tmp_path, "mandatory", maxReservedGpus=10, maxHourlyCost=30)
    events: list[auto.EngineEvent] = []
    lines: list[str] = []
    with pytest.raises(auto.CommandError) as blocked:
        stack.preview(policy_packs=[str(PACK)], policy_pack_configs=[config], on_event=events.append,
                      on_output=lines.append)
    text = "\n".join(lines)
    BLOCKED_OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    BLOCKED_OUTPUT.write_text(text + "\n")

    violations = budget_events(events)
    assert [v.enforcement_level for v in violations] == ["mandatory", "mandatory"]
    messages = [v.message.rstrip() for v in violations]  # the engine adds a newline
    gpu_message = f"The stack reserves {gpus} GPUs (gpt-120b: 8, llama-70b: 4), over the limit maxReservedGpus=10."
    cost_message = (f"The stack's reserved GPUs cost ${cost:.2f}/h (gpt-120b: $28.00, llama-70b: $20.00), over the "
                    f"limit maxHourlyCost=$30.00/h.")
    assert any(m.endswith(gpu_message) for m in messages), messages
    assert any(m.endswith(cost_message) for m in messages), messages
    assert gpu_message in text and cost_message in text  # what a person reads in the terminal
    assert BUDGET in str(blocked.value)
    assert API_KEY not in text and API_KEY not in str(blocked.value)
    assert emulator.endpoints() == [], "a blocked preview creates nothing"


def test_advisory_budget_warns_and_passes(budget_stack: tuple[auto.Stack, EmulatorProcess], tmp_path: Path) -> None:
    stack, emulator = budget_stack
    config = policy_config(tmp_path, "advisory", maxReservedGpus=10)
    events: list[auto.EngineEvent] = []
    stack.preview(policy_packs=[str(PACK)], policy_pack_configs=[config], on_event=events.append)
    [warning] = budget_events(events)
    assert warning.enforcement_level == "advisory"
    assert warning.message.rstrip().endswith("The stack reserves 12 GPUs (gpt-120b: 8, llama-70b: 4), over the limit "
                                    "maxReservedGpus=10.")
    assert emulator.endpoints() == []


def test_under_budget_passes_and_up_creates_the_stack(budget_stack: tuple[auto.Stack, EmulatorProcess],
                                                      tmp_path: Path) -> None:
    stack, emulator = budget_stack
    gpus, cost = expected_totals()
    config = policy_config(tmp_path, "mandatory", maxReservedGpus=gpus, maxHourlyCost=cost)
    events: list[auto.EngineEvent] = []
    stack.preview(policy_packs=[str(PACK)], policy_pack_configs=[config], on_event=events.append)
    assert budget_events(events) == []
    events.clear()
    stack.up(policy_packs=[str(PACK)], policy_pack_configs=[config], on_event=events.append)
    assert budget_events(events) == []  # the engine's stack check after the up sees the real outputs
    assert sorted(e["name"] for e in emulator.endpoints()) == sorted(a["name"] for a in ENDPOINTS.values())

    # A scale-up past the budget: the preview of the update sees the new inputs and blocks it.
    scaled = {**ENDPOINTS, "llama-70b": {**ENDPOINTS["llama-70b"], "scaling": {"min_replicas": 2, "max_replicas": 2}}}
    stack.workspace.program = make_program(scaled)
    events.clear()
    with pytest.raises(auto.CommandError):
        stack.preview(policy_packs=[str(PACK)], policy_pack_configs=[config], on_event=events.append)
    messages = [v.message.rstrip() for v in budget_events(events)]
    assert any(m.endswith(f"The stack reserves 16 GPUs (gpt-120b: 8, llama-70b: 8), over the limit "
                          f"maxReservedGpus={gpus}.") for m in messages), messages
    assert {e["name"]: e["scaling"]["min_replicas"] for e in emulator.endpoints()}["team-search-llama-70b"] == 1
    stack.destroy()
    assert emulator.endpoints() == []


def test_up_without_its_preview_is_checked_only_after_the_endpoints_exist(
        budget_stack: tuple[auto.Stack, EmulatorProcess], tmp_path: Path) -> None:
    stack, emulator = budget_stack
    config = policy_config(tmp_path, "mandatory", maxReservedGpus=10)
    events: list[auto.EngineEvent] = []
    with pytest.raises(auto.CommandError) as failed:
        stack.up(policy_packs=[str(PACK)], policy_pack_configs=[config], on_event=events.append)  # --skip-preview
    [violation] = budget_events(events)
    assert violation.enforcement_level == "mandatory" and "over the limit maxReservedGpus=10" in violation.message
    assert BUDGET in str(failed.value)
    assert len(emulator.endpoints()) == len(ENDPOINTS), "stack policies run after the steps: the preview is the gate"
    stack.destroy()
    assert emulator.endpoints() == []
