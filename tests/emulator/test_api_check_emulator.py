"""`tokenfactory-account api-check` end to end, against the emulator's own `/openapi.json`.

The emulator serves the published schemas (DedicatedEndpointCreateRequest, DedicatedEndpointUpdateRequest,
DedicatedEndpoint, Model), so this provider must fit them: nothing breaking and nothing to warn about.
The emulator enforces a token here, which the check must neither need nor send nor print.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_tokenfactory.console import account
from pulumi_tokenfactory.emulator.testing import EmulatorProcess

API_KEY = "tf-apicheck-e2e-canary-7c30"


@pytest.fixture(scope="module")
def guarded() -> Any:
    with EmulatorProcess(provision_seconds=0.2, api_key=API_KEY) as emulator:
        yield emulator


def severities(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[1:-1]]


def test_the_provider_fits_the_emulators_schema(guarded: EmulatorProcess, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TOKENFACTORY_API_KEY", API_KEY)
    code = account.main(["api-check", "--base-url", guarded.base_url])
    out, err = capsys.readouterr()
    assert API_KEY not in out + err
    assert err == "", err
    assert out.splitlines()[0].startswith(f"API schema {guarded.base_url}/openapi.json (")
    assert "BREAKING" not in severities(out) and "WARNING" not in severities(out), out
    assert out.splitlines()[-1].startswith("0 breaking, 0 warning(s), ")
    assert code == 0


def test_the_command_line_reads_the_base_url_from_the_environment(guarded: EmulatorProcess) -> None:
    env = {**os.environ, "TOKENFACTORY_BASE_URL": guarded.base_url}
    env.pop("TOKENFACTORY_API_KEY", None)  # no token at all: the schema is public
    done = subprocess.run([sys.executable, "-m", "pulumi_tokenfactory.console.account", "api-check"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("0 breaking, ")


def test_an_emulator_that_is_gone_exits_2_with_one_line(capsys: pytest.CaptureFixture[str],
                                                         emulator_factory: Callable[..., EmulatorProcess]) -> None:
    gone = emulator_factory()
    url = gone.base_url
    gone.stop()
    code = account.main(["api-check", "--base-url", url])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{url}/openapi.json" in err and "Traceback" not in err
