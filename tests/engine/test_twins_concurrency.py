"""Class 3 of issue 11: twins under concurrency.

Several resources with the same display name and spec, created at once by one provider process
while POST answers get lost, must never end up holding one endpoint between two of them, and
none may leave an endpoint that no resource holds. Each create carries its own routing key
(chosen by check from its URN) and the API refuses a second endpoint with a key one holds, so:

- after a lost answer, the endpoint holding this create's key is its own, whatever siblings with
  the same name and spec have made or are about to be told of: never a guess, never an error;
- a first POST refused for its key made nothing, and the endpoint holding the key is not taken;
- a re-POST refused for its key finds the earlier endpoint of this very create;
- nothing is ever cleaned up, so nothing a sibling holds can be deleted.

The first tests stage each race exactly, in memory, with threads held inside the fake API. The
last one is the soak: 20 seeded runs of 20 resources with one display name and spec created at
once through one provider host, against the emulator with a third of the POSTs and a quarter of
the other requests failing or losing their answers; it measures what the account holds after.
"""

from __future__ import annotations

import collections
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
from pulumi_tokenfactory.schema import URN_FIELD
from tests.harness.accounts import AccountSettings
from tests.harness.live import delete_all, live_endpoints

SPEC = EndpointSpec(name="twin", model_name="openai/gpt-oss-20b", flavor_name="base", gpu_type="gpu-h100-sxm",
                    gpu_count=1, scaling=Scaling(min_replicas=1, max_replicas=2))
#: Two resources with one display name and spec; each has its own routing key, as check chooses them.
KEY_A, KEY_B = "dedicated/openai/gpt-oss-20b-aaaaaaaaaaaa", "dedicated/openai/gpt-oss-20b-bbbbbbbbbbbb"
SPEC_A = SPEC.model_copy(update={"routing_key": KEY_A})
SPEC_B = SPEC.model_copy(update={"routing_key": KEY_B})


# --------------------------------------------------------------------------- staged races, in memory


class Account:
    """Endpoints in memory, refusing (409, naming `routing_key`) a POST whose key an endpoint holds, as the
    API does. `on_post(number, endpoint)` decides the fate of each other POST: return an httpx.Response, or
    raise an httpx exception; it may store the endpoint first (the POST was applied) and may block."""

    def __init__(self, on_post: Callable[[int, dict[str, Any]], httpx.Response]) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.lists = 0
        self.log: list[str] = []
        self.on_list: Callable[[int], None] = lambda _: None
        self._on_post = on_post
        self._posts = itertools.count(1)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def land(self, endpoint: dict[str, Any]) -> None:
        with self._lock:
            assert not any(e["routing_key"] == endpoint["routing_key"] for e in self.endpoints.values())
            self.endpoints[endpoint["id"]] = endpoint

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            with self._lock:
                self.lists += 1
                self.log.append("GET")
                number, listed = self.lists, list(self.endpoints.values())
            self.on_list(number)
            return httpx.Response(200, json={"data": listed, "object": "list"})
        if request.method == "DELETE":
            endpoint_id = request.url.path.rsplit("/", 1)[-1]
            with self._lock:
                self.deleted.append(endpoint_id)
                found = self.endpoints.pop(endpoint_id, None)
            return httpx.Response(200 if found else 404)
        body = json.loads(request.content)
        with self._lock:
            self.log.append(f"POST {body['routing_key']}")
            if any(e["routing_key"] == body["routing_key"] for e in self.endpoints.values()):
                return httpx.Response(409, json={"detail": [{"loc": ["body", "routing_key"], "type": "conflict",
                                                             "msg": "routing_key is already taken"}]})
            number, endpoint_id = next(self._posts), f"ep-{next(self._ids)}"
        endpoint = {**body, "id": endpoint_id, "deployment": {"status": "starting"}}
        return self._on_post(number, endpoint)


def created(endpoint: dict[str, Any]) -> httpx.Response:
    return httpx.Response(201, json={"endpoint": endpoint})


