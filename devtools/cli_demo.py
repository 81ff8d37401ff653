"""README's main job on the real Pulumi CLI: examples/basic through preview, up, scale, refresh and destroy.

    python -m devtools.cli_demo --cli-bin DIR [--provision-seconds 2]

Starts the embedded emulator on a free loopback port, an offline file backend in a
temporary directory, and runs examples/basic (then the same endpoint rescaled) with the
real `pulumi` commands, printing what the CLI prints. The program runs as an Automation
API inline program, because the Python language host cannot be built here (see
scripts/pulumi-cli.sh); the engine, the dynamic-provider plugin and the provider are the
real ones. Exit status 1 if an endpoint is left behind or the token shows in any output.
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from pulumi_tokenfactory.emulator.testing import EmulatorProcess

from .programs import endpoint_program, example
from .realcli import Backend, CliInstall

SCALED: dict[str, Any] = {"scaling": {"min_replicas": 2, "max_replicas": 4}}


def _say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f": {text}" if text else ""), flush=True)


def run(cli: CliInstall, provision_seconds: float) -> int:
    api_key = "demo-" + secrets.token_hex(8)
    printed: list[str] = []

    def show(line: str) -> None:
        printed.append(line)
        print(f"   {line}", flush=True)

    with tempfile.TemporaryDirectory(prefix="tokenfactory-demo-") as root, \
            EmulatorProcess(provision_seconds=provision_seconds, api_key=api_key) as emulator:
        _say("emulator", f"Token Factory API at {emulator.base_url} (provisioning takes {provision_seconds:g}s)")
        _say("pulumi", f"{cli.version} at {cli.bin_dir}; file backend in {root}")
        backend = Backend(cli, Path(root), extra_env={"TOKENFACTORY_POLL_MAX_INTERVAL":
                                                       str(max(0.2, provision_seconds / 4))})
        stack = backend.stack("tokenfactory-basic", "demo", example("basic"),
                              config={"tokenfactory:baseUrl": emulator.base_url},
                              secrets={"tokenfactory:apiKey": api_key})
        _say("pulumi preview", "examples/basic")
        stack.preview(on_output=show)
        _say("pulumi up", "create and wait until ready")
        outputs = stack.up(on_output=show).outputs
        _say("outputs", f"status {outputs['status'].value}, readiness {outputs['readiness'].value}, routing key "
                        f"{outputs['routing_key'].value} (chosen before the POST, so a lost answer is found by it)")
        _say("inference", "POST /v1/chat/completions with model=routing_key")
        answer = httpx.post(f"{emulator.base_url}/v1/chat/completions", timeout=30,
                            headers={"Authorization": f"Bearer {api_key}"},
                            json={"model": outputs["routing_key"].value,
                                  "messages": [{"role": "user", "content": "Hello!"}]})
        answer.raise_for_status()
        show(str(answer.json()["choices"][0]["message"]["content"]))
        _say("pulumi preview", "nothing changed in the program")
        stack.preview(on_output=show)
        stack.workspace.program = endpoint_program(**SCALED)
        _say("pulumi up", "scale to 2..4 replicas (PATCH, no replacement)")
        scaled = stack.up(on_output=show).outputs
        same = all(scaled[k].value == outputs[k].value for k in ("endpoint_id", "routing_key"))
        _say("in place", f"endpoint {scaled['endpoint_id'].value} keeps routing key {scaled['routing_key'].value}"
                         if same else "!! the scale changed the endpoint or its routing key")
        _say("someone scales the endpoint in the dashboard", "3..5 outside Pulumi")
        httpx.patch(f"{emulator.base_url}/v0/dedicated_endpoints/{outputs['endpoint_id'].value}", timeout=30,
                    headers={"Authorization": f"Bearer {api_key}"},
                    json={"scaling": {"min_replicas": 3, "max_replicas": 5}}).raise_for_status()
        _say("pulumi refresh")
        stack.refresh(on_output=show)
        _say("pulumi up", "the program still says 2..4: put it back")
        stack.up(on_output=show)
        _say("pulumi destroy")
        stack.destroy(on_output=show)
        left = emulator.endpoints()
        _say("result", f"{len(left)} endpoint(s) left in the account; requests the emulator served:")
        for call, count in sorted(emulator.call_counts().items()):
            print(f"   {call:<45} {count}")
        leaked = api_key in "\n".join(printed) or api_key in backend.files_text()
        if leaked:
            print("!! the API key appeared in the CLI's output or the backend's files", file=sys.stderr)
        return 1 if left or leaked or not same else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli-bin", required=True, type=Path, help="directory holding `pulumi` and its plugins")
    parser.add_argument("--provision-seconds", type=float, default=2.0,
                        help="emulated create-to-ready time (the real API takes 600-900 s)")
    args = parser.parse_args(argv)
    version = subprocess.run([str(args.cli_bin / "pulumi"), "version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    return run(CliInstall(args.cli_bin, version), args.provision_seconds)


if __name__ == "__main__":
    raise SystemExit(main())
