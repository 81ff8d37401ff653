"""Fleet readiness on the real CLI: 20 endpoints of provisioning time D (see devtools/fleet.py).

Timings are asserted as multiples of D beyond the CLI's fixed cost measured in the same run, with
margins for a shared 2-core machine; the figures are printed for the record.
"""

from __future__ import annotations

import math

from devtools.fleet import measure
from devtools.realcli import CliInstall

COUNT = 20
D = 3.0


def test_fleet_readiness_with_and_without_host_widening(pulumi_cli: CliInstall) -> None:
    timing = measure(COUNT, D)
    print(f"\nfleet of {COUNT}, D = {D:g}s, CLI fixed cost {timing.fixed_cost_seconds:.2f}s: "
          f"default parallelism ({timing.default_parallelism}) {timing.widened_over_d:.2f} x D, "
          f"widening off {timing.narrow_over_d:.2f} x D, --parallel {COUNT} {timing.parallel_over_d:.2f} x D")
    engine_waves = math.ceil(COUNT / timing.default_parallelism)
    host_waves = math.ceil(COUNT / 4)  # the dynamic host's 4 worker threads, without widening
    # With one engine step per endpoint, the fleet is ready in about one provisioning time.
    assert timing.parallel_over_d <= 1.6
    # Under the default --parallel the engine itself admits only so many creates at once...
    assert engine_waves - 0.5 <= timing.widened_over_d <= engine_waves + 1.0
    # ...and without widening the host's 4 threads cap it lower still.
    assert timing.narrow_over_d >= host_waves - 0.5
    assert timing.narrow_over_d > timing.widened_over_d + 1.0
