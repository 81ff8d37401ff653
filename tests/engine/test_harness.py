"""Self-tests of the engine/mocks harness, against the real provider host of the installed SDK.

Each test pins one fact from /work/shared/engine-protocol-notes.md, observed from inside
the provider (the sample provider echoes what it received), so a harness that stopped
behaving like the engine would make these fail.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings

from devtools.enginehost import (
    UNKNOWN,
    CreateOutcome,
    HarnessError,
    ProviderCallError,
    ProviderHost,
    build_configure_request,
    decode_provider,
    from_struct,
    make_urn,
    serialized_provider,
    serialized_provider_is_secret,
    to_struct,
)
from tests.harness.mocks import RecordingMocks, run_program
from tests.harness.sample_provider import IMPORT_ROOT, SampleProvider, SampleThing

pytestmark = pytest.mark.timeout(60)

TYPE = "pulumi-python:dynamic/sample:Thing"
CONFIG = {"sample:apiKey": "s3cret-value", "proj:greeting": "hi"}
SECRET_KEYS = ("sample:apiKey",)
#: The sample provider pickles by reference to `tests.harness.sample_provider`: the host must import it from here.
PYTHONPATH = (IMPORT_ROOT,)


@pytest.fixture(scope="module")
def provider_str() -> str:
    return serialized_provider(SampleProvider())


@pytest.fixture
def host() -> Iterator[ProviderHost]:
    with ProviderHost(config=CONFIG, secret_keys=SECRET_KEYS, pythonpath=PYTHONPATH) as h:
        yield h


def _props(provider: str, **values: Any) -> dict[str, Any]:
    return {"__provider": provider, **values}


# ----------------------------------------------------------------------------- pure helpers


def test_make_urn_matches_engine_format() -> None:
    assert make_urn(TYPE, "ep") == f"urn:pulumi:dev::proj::{TYPE}::ep"
    assert make_urn("a:b:C", "x", stack="prod", project="p") == "urn:pulumi:prod::p::a:b:C::x"


def test_to_struct_matches_sdk_serializer_and_turns_ints_into_floats() -> None:
    props = {"n": 1, "f": 1.5, "b": True, "s": "x", "nested": {"k": [1, 2, {"z": 3}]}, "u": Unknown()}
    ours = to_struct(props)
    loop = asyncio.new_event_loop()
    try:
        sdk = loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()
    assert ours == sdk
    assert ours["u"] == UNKNOWN
    back = from_struct(ours)
    assert back["n"] == 1.0 and type(back["n"]) is float
    assert type(back["nested"]["k"][2]["z"]) is float
    assert isinstance(back["u"], Unknown)
    with pytest.raises(TypeError, match="cannot travel"):
        to_struct({"bad": object()})


def test_configure_request_wraps_secrets_in_args_only() -> None:
    req = build_configure_request({**CONFIG, "proj:count": 2}, SECRET_KEYS)
    args = rpc.deserialize_properties(req.args)
    assert rpc.is_rpc_secret(args["sample:apiKey"])
    assert rpc.unwrap_rpc_secret(args["sample:apiKey"]) == "s3cret-value"
    assert args["proj:greeting"] == "hi"
    assert dict(req.variables) == {
        "pulumi-python:config:sample:apiKey": "s3cret-value",
        "pulumi-python:config:proj:greeting": "hi",
        "pulumi-python:config:proj:count": "2",  # non-strings travel as JSON
    }
    assert req.acceptSecrets and req.acceptResources and req.sends_old_inputs and req.sends_old_inputs_to_delete
    with pytest.raises(HarnessError, match="namespaced"):
        build_configure_request({"apiKey": "x"})


def test_serialized_provider_is_by_reference_small_and_stable() -> None:
    first = serialized_provider(SampleProvider())
    second = serialized_provider(SampleProvider())
    assert first == second
    raw = decode_provider(first)
    assert b"tests.harness.sample_provider" in raw
    assert len(raw) < 300, len(raw)
    assert serialized_provider_is_secret(SampleProvider())

    class LocalProvider(pulumi.dynamic.ResourceProvider):
        def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
            return pulumi.dynamic.CreateResult("x", props)

    by_value = decode_provider(serialized_provider(LocalProvider()))
    assert len(by_value) > 2 * len(raw), "a class that is not importable must be pickled by value"


# ----------------------------------------------------------------------------- provider host


def test_host_env_and_lifecycle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/from/the/caller")
    h = ProviderHost(env={"EXTRA": "1"}, project="myproj", pythonpath=PYTHONPATH)
    env = h.build_env()
    assert env["PULUMI_PROJECT"] == "myproj"
    assert env["PYTHONPATH"].split(":") == [str(IMPORT_ROOT), "/from/the/caller"], "ours first, the caller's kept"
    assert env["EXTRA"] == "1"
    assert ProviderHost().build_env()["PYTHONPATH"] == "/from/the/caller", "no path is added unless asked for"
    with h:
        assert h.is_alive() and h.pid > 0 and h.port
    assert not h.is_alive()


def test_resource_call_before_configure_is_refused(provider_str: str) -> None:
    with ProviderHost(pythonpath=PYTHONPATH) as h, pytest.raises(HarnessError, match="before Configure"):
        h.check(make_urn(TYPE, "a"), {}, _props(provider_str, size=1))


def test_full_lifecycle_round_trip(host: ProviderHost, provider_str: str) -> None:
    urn = make_urn(TYPE, "a")

    checked = host.check(urn, {}, _props(provider_str, name="a", size=2, region="eu"))
    assert checked.failures == []
    assert checked.inputs["_types"] == {"name": "str", "size": "float", "region": "str"}
    assert checked.inputs["__provider"] == provider_str

    created = host.create(urn, checked.inputs)
    assert created.id == "sample-a"
    outs = created.properties
    assert outs["types"]["size"] == "float"  # engine ints arrive as floats
    assert outs["size"] == 2.0
    assert outs["api_key_ok"] is True  # secret config reached configure(), unwrapped
    assert outs["greeting"] == "hi"  # un-namespaced key resolved with PULUMI_PROJECT
    assert outs["configure_calls"] == 1.0
    assert outs["__provider"] == provider_str  # host adds it back to outputs

    same = host.diff(urn, created.id, outs, checked.inputs, old_inputs=checked.inputs)
    assert same.changes == "DIFF_NONE" and same.replaces == []
    bigger = host.diff(urn, created.id, outs, {**checked.inputs, "size": 3})
    assert bigger.changes == "DIFF_SOME" and bigger.replaces == [] and not bigger.delete_before_replace
    moved = host.diff(urn, created.id, outs, {**checked.inputs, "region": "us"})
    assert moved.changes == "DIFF_SOME" and moved.replaces == ["region"] and moved.delete_before_replace
    assert moved.stables == []  # the 3.272 host drops DiffResult.stables

    refreshed = host.read(urn, created.id, outs, inputs=checked.inputs)
    assert refreshed.id == created.id and refreshed.properties["read"] is True
    assert refreshed.inputs == {"name": "a", "size": 2.0, "region": "eu", "__provider": provider_str}

    imported = host.read(urn, "sample-imp", None, inputs=_props(provider_str, name="imp"))
    assert imported.id == "sample-imp"
    assert imported.properties == {"name": "imp", "read": True, "__provider": provider_str}

    updated = host.update(urn, created.id, outs, {**checked.inputs, "size": 5}, old_inputs=checked.inputs)
    assert updated["size"] == 5.0 and updated["previous_size"] == 2.0
    assert updated["__provider"] == provider_str

    host.delete(urn, created.id, updated, old_inputs=checked.inputs)
    logs = host.stderr_text()
    assert "sample-provider: created a" in logs
    assert "sample-provider: deleted sample-a" in logs
    assert "sample-provider stdout: updated sample-a" in host.stdout_text()  # print() after the port line
    assert "s3cret-value" not in host.logs_text()


def test_check_failures_are_returned(host: ProviderHost, provider_str: str) -> None:
    out = host.check(make_urn(TYPE, "a"), {}, _props(provider_str, size=-1))
    assert out.failures == [("size", "size must be >= 0, got -1")]


def test_unknown_inputs_arrive_as_unknown_objects(host: ProviderHost, provider_str: str) -> None:
    urn = make_urn(TYPE, "a")
    checked = host.check(urn, {}, _props(provider_str, size=1, region=UNKNOWN, zone=Unknown()))
    assert checked.inputs["_types"]["region"] == "Unknown"
    assert checked.inputs["_types"]["zone"] == "Unknown"
    assert isinstance(checked.inputs["region"], Unknown)
    diff = host.diff(urn, "sample-a", _props(provider_str, size=1), _props(provider_str, size=UNKNOWN))
    assert diff.changes == "DIFF_UNKNOWN"


def test_sdk_quirk_unknown_provider_breaks_check(host: ProviderHost, provider_str: str) -> None:
    """Documents the 3.272 bug from the notes; if this starts passing, the SDK was fixed."""
    with pytest.raises(ProviderCallError) as info:
        host.check(make_urn(TYPE, "a"), _props(provider_str), {"__provider": UNKNOWN, "size": 1})
    assert info.value.last_line.startswith("TypeError:")


def test_exception_surfaces_with_readable_last_line(host: ProviderHost, provider_str: str) -> None:
    with pytest.raises(ProviderCallError) as info:
        host.create(make_urn(TYPE, "a"), _props(provider_str, fail="quota exceeded for gpu-h100"))
    err = info.value
    assert err.code == grpc.StatusCode.UNKNOWN
    assert err.is_traceback and "sample_provider.py" in err.details
    assert err.last_line == "ValueError: quota exceeded for gpu-h100"
    assert err.message == "quota exceeded for gpu-h100"
    assert err.method == "Create"


def test_read_of_gone_resource(host: ProviderHost, provider_str: str) -> None:
    urn = make_urn(TYPE, "a")
    gone = host.read(urn, "gone", _props(provider_str))
    assert gone.id == ""
    # ReadResult(None, None) crashes the 3.272 host: outs must be a dict.
    with pytest.raises(ProviderCallError, match="does not support item assignment"):
        host.read(urn, "gone-none", _props(provider_str))


def test_later_configure_does_not_reconfigure_cached_provider(host: ProviderHost, provider_str: str) -> None:
    urn = make_urn(TYPE, "a")
    first = host.create(urn, _props(provider_str, name="one")).properties
    host.configure({"sample:apiKey": "other", "proj:greeting": "bye"})
    again = host.create(urn, _props(provider_str, name="two")).properties
    assert (again["api_key_ok"], again["greeting"], again["configure_calls"]) == (True, "hi", 1.0)
    assert first["pid"] == again["pid"]
    # A different __provider string is deserialized and configured afresh, with the new config.
    other = serialized_provider(SampleProvider(tag="other"))
    fresh = host.create(urn, _props(other, name="three")).properties
    assert (fresh["api_key_ok"], fresh["greeting"]) == (False, "bye")


def test_bare_config_keys_resolve_against_pulumi_project(provider_str: str) -> None:
    with ProviderHost(config=CONFIG, secret_keys=SECRET_KEYS, project="otherproj", pythonpath=PYTHONPATH) as h:
        outs = h.create(make_urn(TYPE, "a"), _props(provider_str)).properties
    assert "sample-provider: created thing" in h.stderr_text()  # logs survive the with-block
    # configure() looked up "otherproj:greeting": the value set as "proj:greeting" is not found.
    assert "greeting" not in outs  # None values are dropped on the wire
    assert outs["api_key_ok"] is True  # namespaced keys do not depend on the project


def test_four_calls_run_at_once_and_a_fifth_waits(host: ProviderHost, provider_str: str) -> None:
    urn = make_urn(TYPE, "c")
    host.create(urn, _props(provider_str, name="warm"))  # deserialize + configure outside the timing
    nap = 0.8
    t0 = time.time()
    results = host.run_concurrently(
        [partial(host.create, urn, _props(provider_str, name=f"c{i}", sleep=nap)) for i in range(5)]
    )
    wall = time.time() - t0
    spans = sorted((r.properties["started"], r.properties["finished"]) for r in results)
    overlap = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlap == 4, spans
    fifth_start = spans[-1][0]
    assert fifth_start >= min(e for _, e in spans[:4]) - 0.05, "the 5th call must wait for a free worker"
    assert 2 * nap - 0.1 <= wall < 3 * nap + 1.0, wall


def test_run_concurrently_collects_exceptions(host: ProviderHost, provider_str: str) -> None:
    urn = make_urn(TYPE, "e")
    out = host.run_concurrently(
        [
            lambda: host.create(urn, _props(provider_str, name="ok")),
            lambda: host.create(urn, _props(provider_str, fail="x")),
        ],
        return_exceptions=True,
    )
    assert isinstance(out[0], CreateOutcome) and out[0].id == "sample-ok"
    assert isinstance(out[1], ProviderCallError)
    with pytest.raises(ProviderCallError):
        host.run_concurrently([lambda: host.create(urn, _props(provider_str, fail="x"))])


def test_kill_mid_call_surfaces_unavailable(host: ProviderHost, provider_str: str) -> None:
    urn = make_urn(TYPE, "k")
    host.create(urn, _props(provider_str, name="warm"))
    box: list[BaseException | None] = []

    def slow() -> None:
        try:
            host.create(urn, _props(provider_str, name="slow", sleep=10))
            box.append(None)
        except BaseException as exc:
            box.append(exc)

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.4)
    host.kill()
    worker.join(10)
    assert not worker.is_alive()
    assert isinstance(box[0], ProviderCallError) and box[0].code == grpc.StatusCode.UNAVAILABLE
    assert host.returncode == -9


def test_host_start_failure_reports_stderr(tmp_path: Path) -> None:
    # `python -m` puts the cwd first on sys.path, so a fake `pulumi` there breaks startup.
    (tmp_path / "pulumi").mkdir()
    (tmp_path / "pulumi" / "__init__.py").write_text("raise ImportError('broken pulumi for test')\n")
    with pytest.raises(HarnessError, match="broken pulumi for test"), ProviderHost(cwd=tmp_path):
        pass


# ----------------------------------------------------------------------------- mocks


def _program() -> None:
    cfg = pulumi.Config()
    thing = SampleThing("one", {"name": "one", "size": 3})
    pulumi.export("size", thing.size)
    pulumi.export("greeting", cfg.require("greeting"))
    pulumi.export("token", pulumi.Output.secret("shh"))
    pulumi.export("dry_run", pulumi.runtime.is_dry_run())
    pulumi.log.info(f"greeting is {cfg.require('greeting')}")


@pytest.mark.parametrize("run", [1, 2])
def test_run_program_captures_resources_and_exports_repeatedly(run: int, provider_str: str) -> None:
    monitor_before = settings.get_monitor()
    for greeting in (f"hello-{run}", f"again-{run}"):
        result = run_program(_program, config={"greeting": greeting})
        assert [(r.type, r.name) for r in result.resources] == [(TYPE, "one")]
        thing = result.named("one")
        assert thing.provider_str == provider_str  # same bytes as Resource.__init__ puts in state
        assert "__provider" in thing.secret_inputs
        assert thing.plain_inputs == {"name": "one", "size": 3.0}
        assert thing.urn == f"urn:pulumi:dev::proj::pulumi:pulumi:Stack${TYPE}::one"
        assert thing.parent == result.stack_urn == "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"
        assert thing.id == "one-id"
        assert result.exports == {"size": 3.0, "greeting": greeting, "token": "shh", "dry_run": False}
        assert result.secret_exports == {"token"}
        assert ("INFO", f"greeting is {greeting}") in result.logs
    # Nothing leaked into the caller's context or thread.
    assert settings.get_root_resource() is None
    assert settings.get_monitor() is monitor_before
    assert threading.current_thread() is threading.main_thread()


def test_run_program_with_custom_outputs_calls_and_preview() -> None:
    mocks = RecordingMocks(
        outputs=lambda args: ("custom-id", {**args.inputs, "status": "running"}),
        call=lambda args: {"echo": args.args.get("x")},
    )

    def program() -> None:
        thing = SampleThing("t", {"name": "t", "status": None}, pulumi.ResourceOptions(ignore_changes=["size"]))
        pulumi.export("status", thing.status)  # type: ignore[attr-defined]
        pulumi.export("id", thing.id)
        pulumi.export("echo", pulumi.runtime.invoke("sample:index:echo", {"x": 7}).value["echo"])
        pulumi.export("dry_run", pulumi.runtime.is_dry_run())

    result = run_program(program, mocks=mocks, preview=True)
    assert result.exports["status"] == "running"
    assert result.exports["id"] == "custom-id"
    assert result.exports["echo"] == 7.0
    assert result.exports["dry_run"] is True
    assert [(c.token, c.args) for c in result.calls] == [("sample:index:echo", {"x": 7.0})]
    thing = result.named("t")
    assert thing.request is not None and list(thing.request.ignoreChanges) == ["size"]


def test_run_program_propagates_errors_and_recovers() -> None:
    def broken() -> None:
        SampleThing("ok", {"name": "ok"})
        raise RuntimeError("program exploded")

    with pytest.raises(RuntimeError, match="program exploded"):
        run_program(broken)
    with pytest.raises(pulumi.ConfigMissingError):
        run_program(_program)  # greeting missing
    assert run_program(_program, config={"proj:greeting": "x"}).exports["greeting"] == "x"
