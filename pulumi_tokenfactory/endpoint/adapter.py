"""The one place where the engine's property bags meet the endpoint's typed models.

The engine hands every call of `provider.DedicatedEndpointProvider` plain dicts: the inputs the
program declared (in a preview possibly holding unknown values; numbers as floats), the recorded
state, and the provider-only key `__urn` that the program surface adds so that lines reach the
resource's row. Here, once for every call:

* the URN is taken out, and put back into what goes back (a later delete's line needs it);
* inputs for a change are validated again and parsed into `EndpointInputs` (a skipped check can
  never reach the API), the recorded state into `EndpointState`;
* the call's lines go to its resource's row (`enginelog`), and the spend report hears of each step
  and adds the spend outputs (`spendreport`).

`controller.EndpointController` receives and returns typed values only; check and diff see bags
because their inputs may be unknown.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from ..host import routingkey
from ..host.enginelog import resource_label
from ..host.spendreport import SpendReport, urn_of, without_urn
from ..schema import URN_FIELD
from ..settings import GPU_PRICES
from .controller import ENGINE_LOG, EndpointController
from .fields import ABSENT_WHEN_UNSET, DEFAULT_READY_TIMEOUT_SECONDS
from .properties import EndpointState
from .validation import parse_inputs


class EngineAdapter:
    """`provider.DedicatedEndpointProvider`'s calls, from bags to typed values and back (see the module doc)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.controller = EndpointController(config)
        self._lock = threading.Lock()
        self._spend: SpendReport | None = None

    def _spend_report(self) -> SpendReport:
        """Built on first use, so a bad price table fails the first call, naming the setting."""
        with self._lock:
            if self._spend is None:
                self._spend = SpendReport(self.controller.settings.get(GPU_PRICES), ENGINE_LOG)
            return self._spend

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        urn = urn_of(news)
        with _row(news):
            outcome = self.controller.check(olds, without_urn(news), urn)
        inputs = outcome.inputs if urn is None else {**outcome.inputs, URN_FIELD: urn}  # never diffed
        if not outcome.failures:
            self._spend_report().checked(olds, inputs)
        return CheckResult(inputs, [_engine_failure(prop, reason) for prop, reason in outcome.failures])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = self.controller.diff(id_, olds, news, urn_of(news))
        self._spend_report().diffed(olds, news, changed=result.changes is True, replaces=bool(result.replaces),
                                    delete_before_replace=result.delete_before_replace is True)
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        report = self._spend_report()
        urn = urn_of(props)
        declared = without_urn(props)
        routingkey.settle({}, declared, urn)  # a caller that skipped check still sends a key
        with _row(props):
            endpoint_id, state = self.controller.create(parse_inputs(declared))
        report.created(props)
        return CreateResult(endpoint_id, report.outputs(state.output_props(), props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        self.controller.check_project(id_, props)
        state = self.controller.read(id_, without_urn(props))
        if state is None:
            return ReadResult("", {})
        report = self._spend_report()
        urn = urn_of(props)
        inputs = state.input_props() if urn is None else {**state.input_props(), URN_FIELD: urn}
        report.refreshed(inputs)
        return ReadResult(id_, report.outputs(state.output_props(), props), inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.controller.check_project(id_, olds)
        report = self._spend_report()
        desired = parse_inputs(without_urn(news))
        # What the state lacks comes from the program, except an input absent when unset: the state lacking
        # `custom_weights_id` says the endpoint has none, so the program's new value is a change to PATCH.
        filled = {k: v for k, v in desired.input_props().items() if k not in ABSENT_WHEN_UNSET}
        current = EndpointState.from_props({**filled, **without_urn(olds)})
        with _row(news):
            state = self.controller.update(id_, current, desired)
        report.updated(olds, news)
        return UpdateResult(report.outputs(state.output_props(), news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.controller.check_project(id_, props)
        report = self._spend_report()
        name = props.get("name")
        timeout = props.get("ready_timeout") or DEFAULT_READY_TIMEOUT_SECONDS
        with _row(props):
            self.controller.delete(id_, name if isinstance(name, str) and name else id_, float(timeout))
        report.deleted(props)


@contextmanager
def _row(props: Mapping[str, Any]) -> Iterator[None]:
    """Progress lines of this call belong on the resource's row: its URN, and its name should the URN be missing."""
    urn = urn_of(props)
    with ENGINE_LOG.resource(urn, resource_label(urn, dict(props))):
        yield


def _engine_failure(prop: str, reason: str) -> CheckFailure:
    """A check failure as the engine can print it.

    The engine looks a failure's property up as a top-level key of the inputs to show its value, so a
    nested path (`scaling.min_replicas`) printed as `property scaling.min_replicas value {<nil>} has a
    problem: ...`. A nested failure is therefore reported on the resource (no property), its reason
    starting with the path: `resource 'gpt' has a problem: scaling.min_replicas (3) must not exceed ...`.
    (Reporting it on `scaling` would print the whole object as a Go map.)
    """
    if "." not in prop:
        return CheckFailure(prop, reason)
    return CheckFailure("", reason if reason.startswith(prop) else f"{prop}: {reason}")
