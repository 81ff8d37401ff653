#!/usr/bin/env bash
# Install the project with its test tools into a virtual environment, then run the test suite in parallel.
# Usage: bash scripts/test.sh [--fast] [pytest args...]
#   (no args)   every test (CI runs this), on TEST_WORKERS pytest-xdist workers
#   --fast      only the tests not marked slow (no real CLI, soaks or installs; tests/conftest.py marks them)
#   pytest args pass through and win over the defaults here: `-n 0` runs in this process, `-m ...` replaces --fast's
# VENV=path picks another environment; TEST_WORKERS=N another worker count (0: no workers).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
fast=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then fast=1; else args+=("$arg"); fi
done
# Bytecode caches (__pycache__/, git-ignored) even where the environment turns them off: without them each worker
# rewrites every test module's asserts afresh, and each of the hundreds of emulator and provider-host processes the
# tests start compiles the package again; together about a fifth of the fast lane's CPU time.
unset PYTHONDONTWRITEBYTECODE
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# Four workers on two cores: the tests spend much of their time waiting (on the real CLI, provider hosts, emulator
# timings), and four keep two cores about busy. --dist loadfile keeps a file on one worker (the emulators and hosts
# of its module fixtures start once); the workers order the alone, then the slow tests first, then the largest files
# (tests/conftest.py), and --no-loadscope-reorder keeps that order.
parallel=(-n "${TEST_WORKERS:-4}" --dist loadfile --no-loadscope-reorder)
if [ "$fast" = 1 ]; then
  exec "$VENV/bin/python" -m pytest "${parallel[@]}" -m "not slow" ${args[@]+"${args[@]}"}
fi
exec "$VENV/bin/python" -m pytest "${parallel[@]}" ${args[@]+"${args[@]}"}
