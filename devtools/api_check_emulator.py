"""CI's drift check: `tokenfactory-account api-check` against the emulator, published shapes and legacy ones.

    python -m devtools.api_check_emulator

The emulator's `/openapi.json` (published mode) must show no breaking difference from what this provider
sends and reads; an emulator started with `--legacy-shapes` serves FastAPI's schema without the published
operations' schemas, and the check must say so (a non-zero exit), or it could not catch a real drift either.
Prints both reports. Exit status 0 when both behave so, 1 otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Literal

from pulumi_tokenfactory.emulator.testing import EmulatorProcess


def _check(shapes: Literal["published", "legacy"]) -> int:
    with EmulatorProcess(api_shapes=shapes) as emulator:
        print(f"== api-check against the emulator ({shapes} shapes)", flush=True)
        done = subprocess.run([sys.executable, "-m", "pulumi_tokenfactory.console.account", "api-check",
                               "--base-url", emulator.base_url], check=False, stdin=subprocess.DEVNULL)
        print(f"   exit status {done.returncode}", flush=True)
        return done.returncode


def main() -> int:
    published, legacy = _check("published"), _check("legacy")
    if published != 0:
        print("!! the provider differs from the emulator's published schema", file=sys.stderr)
    if legacy == 0:
        print("!! api-check found nothing wrong with the legacy emulator's schema", file=sys.stderr)
    return 0 if published == 0 and legacy != 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
