"""Benchmarks: API calls per operation, fleet readiness, and the provider's own overhead.

Everything runs here, against the emulator, through the real dynamic-provider
host driven over gRPC the way the engine drives it. Request counts are exact
(read from the emulator's request log); timings are reported as ratios
measured in the same run on the same machine, because absolute times vary.

    .venv/bin/python -m benchmarks.run [--quick] [--json benchmarks/results/latest.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.trivial_provider import IMPORT_ROOT, PostOnlyProvider
from devtools.enginehost import ProviderHost, ResourceSteps, make_urn, serialized_provider
from devtools.harness import (
    DELETE,
    LIST,
    MUTATING,
    PATCH,
    POST,
    TEMPLATES,
    endpoint_inputs,
    lifecycle_calls,
    open_account,
    provider_string,
)
from pulumi_tokenfactory.host.waiting import PollSchedule
from pulumi_tokenfactory.schema import RESOURCE_TYPE

TOKEN = "bench-token"
ROOT = Path(__file__).resolve().parents[1]
PROGRAM: dict[str, Any] = endpoint_inputs("bench")
API_LATENCY_SECONDS = 0.02


@dataclass
class Row:
    figure: str
    measured: str
    target: str
    met: bool | None = None


def api_calls(rows: list[Row], results: dict[str, Any], quick: bool) -> None:
    with open_account(TOKEN, poll_max=30, provision_seconds=2.0, delete_seconds=0.3) as account:
        emulator = account.emulator
        # Preview of N unchanged endpoints: Check + Diff each.
        with account.host() as host:
            fleet = [account.resource(host, f"e{i}") for i in range(10)]
            for i, steps in enumerate(fleet):
                steps.up({**PROGRAM, "name": f"bench-{i}", "wait_for_ready": False})
        emulator.clear_requests()
        with account.host() as host:  # a new `pulumi preview` = a new host process
            for i, steps in enumerate(fleet):
                steps.host = host
                assert steps.preview({**PROGRAM, "name": f"bench-{i}", "wait_for_ready": False}).action == "same"
        calls = emulator.call_counts()
        mutating = sum(v for k, v in calls.items() if k.split()[0] in MUTATING)
        results["preview_10_unchanged"] = dict(calls)
        rows.append(Row("preview, 10 unchanged endpoints: mutating calls", str(mutating), "0", mutating == 0))
        rows.append(Row("preview, 10 unchanged endpoints: templates calls", str(calls[TEMPLATES]),
                        "<= 1 per provider process", calls[TEMPLATES] <= 1))
        emulator.reset()

        with account.host() as host:
            lifecycle = lifecycle_calls(account, host, PROGRAM)
        create_calls, update_calls, delete_calls = lifecycle["create"], lifecycle["update"], lifecycle["delete"]
        results["create_with_wait_2s"] = dict(create_calls)
        results["update"] = dict(update_calls)
        results["delete"] = dict(delete_calls)
        polls_2s = create_calls[LIST]
        polls_900 = PollSchedule().polls_for(900)
        rows.append(Row("create+wait (D=2 s): POST / status polls",
                        f"{create_calls[POST]} / {polls_2s}", "1 / few", create_calls[POST] == 1))
        rows.append(Row("create+wait (D=900 s, from the schedule): status polls", str(polls_900),
                        "<= 60 (0.5 s doubling to 30 s)", polls_900 <= 60))
        rows.append(Row("update: PATCH / settle polls", f"{update_calls[PATCH]} / {update_calls[LIST]}",
                        "1 / few", update_calls[PATCH] == 1 and update_calls[POST] == 0))
        rows.append(Row("delete: DELETE / gone polls", f"{delete_calls[DELETE]} / {delete_calls[LIST]}",
                        "1 / few", delete_calls[DELETE] == 1))

        # Refresh of N endpoints, N = 1, 10, 100.
        for n in (1, 10) if quick else (1, 10, 100):
            emulator.reset()
            ids = account.seed({**PROGRAM, "name": f"r{i}"} for i in range(n))
            with account.host() as host:
                provider = provider_string()
                emulator.clear_requests()
                reads = [_read_call(host, f"r{i}", endpoint_id, {**PROGRAM, "__provider": provider})
                         for i, endpoint_id in enumerate(ids)]
                host.run_concurrently(reads)
            calls = emulator.call_counts()
            total = sum(calls.values())
            results[f"refresh_{n}"] = dict(calls)
            rows.append(Row(f"refresh of {n} endpoints: API calls", str(total), "grows far slower than N",
                            total <= max(3, n // 10)))


def _read_call(host: ProviderHost, name: str, endpoint_id: str, outputs: dict[str, Any]) -> Callable[[], object]:
    return lambda: host.read(make_urn(RESOURCE_TYPE, name), endpoint_id, outputs)


def _up_call(steps: ResourceSteps, inputs: dict[str, Any]) -> Callable[[], object]:
    return lambda: steps.up(inputs)


def fleet_readiness(rows: list[Row], results: dict[str, Any], quick: bool) -> None:
    duration = 3.0
    for n in (4, 20) if quick else (4, 20, 50):
        with open_account(TOKEN, poll_max=1.0, provision_seconds=duration, delete_seconds=0) as account, \
                account.host() as host:
            emulator = account.emulator
            fleet = [account.resource(host, f"f{i}") for i in range(n)]
            programs = [{**PROGRAM, "name": f"fleet-{i}"} for i in range(n)]
            for steps, program in zip(fleet, programs, strict=True):  # previews first, as the engine does
                steps.preview(program)
            emulator.clear_requests()
            started = time.monotonic()
            host.run_concurrently([_up_call(steps, program) for steps, program in zip(fleet, programs, strict=True)])
            elapsed = time.monotonic() - started
            statuses = collections.Counter(s.outputs.get("status") for s in fleet)
            calls = emulator.call_counts()
        naive = math.ceil(n / 4) * duration
        results[f"fleet_{n}"] = {"seconds": round(elapsed, 2), "D": duration, "naive_seconds": naive,
                                 "statuses": dict(statuses), "calls": dict(calls)}
        rows.append(Row(f"fleet of {n} (D={duration:g} s): ready after", f"{elapsed / duration:.2f} x D "
                        f"(naive {naive / duration:.0f} x D; {calls[LIST]} list polls for {n} waiters)",
                        "<= 1.5 x D", elapsed <= 1.5 * duration and statuses == {"running": n}))


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _interleaved_medians(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, taken in rounds of one call each so that drift
    (a warming cache, a growing emulator store, a busy neighbour) weighs on all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def overhead(rows: list[Row], results: dict[str, Any], quick: bool) -> None:
    repeat = 15 if quick else 50
    with open_account(TOKEN, poll_max=30, provision_seconds=60, delete_seconds=0) as account, \
            account.host() as host, \
            httpx.Client(base_url=account.emulator.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as direct:
        emulator = account.emulator
        provider = provider_string()
        counter = iter(range(10**6))

        def grpc_create() -> None:
            i = next(counter)
            host.create(make_urn(RESOURCE_TYPE, f"o{i}"), {**PROGRAM, "name": f"o{i}", "wait_for_ready": False,
                                                          "__provider": provider})

        def direct_post() -> None:
            direct.post("/v0/dedicated_endpoints", json={**PROGRAM, "name": f"d{next(counter)}"}).raise_for_status()

        floor_provider = serialized_provider(PostOnlyProvider())

        def floor_create() -> None:
            i = next(counter)
            host.create(make_urn(RESOURCE_TYPE, f"p{i}"), {**PROGRAM, "name": f"p{i}", "wait_for_ready": False,
                                                          "__provider": floor_provider})

        for warm_up in (grpc_create, direct_post, floor_create):  # first calls deserialize and configure
            warm_up()
        timings = _interleaved_medians(
            {"grpc_create": grpc_create, "direct_post": direct_post, "floor_create": floor_create}, repeat)
        # The same two, with every API answer 20 ms late: a round trip to a nearby region, as real use has.
        emulator.inject_fault(method="*", path="/v0/*", action="delay", delay=API_LATENCY_SECONDS, count=None)
        at_latency = _interleaved_medians({"grpc_create": grpc_create, "direct_post": direct_post}, repeat // 3)
        emulator.clear_faults()
    results["create_overhead_seconds"] = timings
    results["create_overhead_seconds_at_20ms_latency"] = at_latency
    ratio_post = timings["grpc_create"] / timings["direct_post"]
    ratio_floor = timings["floor_create"] / timings["direct_post"]
    ratio_ours = timings["grpc_create"] / timings["floor_create"]
    rows.append(Row("gRPC Create (no wait) vs direct httpx POST", f"{ratio_post:.2f}x", "<= 1.5x", ratio_post <= 1.5))
    rows.append(Row("  floor: a POST-only dynamic provider vs direct POST", f"{ratio_floor:.2f}x",
                    "(what the host and gRPC cost any provider)", None))
    rows.append(Row("  ours vs that floor", f"{ratio_ours:.2f}x", "(validation, models, exactly-once)", None))
    added_ms = (timings["grpc_create"] - timings["direct_post"]) * 1000
    ratio_latency = at_latency["grpc_create"] / at_latency["direct_post"]
    rows.append(Row(f"  with {API_LATENCY_SECONDS * 1000:.0f} ms API latency injected", f"{ratio_latency:.2f}x",
                    f"(the {added_ms:.1f} ms the provider path adds, against a real round trip)", None))

    rounds = 3 if quick else 5
    first_ours = _first_call_seconds("pulumi_tokenfactory.provider", "DedicatedEndpointProvider", rounds)
    first_trivial = _first_call_seconds("benchmarks.trivial_provider", "TrivialProvider", rounds)
    ratio_first = first_ours / first_trivial
    results["first_call_seconds"] = {"ours": first_ours, "trivial": first_trivial}
    rows.append(Row("host start + first call (deserialize, configure) vs trivial provider", f"{ratio_first:.2f}x",
                    "<= 1.2x", ratio_first <= 1.2))

    imports = _import_seconds({
        "pulumi": "import pulumi",
        "pulumi_tokenfactory": "import pulumi_tokenfactory",
        "pulumi_tokenfactory.DedicatedEndpoint": "import pulumi_tokenfactory as t; t.DedicatedEndpoint",
    }, repeat=7 if quick else 15)
    results["import_seconds"] = imports
    ratio_import = imports["pulumi_tokenfactory.DedicatedEndpoint"] / imports["pulumi"]
    rows.append(Row("import pulumi_tokenfactory (+ DedicatedEndpoint) vs import pulumi", f"{ratio_import:.2f}x "
                    f"(bare package: {imports['pulumi_tokenfactory'] / imports['pulumi']:.2f}x)", "<= 1.15x",
                    ratio_import <= 1.15))
    size = len(provider_string())
    results["serialized_provider_bytes"] = size
    rows.append(Row("serialized __provider size", f"{size} bytes", "< 1024, no secret", size < 1024))


def _first_call_seconds(module: str, cls: str, repeat: int) -> float:
    """Median of: start a provider host, Configure, first Diff (no API call) with that provider."""
    code = f"import importlib; print(importlib.import_module({module!r}).{cls}.__module__)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    provider = serialized_provider(getattr(__import__(module, fromlist=[cls]), cls)())
    props = {"__provider": provider, "name": "x"}

    def once() -> None:
        with ProviderHost(config={"tokenfactory:apiKey": TOKEN}, pythonpath=(IMPORT_ROOT,)) as host:
            host.diff(make_urn(RESOURCE_TYPE, "x"), "id", props, props)

    return _median_seconds(once, repeat)


def _import_seconds(statements: dict[str, str], repeat: int) -> dict[str, float]:
    """Median wall time of a fresh interpreter running each statement (interpreter start included)."""
    def runner(statement: str) -> Callable[[], object]:
        return lambda: subprocess.run([sys.executable, "-c", statement], check=True, cwd=ROOT, env={**os.environ})

    runs = {name: runner(statement) for name, statement in statements.items()}
    for run in runs.values():  # warm the file-system cache and the .pyc files
        run()
    return _interleaved_medians(runs, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller N and fewer repeats")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    for section in (api_calls, fleet_readiness, overhead):
        started = time.monotonic()
        section(rows, results, args.quick)
        print(f"[{section.__name__} took {time.monotonic() - started:.1f}s]", file=sys.stderr, flush=True)
    width = max(len(r.figure) for r in rows)
    print(f"{'figure':<{width}}  {'measured':<48} target")
    for row in rows:
        mark = {True: "ok", False: "MISSED", None: "info"}[row.met]
        print(f"{row.figure:<{width}}  {row.measured:<48} {row.target} [{mark}]")
    results["table"] = [row.__dict__ for row in rows]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
