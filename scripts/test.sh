#!/usr/bin/env bash
# Install the project with its test tools into a virtual environment, then run the test suite.
# Usage: bash scripts/test.sh [pytest args...]   (VENV=path picks another environment)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
exec "$VENV/bin/python" -m pytest "$@"
