"""What a person reads when something fails or changes (issue 20, items 2-4), one module at a time.

The same messages are shown through the real CLI in tests/cli/test_cli_errors.py and test_cli_rotation.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from pulumi_tokenfactory import errors, spend
from pulumi_tokenfactory.api.models import Endpoint
from pulumi_tokenfactory.api.models import LifecycleState as LS
from pulumi_tokenfactory.endpoint.adapter import _engine_failure
from pulumi_tokenfactory.endpoint.controller import EndpointController
from pulumi_tokenfactory.host import failures
from pulumi_tokenfactory.host.directory import Listing
from pulumi_tokenfactory.host.enginelog import EngineLog
from pulumi_tokenfactory.host.spendreport import SpendReport
from pulumi_tokenfactory.host.waiting import PollSchedule, Waiter
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.settings import Settings

URN = "urn:pulumi:dev::p::pulumi-python:dynamic/tokenfactory:DedicatedEndpoint::gpt"
PROPS = {"name": "GPT-120B Endpoint"}


# -- item 3: one line, naming the operation, the resource and the cause ---------------------------------------

def test_an_error_of_ours_keeps_its_class_and_names_operation_and_resource() -> None:
    exc = errors.TransportError("Could not reach the API at http://127.0.0.1:9 (ConnectError)", method="GET",
                                path="/v0/dedicated_endpoints")
    out = failures.one_line("create", PROPS, exc)
    assert out is exc and isinstance(out, errors.TransportError)
    assert str(out) == ("create 'GPT-120B Endpoint': Could not reach the API at http://127.0.0.1:9 (ConnectError) "
                        "(GET /v0/dedicated_endpoints)")


def test_a_message_that_names_them_already_is_not_prefixed_twice() -> None:
    exc = errors.EndpointOperationError("create 'GPT-120B Endpoint': endpoint ep-1 reported status error")
    assert str(failures.one_line("create", PROPS, exc)) == exc.message
    adopt = errors.EndpointOperationError("adopt 'GPT-120B Endpoint': endpoint ep-1 cannot be adopted")
    assert str(failures.one_line("create", PROPS, adopt)).startswith("adopt 'GPT-120B Endpoint': endpoint")


def test_without_a_name_the_line_names_the_id() -> None:
    out = failures.one_line("delete", {}, errors.ServerError("boom"), id_="ep-9")
    assert str(out) == "delete endpoint ep-9: boom"


def test_a_401_on_refresh_or_delete_names_the_way_out_of_a_rotated_key() -> None:
    for operation in ("refresh", "delete"):
        exc = errors.AuthenticationError("missing or invalid API token", status_code=401, method="GET",
                                         path="/v0/dedicated_endpoints")
        text = str(failures.one_line(operation, PROPS, exc))
        assert text.startswith(f"{operation} 'GPT-120B Endpoint': the Token Factory API refused the API key: ")
        assert "pulumi refresh --run-program" in text and "pulumi destroy --run-program" in text
        assert "saved in the state by the last `pulumi up`" in text
    on_create = str(failures.one_line("create", PROPS, errors.AuthenticationError("bad", status_code=401)))
    assert "--run-program" not in on_create and "tokenfactory:apiKey" in on_create


def test_anything_else_is_one_line_saying_it_is_a_bug_and_how_to_see_the_traceback() -> None:
    out = failures.one_line("update", PROPS, KeyError("scaling"))
    assert isinstance(out, errors.ProviderBugError)
    assert str(out) == ("update 'GPT-120B Endpoint': unexpected KeyError: 'scaling'. This is a bug in "
                        "pulumi-tokenfactory; run the command again with TOKENFACTORY_TRACEBACKS=1 set to see the "
                        "Python traceback, and report it")


@pytest.mark.parametrize("source", ["config", "environment"])
def test_an_unexpected_errors_text_never_quotes_the_api_key(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our errors redact what they quote; an unexpected one (a library's, say a header it refused) may quote
    anything, and the engine prints it."""
    key = "tf-unexpected-leak-7f3a9c"
    provider = DedicatedEndpointProvider()
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    if source == "config":
        provider._config = {"tokenfactory:apiKey": key}
    else:
        monkeypatch.setenv("TOKENFACTORY_API_KEY", key)

    class Broken:
        def read(self, id_: str, props: dict[str, Any]) -> Any:
            raise ValueError(f"Illegal header value {key!r}")

    provider._controller = Broken()  # type: ignore[assignment]
    with pytest.raises(errors.ProviderBugError) as info:
        provider.read("ep-1", dict(PROPS))
    assert key not in str(info.value) and "[REDACTED]" in str(info.value), str(info.value)
    assert str(info.value).startswith("refresh 'GPT-120B Endpoint': unexpected ValueError: Illegal header value")