def creator_on(account: Account) -> ExactlyOnceCreator:
    """One creator, as one provider process has."""
    client = TokenFactoryClient(api_key="k", base_url="http://api.test", transport=httpx.MockTransport(account),
                                retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)
    return ExactlyOnceCreator(client, sleep=lambda _: None)


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

    A must take ep-2 (its key), not ep-1 (B's answer is about to name it), and must not need B's answer
    to decide: A returns while B is still held.
    """
    landed_b, release_b = threading.Event(), threading.Event()

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        account.land(endpoint)
        if number == 1:  # B
            landed_b.set()
            release_b.wait(5)
            return created(endpoint)
        return httpx.Response(503)  # A: applied, answer lost

    account = Account(on_post)
    creator = creator_on(account)
    b = Call(lambda: creator.create(SPEC_B))
    assert landed_b.wait(5)
    a = Call(lambda: creator.create(SPEC_A))
    a.join()
    assert not release_b.is_set()
    release_b.set()
    b.join()
    assert b.error is None and a.error is None, (a.error, b.error)
    assert (a.result.endpoint.id, b.result.endpoint.id) == ("ep-2", "ep-1"), "two resources hold one endpoint"
    assert a.result.endpoint.routing_key == KEY_A and account.deleted == []


def test_a_repost_refused_for_the_key_finds_the_earlier_endpoint_not_a_siblings() -> None:
    """A's first POST times out and lands late; meanwhile sibling B's POST makes a twin (same name and spec)
    and has not answered. A's second POST is refused for its key: A must find its own earlier endpoint
    (ep-1, holding its key), not B's, and nothing may be deleted."""
    landed_b, release_b = threading.Event(), threading.Event()
    a_listed, go_on = threading.Event(), threading.Event()
    late: list[dict[str, Any]] = []

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        if number == 1:  # A's first: lands only later
            late.append(endpoint)
            raise httpx.ReadTimeout("the answer never came")
        account.land(endpoint)  # number 2: B's
        landed_b.set()
        release_b.wait(5)
        return created(endpoint)

    def on_list(number: int) -> None:
        if number == 1:  # A has seen nothing: hold it until its late POST and B's have landed
            a_listed.set()
            go_on.wait(5)

    account = Account(on_post)
    account.on_list = on_list
    creator = creator_on(account)
    a = Call(lambda: creator.create(SPEC_A))
    assert a_listed.wait(5)
    account.land(late[0])  # ep-1
    b = Call(lambda: creator.create(SPEC_B))
    assert landed_b.wait(5)  # ep-2, same name and spec, B not answered yet
    go_on.set()
    a.join()
    release_b.set()
    b.join()
    assert a.error is None and b.error is None, (a.error, b.error)
    assert account.log == [f"POST {KEY_A}", "GET", f"POST {KEY_B}", f"POST {KEY_A}", "GET"], account.log
    assert (a.result.endpoint.id, b.result.endpoint.id) == ("ep-1", "ep-2")
    assert account.deleted == [] and sorted(account.endpoints) == ["ep-1", "ep-2"]


def test_two_lost_answers_at_once_are_each_resolved_by_their_own_key_never_a_guess() -> None:
    """A and B POST at once; both POSTs are applied and both answers lost: ep-1 and ep-2 appear, both
    matching both. Each takes the one holding its key, with no error and no second POST."""
    both_landed = threading.Barrier(2, timeout=5)

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        account.land(endpoint)
        both_landed.wait()
        return httpx.Response(503)

    account = Account(on_post)
    creator = creator_on(account)
    a, b = Call(lambda: creator.create(SPEC_A)), Call(lambda: creator.create(SPEC_B))
    a.join()
    b.join()
    assert a.error is None and b.error is None, (a.error, b.error)
    assert a.result.endpoint.routing_key == KEY_A and b.result.endpoint.routing_key == KEY_B
    assert {a.result.endpoint.id, b.result.endpoint.id} == {"ep-1", "ep-2"}
    assert sum(line.startswith("POST") for line in account.log) == 2 and account.deleted == []


def test_a_lone_lost_answer_is_recovered() -> None:
    """The other side of the rule: with no sibling in flight, a lost answer is recovered as before."""

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        account.land(endpoint)
        return httpx.Response(503)

    account = Account(on_post)
    outcome = creator_on(account).create(SPEC_A)
    assert outcome.endpoint.id == "ep-1" and outcome.answer_lost and list(account.endpoints) == ["ep-1"]


def test_the_key_of_a_refused_first_post_is_named_and_its_holder_not_taken() -> None:
    """Another stack's endpoint, with the same name and spec, holds A's key: A's first POST is refused.

    Nothing was made, and the endpoint holding the key is not A's: it is not adopted or claimed."""
    account = Account(lambda number, endpoint: created(endpoint))
    account.land({**SPEC_A.payload(), "id": "ep-other", "deployment": {"status": "running"}})
    creator = creator_on(account)
    with pytest.raises(errors.EndpointOperationError) as info:
        creator.create(SPEC_A)
    message = str(info.value)
    assert KEY_A in message and "nothing was created" in message, message
    assert account.log == [f"POST {KEY_A}"], account.log
    assert list(account.endpoints) == ["ep-other"] and not creator.owns("ep-other")
    assert creator.create(SPEC_B).endpoint.routing_key == KEY_B, "a refused key does not block another"


def test_two_resources_given_one_key_in_one_deployment_get_one_endpoint_between_them() -> None:
    """A program gives two resources the same routing_key. While A's POST is in flight, B is refused at
    once, posting nothing; after A holds the endpoint, B is refused by the API. Never both hold it."""
    landed_a, release_a = threading.Event(), threading.Event()

    def on_post(number: int, endpoint: dict[str, Any]) -> httpx.Response:
        account.land(endpoint)
        landed_a.set()
        release_a.wait(5)
        return created(endpoint)

    account = Account(on_post)
    creator = creator_on(account)
    a = Call(lambda: creator.create(SPEC_A))
    assert landed_a.wait(5)
    with pytest.raises(errors.EndpointOperationError, match=KEY_A):
        creator.create(SPEC_A)
    assert account.log == [f"POST {KEY_A}"], "a create with a key another create of the process is posting"
    release_a.set()
    a.join()
    assert a.error is None and a.result.endpoint.id == "ep-1"
    with pytest.raises(errors.EndpointOperationError, match="nothing was created"):
        creator.create(SPEC_A)
    assert list(account.endpoints) == ["ep-1"] and account.log == [f"POST {KEY_A}", f"POST {KEY_A}"]


# --------------------------------------------------------------------------- the soak, through one provider host


TOKEN = "tf-twins-token-7d31"
RUNS = 20
RESOURCES = 20
HTTP_TIMEOUT = 0.5
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
#: Faults armed per stream and run: enough for the ~30 POSTs and ~80 lists a run makes.
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
    posts: int = 0
    faulted_posts: int = 0
    #: POSTs the API refused because the key was taken: late POSTs of creates that had posted again.
    refused_for_key: int = 0
    #: Endpoints two resources hold.
    shared: list[str] = field(default_factory=list)
    #: Endpoints a resource holds that are gone.
    wrong_deletions: list[str] = field(default_factory=list)
    #: Routing keys more than one endpoint holds: one create made two.
    doubled_keys: list[str] = field(default_factory=list)
    #: Endpoints whose key is not the key of the resource that holds them.
    wrong_keys: list[str] = field(default_factory=list)
    #: Endpoints no resource holds, that a failed create's error names (by id or routing key) for adoption.
    unheld_named: list[str] = field(default_factory=list)
    #: Endpoints no resource holds and no error names: what nobody would ever know to delete.
    unheld_unnamed: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
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
    for member in range(RESOURCES):
        steps = account.resource(host, f"r{run}-twin-{member}")
        # One display name and spec for all; half wait for readiness, half do not.
        programs.append({**endpoint_inputs(f"r{run}-twin", wait_for_ready=(run + member) % 2 == 0),
                         URN_FIELD: steps.urn})
        fleet.append(steps)
    arm_seeded_faults(emulator, seed=run)
    outcomes = host.run_concurrently([functools.partial(s.up, p) for s, p in zip(fleet, programs, strict=True)],
                                     return_exceptions=True)
    time.sleep(HTTP_TIMEOUT + 0.7)  # a delayed POST still on its way lands (or is refused) before counting
    emulator.clear_faults()
    tally = RunTally(resources=len(fleet))
    posts = account.requests_of("POST", ENDPOINTS)
    tally.posts, tally.faulted_posts = len(posts), sum(1 for r in posts if r.get("fault"))
    tally.refused_for_key = sum(1 for r in posts if r["status"] == 409)
    texts = [error_text(o) for o in outcomes if isinstance(o, BaseException)]
    tally.failed, tally.messages = len(texts), [t.strip().splitlines()[-1] for t in texts]
    holders: collections.Counter[str] = collections.Counter(s.id for s in fleet if s.id)
    tally.created = sum(holders.values())
    tally.shared = [i for i, n in holders.items() if n > 1]
    live = {e["id"]: e for e in live_endpoints(account)}
    tally.wrong_deletions = [i for i in holders if i not in live]
    tally.wrong_keys = [s.id for s in fleet if s.id in live and live[s.id]["routing_key"] != s.outputs["routing_key"]]
    per_key = collections.Counter(e["routing_key"] for e in live.values())
    tally.doubled_keys = [k for k, n in per_key.items() if n > 1]
    for endpoint_id, endpoint in live.items():
        if endpoint_id in holders:
            continue
        if any(endpoint_id in text or endpoint["routing_key"] in text for text in texts):
            tally.unheld_named.append(endpoint_id)
        else:
            tally.unheld_unnamed.append(endpoint_id)
            tally.details.append(f"{endpoint_id}: key {endpoint['routing_key']} created {endpoint.get('created_at')}")
    delete_all(account)
    return tally


@pytest.fixture(scope="module")
def account_settings() -> AccountSettings:
    return AccountSettings(token=TOKEN, host_env={"TOKENFACTORY_HTTP_TIMEOUT": str(HTTP_TIMEOUT)})


@pytest.mark.timeout(300)
def test_twenty_seeded_runs_of_twenty_concurrent_twin_creates_under_heavy_faults(tf_account: EmulatorAccount,
                                                                                 host: ProviderHost) -> None:
    tallies: list[RunTally] = []
    started = time.monotonic()
    for run in range(RUNS):
        tallies.append(one_run(tf_account, host, run))
    elapsed = time.monotonic() - started

    def total(what: Callable[[RunTally], int]) -> int:
        return sum(what(t) for t in tallies)

    totals = {
        "runs": len(tallies),
        "resources": total(lambda t: t.resources),
        "created": total(lambda t: t.created),
        "failed": total(lambda t: t.failed),
        "POSTs": total(lambda t: t.posts),
        "faulted POSTs": total(lambda t: t.faulted_posts),
        "POSTs refused for the key": total(lambda t: t.refused_for_key),
        "shared ids": total(lambda t: len(t.shared)),
        "wrong deletions": total(lambda t: len(t.wrong_deletions)),
        "keys held twice": total(lambda t: len(t.doubled_keys)),
        "wrong keys": total(lambda t: len(t.wrong_keys)),
        "unheld, named in an error": total(lambda t: len(t.unheld_named)),
        "unheld, unnamed": total(lambda t: len(t.unheld_unnamed)),
    }
    print(f"\ntwins soak in {elapsed:.0f}s: " + ", ".join(f"{k}: {v}" for k, v in totals.items()))
    for number, tally in enumerate(tallies):
        bad = (tally.unheld_unnamed or tally.unheld_named or tally.shared or tally.wrong_deletions
               or tally.doubled_keys or tally.wrong_keys)
        print(f"  run {number:2d}: created {tally.created:2d}, failed {tally.failed:2d}, POSTs {tally.posts:2d} "
              f"({tally.faulted_posts} faulted, {tally.refused_for_key} refused for the key), "
              f"unheld named {len(tally.unheld_named)}"
              + (f"  <-- {tally}" if bad else ""))
    distinct = sorted({m for t in tallies for m in t.messages})
    print("  failure messages:\n    " + "\n    ".join(m[:300] for m in distinct[:12]))
    assert totals["shared ids"] == 0, [t.shared for t in tallies]
    assert totals["wrong deletions"] == 0, [t.wrong_deletions for t in tallies]
    assert totals["keys held twice"] == 0, [t.doubled_keys for t in tallies]
    assert totals["wrong keys"] == 0, [t.wrong_keys for t in tallies]
    unheld = totals["unheld, named in an error"] + totals["unheld, unnamed"]
    assert unheld == 0, (f"{unheld} endpoint(s) no resource holds: named in an error "
                         f"{[t.unheld_named for t in tallies if t.unheld_named]}; unnamed "
                         f"{[t.details for t in tallies if t.details]}")
    assert totals["faulted POSTs"] >= RUNS * RESOURCES // 5, "too few POSTs were faulted for the soak to show much"
    assert totals["POSTs refused for the key"] > 0, "no late POST met its repost: the key's refusal went untested"
    assert totals["created"] > totals["resources"] // 2, "so many creates failed that the soak shows nothing"
