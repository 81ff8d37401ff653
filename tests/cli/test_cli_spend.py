"""GPU spend on the real Pulumi CLI against the emulator: the lines on each resource's row, the outputs, the total.

With a price table in stack config, every step's own `pulumi preview` must attach the right spend
line to the right resource (the engine's diagnostic events carry the URN), the state's spend
outputs must be what `pulumi_tokenfactory.spend` computes from the state, and the
`tokenfactory_spend` stack output must show the total and, on a delete, the removed endpoint.
The raw preview text of the scale-up and of the replace is saved for the closing note.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from devtools.realcli import Backend, Program, resource_name
from pulumi_tokenfactory import spend
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.acceptance import Scenario, Step, table

API_KEY = "tf-spend-canary-8e2a41"
PRICES = {"currency": "USD", "prices": {"gpu-h100-sxm": 3.5, "gpu-h200-sxm": 5.0}}
TABLE = spend.parse_price_table(PRICES)
POST = "POST /v0/dedicated_endpoints"
PATCH = "PATCH /v0/dedicated_endpoints/{id}"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"
REPLACE = ("create-replacement", "replace", "delete-replaced")
SAVE_DIR = Path(os.environ.get("TOKENFACTORY_SPEND_PREVIEW_DIR", "/tmp/spend"))


def program(gpt: dict[str, Any] | None = None, small: bool = True) -> Program:
    """Two endpoints (gpt, and a second, 'small'), then the stack total, as a user's program ends."""

    def run() -> None:
        import pulumi_tokenfactory as tokenfactory

        args = {**SEED_EXAMPLE, **(gpt or {})}
        scaling = args.pop("scaling")
        tokenfactory.DedicatedEndpoint("gpt", scaling=tokenfactory.ScalingArgs(**scaling), **args)
        if small:
            tokenfactory.DedicatedEndpoint("small", **{**SEED_EXAMPLE, "name": "Small endpoint",
                                                       "scaling": {"min_replicas": 1, "max_replicas": 1}})
        tokenfactory.export_spend()

    return run


class Preview:
    """One `pulumi preview` of a step, with its text and the diagnostics the engine attached to our resources."""

    def __init__(self) -> None:
        self.text = ""
        self.lines: dict[str, list[str]] = {}
        self.stack_lines: list[str] = []

    def take(self, scenario: Scenario) -> None:
        out: list[str] = []
        events: list[auto.EngineEvent] = []
        scenario.stack.preview(on_output=out.append, on_event=events.append, color="never")
        self.text = "".join(line if line.endswith("\n") else line + "\n" for line in out)
        self.lines, self.stack_lines = {}, []
        for event in events:
            diag = event.diagnostic_event
            if diag is None:
                continue
            if diag.urn and f"::{RESOURCE_TYPE}::" in diag.urn:
                self.lines.setdefault(resource_name(diag.urn), []).append(diag.message.strip())
            else:
                self.stack_lines.append(diag.message.strip())


def reservation(**changes: Any) -> spend.Reservation:
    found = spend.reservation({**SEED_EXAMPLE, **changes})
    assert found is not None
    return found


@pytest.fixture
def cli_emulator(emulator_factory: Any) -> Iterator[EmulatorProcess]:
    yield emulator_factory(provision_seconds=0.5, api_key=API_KEY)


