"""How `tokenfactory-account` and `tokenfactory-adopt` fail on what a user gives them: one line on stderr naming the
flag or variable at fault, a documented exit status, no traceback, the token never printed and no file half-written.

No server is needed: each case fails before the listing, or the listing is stood in for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulumi_tokenfactory import errors
from pulumi_tokenfactory.api.client import TokenFactoryClient
from pulumi_tokenfactory.api.models import Endpoint
from pulumi_tokenfactory.console import account, adopt
from pulumi_tokenfactory.emulator.__main__ import main as emulator_main

API_KEY = "tf-console-canary-7c1e"
ENDPOINT = {"id": "ep-1", "routing_key": "dedicated/m-1", "name": "prod", "model_name": "openai/gpt-oss-120b",
            "flavor_name": "base", "gpu_type": "gpu-h100-sxm", "gpu_count": 1, "region": "eu-north1",
            "scaling": {"min_replicas": 1, "max_replicas": 2}, "deployment": {"status": "running"}}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_API_KEY", API_KEY)
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://127.0.0.1:9")
    for name in ("TOKENFACTORY_HTTP_TIMEOUT", "TOKENFACTORY_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The account lists one endpoint (no server)."""
    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", lambda self: [Endpoint.model_validate(ENDPOINT)])


def run(capsys: pytest.CaptureFixture[str], main: Callable[[list[str]], int], *argv: str) -> tuple[int, str, str]:
    """The command's exit status (argparse's SystemExit included), stdout and its one line of stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert API_KEY not in out + err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return code, out, err


# -- tokenfactory-account ------------------------------------------------------------------------------

def test_a_price_file_that_is_not_utf8_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_bytes(b'\xff\xfe{"currency": "USD"}')
    code, _, err = run(capsys, account.main, "--prices", str(prices))
    assert code == 1
    assert err.startswith(f"tokenfactory-account: --prices '{prices}': ") and "UTF-8" in err


# -- tokenfactory-adopt --output ----------------------------------------------------------------------

@pytest.mark.parametrize(("where", "problem"), [
    ("missing/adopted.py", "does not exist"),
    (".", "is a directory"),
])
def test_an_output_that_cannot_be_written_is_refused_before_the_listing(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str,
        problem: str) -> None:
    def no_listing(self: TokenFactoryClient) -> Any:
        raise AssertionError("the output is checked before any API call")

    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", no_listing)
    output = tmp_path / where
    code, out, err = run(capsys, adopt.main, "--output", str(output), "--force")
    assert code == 2 and out == ""
    assert err.startswith(f"tokenfactory-adopt: --output {output}") and problem in err and "nothing written" in err
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_module_that_cannot_be_written_is_one_line_and_leaves_nothing(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, listed: None) -> None:
    """A read-only directory or a full disk (a permission check cannot be made as root, so the write fails here)."""
    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_text", refuse)
    output = tmp_path / "adopted.py"
    code, _, err = run(capsys, adopt.main, "--output", str(output))
    assert code == 2
    assert err == f"tokenfactory-adopt: --output {output}: cannot write it (Permission denied); nothing written\n"
    assert list(tmp_path.iterdir()) == []


# -- messages -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("main", [account.main, adopt.main])
def test_credentials_in_the_base_url_send_the_user_to_the_variable_not_a_stack(
        capsys: pytest.CaptureFixture[str], main: Callable[[list[str]], int]) -> None:
    code, _, err = run(capsys, main, "--base-url", f"https://user:{API_KEY}@example.test")
    assert code == 1
    assert "(from --base-url)" in err and "TOKENFACTORY_API_KEY" in err
    assert "tokenfactory:" not in err, "a console command reads no stack config"


# -- the HTTP timeout -----------------------------------------------------------------------------------

@pytest.mark.parametrize("main", [account.main, adopt.main])
def test_the_http_timeout_setting_governs_the_commands(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, main: Callable[[list[str]], int]) -> None:
    """`TOKENFACTORY_HTTP_TIMEOUT` is the documented knob for a slow network; the commands ignored it (30 s fixed)."""
    seen: list[Any] = []

    def record(self: TokenFactoryClient) -> list[Endpoint]:
        seen.append(self._http.timeout)
        return []

    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", record)
    monkeypatch.setenv("TOKENFACTORY_HTTP_TIMEOUT", "2.5")
    main([])
    capsys.readouterr()
    assert [(t.connect, t.read) for t in seen] == [(2.5, 2.5)]


@pytest.mark.parametrize("main", [account.main, adopt.main])
def test_a_bad_http_timeout_is_named(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                     main: Callable[[list[str]], int]) -> None:
    monkeypatch.setenv("TOKENFACTORY_HTTP_TIMEOUT", "30s")
    code, _, err = run(capsys, main)
    assert code == 1
    assert "(from TOKENFACTORY_HTTP_TIMEOUT)" in err and "allowed: seconds above 0 and at most 600" in err


@pytest.mark.parametrize("main", [account.main, adopt.main])
def test_a_timeout_names_the_setting_that_governs_it(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, main: Callable[[list[str]], int]) -> None:
    def slow(self: TokenFactoryClient) -> Any:
        raise errors.RequestTimeoutError("The API did not answer in time (ReadTimeout)", method="GET",
                                         path="/v0/dedicated_endpoints")

    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", slow)
    code, _, err = run(capsys, main)
    assert code == 1 and "did not answer in time" in err and "TOKENFACTORY_HTTP_TIMEOUT" in err


def test_an_unknown_region_is_refused_naming_the_regions(capsys: pytest.CaptureFixture[str], listed: None) -> None:
    """A typo must not read as a fact about the account ("no endpoints in eu-nort1")."""
    code, out, err = run(capsys, account.main, "--region", "eu-nort1")
    assert code == 2 and out == ""
    assert err.startswith("tokenfactory-account: unknown region 'eu-nort1'; allowed: eu-north1, us-central1, ")


# -- arguments ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("main", "argv", "named"), [
    (account.main, ["--bogus"], "unrecognized arguments: --bogus"),
    (account.main, ["--base-url"], "argument --base-url: expected one argument"),
    (account.main, ["api-check", "--bogus"], "unrecognized arguments: --bogus"),
    (adopt.main, ["--output"], "argument --output: expected one argument"),
    (emulator_main, ["--port", "70000"], "argument --port: port must be 0-65535"),
    (emulator_main, ["--log-level", "loud"], "argument --log-level: invalid choice: 'loud' (choose from 'debug'"),
])
def test_a_bad_argument_is_one_line_naming_it(capsys: pytest.CaptureFixture[str], main: Callable[[list[str]], int],
                                              argv: list[str], named: str) -> None:
    """Not argparse's usage block (a dozen lines for the emulator) before the one line that matters."""
    code, out, err = run(capsys, main, *argv)
    assert code == 2 and out == ""
    assert named in err and err.rstrip().endswith("--help)")


