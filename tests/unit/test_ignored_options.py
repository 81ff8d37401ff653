"""Options that used to be ignored without a word (issue 20, item 8), and the console commands' settings messages.

* `ResourceOptions(custom_timeouts=...)` never reaches a dynamic provider: `DedicatedEndpoint` refuses it
  where it is written, naming `ready_timeout` (as it refuses `import_`, naming `adopt_id`).
* `tokenfactory-adopt` with filters that match nothing wrote an empty module and exited 0; an unknown
  `--region` was taken as a filter that matched nothing.
* The console commands read the token from `TOKENFACTORY_API_KEY` only, yet told the user to
  `pulumi config set` it (issue 20, item 9d).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pulumi
import pytest

import pulumi_tokenfactory as tokenfactory
from pulumi_tokenfactory import testing
from pulumi_tokenfactory.api.client import TokenFactoryClient
from pulumi_tokenfactory.console import adopt
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.endpoint.fields import REGIONS
from tests.harness.mocks import run_program

SPEC: dict[str, Any] = {"name": "Chat", "model_name": "openai/gpt-oss-20b", "flavor_name": "base",
                        "gpu_type": "gpu-l40s-d", "gpu_count": 1,
                        "scaling": tokenfactory.ScalingArgs(min_replicas=1, max_replicas=2)}


def _declare(opts: pulumi.ResourceOptions, resource_name: str = "chat") -> None:
    def program() -> None:
        tokenfactory.DedicatedEndpoint(resource_name, opts=opts, **SPEC)

    run_program(program, mocks=testing.TokenFactoryMocks())


# -- custom_timeouts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("timeouts", "suggested"), [
    (pulumi.CustomTimeouts(create="45m"), "ready_timeout=2700"),
    (pulumi.CustomTimeouts(create="30m", update="1h30m", delete="90s"), "ready_timeout=5400"),
    (pulumi.CustomTimeouts(delete="3d"), "ready_timeout=<seconds>"),  # not a Go duration: no figure invented
    (pulumi.CustomTimeouts(create="100h"), "ready_timeout=86400"),  # the longest ready_timeout allowed
], ids=["create", "longest-of-three", "unreadable", "clamped"])
def test_custom_timeouts_are_refused_at_construction_naming_ready_timeout(timeouts: pulumi.CustomTimeouts,
                                                                          suggested: str) -> None:
    with pytest.raises(ValueError, match=r"custom_timeouts") as refused:
        _declare(pulumi.ResourceOptions(custom_timeouts=timeouts))
    message = str(refused.value)
    assert message.startswith("DedicatedEndpoint 'chat': ResourceOptions(custom_timeouts=CustomTimeouts(")
    assert "would be silently ignored" in message and "drops custom_timeouts" in message
    assert f"Use {suggested} instead (and drop custom_timeouts)" in message
    assert "\n" not in message


def test_an_empty_custom_timeouts_and_other_options_are_accepted() -> None:
    _declare(pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(), protect=True, replace_on_changes=[]))


@pytest.mark.parametrize("named", [["gpu_type", "gpu_count"], ["*"]])
def test_replace_on_changes_is_refused_at_construction_naming_the_way_to_a_new_endpoint(named: list[str]) -> None:
    """The real CLI makes a change named in replace_on_changes in place (tests/cli/test_cli_replace.py)."""
    with pytest.raises(ValueError) as refused:
        _declare(pulumi.ResourceOptions(replace_on_changes=named))
    message = str(refused.value)
    assert message.startswith(f"DedicatedEndpoint 'chat': ResourceOptions(replace_on_changes={named!r}) would be "
                              f"silently ignored")
    assert "declare the resource under a new name" in message and "\n" not in message


# -- tokenfactory-adopt ----------------------------------------------------------------------------------


def _adopt(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulumi_tokenfactory.console.adopt",
                           "--output", str(tmp_path / "adopted.py"), *args], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **(env or {})}, timeout=60, check=False)


def test_adopt_refuses_an_unknown_region_naming_the_allowed_ones_before_any_call(tmp_path: Path) -> None:
    # No token and an unreachable API: the refusal comes first, from the arguments alone.
    done = _adopt(tmp_path, "--region", "eu-nort1", "--base-url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr == (f"tokenfactory-adopt: unknown region 'eu-nort1'; allowed: {', '.join(REGIONS)}; "
                           "nothing written\n")
    assert not (tmp_path / "adopted.py").exists() and done.stdout == ""


@pytest.mark.parametrize(("filters", "said"), [
    (["--name-pattern", "prod-*"], "no endpoint matches --name-pattern 'prod-*'"),
    (["--region", "eu-west1"], "no endpoint matches --region eu-west1"),
    (["--name-pattern", "*", "--model", "openai/gpt-oss-120b", "--region", "tf-us1"],
     "no endpoint matches --name-pattern '*' --model openai/gpt-oss-120b --region tf-us1"),
], ids=["pattern", "region", "all-three"])
def test_adopt_filters_that_match_nothing_write_nothing_and_fail(
        clean_emulator: EmulatorProcess, tmp_path: Path, filters: list[str], said: str) -> None:
    httpx.post(f"{clean_emulator.base_url}/v0/dedicated_endpoints", timeout=10, headers={"Authorization": "Bearer t"},
               json={**SEED_EXAMPLE, "name": "staging chat", "region": "eu-north1"}).raise_for_status()
    done = _adopt(tmp_path, *filters, "--base-url", clean_emulator.base_url, env={"TOKENFACTORY_API_KEY": "t"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == (f"tokenfactory-adopt: {said} (1 endpoint(s) listed at {clean_emulator.base_url}); "
                           "nothing written\n")
    assert not (tmp_path / "adopted.py").exists() and done.stdout == ""


def test_adopt_with_nothing_adoptable_writes_nothing_and_fails(clean_emulator: EmulatorProcess,
                                                               tmp_path: Path) -> None:
    created = httpx.post(f"{clean_emulator.base_url}/v0/dedicated_endpoints", timeout=10,
                         headers={"Authorization": "Bearer t"},
                         json={**SEED_EXAMPLE, "name": "prod broken", "region": "eu-north1"})
    created.raise_for_status()
    endpoint_id = created.json().get("id") or created.json()["endpoint"]["id"]
    clean_emulator.admin("POST", f"endpoints/{endpoint_id}/fail")
    done = _adopt(tmp_path, "--base-url", clean_emulator.base_url, env={"TOKENFACTORY_API_KEY": "t"})
    assert done.returncode == 1
    assert "skipped: in error" in done.stdout, "the table says why"
    assert done.stderr == ("tokenfactory-adopt: none of the 1 endpoint(s) found can be adopted as it is "
                           "(see the table); nothing written\n")
    assert not (tmp_path / "adopted.py").exists()


def test_adopt_still_writes_what_matches(clean_emulator: EmulatorProcess, tmp_path: Path) -> None:
    httpx.post(f"{clean_emulator.base_url}/v0/dedicated_endpoints", timeout=10, headers={"Authorization": "Bearer t"},
               json={**SEED_EXAMPLE, "name": "prod chat", "region": "eu-north1"}).raise_for_status()
    done = _adopt(tmp_path, "--region", "eu-north1", "--base-url", clean_emulator.base_url,
                  env={"TOKENFACTORY_API_KEY": "t"})
    assert done.returncode == 0 and "1 of 1 endpoint(s) declared" in done.stdout, done.stderr
    assert "adopt_id=" in (tmp_path / "adopted.py").read_text()


def test_describe_filters_spells_them_as_typed() -> None:
    assert adopt.describe_filters(name_pattern="prod *", model=None, region="eu-west1") == \
        "--name-pattern 'prod *' --region eu-west1"
    assert adopt.describe_filters(name_pattern=None, model=None, region=None) == ""


# -- the console commands' settings messages (item 9d) ----------------------------------------------------


@pytest.mark.parametrize("command", ["adopt", "account"])
@pytest.mark.parametrize(("env", "args", "said"), [
    ({}, [], "TOKENFACTORY_API_KEY is not set: this command reads the Token Factory API key from the environment "
             "only (not from a stack's config); export TOKENFACTORY_API_KEY=<token> and run it again"),
    ({"TOKENFACTORY_API_KEY": "two words"}, [],
     "Copy it again from the Token Factory dashboard and export it as TOKENFACTORY_API_KEY (this command reads "
     "the token from the environment only)"),
    ({"TOKENFACTORY_API_KEY": "t"}, ["--base-url", "ftp://x"],
     "Invalid Token Factory base URL 'ftp://x' (from --base-url)"),
    ({"TOKENFACTORY_API_KEY": "t", "TOKENFACTORY_BASE_URL": "ftp://y"}, [],
     "(from TOKENFACTORY_BASE_URL)"),
], ids=["no-key", "bad-key", "bad-flag", "bad-env"])
def test_console_commands_say_where_they_read_their_settings(tmp_path: Path, command: str, env: dict[str, str],
                                                             args: list[str], said: str) -> None:
    extra = ["--output", str(tmp_path / "adopted.py")] if command == "adopt" else []
    if "--base-url" not in args and "TOKENFACTORY_BASE_URL" not in env:
        args = [*args, "--base-url", "http://127.0.0.1:9"]
    done = subprocess.run([sys.executable, "-m", f"pulumi_tokenfactory.console.{command}", *args, *extra],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env}, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(f"tokenfactory-{command}: ") and done.stderr.count("\n") == 1, done.stderr
    assert said in done.stderr
    assert "pulumi config" not in done.stderr and "tokenfactory:" not in done.stderr, done.stderr


def test_a_rejected_token_names_the_variable_it_came_from(emulator_factory: Any) -> None:
    account = emulator_factory(api_key="right")
    done = subprocess.run([sys.executable, "-m", "pulumi_tokenfactory.console.account", "--base-url",
                           account.base_url], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "TOKENFACTORY_API_KEY": "wrong"}, timeout=60, check=False)
    assert done.returncode == 1 and "HTTP 401" in done.stderr
    assert done.stderr.rstrip().endswith("the token was read from TOKENFACTORY_API_KEY: check that it is current")


# -- the docs say what the code does --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _text_lines(doc: Path) -> list[str]:
    blocks = re.findall(r"^```text\n(.*?)^```", doc.read_text(encoding="utf-8"), re.M | re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def _listed_anywhere(line: str) -> str:
    """A message with the account's size and URL left out (they are the reader's, not the docs')."""
    return re.sub(r"\(\d+ endpoint\(s\) listed at \S+\)", "(N endpoint(s) listed at URL)", line)


