"""Fleet readiness through the real Pulumi CLI: N endpoints, each provisioning in D seconds.

    .venv/bin/python -m benchmarks.cli_fleet [--count 20] [--provision-seconds 3]

(The measurement lives here, in repository tooling, so that tests/cli/test_cli_fleet.py and the
benchmark share it without the tests importing the benchmarks.)

Measures, in one run and on one machine: the CLI's fixed cost (`pulumi up` of a program
with one trivial resource, nothing to wait for), then `pulumi up` of N endpoints with the
provider host's thread widening on (the default) and off (`TOKENFACTORY_HOST_WIDENING=0`).
Reports each as a multiple of D beyond the fixed cost; the target is 1.2 x D with widening.
The first two use the engine's default parallelism (`--parallel` unset: 4 x GOMAXPROCS, so 8
steps at once on 2 cores: at most 8 endpoints provision together, whatever the provider does);
the third passes `--parallel N`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

from .realcli import Backend, Program, locate_cli

API_KEY = "tf-fleet-bench"
#: The CLI's default `--parallel` (v3.274: 4 x GOMAXPROCS, `cmd/pulumi/operations/up.go`).
ENGINE_DEFAULT_PARALLELISM = 4 * (os.cpu_count() or 1)


@dataclass
class FleetTiming:
    count: int
    provision_seconds: float
    fixed_cost_seconds: float
    widened_seconds: float
    narrow_seconds: float
    parallel_seconds: float
    """With widening and `--parallel N` (one engine step per endpoint at once)."""
    default_parallelism: int

    @property
    def widened_over_d(self) -> float:
        """`pulumi up` time beyond the CLI's fixed cost, as a multiple of D, with widening."""
        return (self.widened_seconds - self.fixed_cost_seconds) / self.provision_seconds

    @property
    def narrow_over_d(self) -> float:
        return (self.narrow_seconds - self.fixed_cost_seconds) / self.provision_seconds

    @property
    def parallel_over_d(self) -> float:
        return (self.parallel_seconds - self.fixed_cost_seconds) / self.provision_seconds


def fleet_program(count: int) -> Program:
    def program() -> None:
        import pulumi_tokenfactory as tokenfactory

        args = dict(SEED_EXAMPLE)
        scaling = args.pop("scaling")
        for index in range(count):
            tokenfactory.DedicatedEndpoint(f"fleet-{index:02d}", **{**args, "name": f"fleet endpoint {index:02d}"},
                                           scaling=tokenfactory.ScalingArgs(**scaling))

    return program


def trivial_program() -> None:
    import pulumi

    pulumi.export("nothing", "to wait for")


def _timed_up(backend: Backend, project: str, program: Program, emulator: EmulatorProcess,
              parallel: int | None = None) -> float:
    stack = backend.stack(project, "bench", program, config={"tokenfactory:baseUrl": emulator.base_url},
                          secrets={"tokenfactory:apiKey": API_KEY})
    started = time.monotonic()
    stack.up(parallel=parallel)
    took = time.monotonic() - started
    stack.destroy()
    return took


def measure(count: int, provision_seconds: float) -> FleetTiming:
    cli = locate_cli()
    with tempfile.TemporaryDirectory(prefix="cli-fleet-") as root, \
            EmulatorProcess(provision_seconds=provision_seconds, api_key=API_KEY) as emulator:
        base = {"TOKENFACTORY_POLL_MAX_INTERVAL": "0.25"}
        widened = Backend(cli, Path(root) / "widened", extra_env=base)
        narrow = Backend(cli, Path(root) / "narrow", extra_env={**base, "TOKENFACTORY_HOST_WIDENING": "0"})
        fixed = _timed_up(widened, "fleet-trivial", trivial_program, emulator)
        widened_s = _timed_up(widened, "fleet", fleet_program(count), emulator)
        narrow_s = _timed_up(narrow, "fleet", fleet_program(count), emulator)
        parallel_s = _timed_up(widened, "fleet", fleet_program(count), emulator, parallel=count)
        assert emulator.endpoints() == [], "every fleet was destroyed"
    return FleetTiming(count, provision_seconds, fixed, widened_s, narrow_s, parallel_s, ENGINE_DEFAULT_PARALLELISM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--provision-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    timing = measure(args.count, args.provision_seconds)
    print(json.dumps({**asdict(timing), "widened_over_d": round(timing.widened_over_d, 2),
                      "narrow_over_d": round(timing.narrow_over_d, 2),
                      "parallel_over_d": round(timing.parallel_over_d, 2)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
