"""examples/multi-stack through the real CLI: two stacks in one backend, wired by a StackReference.

The producer owns the endpoint; the consumer reads its `routing_key` through
`pulumi.StackReference("organization/tokenfactory-producer/dev")` and writes it into an
app config file. Replacing the producer's endpoint (a model change) gives it a new
routing key, which the consumer's next preview shows as an update of its file, and its
up writes. The consumer never calls the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools.programs import example
from devtools.realcli import REPO, Backend, CliInstall
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.acceptance import Scenario, Step, table

EXAMPLE = REPO / "examples" / "multi-stack"
API_KEY = "tf-multistack-canary-41c7"
POST = "POST /v0/dedicated_endpoints"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"
REPLACE = ("create-replacement", "replace", "delete-replaced")
#: The engine reads a StackReference on every run of the consumer.
READ_REFERENCE = {"producer": ("read",)}


def test_consumer_follows_the_producers_endpoint_through_a_stack_reference(
        pulumi_cli: CliInstall, tmp_path: Path, emulator_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    consumer_dir = str(EXAMPLE / "consumer")
    monkeypatch.syspath_prepend(consumer_dir)  # the inline program imports app_config_file, as the CLI would
    # The provider host imports app_config_file.AppConfigFileProvider by reference: give it the same path.
    backend = Backend(pulumi_cli, tmp_path / "pulumi",
                      extra_env={"PYTHONPATH": consumer_dir, "TOKENFACTORY_POLL_MAX_INTERVAL": "0.2"})
    emulator: EmulatorProcess = emulator_factory(provision_seconds=0.5, api_key=API_KEY)
    app_config = tmp_path / "app-config.json"

    producer = Scenario(backend, emulator, backend.stack(
        "tokenfactory-producer", "dev", example("multi-stack/producer"),
        config={"tokenfactory:baseUrl": emulator.base_url}, secrets={"tokenfactory:apiKey": API_KEY}))
    consumer = Scenario(backend, emulator, backend.stack(
        "tokenfactory-consumer", "dev", example("multi-stack/consumer"),
        config={"producerStack": "organization/tokenfactory-producer/dev", "configPath": str(app_config)}))

    def file_holds_producers_key(_: Scenario) -> None:
        written = json.loads(app_config.read_text())
        assert written["model"] == producer.outputs("chat-dev")["routing_key"]
        assert written["base_url"] == f"{emulator.base_url}/v1/"

    producer.run([Step("producer: create", ops={"chat-dev": ("create",)}, mutations={POST: 1}, endpoints=1)])
    consumer.run([Step("consumer: create the app config", ops={**READ_REFERENCE, "chat-app-config": ("create",)},
                       endpoints=1, check=file_holds_producers_key)])
    old_key = producer.outputs("chat-dev")["routing_key"]
    producer.run([Step("producer: model change replaces the endpoint", config={"model": "openai/gpt-oss-20b"},
                       ops={"chat-dev": REPLACE}, mutations={POST: 1, DELETE: 1}, endpoints=1)])
    assert producer.outputs("chat-dev")["routing_key"] != old_key
    consumer.run([Step("consumer: follows the new routing key",
                       ops={**READ_REFERENCE, "chat-app-config": ("update",)}, endpoints=1,
                       check=file_holds_producers_key),
                  Step("consumer: nothing left to do", ops=READ_REFERENCE, endpoints=1)])
    consumer.run([Step("consumer: destroy", command="destroy",
                       ops={"chat-app-config": ("delete",), "producer": ("discard",)})])
    producer.run([Step("producer: destroy", command="destroy", ops={"chat-dev": ("delete",)}, mutations={DELETE: 1},
                       endpoints=0)])
    assert not app_config.exists()
    print("\n" + table(producer.records + consumer.records))
