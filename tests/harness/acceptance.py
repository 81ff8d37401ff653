"""Acceptance scenarios on the real Pulumi CLI, written as lists of steps.

In the spirit of the Terraform scaffolding's `TestStep` lists: each `Step` is one
command (`up`, `refresh` or `destroy`) after an optional program or config change or
out-of-band action, with what must follow:

* the operations the engine plans, per resource (read from the engine's events);
* **preview == up**: the command's own preview (`preview`, `preview_refresh`,
  `preview_destroy`) announces exactly the (resource, operation) pairs the command
  then performs, and makes no mutating API request;
* the exact mutating API requests (POST / PATCH / DELETE) the command sends;
* the account afterwards: how many endpoints, and that each endpoint in the state is in
  the account with the state's id, name, scaling and routing key (no orphan, no twin).

Every step's figures are kept in `Scenario.records` for the closing table.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from pulumi import automation as auto

from devtools.realcli import Backend, Program, resource_name, stack_resources
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.schema import RESOURCE_TYPE

MUTATING = ("POST", "PATCH", "DELETE")
Ops = dict[str, tuple[str, ...]]


@dataclass
class Step:
    """One command of a scenario and what it must show and do."""

    title: str
    command: Literal["up", "refresh", "destroy"] = "up"
    program: Program | None = None
    """The program from this step on; None keeps the previous one."""
    config: Mapping[str, str] | None = None
    """Stack config set before this step (plain values)."""
    before: Callable[[Scenario], None] | None = None
    """An out-of-band action before the command, e.g. a change made in the console."""
    ops: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Operations other than `same`, per resource name, in the order the engine emits them."""
    mutations: Mapping[str, int] = field(default_factory=dict)
    """Exact mutating requests, by `METHOD route` (e.g. `POST /v0/dedicated_endpoints`)."""
    endpoints: int | None = None
    """Endpoints in the account afterwards (None: not checked)."""
    drift: Mapping[str, tuple[str, ...]] | None = None
    """For refresh: the output keys each resource's refresh changed."""
    check: Callable[[Scenario], None] | None = None
    """Further assertions on the scenario after the command."""


@dataclass
class StepRecord:
    """What one step showed, for reports."""

    title: str
    command: str
    preview_ops: Ops
    ops: Ops
    mutations: dict[str, int]
    endpoints: int
    grpc_logs: tuple[Path, Path] | None = None
    """(preview, command) gRPC logs of the engine, when recorded."""


def _is_engine_resource(type_: str) -> bool:
    """The stack itself and default providers: the engine's bookkeeping, not the program's resources."""
    return type_ == "pulumi:pulumi:Stack" or type_.startswith("pulumi:providers:")


def _ops(events: list[auto.EngineEvent]) -> Ops:
    found: dict[str, list[str]] = collections.defaultdict(list)
    for event in events:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            if meta.op.value != "same" and not _is_engine_resource(meta.type):
                found[resource_name(meta.urn)].append(meta.op.value)
    return {name: tuple(ops) for name, ops in found.items()}


def _refreshed(events: list[auto.EngineEvent]) -> set[str]:
    """Resources whose refresh the engine reported as a change (its outputs event says `update`)."""
    return {resource_name(e.res_outputs_event.metadata.urn) for e in events
            if e.res_outputs_event is not None and e.res_outputs_event.metadata.op.value == "update"
            and not _is_engine_resource(e.res_outputs_event.metadata.type)}


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))


def _mutations(emulator: EmulatorProcess) -> dict[str, int]:
    return {call: n for call, n in emulator.call_counts().items() if call.split(" ", 1)[0] in MUTATING}


