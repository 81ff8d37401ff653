"""README's main job: one DedicatedEndpoint through preview, up, scale, refresh and destroy.

Runs without an account or a Pulumi CLI: it starts the embedded emulator on
a free loopback port and the real dynamic-provider host (`python -m
pulumi.dynamic`), then sends the host the same gRPC calls the Pulumi engine
sends for each command, printing what a person would see.

    python -m devtools.demo [--provision-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from typing import Any

import httpx

from devtools.enginehost import (
    CheckFailed,
    Plan,
    ProviderCallError,
    ProviderHost,
    ResourceSteps,
    make_urn,
    serialized_provider,
)
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE

URN = make_urn(RESOURCE_TYPE, "gpt", stack="demo", project="tokenfactory-demo")

PROGRAM: dict[str, Any] = {**SEED_EXAMPLE, "region": "eu-north1"}


def _say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f": {text}" if text else ""), flush=True)


def _show(label: str, value: Any) -> None:
    print(f"   {label:<20} {value}", flush=True)


class Demo:
    """Prints each command the way a person follows a `pulumi` session."""

    def __init__(self, host: ProviderHost) -> None:
        self.host = host
        self.steps = ResourceSteps(host, serialized_provider(DedicatedEndpointProvider()), URN)
        self._progress_seen = 0

    def _progress(self) -> None:
        """Echo the provider's progress lines (the engine would show them as diagnostics)."""
        lines = [line for line in self.host.stderr_text().splitlines() if line.startswith("info: ")]
        for line in lines[self._progress_seen:]:
            print(f"   | {line[6:]}", flush=True)
        self._progress_seen = len(lines)

    def _show_plan(self, plan: Plan) -> None:
        if plan.action == "create":
            _show("plan", f"+ create {RESOURCE_TYPE} gpt")
        elif plan.action == "same":
            _show("plan", "no changes")
        else:
            changed = sorted(k for k in PROGRAM if plan.inputs.get(k) != self.steps.outputs.get(k))
            verb = "+- replace" if plan.action == "replace" else "~ update in place"
            _show("plan", f"{verb} gpt (changed: {', '.join(changed)})")

    def preview(self, program: dict[str, Any]) -> None:
        self._show_plan(self.steps.preview(program))

    def up(self, program: dict[str, Any]) -> None:
        started = time.monotonic()
        self._show_plan(self.steps.preview(program))
        self.steps.up(program)
        self._progress()
        _show("took", f"{time.monotonic() - started:.1f}s")
        for key in ("routing_key", "status", "scaling", "inference_base_url"):
            _show(key, _plain(self.steps.outputs.get(key)))
        _show("id", self.steps.id)

    def refresh(self) -> None:
        drift = {k: v for k, v in self.steps.refresh().items() if k in PROGRAM}
        _show("drift found", "; ".join(f"{k}: {_plain(old)} -> {_plain(new)}" for k, (old, new) in drift.items())
              if drift else "none")

    def destroy(self) -> None:
        endpoint_id = self.steps.id
        self.steps.destroy()
        self._progress()
        _show("deleted", endpoint_id)


def _chat(emulator: EmulatorProcess, api_key: str, routing_key: str) -> str:
    response = httpx.post(f"{emulator.base_url}/v1/chat/completions",
                          headers={"Authorization": f"Bearer {api_key}"},
                          json={"model": routing_key, "messages": [{"role": "user", "content": "Hello!"}]})
    response.raise_for_status()
    return str(response.json()["choices"][0]["message"]["content"])


def run(provision_seconds: float) -> int:
    api_key = "demo-" + secrets.token_hex(8)
    with EmulatorProcess(provision_seconds=provision_seconds, api_key=api_key) as emulator:
        _say("emulator", f"Token Factory API at {emulator.base_url} (provisioning takes {provision_seconds:g}s)")
        env = {**os.environ, "TOKENFACTORY_POLL_MAX_INTERVAL": str(max(0.2, provision_seconds / 4))}
        with ProviderHost(env=env, project="tokenfactory-demo") as host:
            host.configure({"tokenfactory:apiKey": api_key, "tokenfactory:baseUrl": emulator.base_url},
                           secret_keys=["tokenfactory:apiKey"])
            demo = Demo(host)
            _say("pulumi preview")
            demo.preview(PROGRAM)
            _say("pulumi up", "create and wait until running")
            demo.up(PROGRAM)
            _say("inference", "POST /v1/chat/completions with model=routing_key")
            _show("answer", _chat(emulator, api_key, demo.steps.outputs["routing_key"]))
            _say("pulumi preview", "nothing changed in the program")
            demo.preview(PROGRAM)
            scaled = {**PROGRAM, "scaling": {"min_replicas": 2, "max_replicas": 4}}
            _say("pulumi up", "scale to 2..4 replicas (PATCH, no replacement)")
            demo.up(scaled)
            _say("someone scales the endpoint in the dashboard", "PATCH scaling 3..5 outside Pulumi")
            httpx.patch(f"{emulator.base_url}/v0/dedicated_endpoints/{demo.steps.id}",
                        headers={"Authorization": f"Bearer {api_key}"},
                        json={"scaling": {"min_replicas": 3, "max_replicas": 5}}).raise_for_status()
            _say("pulumi refresh")
            demo.refresh()
            _say("pulumi preview", "the program still says 2..4")
            demo.preview(scaled)
            _say("pulumi up", "put it back")
            demo.up(scaled)
            _say("pulumi destroy")
            demo.destroy()
            left = emulator.endpoints()
            _say("result", f"{len(left)} endpoint(s) left in the account")
            for call, count in sorted(emulator.call_counts().items()):
                _show(call, count)
            if api_key in host.stderr_text():
                print("!! the API key appeared in the provider host's output", file=sys.stderr)
                return 1
            return 0 if not left else 1


def _plain(value: Any) -> str:
    """JSON with whole floats shown as ints (the engine turns every number into a float)."""
    if isinstance(value, dict):
        value = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in value.items()}
    return json.dumps(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provision-seconds", type=float, default=2.0,
                        help="emulated create-to-ready time (the real API takes 600-900 s)")
    args = parser.parse_args(argv)
    try:
        return run(args.provision_seconds)
    except ProviderCallError as exc:
        print(f"\nerror: {exc.last_line}", file=sys.stderr)
        return 1
    except CheckFailed as exc:
        print(f"\ncheck failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
