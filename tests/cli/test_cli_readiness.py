"""wait_for_inference through the real Pulumi CLI, against an emulator whose endpoints 404 for a while after running.

The emulator has a routable gap G (`--routable-seconds`): a created endpoint, an enabled one or one
whose min_replicas rose reports `running`, yet its routing key answers inference 404 for G seconds
more. With `wait_for_inference=True`, `pulumi up` must end only once a real call is answered: a
dependent's first call, made the moment `up` returns, gets 200. With it off, `up` returns at
`running` and that same first call gets 404. Both directions are shown, with the up durations as
ratios to G and the probe requests the provider sent (counted in the emulator's request log).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.programs import endpoint_program
from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.acceptance import Scenario, Step, table

API_KEY = "tf-readiness-canary-77c1e2"
PROVISION, UPDATE, GAP = 1.0, 0.5, 4.0
POST = "POST /v0/dedicated_endpoints"
PATCH = "PATCH /v0/dedicated_endpoints/{id}"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"
CHAT = "/v1/chat/completions"


@dataclass
class UpRun:
    """One `pulumi up`, as a dependent right after it sees it."""

    seconds: float
    probes: int
    first_call: int


@pytest.fixture
def gap_emulator(emulator_factory: Any) -> EmulatorProcess:
    return emulator_factory(provision_seconds=PROVISION, update_seconds=UPDATE, routable_seconds=GAP,
                            api_key=API_KEY)


def time_every_up(scenario: Scenario, runs: list[UpRun]) -> None:
    """Wrap the stack's `up`: time it, count the probes it caused, and make a dependent's first call at once.

    The call is made before anything else once `up` returns (before the harness reads the state),
    so a 404 here is what a dependent starting right after `up` would get.
    """
    original: Callable[..., Any] = scenario.stack.up
    emulator = scenario.emulator

    def up(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        result = original(*args, **kwargs)
        seconds = time.monotonic() - started
        probes = sum(1 for r in emulator.requests() if r["method"] == "POST" and r["path"] == CHAT)
        routing_key = result.outputs["routing_key"].value
        answer = httpx.post(f"{emulator.base_url}{CHAT}", headers={"Authorization": f"Bearer {API_KEY}"},
                            json={"model": routing_key, "messages": [{"role": "user", "content": "hello"}]},
                            timeout=10)
        runs.append(UpRun(seconds, probes, answer.status_code))
        return result

    setattr(scenario.stack, "up", up)  # noqa: B010 - an instance override of the method, for this test only
    account_changes_only(emulator)


def account_changes_only(emulator: EmulatorProcess) -> None:
    """The harness counts every POST as a change; a chat completion changes nothing in the account.

    Probes (and the dependent's call) are counted by `time_every_up` instead, so each step's
    mutations stay the exact POST / PATCH / DELETE of the endpoints API.
    """
    every_call = emulator.call_counts

    def endpoint_calls() -> collections.Counter[str]:
        return collections.Counter({call: n for call, n in every_call().items() if " /v1/" not in call})

    setattr(emulator, "call_counts", endpoint_calls)  # noqa: B010 - as above


def probes_were_tiny(scenario: Scenario) -> None:
    """Every probe of the last up is one 1-token completion on the endpoint's routing key."""
    routing_key = scenario.outputs("gpt-120b")["routing_key"]
    bodies = [r["body"] for r in scenario.emulator.requests() if r["path"] == CHAT]
    assert bodies, "no probe was logged"
    assert all(b == {"model": routing_key, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
               for b in bodies[:-1]), bodies[:2]  # the last one is the dependent's own call


def test_up_waits_until_the_endpoint_answers_inference(cli_backend: Backend, gap_emulator: EmulatorProcess,
                                                        tmp_path: Path) -> None:
    stack = cli_backend.stack("tokenfactory-readiness", "dev", endpoint_program(wait_for_inference=True),
                              config={"tokenfactory:baseUrl": gap_emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    scenario = Scenario(cli_backend, gap_emulator, stack)
    runs: list[UpRun] = []
    time_every_up(scenario, runs)
    scaled: dict[str, Any] = {"scaling": {"min_replicas": 2, "max_replicas": 2}}
    scenario.run([
        Step("create with wait_for_inference", ops={"gpt-120b": ("create",)}, mutations={POST: 1}, endpoints=1,
             check=probes_were_tiny),
        Step("wait_for_inference alone changed: no diff", program=endpoint_program(wait_for_inference=False),
             endpoints=1),
        Step("min_replicas 1 -> 2 with wait_for_inference", program=endpoint_program(wait_for_inference=True,
                                                                                     **scaled),
             ops={"gpt-120b": ("update",)}, mutations={PATCH: 1}, endpoints=1, check=probes_were_tiny),
        Step("disable (nothing to probe)", program=endpoint_program(wait_for_inference=True, enabled=False, **scaled),
             ops={"gpt-120b": ("update",)}, mutations={PATCH: 1}, endpoints=1),
        Step("enable again with wait_for_inference", program=endpoint_program(wait_for_inference=True, **scaled),
             ops={"gpt-120b": ("update",)}, mutations={PATCH: 1}, endpoints=1, check=probes_were_tiny),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)}, mutations={DELETE: 1}, endpoints=0),
    ])
    print("\n" + table(scenario.records))
    created, unchanged, scaled_up, disabled, enabled = runs
    report("wait_for_inference=True", runs)
    assert created.first_call == 200, "the first call right after up must be answered"
    assert scaled_up.first_call == 200, "the first call right after the scale-up must be answered"
    # Routable only G after running, which is PROVISION (or UPDATE) after the POST (or PATCH).
    assert created.seconds >= PROVISION + GAP and scaled_up.seconds >= UPDATE + GAP, runs
    assert created.probes >= 2 and scaled_up.probes >= 2, "the gap must have been waited out with probes"
    # At the waiter's backoff (0.2 s ceiling on this backend) a G-second wait costs about G / 0.2 probes.
    assert created.probes <= GAP / 0.2 + 5 and scaled_up.probes <= GAP / 0.2 + 5, runs
    assert unchanged.probes == 0, "an up with no change sends no probe"
    assert (disabled.probes, disabled.first_call) == (0, 404), "a stop starts no replica: nothing is probed"
    assert enabled.first_call == 200 and enabled.probes >= 2 and enabled.seconds >= PROVISION + GAP, enabled


def test_without_it_up_returns_at_running_and_the_first_call_is_404(cli_backend: Backend,
                                                                    gap_emulator: EmulatorProcess) -> None:
    stack = cli_backend.stack("tokenfactory-readiness-off", "dev", endpoint_program(),
                              config={"tokenfactory:baseUrl": gap_emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    scenario = Scenario(cli_backend, gap_emulator, stack)
    runs: list[UpRun] = []
    time_every_up(scenario, runs)
    scenario.run([
        Step("create without wait_for_inference", ops={"gpt-120b": ("create",)}, mutations={POST: 1}, endpoints=1),
        Step("min_replicas 1 -> 2 without it", program=endpoint_program(scaling={"min_replicas": 2,
                                                                                 "max_replicas": 2}),
             ops={"gpt-120b": ("update",)}, mutations={PATCH: 1}, endpoints=1),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)}, mutations={DELETE: 1}, endpoints=0),
    ])
    report("wait_for_inference=False", runs)
    created, scaled_up = runs
    assert (created.first_call, scaled_up.first_call) == (404, 404), runs
    assert (created.probes, scaled_up.probes) == (0, 0), "off by default: no inference request at all"
    assert created.seconds < PROVISION + GAP, "up returned before the endpoint was routable"


