#!/usr/bin/env bash
# Install the project, then walk a DedicatedEndpoint through preview, up, scale, refresh and destroy
# against the embedded Token Factory emulator, through the real Pulumi dynamic-provider host.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e .
exec "$VENV/bin/python" -m pulumi_tokenfactory.demo "$@"
