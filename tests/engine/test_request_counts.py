"""Exact API-call budgets per operation, counted from the emulator's request log.

The same figures `benchmarks/run.py` prints (both count with `devtools.harness`); here they are asserted, so a
change that adds calls (rate limits, latency, money) fails CI. Timing ratios
are reported by the benchmarks, not asserted.
"""

from __future__ import annotations

import functools
import math

import pytest

from devtools.enginehost import make_urn
from devtools.harness import DELETE, LIST, PATCH, POST, TEMPLATES, EmulatorAccount, endpoint_inputs, lifecycle_calls
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.host.waiting import PollSchedule
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.accounts import AccountSettings

PROVISION = 1.5
POLL_MAX = 0.4


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token="tf-request-counts-token-2b9e", poll_max=POLL_MAX,
                           emulator={"provision_seconds": PROVISION, "delete_seconds": 0.2})


def test_preview_of_unchanged_endpoints_makes_no_change_and_one_templates_call(
        tf_account: EmulatorAccount, emulator: EmulatorProcess) -> None:
    emulator.reset()
    with tf_account.host() as host:
        fleet = [tf_account.resource(host, f"p{i}") for i in range(10)]
        for i, resource in enumerate(fleet):
            resource.up(endpoint_inputs(f"p{i}", wait_for_ready=False))
    emulator.clear_requests()
    with tf_account.host() as host:  # a new `pulumi preview` starts a new provider host
        for i, resource in enumerate(fleet):
            resource.host = host
            assert resource.preview(endpoint_inputs(f"p{i}", wait_for_ready=False)).action == "same"
    assert emulator.call_counts() == {TEMPLATES: 1}


def test_create_with_wait_is_one_post_and_a_schedule_of_polls(tf_account: EmulatorAccount,
                                                             emulator: EmulatorProcess) -> None:
    emulator.reset()
    with tf_account.host() as host:
        calls = lifecycle_calls(tf_account, host, endpoint_inputs("lifecycle"))
    create, update, delete = calls["create"], calls["update"], calls["delete"]
    schedule = PollSchedule(initial=min(0.5, POLL_MAX), maximum=POLL_MAX)
    assert create[POST] == 1
    assert 1 <= create[LIST] <= schedule.polls_for(PROVISION) + 1, create
    assert set(create) == {POST, LIST}, create
    assert update[PATCH] == 1 and set(update) <= {PATCH, LIST}, update
    assert delete[DELETE] == 1 and set(delete) <= {DELETE, LIST}, delete
    assert PollSchedule().polls_for(900) <= 40, "a 15-minute provisioning costs a few dozen polls"


@pytest.mark.parametrize("n", [1, 10, 100])
def test_refresh_shares_one_list_across_reads(tf_account: EmulatorAccount, emulator: EmulatorProcess,
                                              provider_str: str, n: int) -> None:
    emulator.reset()
    ids = tf_account.seed(endpoint_inputs(f"seeded-{i}") for i in range(n))
    with tf_account.host() as host:
        emulator.clear_requests()
        reads = [functools.partial(host.read, make_urn(RESOURCE_TYPE, f"r{i}"), ids[i],
                                   {**endpoint_inputs(f"seeded-{i}"), "__provider": provider_str}) for i in range(n)]
        results = host.run_concurrently(reads)
    assert [r.id for r in results] == ids
    total = sum(emulator.call_counts().values())
    assert total <= max(1, math.ceil(n / 50)), f"refresh of {n} endpoints made {total} API calls"


def test_a_fleet_waits_together_on_shared_polls(tf_account: EmulatorAccount, emulator: EmulatorProcess) -> None:
    emulator.reset()
    n = 12
    with tf_account.host() as host:
        fleet = [tf_account.resource(host, f"f{i}") for i in range(n)]
        programs = [endpoint_inputs(f"fleet-{i}") for i in range(n)]
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