def test_a_refused_pair_of_options_fails_the_preview_naming_both(cli_backend: Backend,
                                                                 gap_emulator: EmulatorProcess) -> None:
    stack = cli_backend.stack("tokenfactory-readiness-pair", "dev",
                              endpoint_program(wait_for_inference=True, wait_for_ready=False),
                              config={"tokenfactory:baseUrl": gap_emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    gap_emulator.clear_requests()
    with pytest.raises(Exception, match=r"wait_for_inference=True requires wait_for_ready=True") as caught:
        stack.preview()
    assert API_KEY not in str(caught.value)
    assert gap_emulator.requests() == [], "refused before any API call"


def test_a_create_never_answered_within_ready_timeout_is_deleted_again(cli_backend: Backend,
                                                                      emulator_factory: Any) -> None:
    """The same rule as a create that never becomes ready: nothing half-made is left billing."""
    slow = emulator_factory(provision_seconds=PROVISION, routable_seconds=600, api_key=API_KEY)
    stack = cli_backend.stack("tokenfactory-readiness-timeout", "dev",
                              endpoint_program(wait_for_inference=True, ready_timeout=PROVISION + 3),
                              config={"tokenfactory:baseUrl": slow.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    expected = (r"did not answer inference within ready_timeout \(4s; last answer: 404, \d+ probes\)\. "
                r"The endpoint ep-\w+ was deleted again so that nothing is left running or billed")
    with pytest.raises(Exception, match=expected) as caught:
        stack.up()
    assert API_KEY not in str(caught.value)
    assert slow.endpoints() == [], "the endpoint must be gone"
    recorded = (stack.export_stack().deployment or {}).get("resources", [])
    assert RESOURCE_TYPE not in {r["type"] for r in recorded}, "nothing recorded in the state"
    calls = slow.call_counts()
    assert calls["DELETE /v0/dedicated_endpoints/{id}"] == 1 and calls["POST /v1/chat/completions"] >= 2, calls


def report(title: str, runs: list[UpRun]) -> None:
    print(f"\n{title} (G = {GAP:g} s, provisioning {PROVISION:g} s, update {UPDATE:g} s):")
    for index, run in enumerate(runs):
        print(f"  up #{index + 1}: {run.seconds:.2f} s = {run.seconds / GAP:.2f} G, {run.probes} probe requests, "
              f"first call after up: HTTP {run.first_call}")