def test_our_errors_never_quote_the_api_key_put_in_the_wrong_setting() -> None:
    """A setting's refusal quotes its value: the key pasted as the project id would be printed by the engine."""
    key = "tf-wrong-setting-4b1d7e"
    refused = errors.InvalidSettingError(f"tokenfactory:projectId {key!r} is not a project id; they would replace "
                                         f"the Bearer token", setting="tokenfactory:projectId")
    out = failures.one_line("check", PROPS, refused, secrets=[None, f" {key} "])
    assert isinstance(out, errors.InvalidSettingError)
    assert str(out) == ("check 'GPT-120B Endpoint': tokenfactory:projectId '[REDACTED]' is not a project id; they "
                        "would replace the Bearer token"), "the key alone goes; our own words stay"


@pytest.mark.parametrize("debug", ["", "1"])
def test_the_hosts_traceback_text_is_the_error_line_alone_unless_asked(debug: str) -> None:
    """What `_abort_with_traceback` sends: `traceback.format_exc()` around a provider call, after configure."""
    script = textwrap.dedent("""
        import importlib.machinery, sys, traceback
        from types import SimpleNamespace
        # As the engine starts the host: `python -m pulumi.dynamic` (the one process that quiets tracebacks).
        sys.modules["__main__"].__spec__ = importlib.machinery.ModuleSpec("pulumi.dynamic.__main__", None)
        from pulumi_tokenfactory.provider import DedicatedEndpointProvider
        import pulumi_tokenfactory.host.enginewatch as watch
        watch.exit_when_the_engine_is_gone = lambda: None
        provider = DedicatedEndpointProvider()
        provider.configure(SimpleNamespace(config={}))  # what the host's ConfigureRequest offers: .config.get
        try:
            provider.read("ep-1", {"name": "GPT-120B Endpoint"})
        except Exception:
            print(traceback.format_exc(), end="")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"TOKENFACTORY_TRACEBACKS": debug, "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    if debug:
        assert done.stdout.startswith("Traceback (most recent call last):"), done.stdout + done.stderr
    else:
        assert done.stdout == ("pulumi_tokenfactory.errors.MissingApiKeyError: refresh 'GPT-120B Endpoint': No "
                               "Token Factory API key is configured. Set it with `pulumi config set --secret "
                               "tokenfactory:apiKey <token>` or export TOKENFACTORY_API_KEY.\n"), done.stderr


def test_the_provider_raises_the_rewritten_error_with_no_chain() -> None:
    provider = DedicatedEndpointProvider()
    with pytest.raises(errors.MissingApiKeyError) as info:
        provider.delete("ep-1", dict(PROPS))
    assert str(info.value).startswith("delete 'GPT-120B Endpoint': No Token Factory API key")
    assert info.value.__cause__ is None and info.value.__suppress_context__


# -- item 4b: a nested check failure reads cleanly in the CLI -----------------------------------------------

def test_a_nested_check_failure_is_reported_on_the_resource_with_its_path() -> None:
    reason = "scaling.min_replicas (3) must not exceed scaling.max_replicas (2)"
    nested = _engine_failure("scaling.min_replicas", reason)
    assert (nested.property, nested.reason) == ("", reason)
    required = _engine_failure("scaling.max_replicas", "required")
    assert (required.property, required.reason) == ("", "scaling.max_replicas: required")
    top = _engine_failure("gpu_count", "must be a whole number")
    assert (top.property, top.reason) == ("gpu_count", "must be a whole number")


# -- item 4c: a refresh says what happened outside Pulumi, in the direction it happened ------------------------

def _state(min_replicas: int, **extra: Any) -> dict[str, Any]:
    return {"name": "GPT-120B Endpoint", "gpu_type": "gpu-h100-sxm", "gpu_count": 1.0, "enabled": True,
            "scaling": {"min_replicas": float(min_replicas), "max_replicas": 3.0}, "__urn": URN, **extra}


class Sink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def Log(self, request: Any, timeout: float) -> None:
        self.sent.append((request.urn, request.message))


def test_refresh_line_goes_from_recorded_to_found() -> None:
    recorded, found = spend.reservation(_state(1)), spend.reservation(_state(2))
    table = spend.PriceTable("USD", {"gpu-h100-sxm": 3.5})
    assert spend.refresh_line(recorded, found, table) == "+1 gpu-h100-sxm reserved, +$3.50/h (1 -> 2)"
    assert spend.refresh_line(recorded, recorded, table) is None


def test_the_diff_after_a_refresh_read_says_what_changed_outside_pulumi_not_an_update() -> None:
    sink = Sink()
    report = SpendReport(None, EngineLog(engine=sink))
    report.refreshed(_state(2))  # Read found min_replicas 2 (raised in the console)
    # The engine's refresh diff: the refreshed state as olds, the recorded inputs as news.
    report.diffed(_state(2), _state(1), changed=True, replaces=False)
    assert sink.sent == [(URN, "refresh found a change made outside Pulumi: +1 gpu-h100-sxm reserved (1 -> 2); "
                               "the next `pulumi up` sets it back to what the program declares")]
    # The `up` that follows (program says 1, state now 2) is an update again, in its own direction.
    report.diffed(_state(2), _state(1), changed=True, replaces=False)
    assert sink.sent[-1] == (URN, "update: -1 gpu-h100-sxm reserved (2 -> 1)")


def test_a_refresh_that_finds_nothing_new_says_nothing() -> None:
    sink = Sink()
    report = SpendReport(None, EngineLog(engine=sink))
    report.refreshed(_state(1))
    report.diffed(_state(1), _state(1), changed=False, replaces=False)
    assert sink.sent == []


# -- item 4d: waits say only what they saw -----------------------------------------------------------------

def _endpoint(status: str, readiness: str | None = None) -> Endpoint:
    body: dict[str, Any] = {"id": "ep-1", "name": "GPT-120B Endpoint", "status": status}
    if readiness:
        body["readiness"] = readiness
    return Endpoint.model_validate(body)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


class ScriptedDirectory:
    """Answers each poll from a script: an Endpoint status, or an exception to raise."""

    def __init__(self, answers: Iterator[Any]) -> None:
        self._answers = answers

    def snapshot(self, max_age: float) -> Listing:
        answer = next(self._answers)
        if isinstance(answer, Exception):
            raise answer
        return Listing({} if answer is None else {"ep-1": answer})


def waiter(answers: Iterator[Any], lines: list[str], clock: Clock) -> Waiter:
    return Waiter(ScriptedDirectory(answers), schedule=PollSchedule(initial=1.0, factor=1.0, maximum=1.0),  # type: ignore[arg-type]
                  progress=lines.append, sleep=clock.sleep, clock=clock, settings=Settings({}, environ={}))


def refused() -> errors.TransportError:
    return errors.TransportError("Could not reach the API at http://127.0.0.1:9 (ConnectError)", request_sent=False,
                                 method="GET", path="/v0/dedicated_endpoints")


def test_an_endpoint_stopped_at_once_prints_no_line() -> None:
    lines: list[str] = []
    clock = Clock()
    got = waiter(iter([_endpoint("stopped")]), lines, clock).until_state("ep-1", LS.STOPPED, 60, label="create 'x'")
    assert got.id == "ep-1" and lines == []


def test_repeated_poll_failures_are_said_once_then_counted() -> None:
    lines: list[str] = []
    answers = iter([_endpoint("starting")] + [refused() for _ in range(13)] + [_endpoint("running", "ready")])
    waiter(answers, lines, Clock()).until_state("ep-1", LS.RUNNING, 600, label="create 'x'")
    failed = [line for line in lines if "status poll failed" in line]
    assert failed == ["status poll failed, will try again: Could not reach the API at http://127.0.0.1:9 "
                      "(ConnectError) (GET /v0/dedicated_endpoints)",
                      "status poll failed 12 more times the same way"], lines


def test_a_wait_that_times_out_on_failed_polls_says_so_not_the_last_status() -> None:
    lines: list[str] = []
    answers = iter([_endpoint("starting")] + [refused() for _ in range(50)])
    with pytest.raises(errors.EndpointOperationError) as info:
        waiter(answers, lines, Clock()).until_state("ep-1", LS.RUNNING, 10, label="create 'x'")
    message = str(info.value)
    assert "last status: starting" not in message
    assert message.startswith("create 'x': endpoint ep-1 did not become ready within 10s (the last 9 status polls "
                              "failed: Could not reach the API at http://127.0.0.1:9 (ConnectError)"), message


# -- item 4a: a rollback says only what is known ------------------------------------------------------------

def _undo(delete: Any, until_gone: Any) -> str:
    api = SimpleNamespace(client=SimpleNamespace(delete_endpoint=delete), changed=lambda: None,
                          waiter=SimpleNamespace(until_gone=until_gone))
    cause = errors.EndpointOperationError("create 'x': endpoint ep-1 reported status error instead of becoming ready")
    return str(EndpointController({})._undo_create(api, "ep-1", cause))  # type: ignore[arg-type]


def test_a_rollback_whose_delete_was_accepted_never_says_the_endpoint_still_exists() -> None:
    def gone_unconfirmed(*args: Any, **kwargs: Any) -> None:
        raise errors.EndpointOperationError("clean-up: the last 3 status polls failed: boom")

    text = _undo(lambda *a, **k: True, gone_unconfirmed)
    assert "STILL EXISTS" not in text and "may be billed" not in text
    assert "was deleted (the API accepted the DELETE), but its removal could not be confirmed" in text
    assert "deleted again so that nothing is left running" in _undo(lambda *a, **k: True, lambda *a, **k: None)


def test_a_rollback_whose_delete_failed_says_it_still_exists_and_how_to_delete_it() -> None:
    def refuse(*args: Any, **kwargs: Any) -> bool:
        raise errors.ServerError("HTTP 500", status_code=500)

    text = _undo(refuse, lambda *a, **k: None)
    assert "STILL EXISTS and may be billed" in text and "DELETE /v0/dedicated_endpoints/ep-1" in text


def test_tracebacks_stay_whole_outside_the_dynamic_provider_host() -> None:
    """`sys.tracebacklimit = 0` in a program or a test runner breaks Pulumi's SDK (source positions come from
    the stack; a program under mocks then never finishes): only the engine's provider host gets it."""
    import sys

    from pulumi_tokenfactory.host import failures

    before = getattr(sys, "tracebacklimit", None)
    failures.quiet_tracebacks()
    assert not failures.in_dynamic_host() and getattr(sys, "tracebacklimit", None) == before
