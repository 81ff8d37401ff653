"""Class 3 of issue 11: twins under concurrency.

Several resources with the same display name and spec, created at once by one
provider process while POST answers get lost, must never end up holding one
endpoint between two of them, and no clean-up may delete an endpoint that
another of them holds. The rules:

- an endpoint belongs to at most one resource, ever;
- clean-up deletes only an endpoint that this very create may have POSTed and no
  other create of the process may have: matching the fingerprint is not enough;
- several unclaimed candidates that could be ours is an error naming them, never a guess.

The first tests stage each race exactly, in memory, with threads held inside
the fake API. The last one is the soak: 20 seeded runs of 20 resources created
at once through one provider host, against the emulator with a third of the
POSTs and a quarter of the other requests failing or losing their answers.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from devtools.enginehost import CheckFailed, ProviderCallError, ProviderHost
from devtools.harness import ENDPOINTS, EmulatorAccount, endpoint_inputs
from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient
from pulumi_tokenfactory.api.models import EndpointSpec, Scaling
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.host.creation import ExactlyOnceCreator
from tests.harness.accounts import AccountSettings

SPEC = EndpointSpec(name="twin", model_name="openai/gpt-oss-20b", flavor_name="base", gpu_type="gpu-h100-sxm",
                    gpu_count=1, scaling=Scaling(min_replicas=1, max_replicas=2))
#: The client timeout the creator bases its settle period on (in memory, in real seconds). Where a
#: sibling's answer must be processed before the settle period ends, a generous one keeps a loaded
#: machine from turning the race into a timeout; the outcome never depends on it otherwise.
ANSWER_TIMEOUT = 0.25
GENEROUS_ANSWER_TIMEOUT = 2.0


# --------------------------------------------------------------------------- staged races, in memory


class Account:
    """Endpoints in memory. `on_post(number, endpoint)` decides each POST's fate: return an httpx.Response,
    or raise an httpx exception; it may store the endpoint first (the POST was applied) and may block."""

    def __init__(self, on_post: Callable[[int, dict[str, Any]], httpx.Response]) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.lists = 0
        self.on_list: Callable[[int], None] = lambda _: None
        self._on_post = on_post
        self._posts = itertools.count(1)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def land(self, endpoint: dict[str, Any]) -> None:
        with self._lock:
            self.endpoints[endpoint["id"]] = endpoint

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            with self._lock:
                self.lists += 1
                number, listed = self.lists, list(self.endpoints.values())
            self.on_list(number)
            return httpx.Response(200, json={"endpoints": listed})
        if request.method == "DELETE":
            endpoint_id = request.url.path.rsplit("/", 1)[-1]
            with self._lock:
                self.deleted.append(endpoint_id)
                found = self.endpoints.pop(endpoint_id, None)
            return httpx.Response(200 if found else 404)
        with self._lock:
            number, endpoint_id = next(self._posts), f"ep-{next(self._ids)}"
        endpoint = {**json.loads(request.content), "id": endpoint_id, "status": "starting",
                    "routing_key": f"dedicated/{endpoint_id}"}
        return self._on_post(number, endpoint)


def creator_on(account: Account, answer_timeout: float = ANSWER_TIMEOUT) -> ExactlyOnceCreator:
    """One creator, as one provider process has; the check had listed an empty account before any POST."""
    client = TokenFactoryClient(api_key="k", base_url="http://api.test", transport=httpx.MockTransport(account),
                                retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)
    return ExactlyOnceCreator(client, known_ids=frozenset, answer_timeout=answer_timeout)


class Call:
    """One create on its own thread, its result or exception kept."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def join(self) -> None:
        self._thread.join(10)
        assert not self._thread.is_alive(), "the create did not return"


def test_a_lost_answer_never_adopts_the_endpoint_a_siblings_pending_post_made() -> None:
    """Sibling B's POST has made ep-1 but not yet answered; A's POST made ep-2 and answered 503.

    A must not take ep-1 (B's answer is about to name it): both would hold ep-1.
    """
    landed_b, release_b = threading.Event(), threading.Event()

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        account.land(endpoint)
        if number == 1:  # B
            landed_b.set()
            release_b.wait(5)
            return httpx.Response(200, json=endpoint)
        return httpx.Response(503)  # A: applied, answer lost

    account = Account(on_post)
    account.on_list = lambda number: release_b.set()  # B's answer arrives once A has looked once
    creator = creator_on(account, answer_timeout=GENEROUS_ANSWER_TIMEOUT)
    b = Call(lambda: creator.create(SPEC))
    assert landed_b.wait(5)
    a = Call(lambda: creator.create(SPEC))
    a.join()
    b.join()
    assert b.error is None and a.error is None, (a.error, b.error)
    held = [a.result.endpoint.id, b.result.endpoint.id]
    assert sorted(held) == ["ep-1", "ep-2"], f"two resources hold the same endpoint: {held}"
    assert b.result.endpoint.id == "ep-1" and account.deleted == []


