"""Thread lending on the real CLI, on both of its paths (host/hostpool.py; the trade-off: sdk-docs/architecture.md).

Six endpoints provisioning in D seconds, more than the host's 4 threads and fewer than the engine's
default `--parallel` (8 on 2 cores), so the provider host is what limits them. The order of the
POSTs shows whether the host lent threads, without timing the whole `up`: lent, all six creates are
in flight before the first endpoint can be ready; not lent, the 5th and 6th POST wait until a create
has finished, at least D after the first. Each way `up` must succeed with six endpoints; the host
must warn exactly once when it cannot lend (an untested SDK, forced here through a sitecustomize on
the host's PYTHONPATH) and never when it can or was told not to.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from devtools.fleet import fleet_program
from devtools.realcli import Backend, CliInstall
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

COUNT = 6
D = 1.5
API_KEY = "tf-hostpool-cli-7c2e90"
WARNING = "provider-host thread lending is off"


def _post_spread(emulator: EmulatorProcess) -> float:
    """Seconds between the first and the last create the API received."""
    posts = [datetime.fromisoformat(r["time"]) for r in emulator.requests()
             if r["method"] == "POST" and r["path"] == "/v0/dedicated_endpoints"]
    assert len(posts) == COUNT, f"expected {COUNT} creates, got {len(posts)}"
    return (max(posts) - min(posts)).total_seconds()


def _up_and_down(cli: CliInstall, root: Path, emulator: EmulatorProcess, env: dict[str, str]) -> tuple[float, str]:
    """`pulumi up` of the fleet, then destroy; the POST spread and the up's Diagnostics section.

    The CLI shows a host's stderr line twice, on the row as it happens and once in Diagnostics; the
    latter lists each line the host printed, so it is where "printed once" is counted."""
    backend = Backend(cli, root, extra_env={"TOKENFACTORY_POLL_MAX_INTERVAL": "0.2", **env})
    stack = backend.stack("hostpool", "dev", fleet_program(COUNT), config={"tokenfactory:baseUrl": emulator.base_url},
                          secrets={"tokenfactory:apiKey": API_KEY})
    emulator.clear_requests()
    result: Any = stack.up()
    spread = _post_spread(emulator)
    assert len([e for e in emulator.endpoints() if e["name"].startswith("fleet endpoint")]) == COUNT
    printed = result.stdout.partition("Diagnostics:")[2]
    stack.destroy()
    assert emulator.endpoints() == []
    return spread, printed


@pytest.fixture
def emulator(emulator_factory: Any) -> EmulatorProcess:
    emu: EmulatorProcess = emulator_factory(provision_seconds=D, api_key=API_KEY)
    return emu


def test_lending_on_off_and_gated_off_on_the_real_cli(pulumi_cli: CliInstall, emulator: EmulatorProcess,
                                                      tmp_path: Path) -> None:
    lent, printed = _up_and_down(pulumi_cli, tmp_path / "lent", emulator, {})
    assert lent < D, f"with lending the creates went out over {lent:.2f}s, not all before the first was ready"
    assert WARNING not in printed

    off, printed = _up_and_down(pulumi_cli, tmp_path / "off", emulator, {"TOKENFACTORY_HOST_WIDENING": "0"})
    assert off >= D * 0.9, f"switched off, the 5th create still went out {off:.2f}s after the first"
    assert WARNING not in printed

    # An SDK outside the tested range: the host must run as the SDK made it, and say so once.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent("""\
        import pulumi_tokenfactory.host.hostpool as hostpool

        hostpool.TESTED_SDK = ((3, 0), (3, 1))
        """))
    gated, printed = _up_and_down(pulumi_cli, tmp_path / "gated", emulator, {"PYTHONPATH": str(site)})
    assert gated >= D * 0.9, f"an untested SDK was widened anyway: the creates went out over {gated:.2f}s"
    assert printed.count(WARNING) == 1, f"expected one warning in the Diagnostics, got:\n{printed}"
    assert "untested; tested: 3.0 to 3.1" in printed
    print(f"\nPOST spread of {COUNT} creates, D = {D:g}s: lent {lent:.2f}s, off {off:.2f}s, untested SDK {gated:.2f}s")
