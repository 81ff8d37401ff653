"""Fleet readiness through the real Pulumi CLI (see devtools/fleet.py for what is measured).

    .venv/bin/python -m benchmarks.cli_fleet [--count 20] [--provision-seconds 3]
"""

from __future__ import annotations

from devtools.fleet import main

if __name__ == "__main__":
    raise SystemExit(main())