def test_clean_up_never_deletes_an_endpoint_that_a_siblings_pending_post_made() -> None:
    """A's first POST timed out (never landed), so A posted again and may sweep a late duplicate.

    Then sibling B's POST makes ep-2 and has not answered yet: ep-2 matches A's spec and is new,
    but B may own it, so A's sweep must leave it alone.
    """
    landed_b, release_b = threading.Event(), threading.Event()

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        if number == 1:  # A's first: never lands
            raise httpx.ReadTimeout("the answer never came")
        account.land(endpoint)
        if number == 3:  # B
            landed_b.set()
            release_b.wait(5)
        return httpx.Response(200, json=endpoint)

    account = Account(on_post)
    creator = creator_on(account)
    outcome = creator.create(SPEC)
    assert outcome.endpoint.id == "ep-2"  # ids count POSTs: A's lost one was ep-1
    b = Call(lambda: creator.create(SPEC))
    assert landed_b.wait(5)
    creator.reap_twins(outcome, SPEC, creator._client.list_endpoints())
    release_b.set()
    b.join()
    assert b.error is None, b.error
    assert b.result.endpoint.id == "ep-3"
    assert account.deleted == [], f"A's clean-up deleted {account.deleted}, which B holds"
    assert sorted(account.endpoints) == ["ep-2", "ep-3"]


def test_several_candidates_that_could_be_ours_are_an_error_naming_them_never_a_guess() -> None:
    """A and B both POST at once; both POSTs are applied and both answers lost: ep-1 and ep-2 appear.

    Nothing tells whose is whose, so neither adopts one: both fail, naming both endpoints.
    """
    both_landed = threading.Barrier(2, timeout=5)

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        account.land(endpoint)
        both_landed.wait()
        return httpx.Response(503)

    account = Account(on_post)
    creator = creator_on(account)
    a, b = Call(lambda: creator.create(SPEC)), Call(lambda: creator.create(SPEC))
    a.join()
    b.join()
    for call in (a, b):
        assert isinstance(call.error, errors.EndpointOperationError), (
            f"a guess was made: {call.result.endpoint.id if call.result else call.error!r}")
        message = str(call.error)
        assert "ep-1" in message and "ep-2" in message and SPEC.name in message, message
    assert account.deleted == [] and sorted(account.endpoints) == ["ep-1", "ep-2"]


def test_a_lone_candidate_that_only_this_create_can_have_made_is_adopted() -> None:
    """The other side of the rule: with no sibling in flight, a lost answer is recovered as before."""

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        account.land(endpoint)
        return httpx.Response(503)

    account = Account(on_post)
    outcome = creator_on(account).create(SPEC)
    assert outcome.endpoint.id == "ep-1" and outcome.answer_lost and list(account.endpoints) == ["ep-1"]


# --------------------------------------------------------------------------- the soak, through one provider host


TOKEN = "tf-twins-token-7d31"
RUNS = 20
HTTP_TIMEOUT = 0.5
#: 20 resources: three groups of identical twins (same display name and spec) and five loners.
GROUPS = [("alpha", 6), ("beta", 5), ("gamma", 4)] + [(f"solo{i}", 1) for i in range(5)]
#: (method, path, share of requests faulted, actions to choose from).
STREAMS: list[tuple[str, str, float, list[dict[str, Any]]]] = [
    ("POST", ENDPOINTS, 1 / 3, [
        {"action": "apply_then_drop"}, {"action": "apply_then_error", "status": 500},
        {"action": "error", "status": 503}, {"action": "drop"},
        {"action": "delay", "delay": HTTP_TIMEOUT + 0.5},
        {"action": "apply_then_error", "status": 502, "delay": HTTP_TIMEOUT + 0.2},
    ]),
    ("GET", ENDPOINTS, 1 / 4, [
        {"action": "error", "status": 503}, {"action": "drop"}, {"action": "delay", "delay": HTTP_TIMEOUT + 0.3},
        {"action": "malformed"},
    ]),
    ("DELETE", f"{ENDPOINTS}/*", 1 / 4, [{"action": "error", "status": 503}, {"action": "apply_then_drop"}]),
]
#: Faults armed per stream and run: enough for the ~25 POSTs and ~80 lists a run makes.
FAULTS_PER_STREAM = {"POST": 15, "GET": 35, "DELETE": 8}


