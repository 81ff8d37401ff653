#!/usr/bin/env bash
# README's main job: install the project, then walk examples/basic through preview, up, scale, refresh and
# destroy against the embedded Token Factory emulator.
# With the real Pulumi CLI (found, or built once from the Go module proxy by scripts/pulumi-cli.sh), the real
# `pulumi` commands run. Without one (no CLI and no Go toolchain), it says so and falls back to the driver that
# sends the engine's gRPC calls to the real dynamic-provider host itself.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help)
    cat <<'EOT'
Usage: bash scripts/demo.sh [--provision-seconds S]

Walks examples/basic through pulumi preview, up (create and wait), an inference call, a no-change
preview, an in-place scale, a change made outside Pulumi found by refresh and put back by up, and
destroy, against a local emulator of the Token Factory API (no account, no GPUs, no cost).
  --provision-seconds S   how long the emulated create takes (default 2; the real API takes 600-900)
The first run installs the project into .venv and, when no Pulumi CLI is installed, builds one
(about 4 minutes on 2 cores, once).
EOT
    exit 0;;
esac
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
echo "demo: installing pulumi-tokenfactory into $VENV (the first run takes a minute or two)" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# The emulator extra: the demo runs against the embedded emulator (a program alone needs no extra).
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[emulator]'
echo "demo: looking for the Pulumi CLI (building it from the Go module proxy if there is none)" >&2
status=0
bin=$(bash scripts/pulumi-cli.sh) || status=$?
if [ "$status" -eq 0 ]; then
  exec "$VENV/bin/python" -m devtools.cli_demo --cli-bin "$bin" "$@"
elif [ "$status" -eq 3 ]; then
  echo "demo: no Pulumi CLI here and no Go toolchain to build one; falling back to the engine stand-in" \
       "(devtools.demo), which plays the engine's part against the real provider host" >&2
  exec "$VENV/bin/python" -m devtools.demo "$@"
else
  echo "demo: scripts/pulumi-cli.sh failed (exit $status)" >&2
  exit "$status"
fi
