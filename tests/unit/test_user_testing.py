"""Users can unit-test programs that call `get_templates()` (issue 13, item 5).

Under `pulumi.runtime.set_mocks`, `get_templates()` asks the mocks for the catalogue (function
token `tokenfactory:index:getTemplates`) instead of going to the API, where it used to stop
every such test with MissingApiKeyError. `pulumi_tokenfactory.testing.TokenFactoryMocks`
answers it, and answers endpoints as the provider would. The example test in
sdk-docs/testing.md runs here as a user would run it (pytest in a directory of its own), and
must also fail when the program it tests is changed.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.mocks import MockResourceArgs

import pulumi_tokenfactory as tokenfactory
from pulumi_tokenfactory import errors, testing
from pulumi_tokenfactory.api.models import parse_templates
from pulumi_tokenfactory.api.templates import GET_TEMPLATES_TOKEN, TemplatesNotMockedError
from pulumi_tokenfactory.emulator.catalogue import TEMPLATES, templates_payload
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.endpoint.fields import OUTPUT_FIELDS
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.mocks import RecordingMocks, run_program

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "sdk-docs" / "testing.md"
TEMPLATES_EXAMPLE = ROOT / "examples" / "templates" / "__main__.py"


def run_templates_example() -> None:
    runpy.run_path(str(TEMPLATES_EXAMPLE), run_name="__main__")


def fetch_templates() -> None:
    tokenfactory.get_templates()


def _blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)


def _example_test() -> str:
    [block] = [b for b in _blocks() if "set_mocks(" in b]
    return block


def _pytest(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENFACTORY_", "PYTHONPATH"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_endpoint.py"],
                          cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False)


# -- the documented example, run as a user runs it --------------------------------------------------------


def test_the_documented_example_test_passes(tmp_path: Path) -> None:
    source = _example_test()
    (tmp_path / "test_endpoint.py").write_text(source, encoding="utf-8")
    done = _pytest(tmp_path)
    tests = len(re.findall(r"^def test_", source, re.M))
    assert tests >= 3
    assert done.returncode == 0 and f"{tests} passed" in done.stdout, done.stdout + done.stderr


def test_the_documented_example_test_fails_when_the_program_changes(tmp_path: Path) -> None:
    source = _example_test().replace('choose("openai/gpt-oss-20b"', 'choose("openai/gpt-oss-120b"')
    (tmp_path / "test_endpoint.py").write_text(source, encoding="utf-8")
    done = _pytest(tmp_path)
    assert done.returncode == 1 and "failed" in done.stdout, done.stdout + done.stderr
    assert "gpu-l40s-d" in done.stdout  # the assertion that caught it


def test_the_documented_example_type_checks(tmp_path: Path) -> None:
    for i, block in enumerate(_blocks()):
        (tmp_path / f"block{i}.py").write_text(block, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--no-error-summary",
                           *sorted(p.name for p in tmp_path.glob("block*.py"))],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_documented_custom_mocks_serve_the_templates_example() -> None:
    namespace: dict[str, Any] = {}
    [block] = [b for b in _blocks() if "class MyMocks" in b]
    exec(compile(block, str(DOC), "exec"), namespace)
    result = run_program(run_templates_example,
                         project="tokenfactory-templates", mocks=namespace["MyMocks"]())
    [endpoint] = result.of_type(RESOURCE_TYPE)
    assert endpoint.plain_inputs["gpu_type"] == "gpu-l40s-d"
    assert result.exports["routing_key"] == endpoint.outputs["routing_key"]


# -- get_templates() under mocks -----------------------------------------------------------------------


@pytest.fixture
def no_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """No token and no base URL anywhere: any attempt to reach an API would fail."""
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://127.0.0.1:9")


@pytest.mark.usefixtures("no_api")
def test_get_templates_is_served_by_token_factory_mocks() -> None:
    mocks = testing.TokenFactoryMocks()
    seen: dict[str, Any] = {}

    def program() -> None:
        catalogue = tokenfactory.get_templates()
        seen["models"] = catalogue.model_names
        seen["choice"] = catalogue.choose("openai/gpt-oss-120b", flavor_name="fast")

    result = run_program(program, mocks=mocks)
    assert seen["models"] == [t["model_name"] for t in testing.SAMPLE_TEMPLATES]
    assert seen["choice"] == tokenfactory.HardwareChoice("openai/gpt-oss-120b", "fast", "gpu-h200-sxm", 2)
    assert mocks.template_calls == 1
    assert [c.token for c in result.calls] == [GET_TEMPLATES_TOKEN]


@pytest.mark.usefixtures("no_api")
def test_the_templates_example_runs_under_token_factory_mocks() -> None:
    mocks = testing.TokenFactoryMocks(base_url="http://127.0.0.1:8080")
    result = run_program(run_templates_example,
                         project="tokenfactory-templates", config={"flavor": "fast", "maxReplicas": "3"}, mocks=mocks)
    [endpoint] = result.of_type(RESOURCE_TYPE)
    assert (endpoint.plain_inputs["flavor_name"], endpoint.plain_inputs["gpu_type"]) == ("fast", "gpu-h100-sxm")
    assert result.exports["inference_base_url"] == "http://127.0.0.1:8080/v1/"
    assert result.exports["endpoint_id"].startswith("ep-")
    assert [a.name for a in mocks.endpoints] == ["chosen"]


@pytest.mark.usefixtures("no_api")
def test_mocks_that_serve_no_catalogue_and_no_token_say_what_the_test_lacks() -> None:
    with pytest.raises(TemplatesNotMockedError) as raised:
        run_program(fetch_templates, mocks=RecordingMocks())
    assert isinstance(raised.value, errors.MissingApiKeyError), "code that catches MissingApiKeyError still does"
    assert "pulumi_tokenfactory.testing.TokenFactoryMocks" in str(raised.value)
    assert GET_TEMPLATES_TOKEN in str(raised.value)


def test_mocks_that_serve_no_catalogue_leave_it_to_the_api(clean_emulator: EmulatorProcess,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A test may still point a mocked program at an emulator (tests/docs/test_examples.py does)."""
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", clean_emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "any-token")
    seen: dict[str, int] = {}
    run_program(lambda: seen.update(templates=len(tokenfactory.get_templates())), mocks=RecordingMocks())
    assert seen["templates"] == len(TEMPLATES)
    assert [(r["method"], r["path"]) for r in clean_emulator.requests()] == [
        ("GET", "/v0/dedicated_endpoints/templates")]