def test_spend_lines_outputs_and_total_on_the_real_cli(cli_backend: Backend, cli_emulator: EmulatorProcess) -> None:
    stack = cli_backend.stack("tokenfactory-spend", "dev", program(),
                              config={"tokenfactory:baseUrl": cli_emulator.base_url,
                                      spend.GPU_PRICES_CONFIG: json.dumps(PRICES)},
                              secrets={"tokenfactory:apiKey": API_KEY})
    scenario = Scenario(cli_backend, cli_emulator, stack)
    preview = Preview()
    base = reservation()
    scaled = reservation(scaling={"min_replicas": 2, "max_replicas": 2})
    more_gpus = reservation(scaling={"min_replicas": 2, "max_replicas": 2}, gpu_count=2)
    replaced = reservation(scaling={"min_replicas": 2, "max_replicas": 2}, gpu_count=2,
                           model_name="openai/gpt-oss-20b")

    def lines_are(expected: dict[str, list[str]]) -> Any:
        def check(s: Scenario) -> None:
            assert preview.lines == expected, f"preview lines {preview.lines}, expected {expected}"
            assert not [m for m in preview.stack_lines if "reserved" in m], \
                f"spend lines left on the Stack row: {preview.stack_lines}"
            outputs_match_spend(s)
        return check

    def outputs_match_spend(s: Scenario) -> None:
        total = s.stack.outputs()["tokenfactory_spend"].value
        expected: dict[str, spend.Reservation | None] = {}
        for name, resource in s.resources().items():
            outs = resource["outputs"]
            res = spend.reservation(outs)
            assert res is not None, f"{name}: no reservation from its state {outs}"
            cost = spend.hourly_cost(res, TABLE)
            assert cost is not None
            assert (outs["reserved_gpus"], outs["max_gpus"]) == (res.reserved_gpus, res.max_gpus), name
            assert (outs["hourly_cost_min"], outs["hourly_cost_max"], outs["cost_currency"]) == \
                (cost.minimum, cost.maximum, "USD"), name
            assert outs["__urn"] == f"urn:pulumi:dev::tokenfactory-spend::{RESOURCE_TYPE}::{name}"
            expected[name] = res
        assert total == spend.stack_total(expected, TABLE), f"stack total {total}"

    def save(name: str) -> Any:
        def check(s: Scenario) -> None:
            SAVE_DIR.mkdir(parents=True, exist_ok=True)
            (SAVE_DIR / name).write_text(preview.text, encoding="utf-8")
        return check

    def up_said(name: str, *expected: str) -> Any:
        """`pulumi up` put these lines (and the readiness wait's progress) under the endpoint in Diagnostics."""
        def check(s: Scenario) -> None:
            text = s.last_result.stdout
            (SAVE_DIR / f"up-{name}.txt").write_text(text, encoding="utf-8")
            section = text.split("Diagnostics:", 1)[-1].split("Outputs:", 1)[0]
            blocks = {m.group(1): m.group(2) for m in re.finditer(
                rf"^  {re.escape(RESOURCE_TYPE)} \((\w+)\):\n((?:    .*\n?)+)", section, re.M)}
            for line in expected:
                resource, _, message = line.partition(": ")
                assert message in blocks.get(resource, ""), f"{line!r} not under {resource} in:\n{text}"
        return check

    def both(*checks: Any) -> Any:
        def check(s: Scenario) -> None:
            for c in checks:
                c(s)
        return check

    scale_line = f"update: {spend.update_line(base, scaled, TABLE)}"
    gpus_line = f"update: {spend.update_line(scaled, more_gpus, TABLE)}"
    replace_line = spend.replace_line(more_gpus, replaced, TABLE)
    assert scale_line == "update: +1 gpu-h100-sxm reserved, +$3.50/h (1 -> 2)"
    assert gpus_line == "update: +2 gpu-h100-sxm reserved, +$7.00/h (2 -> 4)"
    assert "peak 8 reserved while both exist" in replace_line

    def no_change(s: Scenario) -> None:
        assert preview.lines == {}, f"a no-change preview printed {preview.lines}"
        assert "Outputs:" not in preview.text and "tokenfactory_spend" not in preview.text, preview.text
        outputs_match_spend(s)

    def delete_shows_in_the_outputs_diff(s: Scenario) -> None:
        assert preview.lines == {}, f"the provider is not called for a delete in preview: {preview.lines}"
        before, after = replaced.reserved_gpus + base.reserved_gpus, replaced.reserved_gpus
        assert re.search(r"^\s*- small\s*: 1$", preview.text, re.M), preview.text
        assert re.search(rf"^\s*~ reserved_gpus\s*: {before} => {after}$", preview.text, re.M), preview.text
        outputs_match_spend(s)

    scenario.run([
        Step("create two endpoints", before=preview.take, ops={"gpt": ("create",), "small": ("create",)},
             mutations={POST: 2}, endpoints=2,
             check=both(lines_are({"gpt": [f"new endpoint: {spend.create_line(base, TABLE)}"],
                                   "small": [f"new endpoint: {spend.create_line(base, TABLE)}"]}),
                        save("preview-create.txt"),
                        up_said("create", f"gpt: created: {spend.create_line(base, TABLE)}",
                                "gpt: is ready", f"small: created: {spend.create_line(base, TABLE)}"))),
        Step("scale gpt min 1 -> 2", program=program({"scaling": {"min_replicas": 2, "max_replicas": 2}}),
             before=preview.take, ops={"gpt": ("update",)}, mutations={PATCH: 1}, endpoints=2,
             check=both(lines_are({"gpt": [scale_line]}), save("preview-scale-up.txt"),
                        up_said("scale-up", f"gpt: updated: {spend.update_line(base, scaled, TABLE)}"))),
        Step("gpu_count 1 -> 2 updates gpt in place (the published API PATCHes it)",
             program=program({"scaling": {"min_replicas": 2, "max_replicas": 2}, "gpu_count": 2}),
             before=preview.take, ops={"gpt": ("update",)}, mutations={PATCH: 1}, endpoints=2,
             check=both(lines_are({"gpt": [gpus_line]}), save("preview-more-gpus.txt"),
                        up_said("more-gpus", f"gpt: updated: {spend.update_line(scaled, more_gpus, TABLE)}"))),
        Step("a new model replaces gpt (create before delete)",
             program=program({"scaling": {"min_replicas": 2, "max_replicas": 2}, "gpu_count": 2,
                              "model_name": "openai/gpt-oss-20b"}),
             before=preview.take, ops={"gpt": REPLACE}, mutations={POST: 1, DELETE: 1}, endpoints=2,
             check=both(lines_are({"gpt": [replace_line]}), save("preview-replace.txt"))),
        Step("delete small", program=program({"scaling": {"min_replicas": 2, "max_replicas": 2}, "gpu_count": 2,
                                              "model_name": "openai/gpt-oss-20b"}, small=False),
             before=preview.take, ops={"small": ("delete",)}, mutations={DELETE: 1}, endpoints=1,
             check=both(delete_shows_in_the_outputs_diff, save("preview-delete.txt"),
                        up_said("delete", f"small: deleted: {spend.delete_line(base, TABLE)}"))),
        Step("no change", before=preview.take, endpoints=1, check=no_change),
    ])
    print("\n" + table(scenario.records))
