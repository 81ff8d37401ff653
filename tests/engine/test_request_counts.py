"""Exact API-call budgets per operation, counted from the emulator's request log.

The same figures `benchmarks/run.py` prints; here they are asserted, so a
change that adds calls (rate limits, latency, money) fails CI. Timing ratios
are reported by the benchmarks, not asserted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import httpx
import pytest

from benchmarks.run import (
    DELETE,
    LIST,
    PATCH,
    POST,
    PROGRAM,
    TEMPLATES,
    TOKEN,
    lifecycle_calls,
    provider_host,
    steps_for,
)
from devtools.enginehost import make_urn, serialized_provider
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.host.waiting import PollSchedule
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE

PROVISION = 1.5
POLL_MAX = 0.4


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(provision_seconds=PROVISION, delete_seconds=0.2, api_key=TOKEN) as emu:
        yield emu


def seed(emulator: EmulatorProcess, n: int) -> list[str]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=emulator.base_url, headers=auth) as client:
        return [client.post("/v0/dedicated_endpoints", json={**PROGRAM, "name": f"seeded-{i}"}).json()["id"]
                for i in range(n)]


def test_preview_of_unchanged_endpoints_makes_no_change_and_one_templates_call(emulator: EmulatorProcess) -> None:
    emulator.reset()
    with provider_host(emulator, POLL_MAX) as host:
        fleet = [steps_for(host, f"p{i}") for i in range(10)]
        for i, resource in enumerate(fleet):
            resource.up({**PROGRAM, "name": f"p{i}", "wait_for_ready": False})
    emulator.clear_requests()
    with provider_host(emulator, POLL_MAX) as host:
        for i, resource in enumerate(fleet):
            resource.host = host
            assert resource.preview({**PROGRAM, "name": f"p{i}", "wait_for_ready": False}).action == "same"
    assert emulator.call_counts() == {TEMPLATES: 1}


def test_create_with_wait_is_one_post_and_a_schedule_of_polls(emulator: EmulatorProcess) -> None:
    emulator.reset()
    with provider_host(emulator, POLL_MAX) as host:
        calls = lifecycle_calls(host, emulator)
    create, update, delete = calls["create"], calls["update"], calls["delete"]
    schedule = PollSchedule(initial=min(0.5, POLL_MAX), maximum=POLL_MAX)
    assert create[POST] == 1
    assert 1 <= create[LIST] <= schedule.polls_for(PROVISION) + 1, create
    assert set(create) == {POST, LIST}, create
    assert update[PATCH] == 1 and set(update) <= {PATCH, LIST}, update
    assert delete[DELETE] == 1 and set(delete) <= {DELETE, LIST}, delete
    assert PollSchedule().polls_for(900) <= 40, "a 15-minute provisioning costs a few dozen polls"


@pytest.mark.parametrize("n", [1, 10, 100])
def test_refresh_shares_one_list_across_reads(emulator: EmulatorProcess, n: int) -> None:
    emulator.reset()
    ids = seed(emulator, n)
    provider = serialized_provider(DedicatedEndpointProvider())
    with provider_host(emulator, POLL_MAX) as host:
        emulator.clear_requests()
        reads = [functools.partial(host.read, make_urn(RESOURCE_TYPE, f"r{i}"), ids[i],
                                   {**PROGRAM, "__provider": provider}) for i in range(n)]
        results = host.run_concurrently(reads)
    assert [r.id for r in results] == ids
    total = sum(emulator.call_counts().values())
    assert total <= max(1, math.ceil(n / 50)), f"refresh of {n} endpoints made {total} API calls"


def test_a_fleet_waits_together_on_shared_polls(emulator: EmulatorProcess) -> None:
    emulator.reset()
    n = 12
    with provider_host(emulator, POLL_MAX) as host:
        fleet = [steps_for(host, f"f{i}") for i in range(n)]
        programs = [{**PROGRAM, "name": f"fleet-{i}"} for i in range(n)]
        for resource, program in zip(fleet, programs, strict=True):
            resource.preview(program)
        emulator.clear_requests()
        host.run_concurrently([functools.partial(r.up, p) for r, p in zip(fleet, programs, strict=True)])
    calls = emulator.call_counts()
    assert calls[POST] == n
    assert all(r.outputs["status"] == "running" for r in fleet)
    # One list serves every waiter: the polls do not grow with the number of endpoints.
    per_waiter_schedule = PollSchedule(initial=min(0.5, POLL_MAX), maximum=POLL_MAX).polls_for(PROVISION * 2)
    assert calls[LIST] <= 2 * per_waiter_schedule, calls