# -- where the base URL came from -----------------------------------------------------------------------

@pytest.mark.parametrize("failure", [
    errors.TransportError("Could not reach the API at http://127.0.0.1:9 (ConnectError)", request_sent=False,
                          method="GET", path="/v0/dedicated_endpoints"),
    errors.NotFoundError("Not Found", status_code=404, method="GET", path="/v0/dedicated_endpoints"),
    errors.APIStatusError("the API redirects to https://127.0.0.1:9/v0/dedicated_endpoints", status_code=301,
                          method="GET", path="/v0/dedicated_endpoints"),
], ids=["unreachable", "404", "redirect"])
@pytest.mark.parametrize(("argv", "source"), [([], "TOKENFACTORY_BASE_URL"),
                                              (["--base-url", "http://127.0.0.1:9"], "--base-url")])
def test_an_unreachable_or_wrong_base_url_names_where_it_came_from(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, failure: errors.TokenFactoryError,
        argv: list[str], source: str) -> None:
    """A variable left pointing at an emulator that is no longer running is the usual cause: say it was read."""
    def fail(self: TokenFactoryClient) -> Any:
        raise failure

    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", fail)
    code, _, err = run(capsys, account.main, *argv)
    assert code == 1 and f"the base URL was read from {source}" in err


# -- the token never printed ----------------------------------------------------------------------------

@pytest.mark.parametrize(("main", "argv"), [
    (account.main, ["--api-key", API_KEY]),
    (account.main, [f"--api-key={API_KEY}"]),
    (adopt.main, ["--api-key", API_KEY]),
    (account.main, ["api-check", "--api-key", API_KEY]),
])
def test_a_token_given_as_a_flag_is_refused_without_printing_it(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, main: Callable[[list[str]], int],
        argv: list[str]) -> None:
    """The emulator takes `--api-key`, so a user tries it here; the variable is then often not set at all, so
    nothing else could tell the value is a token."""
    monkeypatch.delenv("TOKENFACTORY_API_KEY")
    code, out, err = run(capsys, main, *argv)
    assert code == 2 and out == ""
    assert "--api-key is not taken" in err and "export TOKENFACTORY_API_KEY=<token>" in err


@pytest.mark.parametrize(("main", "argv", "variable"), [
    (account.main, [], "TOKENFACTORY_PROJECT_ID"),
    (adopt.main, [], "TOKENFACTORY_HTTP_TIMEOUT"),
    (account.main, ["--region", API_KEY], None),
    (account.main, ["--prices", API_KEY], None),
    (adopt.main, ["--region", API_KEY], None),
    (account.main, [API_KEY], None),
])
def test_the_token_in_the_wrong_place_is_never_printed(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, main: Callable[[list[str]], int],
        argv: list[str], variable: str | None) -> None:
    """Two variables swapped, or the token pasted into a flag: the refusal names the place, not the value (`run`
    checks that the token is nowhere in the output)."""
    if variable is not None:
        monkeypatch.setenv(variable, f"{API_KEY}/")  # a project id it is not (as the token alone would be)
    code, _, err = run(capsys, main, *argv)
    assert code in (1, 2) and "[REDACTED]" in err