def test_outside_mocks_nothing_changes(no_api: None) -> None:
    with pytest.raises(errors.MissingApiKeyError) as raised:
        tokenfactory.get_templates()
    assert type(raised.value) is errors.MissingApiKeyError


# -- the helpers ----------------------------------------------------------------------------------------


def test_the_sample_catalogue_is_the_emulators() -> None:
    def hardware(templates: Any) -> list[tuple[str, str, list[str], list[int]]]:
        return [(t.model_name, f.flavor_name, f.gpu_types, f.gpu_counts) for t in templates for f in t.flavors]

    served = parse_templates(templates_payload())  # the published form, read as the client reads it
    assert hardware(served) == hardware(TEMPLATES)
    assert [t.model_name for t in served] == [t["model_name"] for t in testing.SAMPLE_TEMPLATES]
    first = testing.templates_result()
    first["templates"][0]["flavors"].clear()
    assert testing.templates_result()["templates"][0]["flavors"], "each result is a copy"


def _args(name: str, **inputs: Any) -> MockResourceArgs:
    return MockResourceArgs(typ=RESOURCE_TYPE, name=name, inputs={"model_name": "openai/gpt-oss-20b", **inputs},
                            provider=None, resource_id=None, custom=True)


def test_endpoint_outputs_answer_like_the_provider() -> None:
    id_a, a = testing.endpoint_outputs(_args("a", region="us-central1"))
    id_b, b = testing.endpoint_outputs(_args("b", enabled=False), base_url="http://127.0.0.1:8080/")
    assert id_a != id_b and id_a == testing.endpoint_outputs(_args("a", region="us-central1"))[0]
    assert a["routing_key"].startswith("dedicated/openai/gpt-oss-20b-") and a["status"] == "running"
    assert a["inference_base_url"] == "https://api.tokenfactory.us-central1.nebius.com/v1/"
    assert (b["status"], b["inference_base_url"]) == ("stopped", "http://127.0.0.1:8080/v1/")
    assert a["region"] == "us-central1", "inputs are echoed"


