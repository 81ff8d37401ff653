"""A routing key the program sets, through the real Pulumi CLI against the emulator.

Routing keys are unique (the API refuses a second endpoint with a key another holds; the emulator
enforces it), so a replacement that keeps the key cannot be created beside the old endpoint: the
provider's diff says delete-before-replace, the preview shows it, and `up` deletes first. A new key
changes in place (one PATCH, the same endpoint).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devtools.programs import endpoint_program
from devtools.realcli import Backend, Program
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.acceptance import Scenario, Step, table

API_KEY = "tf-routing-key-canary-77a1"
POST = "POST /v0/dedicated_endpoints"
PATCH = "PATCH /v0/dedicated_endpoints/{id}"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"
DELETE_FIRST = ("delete-replaced", "replace", "create-replacement")
KEY = "dedicated/team-a/chat-0001"
NEW_KEY = "dedicated/team-a/chat-0002"
MODEL_CHANGE: dict[str, Any] = {"model_name": "openai/gpt-oss-20b"}


@pytest.fixture
def cli_emulator(emulator_factory: Any) -> Iterator[EmulatorProcess]:
    yield emulator_factory(provision_seconds=0.5, api_key=API_KEY)


def test_a_kept_routing_key_replaces_delete_first_and_a_new_key_changes_in_place(
        cli_backend: Backend, cli_emulator: EmulatorProcess) -> None:
    stack = cli_backend.stack("tokenfactory-key", "dev", endpoint_program(routing_key=KEY),
                              config={"tokenfactory:baseUrl": cli_emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    scenario = Scenario(cli_backend, cli_emulator, stack)
    ids: list[str] = []

    def holds(key: str) -> Any:
        def check(s: Scenario) -> None:
            assert s.outputs("gpt-120b")["routing_key"] == key
            [live] = s.emulator.endpoints()
            assert live["routing_key"] == key and live["id"] == s.resources()["gpt-120b"]["id"]
            ids.append(live["id"])
        return check

    def deleted_before_created(s: Scenario) -> None:
        calls = [f"{r['method']} {r['path']}" for r in s.emulator.requests() if r["method"] in ("POST", "DELETE")]
        assert calls[0] == f"DELETE /v0/dedicated_endpoints/{ids[-1]}" and calls[1].startswith("POST "), calls
        holds(KEY)(s)
        assert ids[-1] != ids[-2], "a replacement is a new endpoint"

    def same_endpoint_new_key(s: Scenario) -> None:
        holds(NEW_KEY)(s)
        assert ids[-1] == ids[-2], "a new routing key changes in place"

    scenario.run([
        Step("create with the program's routing key", ops={"gpt-120b": ("create",)}, mutations={POST: 1},
             endpoints=1, check=holds(KEY)),
        Step("a new model keeps the key: the old endpoint is deleted first",
             program=endpoint_program(routing_key=KEY, **MODEL_CHANGE), ops={"gpt-120b": DELETE_FIRST},
             mutations={POST: 1, DELETE: 1}, endpoints=1, check=deleted_before_created),
        Step("a new routing key changes in place", program=endpoint_program(routing_key=NEW_KEY, **MODEL_CHANGE),
             ops={"gpt-120b": ("update",)}, mutations={PATCH: 1}, endpoints=1, check=same_endpoint_new_key),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)}, mutations={DELETE: 1}, endpoints=0),
    ])
    print("\n" + table(scenario.records))


def _key_unknown_in_preview(key: str, **changes: Any) -> Program:
    """endpoint_program with `routing_key` the value of another resource's output as a preview sees it: unknown
    (known, and `key`, in the `up`)."""

    def program() -> None:
        import asyncio

        import pulumi

        value: Any = key
        if pulumi.runtime.is_dry_run():
            loop = asyncio.get_event_loop()
            result, known = loop.create_future(), loop.create_future()
            result.set_result(None)
            known.set_result(False)
            value = pulumi.Output(set(), result, known)
        endpoint_program(routing_key=value, **changes)()

    return program


def test_a_kept_routing_key_unknown_in_preview_is_previewed_delete_first_as_up_does_it(
        cli_backend: Backend, cli_emulator: EmulatorProcess) -> None:
    """The key is the program's, from a value the preview cannot know; `up` finds it the same, so it must delete
    first. Planned create-first, the preview would promise an overlap `up` does not make."""
    stack = cli_backend.stack("tokenfactory-key", "dev", endpoint_program(routing_key=KEY),
                              config={"tokenfactory:baseUrl": cli_emulator.base_url},
                              secrets={"tokenfactory:apiKey": API_KEY})
    Scenario(cli_backend, cli_emulator, stack).run([
        Step("create with the program's routing key", ops={"gpt-120b": ("create",)}, mutations={POST: 1},
             endpoints=1),
        Step("a new model, the key unknown in preview and the same in up: delete first in both",
             program=_key_unknown_in_preview(KEY, **MODEL_CHANGE), ops={"gpt-120b": DELETE_FIRST},
             mutations={POST: 1, DELETE: 1}, endpoints=1),
        Step("destroy", command="destroy", ops={"gpt-120b": ("delete",)}, mutations={DELETE: 1}, endpoints=0),
    ])
