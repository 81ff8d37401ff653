"""examples/basic through the real Pulumi CLI against the emulator: every user-visible lifecycle claim.

preview, create, a no-change preview, an in-place scale (0 POST), a replace on a model
change (created before the old one is deleted, one endpoint afterwards), drift found by
`pulumi refresh` and put back by `pulumi up`, destroy (0 endpoints). For every step the
preview announces exactly what the command then does (see tests/harness/acceptance.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from devtools.enginehost import ProviderHost, ResourceSteps, make_urn, serialized_provider
from devtools.programs import endpoint_program, example
from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE, URN_FIELD
from tests.harness.acceptance import Scenario, Step, table
from tests.harness.fidelity import RecordingHost, differences, engine_calls

basic_example = example("basic")
API_KEY = "tf-acceptance-canary-5d1f0c"
POST = "POST /v0/dedicated_endpoints"
PATCH = "PATCH /v0/dedicated_endpoints/{id}"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"
REPLACE = ("create-replacement", "replace", "delete-replaced")


@pytest.fixture
def cli_emulator(emulator_factory: Any) -> Iterator[EmulatorProcess]:
    """An emulator that requires the canary token and provisions in 1 s."""
    yield emulator_factory(provision_seconds=1.0, api_key=API_KEY)


def scale_in_console(min_replicas: int, max_replicas: int) -> Any:
    """A change made outside Pulumi, as someone in the dashboard would."""

    def act(scenario: Scenario) -> None:
        endpoint_id = scenario.resources()["gpt-120b"]["id"]
        httpx.patch(f"{scenario.emulator.base_url}/v0/dedicated_endpoints/{endpoint_id}",
                    headers={"Authorization": f"Bearer {API_KEY}"},
                    json={"scaling": {"min_replicas": min_replicas, "max_replicas": max_replicas}},
                    timeout=10).raise_for_status()

    return act


def test_basic_example_lifecycle_on_the_real_cli(cli_backend: Backend, cli_emulator: EmulatorProcess,
                                                 tmp_path: Path) -> None:
    stack = cli_backend.stack("tokenfactory-basic", "dev", basic_example,
                              config={"tokenfactory:baseUrl": cli_emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    scenario = Scenario(cli_backend, cli_emulator, stack, grpc_dir=tmp_path)
    ids: list[str] = []

    def remember_id(s: Scenario) -> None:
        ids.append(s.resources()["gpt-120b"]["id"])

    keys: list[str] = []

    def same_id(s: Scenario) -> None:
        assert s.resources()["gpt-120b"]["id"] == ids[-1], "an in-place change must keep the endpoint"
        remember_id(s)

    def same_id_and_key(s: Scenario) -> None:
        same_id(s)
        assert s.outputs("gpt-120b")["routing_key"] == keys[-1], "an in-place change keeps the routing key"

    def created_before_deleted(s: Scenario) -> None:
        calls = [f"{r['method']} {r['path']}" for r in s.emulator.requests()]
        post = next(i for i, c in enumerate(calls) if c.startswith("POST "))
        delete = next(i for i, c in enumerate(calls) if c.startswith("DELETE "))
        assert post < delete, f"the replacement must be created before the old one is deleted: {calls}"
        assert calls[delete].endswith(ids[-1]), "the old endpoint is the one deleted"
        new = s.outputs("gpt-120b")
        assert new["model_name"] == "openai/gpt-oss-20b" and s.resources()["gpt-120b"]["id"] != ids[-1]
        remember_id(s)

    def outputs_flow(s: Scenario) -> None:
        outputs = s.stack.outputs()
        state = s.outputs("gpt-120b")
        assert outputs["endpoint_id"].value == s.resources()["gpt-120b"]["id"]
        assert outputs["routing_key"].value == state["routing_key"]
        assert outputs["inference_base_url"].value == f"{s.emulator.base_url}/v1/"
        assert outputs["status"].value == "running" and outputs["readiness"].value == "ready"
        assert state["routing_key"].startswith("dedicated/openai/gpt-oss-120b-")
        keys.append(state["routing_key"])
        remember_id(s)

    def same_id_and_token_encrypted(s: Scenario) -> None:
        same_id(s)
        token_only_where_pulumi_encrypts_it(s)

    scaled: dict[str, Any] = {"scaling": {"min_replicas": 2, "max_replicas": 4}}
    scenario.run([
        Step("create (examples/basic as shipped)", ops={"gpt-120b": ("create",)}, mutations={POST: 1},
             endpoints=1, check=outputs_flow),
        Step("no change (the same endpoint, declared by the test's program)", program=endpoint_program(),
             endpoints=1, check=same_id),
        Step("scale 1..2 -> 2..4 in place", program=endpoint_program(**scaled), ops={"gpt-120b": ("update",)},
             mutations={PATCH: 1}, endpoints=1, check=same_id_and_key),
        Step("gpu_count 1 -> 2 in place (the published update request takes it)",
             program=endpoint_program(**scaled, gpu_count=2), ops={"gpt-120b": ("update",)},
             mutations={PATCH: 1}, endpoints=1, check=same_id_and_key),
        Step("model change replaces, create before delete",
             program=endpoint_program(**scaled, gpu_count=2, model_name="openai/gpt-oss-20b"),
             ops={"gpt-120b": REPLACE},
             mutations={POST: 1, DELETE: 1}, endpoints=1, check=created_before_deleted),
        Step("refresh records a console change", command="refresh", before=scale_in_console(3, 5),
             ops={"gpt-120b": ("refresh",)},  # the console's 3..5 also moves the spend outputs
             drift={"gpt-120b": ("max_gpus", "reserved_gpus", "scaling")}, endpoints=1, check=same_id),
        Step("up puts the program's scaling back", ops={"gpt-120b": ("update",)}, mutations={PATCH: 1},
             endpoints=1, check=same_id_and_token_encrypted),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)}, mutations={DELETE: 1}, endpoints=0),
    ])
    print("\n" + table(scenario.records))
    assert_token_nowhere(cli_backend, scenario)
    assert_stand_in_sends_what_the_engine_sent(scenario, cli_emulator.base_url)

def assert_token_nowhere(backend: Backend, scenario: Scenario) -> None:
    """The token is in no file of the backend, PULUMI_HOME or project, no CLI output and no engine event;
    the stack config holds it encrypted (the CLI decrypts it back, so the scan looks for the right thing)."""
    assert backend.run("tokenfactory-basic", "config", "get", "tokenfactory:apiKey", "--stack", "dev"
                       ).stdout.strip() == API_KEY
    assert scenario.transcript, "the scan needs the CLI's output"
    places = {"CLI output and engine events": "\n".join(scenario.transcript),
              "files under the backend, PULUMI_HOME and the project": backend.files_text(),
              "pulumi stack export": backend.run("tokenfactory-basic", "stack", "export", "--stack", "dev").stdout,
              "pulumi stack history": backend.run("tokenfactory-basic", "stack", "history", "--stack", "dev",
                                                  "--json").stdout}
    leaks = [where for where, text in places.items() if API_KEY in text]
    assert not leaks, f"the API token appears in: {', '.join(leaks)}"


def token_only_where_pulumi_encrypts_it(s: Scenario) -> None:
    """While the stack has resources, the token is in its default provider's inputs (the engine keeps the
    stack config there) as a secret: ciphertext in `stack export`, plain only with `--show-secrets`."""
    exported = s.backend.run("tokenfactory-basic", "stack", "export", "--stack", "dev").stdout
    shown = s.backend.run("tokenfactory-basic", "stack", "export", "--stack", "dev", "--show-secrets").stdout
    assert API_KEY not in exported and "ciphertext" in exported
    assert API_KEY in shown


#: The same steps as the CLI run above, for the stand-in: (command, program inputs as the SDK sends them).
#: DedicatedEndpoint also sends its own URN (`__urn`, for the spend lines on its row).
BASE = {**SEED_EXAMPLE, "region": "eu-north1",
        URN_FIELD: make_urn(RESOURCE_TYPE, "gpt-120b", stack="dev", project="tokenfactory-basic")}
_SCALED = {**BASE, "scaling": {"min_replicas": 2, "max_replicas": 4}}
_REPLACED = {**_SCALED, "gpu_count": 2, "model_name": "openai/gpt-oss-20b"}
STAND_IN_STEPS: list[tuple[str, dict[str, Any] | None]] = [
    ("up", BASE), ("up", BASE), ("up", _SCALED), ("up", {**_SCALED, "gpu_count": 2}), ("up", _REPLACED),
    ("refresh", None), ("up", _REPLACED), ("destroy", None),
]


def assert_stand_in_sends_what_the_engine_sent(scenario: Scenario, base_url: str) -> None:
    """Replay the scenario through `enginehost` (a fresh provider host per command, as the engine starts one)
    and compare its provider calls, command by command, with the engine's recorded ones."""
    assert [r.command for r in scenario.records] == [command for command, _ in STAND_IN_STEPS]
    config = {"tokenfactory:apiKey": API_KEY, "tokenfactory:baseUrl": base_url}
    steps = ResourceSteps(cast(ProviderHost, None), serialized_provider(DedicatedEndpointProvider()),
                          make_urn(RESOURCE_TYPE, "gpt-120b", stack="dev", project="tokenfactory-basic"))
    report: list[str] = []
    stack_has_provider = False
    for record, (command, program) in zip(scenario.records, STAND_IN_STEPS, strict=True):
        assert record.grpc_logs is not None
        for phase, log in zip(("preview", command), record.grpc_logs, strict=True):
            host = RecordingHost(project="tokenfactory-basic", env={"TOKENFACTORY_POLL_MAX_INTERVAL": "0.2"})
            with host:
                host.configure(config, ["tokenfactory:apiKey"], old_config=config if stack_has_provider else None,
                               runs_program=command == "up")
                steps.host = host
                if command == "refresh" and phase == "preview":  # the change the CLI run made before its refresh
                    httpx.patch(f"{base_url}/v0/dedicated_endpoints/{steps.id}", timeout=10,
                                headers={"Authorization": f"Bearer {API_KEY}"},
                                json={"scaling": {"min_replicas": 3, "max_replicas": 5}}).raise_for_status()
                _stand_in(steps, command, phase, program)
            found = differences(engine_calls(log), host.calls)
            report += [f"{record.title} / {phase}: {line}" for line in found]
            stack_has_provider = stack_has_provider or phase != "preview"
    assert not report, "the stand-in differs from the engine:\n" + "\n".join(report)


def _stand_in(steps: ResourceSteps, command: str, phase: str, program: dict[str, Any] | None) -> None:
    if command == "up":
        (steps.preview if phase == "preview" else steps.up)(program or {})
    elif command == "refresh":
        steps.preview_refresh() if phase == "preview" else steps.refresh()
    elif phase != "preview":
        steps.destroy()