def arm_seeded_faults(emulator: EmulatorProcess, seed: int) -> int:
    """Faults for the next requests of each stream, drawn from `seed`.

    The emulator has no random faults, but faults armed in order with `skip` script a sequence:
    the first lets `skip` matching requests through untouched, fails the next one, and is used up;
    then the second does the same, and so on. Gaps are geometric, so each request of a stream is
    faulted with the stream's probability. Returns how many faults were armed.
    """
    rng = random.Random(seed)
    armed = 0
    for method, path, share, actions in STREAMS:
        for _ in range(FAULTS_PER_STREAM[method]):
            gap = 0
            while rng.random() >= share:
                gap += 1
            emulator.inject_fault(method=method, path=path, skip=gap, count=1, **rng.choice(actions))
            armed += 1
    return armed


@dataclass
class RunTally:
    resources: int = 0
    created: int = 0
    failed: int = 0
    duplicates: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    wrong_deletions: list[str] = field(default_factory=list)
    leaks_named: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    #: What the account said about each duplicate (name, status, created_at), to diagnose one.
    details: list[str] = field(default_factory=list)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, ProviderCallError):
        return exc.details
    if isinstance(exc, CheckFailed):
        return str(exc)
    return repr(exc)


def one_run(account: EmulatorAccount, host: ProviderHost, run: int) -> RunTally:
    emulator = account.emulator
    emulator.reset()
    programs, fleet = [], []
    for group, size in GROUPS:
        for member in range(size):
            # Half of each group waits for readiness, half does not: the sweep must not depend on it.
            programs.append(endpoint_inputs(f"r{run}-{group}", wait_for_ready=(run + member) % 2 == 0))
            fleet.append(account.resource(host, f"r{run}-{group}-{member}"))
    arm_seeded_faults(emulator, seed=run)
    outcomes = host.run_concurrently([functools.partial(s.up, p) for s, p in zip(fleet, programs, strict=True)],
                                     return_exceptions=True)
    time.sleep(0.3)  # every delayed POST landed before its create returned (its settle period outlasts it)
    emulator.clear_faults()
    tally = RunTally(resources=len(fleet))
    texts = [error_text(o) for o in outcomes if isinstance(o, BaseException)]
    tally.failed, tally.messages = len(texts), [t.strip().splitlines()[-1] for t in texts]
    holders: dict[str, int] = {}
    for steps in fleet:
        if steps.id:
            holders[steps.id] = holders.get(steps.id, 0) + 1
    tally.created = sum(holders.values())
    tally.shared = [i for i, n in holders.items() if n > 1]
    live = {e["id"]: e for e in account.live()}
    tally.wrong_deletions = [i for i in holders if i not in live]
    for endpoint_id in live:
        if endpoint_id in holders:
            continue
        if any(endpoint_id in text for text in texts):
            tally.leaks_named.append(endpoint_id)
        else:
            tally.duplicates.append(endpoint_id)
            found = live[endpoint_id]
            tally.details.append(f"{endpoint_id}: {found['name']} {found['status']} created {found['created_at']}")
    account.delete_all()
    return tally


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN, host_env={"TOKENFACTORY_HTTP_TIMEOUT": str(HTTP_TIMEOUT)})


@pytest.mark.timeout(240)
def test_twenty_seeded_runs_of_twenty_concurrent_creates_under_heavy_faults(tf_account: EmulatorAccount,
                                                                            host: ProviderHost) -> None:
    tallies: list[RunTally] = []
    started = time.monotonic()
    for run in range(RUNS):
        tallies.append(one_run(tf_account, host, run))
    elapsed = time.monotonic() - started
    total = {
        "runs": len(tallies),
        "resources": sum(t.resources for t in tallies),
        "created": sum(t.created for t in tallies),
        "failed": sum(t.failed for t in tallies),
        "duplicates": sum(len(t.duplicates) for t in tallies),
        "shared ids": sum(len(t.shared) for t in tallies),
        "wrong deletions": sum(len(t.wrong_deletions) for t in tallies),
        "leaks (named in an error)": sum(len(t.leaks_named) for t in tallies),
    }
    print(f"\ntwins soak in {elapsed:.0f}s: " + ", ".join(f"{k}: {v}" for k, v in total.items()))
    for number, tally in enumerate(tallies):
        bad = tally.duplicates or tally.shared or tally.wrong_deletions
        print(f"  run {number:2d}: created {tally.created:2d}, failed {tally.failed:2d}, "
              f"named leaks {len(tally.leaks_named)}" + (f"  <-- {tally}" if bad else ""))
    distinct = sorted({m for t in tallies for m in t.messages})
    print("  failure messages:\n    " + "\n    ".join(m[:300] for m in distinct[:12]))
    assert total["shared ids"] == 0, [t.shared for t in tallies]
    assert total["wrong deletions"] == 0, [t.wrong_deletions for t in tallies]
    assert total["duplicates"] == 0, [t.duplicates for t in tallies]
    assert total["created"] > total["resources"] // 2, "so many creates failed that the soak shows nothing"
