"""Every documented shape of `scaling` through the real Pulumi CLI against the emulator (issue 13, item 1).

`scaling=size.apply(lambda n: ScalingArgs(...))` used to fail inside Pulumi with
"unexpected input of type ScalingArgs": the SDK serializes only `@pulumi.input_type`
objects it finds inside an Output, and ScalingArgs was a dataclass. Here one stack holds an
endpoint per shape (a ScalingArgs, a dict, an Output of either, a ScalingArgs holding
Outputs, one derived from another endpoint's typed `scaling` output, and
the args-object and TypedDict forms of the constructor). preview, up and destroy run
through the real engine and the real dynamic-provider host; the emulator must then hold
each endpoint with exactly the declared bounds, and the stack outputs read back through
`ScalingOutput`'s attributes. (A secret `Output[ScalingArgs]` serializes too, under mocks in
tests/unit/test_surface.py; here it would make the state's `scaling` ciphertext, which the account
comparison of tests/harness/acceptance.py does not decrypt.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.realcli import Backend
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from tests.harness.acceptance import Scenario, Step, table

API_KEY = "tf-cli-args-canary-9e2b"
POST = "POST /v0/dedicated_endpoints"
DELETE = "DELETE /v0/dedicated_endpoints/{id}"
HARDWARE: dict[str, Any] = {"model_name": "openai/gpt-oss-20b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
                            "gpu_count": 1}
#: Logical name -> the bounds the emulator must hold for it.
EXPECTED: dict[str, dict[str, int]] = {
    "output-of-args-object": {"min_replicas": 1, "max_replicas": 3},
    "args-object": {"min_replicas": 1, "max_replicas": 3},
    "dict": {"min_replicas": 1, "max_replicas": 3},
    "output-of-dict": {"min_replicas": 1, "max_replicas": 3},
    "args-object-of-outputs": {"min_replicas": 1, "max_replicas": 3},
    "derived-from-an-output": {"min_replicas": 1, "max_replicas": 4},
    "args-class": {"min_replicas": 2, "max_replicas": 3},
    "typed-dict-unpacked": {"min_replicas": 1, "max_replicas": 2},
}


def every_shape() -> None:
    """The inline program: one endpoint per shape, `size` coming from an Output as in the issue's report."""
    import pulumi

    import pulumi_tokenfactory as tokenfactory

    size = pulumi.Output.from_input(pulumi.Config().require_int("size"))

    def endpoint(name: str, scaling: Any) -> tokenfactory.DedicatedEndpoint:
        return tokenfactory.DedicatedEndpoint(name, name=f"cli args {name}", scaling=scaling, **HARDWARE)

    first = endpoint("output-of-args-object", size.apply(lambda n: tokenfactory.ScalingArgs(min_replicas=1,
                                                                                             max_replicas=n)))
    endpoint("args-object", tokenfactory.ScalingArgs(min_replicas=1, max_replicas=3))
    endpoint("dict", {"min_replicas": 1, "max_replicas": 3})
    endpoint("output-of-dict", size.apply(lambda n: {"min_replicas": 1, "max_replicas": n}))
    endpoint("args-object-of-outputs", tokenfactory.ScalingArgs(min_replicas=pulumi.Output.from_input(1),
                                                                max_replicas=size))
    # A ScalingArgs built from another endpoint's typed output (attribute access on ScalingOutput).
    derived = endpoint("derived-from-an-output", first.scaling.apply(
        lambda s: tokenfactory.ScalingArgs(min_replicas=s.min_replicas, max_replicas=s.max_replicas + 1)))
    tokenfactory.DedicatedEndpoint("args-class", tokenfactory.DedicatedEndpointArgs(
        name="cli args args-class", scaling=size.apply(lambda n: tokenfactory.ScalingArgs(min_replicas=2,
                                                                                          max_replicas=n)),
        **HARDWARE), pulumi.ResourceOptions(depends_on=[first]))
    spec: tokenfactory.DedicatedEndpointArgsDict = {
        "name": "cli args typed-dict-unpacked", "model_name": HARDWARE["model_name"],
        "flavor_name": HARDWARE["flavor_name"], "gpu_type": HARDWARE["gpu_type"], "gpu_count": HARDWARE["gpu_count"],
        "scaling": {"min_replicas": 1, "max_replicas": 2}}
    tokenfactory.DedicatedEndpoint("typed-dict-unpacked", **spec)

    pulumi.export("first_max_replicas", first.scaling.apply(lambda s: s.max_replicas))
    pulumi.export("derived_scaling", derived.scaling)


@pytest.fixture
def cli_emulator(emulator_factory: Any) -> Iterator[EmulatorProcess]:
    yield emulator_factory(provision_seconds=1.0, api_key=API_KEY)


def test_every_scaling_shape_through_the_real_cli(cli_backend: Backend, cli_emulator: EmulatorProcess,
                                                   tmp_path: Path) -> None:
    stack = cli_backend.stack("tokenfactory-cli-args", "dev", every_shape,
                              config={"tokenfactory:baseUrl": cli_emulator.base_url, "size": "3"},
                              secrets={"tokenfactory:apiKey": API_KEY})
    scenario = Scenario(cli_backend, cli_emulator, stack)

    def account_holds_the_declared_bounds(s: Scenario) -> None:
        by_name = {e["name"]: e for e in s.emulator.endpoints()}
        held = {name: {k: int(v) for k, v in by_name[f"cli args {name}"]["scaling"].items()} for name in EXPECTED}
        assert held == EXPECTED
        outputs = s.stack.outputs()
        assert outputs["first_max_replicas"].value == 3
        assert {k: int(v) for k, v in outputs["derived_scaling"].value.items()} == {"min_replicas": 1,
                                                                                   "max_replicas": 4}

    scenario.run([
        Step("up: one endpoint per scaling shape", ops={name: ("create",) for name in EXPECTED},
             mutations={POST: len(EXPECTED)}, endpoints=len(EXPECTED), check=account_holds_the_declared_bounds),
        Step("up again: no change", endpoints=len(EXPECTED)),
        Step("destroy", command="destroy", ops={name: ("delete",) for name in EXPECTED},
             mutations={DELETE: len(EXPECTED)}, endpoints=0),
    ])
    print("\n" + table(scenario.records))