def _ctrl_c(*args: object, **kwargs: object) -> Any:
    raise KeyboardInterrupt


def test_adoption_md_quotes_what_adopt_and_the_resource_print(clean_emulator: EmulatorProcess,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    produced = [
        _adopt(tmp_path, "--region", "eu-nort1").stderr,
        _adopt(tmp_path, "--base-url", clean_emulator.base_url).stderr,  # no token
        _adopt(tmp_path, "--name-pattern", "prod-*", "--region", "eu-west1", "--base-url", clean_emulator.base_url,
               env={"TOKENFACTORY_API_KEY": "t"}).stderr,
        _adopt(tmp_path, "--output", "infra/adopted_endpoints.py").stderr,  # no such directory (and no token)
    ]
    created = httpx.post(f"{clean_emulator.base_url}/v0/dedicated_endpoints", timeout=10,
                         headers={"Authorization": "Bearer t"}, json={**SEED_EXAMPLE, "region": "eu-north1"})
    clean_emulator.admin("POST", f"endpoints/{created.json().get('id') or created.json()['endpoint']['id']}/fail")
    produced.append(_adopt(tmp_path, "--base-url", clean_emulator.base_url, env={"TOKENFACTORY_API_KEY": "t"}).stderr)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "t")
    monkeypatch.setattr(TokenFactoryClient, "list_endpoints", _ctrl_c)  # Ctrl-C while it reads the account
    capsys.readouterr()
    adopt.main(["--base-url", clean_emulator.base_url, "--output", str(tmp_path / "never.py")])
    produced.append(capsys.readouterr().err)
    with pytest.raises(ValueError) as refused:
        _declare(pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="45m")), "gpt-120b")
    messages = {_listed_anywhere(m.strip()) for m in [*produced, str(refused.value)]}
    quoted = [line for line in _text_lines(ROOT / "sdk-docs" / "adoption.md")
              if line.startswith(("tokenfactory-adopt:", "DedicatedEndpoint 'gpt-120b': ResourceOptions(custom"))]
    assert len(quoted) == 7
    assert [q for q in quoted if _listed_anywhere(q) not in messages] == []


def test_no_page_recommends_import_for_adoption() -> None:
    pages = [*ROOT.glob("sdk-docs/*.md"), ROOT / "README.md", *ROOT.glob("examples/**/README.md")]
    offenders = [p.name for p in pages if re.search(r"adopt it with `import_`", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_policy_docs_name_the_analyzer_that_runs_without_the_language_host() -> None:
    script = ROOT / "examples" / "policy-pack" / "pulumi-analyzer-tokenfactory"
    assert script.is_file() and os.access(script, os.X_OK)
    for doc in (ROOT / "sdk-docs" / "policy-pack.md", ROOT / "examples" / "policy-pack" / "README.md"):
        text = doc.read_text(encoding="utf-8")
        assert "--policy-pack examples/policy-pack/pulumi-analyzer-tokenfactory" in text, doc
        assert "pulumi-language-python" in text and "PULUMI_PYTHON_CMD" in text, doc
