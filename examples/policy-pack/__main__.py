"""Entry point of the Token Factory GPU-spend policy pack.

The Pulumi CLI runs this file (``pulumi preview --policy-pack examples/policy-pack``);
it can also be started by hand, ``python __main__.py``, which prints the
Analyzer's gRPC port and serves until stopped. The rules themselves live in
``pulumi_tokenfactory.policy`` so that they are versioned, typed and tested
with the provider; this file only serves them.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from pulumi_tokenfactory.policy import serve
except ModuleNotFoundError as missing:
    if missing.name != "pulumi_tokenfactory":
        raise  # installed without the `policy` extra: the message says how to add it
    # Running from a checkout in which the package is not installed: use the
    # repository two levels up (its dependencies must still be installed).
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from pulumi_tokenfactory.policy import serve

if __name__ == "__main__":
    serve()
