"""Upgrade safety: a state written by any released version must keep working with the current code.

Pulumi keeps the serialized provider (``__provider``) and the property maps a
version wrote in every stack's state, and hands them back to whatever version
is installed later, for refresh, preview, update and destroy. Pulumi's own
providers guard this with recorded gRPC logs replayed in provider-upgrade
tests; this module does the same for the dynamic provider. Each
``tests/fixtures/lifecycle-v<version>.json`` holds the Check/Diff/Create/
Update/Read/Delete requests and responses of one lifecycle as that version
produced them (see ``tests/fixtures/record_lifecycle.py``), and every test
here runs against every such file, through the real provider host and a fresh
emulator seeded with the recorded endpoint (same id, same routing key):

* the current ``__provider`` bytes equal the recorded ones (else every stack
  shows a spurious ``__provider`` diff, and an old state could unpickle into
  something else);
* refresh of the recorded state returns the same id, outputs and inputs;
* a preview of the recorded program over the recorded state shows no change,
  with the recorded ``__provider`` as with the current one;
* the recorded update makes one PATCH and yields the recorded outputs;
* the recorded destroy removes the endpoint;
* every recorded Check answers as it did; every property name the recorded
  calls use is still one the code knows.

Only the emulator's address (which changes from run to run) is rewritten in a
recording before it is replayed, and only timestamps are left out of output
comparisons. Check failure *reasons* are not pinned word for word: they
quote the template catalogue, which may grow; the failing property is pinned.

Adding a fixture when a version ships
-------------------------------------
1. Bump the version in ``pyproject.toml`` / ``pulumi_tokenfactory/__init__.py``
   and reinstall (``.venv/bin/pip install -e .``) so ``importlib.metadata`` sees it.
2. Run ``.venv/bin/python tests/fixtures/record_lifecycle.py``: it writes
   ``tests/fixtures/lifecycle-v<version>.json``.
3. Run this module, then commit the new file next to the old ones.

Keep every old fixture forever and never edit one: each stands for stacks in
the wild whose state that version wrote. If a test fails on an old fixture,
the change under test breaks those stacks: fix the code (keep accepting the
old property names and values, keep the provider class importable under its
old module and name), not the fixture. If the recording format itself must
change, bump ``FORMAT`` in the script and teach this module to read both.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.enginehost import PROVIDER_KEY, ProviderHost, serialized_provider
from pulumi_tokenfactory.api import models
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.endpoint.fields import API_FIELDS, FIELDS, INPUT_FIELDS, OUTPUT_FIELDS
from pulumi_tokenfactory.fields import Kind
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import API_KEY_CONFIG
from tests.fixtures.record_lifecycle import FIXTURES, HOST_ENV, api_writes, invoke

RECORDINGS = sorted(FIXTURES.glob("lifecycle-v*.json"))
#: Set by the API at the moment of a change: never equal between a recording and its replay.
VOLATILE = frozenset({"created_at", "updated_at"})
KNOWN_PROPERTIES = frozenset(INPUT_FIELDS) | frozenset(OUTPUT_FIELDS) | {PROVIDER_KEY}
KNOWN_SCALING_KEYS = frozenset(models.Scaling.model_fields)
PROPERTY_MAPS = ("olds", "news", "properties", "inputs", "old_inputs")


def test_there_is_a_recording_to_replay() -> None:
    assert RECORDINGS, f"no lifecycle-v*.json in {FIXTURES}: run tests/fixtures/record_lifecycle.py"


@pytest.fixture(scope="module", params=RECORDINGS, ids=[p.name for p in RECORDINGS])
def recording_path(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


@pytest.fixture(scope="module")
def recording(recording_path: Path) -> dict[str, Any]:
    """The fixture as recorded (its emulator address included)."""
    return dict(json.loads(recording_path.read_text()))


@dataclass
class Replay:
    """One recording, rebased onto a live emulator that knows its API key."""

    data: dict[str, Any]
    emulator: EmulatorProcess

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.data["steps"] if s["name"] == name)

    def call(self, step: str, method: str, index: int = 0) -> dict[str, Any]:
        return [c for c in self.step(step)["calls"] if c["method"] == method][index]

    def endpoint_before(self, step: str) -> dict[str, Any]:
        """The endpoint as the API held it when `step` began (what the state then described)."""
        names = [s["name"] for s in self.data["steps"]]
        endpoint = self.data["steps"][names.index(step) - 1]["endpoint_after"]
        assert endpoint, f"the recording has no endpoint before {step!r}"
        return dict(endpoint)

    def fresh(self, seed_before: str | None = None) -> None:
        """A blank account, holding the recorded endpoint as it was before `seed_before`."""
        self.emulator.reset()
        if seed_before is not None:
            seeded = self.emulator.seed_endpoint(self.endpoint_before(seed_before))
            assert as_api_reads(seeded) == as_api_reads(self.endpoint_before(seed_before))
        self.emulator.clear_requests()

    @contextmanager
    def host(self) -> Iterator[ProviderHost]:
        """A new provider host per test, as each `pulumi` command starts its own."""
        with ProviderHost(env=HOST_ENV, config=self.data["config"],
                          secret_keys=self.data["secret_config_keys"]) as host:
            yield host

    def invoke(self, host: ProviderHost, call: dict[str, Any], **changes: Any) -> dict[str, Any]:
        return invoke(host, self.data["urn"], call["method"], {**call["request"], **changes})


@pytest.fixture(scope="module")
def replay(recording_path: Path, recording: dict[str, Any]) -> Iterator[Replay]:
    with EmulatorProcess(provision_seconds=0.4, api_key=recording["config"][API_KEY_CONFIG]) as emulator:
        # Only the address differs between the recording's emulator and this one.
        text = recording_path.read_text().replace(recording["api_base_url"], emulator.base_url)
        yield Replay(json.loads(text), emulator)


#: Outputs declared after the recordings' release (fields.Field.added): new information about an old state.
LATER_OUTPUTS = frozenset(f.name for f in FIELDS if f.kind is Kind.COMPUTED and f.added is not None)


def stable(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in VOLATILE and k not in LATER_OUTPUTS}


def as_api_reads(answer: dict[str, Any]) -> dict[str, Any]:
    """An endpoint as the client reads it, whichever shape the API used: the recordings hold the legacy shape
    (flat status), the emulator now answers in the published one (deployment object)."""
    endpoint = models.Endpoint.model_validate(answer)
    fields = {name: getattr(endpoint, name) for name in API_FIELDS}
    return {"id": endpoint.id, **fields, "lifecycle": endpoint.lifecycle, "ready": endpoint.readiness_state}


#: What refresh now adds to the inputs of a state written before routing_key was an input: the endpoint's own key
#: (an optional input that the API fills in; a later check keeps it, so no change is ever shown for it).
REFRESH_ADDS_TO_INPUTS = frozenset(f.name for f in FIELDS if f.computed)


def with_provider(props: dict[str, Any], provider: str) -> dict[str, Any]:
    return {**props, PROVIDER_KEY: provider} if PROVIDER_KEY in props else dict(props)


# -- the serialized provider ------------------------------------------------------------------------


def test_serialized_provider_is_byte_for_byte_the_recorded_one(recording: dict[str, Any]) -> None:
    current = serialized_provider(DedicatedEndpointProvider())
    recorded = recording["provider"]
    assert base64.b64decode(current) == base64.b64decode(recorded), (
        f"__provider changed since v{recording['package_version']}: every stack would show a __provider "
        f"diff, and old states hold {base64.b64decode(recorded)!r}, now {base64.b64decode(current)!r}")
    assert current == recorded


def test_every_recorded_call_carries_the_recorded_provider(recording: dict[str, Any]) -> None:
    """The fixture is consistent: one provider string throughout, as in one real stack."""
    seen = {props[PROVIDER_KEY] for step in recording["steps"] for call in step["calls"]
            for part in (call["request"], call["response"]) for key in PROPERTY_MAPS
            if isinstance(props := part.get(key), dict) and PROVIDER_KEY in props}
    assert seen == {recording["provider"]}


# -- property names ---------------------------------------------------------------------------------


def test_every_recorded_property_name_is_still_known(recording: dict[str, Any]) -> None:
    unknown = set()
    for step in recording["steps"]:
        for call in step["calls"]:
            for part in ("request", "response"):
                for key in PROPERTY_MAPS:
                    props = call[part].get(key)
                    if not isinstance(props, dict):
                        continue
                    where = f"{step['name']}/{call['method']} {part}.{key}"
                    unknown |= {f"{where}: {name}" for name in set(props) - KNOWN_PROPERTIES}
                    scaling = props.get("scaling")
                    if isinstance(scaling, dict):
                        unknown |= {f"{where}: scaling.{name}" for name in set(scaling) - KNOWN_SCALING_KEYS}
    assert not unknown, f"old states hold property names the code no longer knows: {sorted(unknown)}"


# -- replays ----------------------------------------------------------------------------------------


def test_every_recorded_check_answers_as_recorded(replay: Replay) -> None:
    replay.fresh()
    checks = [(s["name"], c) for s in replay.data["steps"] for c in s["calls"] if c["method"] == "Check"]
    assert any(c["response"]["failures"] for _, c in checks), "the recording should hold a rejected Check"
    with replay.host() as host:
        for step, call in checks:
            got = replay.invoke(host, call)
            want = call["response"]
            # A new resource (no olds) now gets the routing key its create will send; nothing else changed.
            chosen = {} if call["request"].get("olds") else {"routing_key": got["inputs"].get("routing_key")}
            if chosen and got["inputs"].get("adopt_id") is None and not got["failures"]:
                assert str(chosen["routing_key"]).startswith("dedicated/"), f"{step}: no routing key chosen"
                assert got["inputs"] == {**want["inputs"], **chosen}, f"{step}: Check inputs changed"
            else:
                assert got["inputs"] == want["inputs"], f"{step}: Check inputs changed"
            assert [p for p, _ in got["failures"]] == [p for p, _ in want["failures"]], (
                f"{step}: Check failures changed: {got['failures']} != {want['failures']}")
            assert all(reason for _, reason in got["failures"])


def test_refresh_of_a_recorded_state_returns_it_unchanged(replay: Replay) -> None:
    replay.fresh(seed_before="refresh")
    read_call = replay.call("refresh", "Read")
    recorded = read_call["response"]
    with replay.host() as host:
        got = replay.invoke(host, read_call)
        assert got["id"] == read_call["request"]["id"] == recorded["id"]
        assert stable(got["properties"]) == stable(recorded["properties"])
        assert got["properties"]["status"] == replay.emulator.endpoints()[0]["deployment"]["status"]
        assert set(VOLATILE) <= set(got["properties"])
        assert got["inputs"] is not None, "a refresh must return inputs, else the engine keeps stale ones"
        added = {k: got["properties"][k] for k in REFRESH_ADDS_TO_INPUTS if k not in recorded["inputs"]}
        assert got["inputs"] == {**recorded["inputs"], **added}
        # Then `pulumi up` of the program that produced the state: nothing to do.
        checked = replay.invoke(host, replay.call("scale", "Check"), olds=got["inputs"])
        diff = invoke(host, replay.data["urn"], "Diff", {"id": got["id"], "olds": got["properties"],
                                                         "news": checked["inputs"], "old_inputs": got["inputs"]})
        assert (diff["changes"], diff["replaces"]) == ("DIFF_NONE", [])
    assert replay.emulator.requests() and api_writes(replay.emulator) == []


@pytest.mark.parametrize("provider", ["recorded", "current"])
def test_preview_of_the_recorded_program_over_the_recorded_state_shows_no_change(
        replay: Replay, provider: str) -> None:
    """`current`: the upgraded program sends today's `__provider` beside the state's old one."""
    replay.fresh(seed_before="noop")
    value = replay.data["provider"] if provider == "recorded" else serialized_provider(DedicatedEndpointProvider())
    check_call, diff_call = replay.call("noop", "Check"), replay.call("noop", "Diff")
    with replay.host() as host:
        checked = replay.invoke(host, check_call, news=with_provider(check_call["request"]["news"], value))
        assert checked["failures"] == []
        assert checked["inputs"] == with_provider(check_call["response"]["inputs"], value)
        assert checked["inputs"] == with_provider(diff_call["request"]["news"], value)
        diff = replay.invoke(host, diff_call, news=checked["inputs"])
    assert diff == diff_call["response"] == {"changes": "DIFF_NONE", "replaces": [], "delete_before_replace": False}
    assert api_writes(replay.emulator) == []


def test_update_of_a_recorded_state_makes_one_patch_with_the_recorded_result(replay: Replay) -> None:
    replay.fresh(seed_before="scale")
    diff_call, update_call = replay.call("scale", "Diff"), replay.call("scale", "Update")
    with replay.host() as host:
        diff = replay.invoke(host, diff_call)
        assert diff == diff_call["response"]
        got = replay.invoke(host, update_call)
    writes = api_writes(replay.emulator)
    assert writes == replay.step("scale")["api_writes"] == ["PATCH /v0/dedicated_endpoints/{id}"]
    recorded = update_call["response"]["properties"]
    assert stable(got["properties"]) == stable(recorded)
    live = replay.emulator.endpoints()
    assert as_api_reads(live[0]) == as_api_reads(replay.step("scale")["endpoint_after"])


def test_destroy_of_a_recorded_state_removes_the_endpoint(replay: Replay) -> None:
    replay.fresh(seed_before="destroy")
    with replay.host() as host:
        assert replay.invoke(host, replay.call("destroy", "Delete")) == {}
    assert replay.emulator.endpoints() == []
    assert api_writes(replay.emulator) == replay.step("destroy")["api_writes"] == [
        "DELETE /v0/dedicated_endpoints/{id}"]


# -- the fixture itself -----------------------------------------------------------------------------


def test_the_recording_covers_the_whole_lifecycle_and_is_commit_ready(
        recording_path: Path, recording: dict[str, Any]) -> None:
    methods = {c["method"] for s in recording["steps"] for c in s["calls"]}
    assert methods == {"Check", "Diff", "Create", "Update", "Read", "Delete"}
    assert recording_path.name == f"lifecycle-v{recording['package_version']}.json"
    text = recording_path.read_text()
    assert text == json.dumps(recording, indent=2, sort_keys=True) + "\n", "re-record it, do not hand-edit"
