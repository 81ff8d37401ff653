"""Adapters from the pure rules in :mod:`.rules` to pulumi-policy, and the pack's entry point.

:func:`gpu_spend_policies` only builds the ``Policy`` objects; :func:`serve` constructs
``pulumi_policy.PolicyPack``, which *starts the Analyzer gRPC server, prints its port and blocks forever*
(that is how pulumi-policy works), so only a pack's ``__main__.py`` should call it.

pulumi-policy hands properties over in proxies that raise ``UnknownValueError`` on any unknown value,
which would turn every rule that merely *looks* at an unknown into a "can't run policy during preview"
diagnostic: :func:`plain` unwraps them and puts :data:`.rules.UNKNOWN` in place of unknowns, so each
rule decides for itself (and stays silent).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import _DictProxy, _ListProxy  # the proxies pulumi-policy wraps props in
from pulumi_policy.secret import Secret

from pulumi_tokenfactory.schema import RESOURCE_TYPE

from .rules import RESOURCE_RULES, STACK_RULES, UNKNOWN, PolicyConfigError, ResourceRule, StackRule, is_unknown

#: Name the pack reports to the engine (and the key under which Pulumi Cloud knows it).
PACK_NAME = "tokenfactory-gpu-spend"
PACK_DESCRIPTION = ("GPU-spend guardrails for Nebius Token Factory dedicated endpoints: allowed GPU types "
                    "and models, replica and GPU ceilings, a stack-wide reserved-GPU budget, ownership.")


def plain(value: Any) -> Any:
    """A deep, plain copy of engine-provided properties, unknowns replaced by ``UNKNOWN``."""
    if isinstance(value, _DictProxy | _ListProxy):
        value = value["__target"]
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if is_unknown(value):
        return UNKNOWN
    return value


def _report(rule_name: str, check: Callable[[], list[str]], report_violation: ReportViolation) -> None:
    """Report each message of `check`, with no URN (a stack rule faults the stack, not one endpoint).

    Broken config is reported as a violation rather than raised: a raise would surface as a gRPC
    traceback, while a violation names the fix, and a mandatory rule with broken config then fails closed.
    """
    try:
        messages = check()
    except PolicyConfigError as error:
        messages = [f"Invalid configuration for policy {rule_name!r}: {error}"]
    for message in messages:
        report_violation(message, None)


def resource_validator(rule: ResourceRule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """The pulumi-policy validate callback for a per-endpoint rule."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type == RESOURCE_TYPE:
            _report(rule.name, lambda: rule.check(plain(args.props), args.get_config(), args.name), report_violation)

    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


def stack_validator(rule: StackRule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """The pulumi-policy validate callback for a stack rule."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        endpoints = [(r.name, plain(r.props)) for r in args.resources if r.resource_type == RESOURCE_TYPE]
        _report(rule.name, lambda: rule.check(endpoints, args.get_config()), report_violation)

    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


def gpu_spend_policies(enforcement_level: EnforcementLevel | None = None) -> list[Policy]:
    """All policies of the pack, each at its own enforcement level unless `enforcement_level` overrides.

    The override exists for rollouts (run everything as ADVISORY first); at run
    time the same is done with ``{"all": "advisory"}`` in ``--policy-pack-config``.
    Starts nothing.
    """
    def common(rule: ResourceRule | StackRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "description": rule.description,
            "enforcement_level": enforcement_level or EnforcementLevel(rule.enforcement),
            # Fresh dicts: PolicyConfigSchema keeps a reference, and the catalogue is shared.
            "config_schema": PolicyConfigSchema(
                properties={key: dict(spec) for key, spec in rule.config_schema.items()}),
            "display_name": rule.display_name,
            "severity": Severity.HIGH if rule.enforcement == "mandatory" else Severity.LOW,
            "tags": ["tokenfactory", "gpu-spend"],
            "remediation_steps": rule.remediation,
        }

    policies: list[Policy] = [
        ResourceValidationPolicy(validate=resource_validator(rule), **common(rule)) for rule in RESOURCE_RULES]
    policies += [StackValidationPolicy(validate=stack_validator(rule), **common(rule)) for rule in STACK_RULES]
    return policies


def _unbuffered_stdout() -> None:
    """Make the port line reach the engine even when Python was started without ``-u``.

    PolicyPack writes the port to ``sys.stdout.buffer`` and then sleeps without
    flushing; the CLI runs packs with ``python -u``, but ``python __main__.py``
    on a pipe would otherwise hold the port in a buffer forever.
    """
    try:
        sys.stdout.flush()
        raw = io.FileIO(sys.stdout.fileno(), "wb", closefd=False)
    except (AttributeError, OSError, ValueError):
        return  # no real stdout (embedded, or replaced by a test harness): leave it alone
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout = io.TextIOWrapper(raw, encoding=encoding, line_buffering=True, write_through=True)


def serve(
    name: str = PACK_NAME,
    *,
    enforcement_level: EnforcementLevel | None = None,
    initial_config: dict[str, EnforcementLevel | dict[str, Any]] | None = None,
) -> None:
    """Serve the pack to the Pulumi engine: blocks until the process is stopped.

    `initial_config` is the pack's built-in config (what ``--policy-pack-config``
    would say), for a team that wraps this pack with its own defaults.
    """
    _unbuffered_stdout()
    PolicyPack(
        name=name,
        policies=gpu_spend_policies(enforcement_level),
        enforcement_level=EnforcementLevel.ADVISORY,  # every policy sets its own; this is never used
        initial_config=initial_config,
        description=PACK_DESCRIPTION,
        display_name="Token Factory GPU spend",
        tags=["tokenfactory", "gpu-spend"],
    )