class Scenario:
    """One stack walked through steps against one emulator."""

    def __init__(self, backend: Backend, emulator: EmulatorProcess, stack: auto.Stack,
                 grpc_dir: Path | None = None) -> None:
        """With `grpc_dir`, each preview and command records the engine's gRPC traffic (`PULUMI_DEBUG_GRPC`)
        into a file of its own there, named in the step's record."""
        self.grpc_dir = grpc_dir
        self.backend = backend
        self.emulator = emulator
        self.stack = stack
        self.records: list[StepRecord] = []
        self.last_result: Any = None
        #: Everything the CLI printed, and every engine event, over all steps (for secret scans).
        self.transcript: list[str] = []

    def resources(self) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in stack_resources(self.stack).items() if r["type"] == RESOURCE_TYPE}

    def outputs(self, name: str) -> dict[str, Any]:
        return dict(self.resources()[name]["outputs"])

    def run(self, steps: list[Step]) -> None:
        for step in steps:
            try:
                self._run(step)
            except AssertionError as failure:
                raise AssertionError(f"step {step.title!r}: {failure}") from failure

    def _run(self, step: Step) -> None:
        if step.program is not None:
            self.stack.workspace.program = step.program
        if step.config:
            self.stack.set_all_config({k: auto.ConfigValue(v) for k, v in step.config.items()})
        if step.before is not None:
            step.before(self)
        preview_events: list[auto.EngineEvent] = []
        events: list[auto.EngineEvent] = []
        outputs_before = {name: r.get("outputs", {}) for name, r in self.resources().items()}
        self.emulator.clear_requests()
        say = self.transcript.append
        logs = self._grpc_logs(len(self.records), step.command)
        self._record_grpc(logs[0] if logs else None)
        if step.command == "up":
            self.stack.preview(on_event=preview_events.append, on_output=say)
        elif step.command == "refresh":
            self.stack.preview_refresh(on_event=preview_events.append, on_output=say)
        else:
            self.stack.preview_destroy(on_event=preview_events.append, on_output=say)
        preview_mutations = _mutations(self.emulator)
        assert preview_mutations == {}, f"preview sent mutating requests: {preview_mutations}"
        self.emulator.clear_requests()
        self._record_grpc(logs[1] if logs else None)
        if step.command == "up":
            self.last_result = self.stack.up(on_event=events.append, on_output=say)
        elif step.command == "refresh":
            self.last_result = self.stack.refresh(on_event=events.append, on_output=say)
        else:
            self.last_result = self.stack.destroy(on_event=events.append, on_output=say)
        self.transcript.extend(repr(event) for event in preview_events + events)
        mutations = _mutations(self.emulator)
        preview_ops, ops = _ops(preview_events), _ops(events)
        endpoints = self.emulator.endpoints()
        self._record_grpc(None)
        self.records.append(StepRecord(step.title, step.command, preview_ops, ops, mutations, len(endpoints), logs))
        assert preview_ops == ops, f"preview announced {preview_ops}, {step.command} performed {ops}"
        assert ops == dict(step.ops), f"operations {ops}, expected {dict(step.ops)}"
        assert mutations == dict(step.mutations), f"mutating requests {mutations}, expected {dict(step.mutations)}"
        if step.drift is not None:
            outputs_after = {name: r.get("outputs", {}) for name, r in self.resources().items()}
            drift = {name: _changed_keys(outputs_before.get(name, {}), outputs_after.get(name, {}))
                     for name in outputs_after}
            drift = {name: keys for name, keys in drift.items() if keys}
            assert drift == dict(step.drift), f"refresh changed {drift} in the state, expected {dict(step.drift)}"
            assert _refreshed(events) == set(drift), f"the engine reported {_refreshed(events)} as changed"
        if step.endpoints is not None:
            assert len(endpoints) == step.endpoints, f"{len(endpoints)} endpoints in the account: {endpoints}"
        self.assert_state_matches_account()
        if step.check is not None:
            step.check(self)

    def _grpc_logs(self, index: int, command: str) -> tuple[Path, Path] | None:
        if self.grpc_dir is None:
            return None
        return (self.grpc_dir / f"{index:02d}-preview-{command}.jsonl", self.grpc_dir / f"{index:02d}-{command}.jsonl")

    def _record_grpc(self, path: Path | None) -> None:
        env = cast(dict[str, str], self.stack.workspace.env_vars)  # the dict Backend.stack handed over
        if path is None:
            env.pop("PULUMI_DEBUG_GRPC", None)
        else:
            env["PULUMI_DEBUG_GRPC"] = str(path)

    def assert_state_matches_account(self) -> None:
        """Each endpoint in the state is in the account, as the state records it, and owned once."""
        account = {e["id"]: e for e in self.emulator.endpoints()}
        ids = [r["id"] for r in self.resources().values()]
        assert len(ids) == len(set(ids)), f"two resources hold one endpoint: {ids}"
        for name, resource in self.resources().items():
            endpoint = account.get(resource["id"])
            assert endpoint is not None, f"{name} holds {resource['id']}, which is not in the account"
            outputs = resource["outputs"]
            for key in ("name", "routing_key"):
                assert outputs[key] == endpoint[key], f"{name}.{key}: state {outputs[key]!r}, API {endpoint[key]!r}"
            assert _ints(outputs["scaling"]) == _ints(endpoint["scaling"]), \
                f"{name}.scaling: state {outputs['scaling']}, API {endpoint['scaling']}"


def _ints(scaling: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in scaling.items()}


def table(records: list[StepRecord]) -> str:
    """The preview == up table of a scenario, for reports and the closing note."""
    rows = ["| step | command | preview announced | performed | mutating requests | endpoints |",
            "|---|---|---|---|---|---|"]
    for r in records:
        def fmt(ops: Ops) -> str:
            return "; ".join(f"{name}: {'+'.join(o)}" for name, o in sorted(ops.items())) or "no changes"
        muts = ", ".join(f"{k} x{v}" for k, v in sorted(r.mutations.items())) or "none"
        rows.append(f"| {r.title} | {r.command} | {fmt(r.preview_ops)} | {fmt(r.ops)} | {muts} | {r.endpoints} |")
    return "\n".join(rows)