def test_the_testing_module_needs_neither_extra() -> None:
    code = ("import sys; sys.modules.update(fastapi=None, uvicorn=None, pulumi_policy=None); "
            "import pulumi_tokenfactory.testing as t; print(len(t.SAMPLE_TEMPLATES))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == str(len(TEMPLATES))


def test_set_mocks_in_a_fresh_process_serves_the_catalogue_to_a_top_level_program() -> None:
    """The pattern of Pulumi's unit-testing guide: set_mocks, then import the program (no stack around it)."""
    code = ("import pulumi\n"
            "from pulumi_tokenfactory.testing import TokenFactoryMocks\n"
            "pulumi.runtime.set_mocks(TokenFactoryMocks(), preview=False)\n"
            "import pulumi_tokenfactory as tf\n"
            "print(tf.get_templates().choose('deepseek-ai/DeepSeek-V3.1'))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENFACTORY_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                          check=True)
    assert "gpu_type='gpu-h200-sxm', gpu_count=8" in done.stdout


# -- every output the provider fills (issue 20, item 6) --------------------------------------------------

PRICES = '{"currency": "USD", "prices": {"gpu-h100-sxm": 3.5}}'


def declare_priced_pair() -> None:
    """Two endpoints (one stopped) and the stack total, as a program exports them."""
    import pulumi

    running = tokenfactory.DedicatedEndpoint(
        "running", name="Running", model_name="openai/gpt-oss-120b", flavor_name="base",
        gpu_type="gpu-h100-sxm", gpu_count=2, scaling=tokenfactory.ScalingArgs(min_replicas=1, max_replicas=3))
    stopped = tokenfactory.DedicatedEndpoint(
        "stopped", name="Stopped", model_name="openai/gpt-oss-20b", flavor_name="base",
        gpu_type="gpu-l40s-d", gpu_count=1, enabled=False,
        scaling=tokenfactory.ScalingArgs(min_replicas=1, max_replicas=2))
    for endpoint in (running, stopped):
        pulumi.export(endpoint._name, pulumi.Output.all(**{
            name: getattr(endpoint, name) for name in (*OUTPUT_FIELDS, "description", "enabled")}))
    tokenfactory.export_spend()


@pytest.mark.usefixtures("no_api")
def test_token_factory_mocks_fill_every_output_as_export_spend_computes_it() -> None:
    result = run_program(declare_priced_pair, config={"tokenfactory:gpuHourlyPrices": PRICES},
                         mocks=testing.TokenFactoryMocks())
    running, stopped, total = (result.exports[k] for k in ("running", "stopped", "tokenfactory_spend"))
    assert [k for k in OUTPUT_FIELDS if running.get(k) is None] == [], "every output is filled"
    assert (running["reserved_gpus"], running["max_gpus"]) == (2, 6)
    assert (running["hourly_cost_min"], running["hourly_cost_max"], running["cost_currency"]) == (7.0, 21.0, "USD")
    assert (running["readiness"], running["description"], running["enabled"]) == ("ready", "", True)
    assert (stopped["reserved_gpus"], stopped["max_gpus"], stopped["readiness"]) == (0, 2, "not_ready")
    assert stopped.get("hourly_cost_min") is None, "no price for gpu-l40s-d: unknown, as the provider says"
    # The same figures as the stack total that export_spend computes under the same mocks.
    assert total["reserved_gpus"] == running["reserved_gpus"] + stopped["reserved_gpus"]
    assert total["hourly_cost_min"] == running["hourly_cost_min"]
    assert total["by_resource"] == {"running": 2, "stopped": 0}


@pytest.mark.usefixtures("no_api")
def test_without_a_price_table_the_gpus_are_numbers_and_the_costs_none() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        endpoint = tokenfactory.DedicatedEndpoint(
            "e", name="E", model_name="openai/gpt-oss-120b", flavor_name="base", gpu_type="gpu-h100-sxm",
            gpu_count=1, scaling={"min_replicas": 2, "max_replicas": 4})
        endpoint.reserved_gpus.apply(lambda v: seen.update(reserved=v))
        endpoint.max_gpus.apply(lambda v: seen.update(max=v))
        endpoint.hourly_cost_max.apply(lambda v: seen.update(cost=v))

    run_program(program, mocks=testing.TokenFactoryMocks())
    assert seen == {"reserved": 2, "max": 4, "cost": None}
    run_program(program, mocks=testing.TokenFactoryMocks(prices={"currency": "EUR",
                                                                 "prices": {"gpu-h100-sxm": 2}}))
    assert seen == {"reserved": 2, "max": 4, "cost": 8.0}


def test_the_mocks_answer_with_the_outputs_the_real_provider_reports(clean_emulator: EmulatorProcess,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The same keys, and the same values but for ids, keys and times, as a create against the emulator."""
    from pulumi_tokenfactory.provider import DedicatedEndpointProvider

    monkeypatch.setenv("TOKENFACTORY_BASE_URL", clean_emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "any-token")
    declared = {"name": "E", "model_name": "openai/gpt-oss-20b", "flavor_name": "base", "gpu_type": "gpu-l40s-d",
                "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 2}, "region": "eu-north1"}
    provider = DedicatedEndpointProvider()
    checked = provider.check({}, declared)
    assert checked.failures == []
    real = dict(provider.create(checked.inputs).outs or {})
    args = MockResourceArgs(typ=RESOURCE_TYPE, name="e", inputs=declared, provider=None, resource_id=None,
                            custom=True)
    _, mocked = testing.endpoint_outputs(args, base_url=clean_emulator.base_url)
    assert sorted(mocked) == sorted(real)
    differ = {"routing_key", "created_at", "updated_at"}
    assert {k: v for k, v in mocked.items() if k not in differ} == {k: v for k, v in real.items() if k not in differ}
