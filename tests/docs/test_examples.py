"""The example projects under `examples/` do what their READMEs say.

* Each program runs under Pulumi mocks (`tests.harness.mocks.run_program`), exactly as the
  CLI would run its `__main__.py`, and registers the resources and exports it promises.
* The mocks stand in for the provider the way the real one answers (an id, a routing key
  derived from the inputs, the region's inference URL), so exports are checked against
  values computed from what the program registered, never against constants.
* The templates program and the inference script run against a live emulator.
* The real `pulumi` CLI runs examples/basic, multi-stack and the policy pack in tests/test_cli_*.py.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import runpy
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import dill
import httpx
import pytest
from pulumi.runtime.mocks import MockResourceArgs

from pulumi_tokenfactory.api import models
from pulumi_tokenfactory.api.models import Readiness, parse_created, parse_endpoints
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.mocks import ProgramResult, RecordingMocks, run_program

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BASIC = EXAMPLES / "basic"
TEMPLATES = EXAMPLES / "templates"
INFERENCE = EXAMPLES / "inference"
PRODUCER = EXAMPLES / "multi-stack" / "producer"
CONSUMER = EXAMPLES / "multi-stack" / "consumer"

APP_CONFIG_TYPE = "pulumi-python:dynamic/example:AppConfigFile"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"

#: The create payload of the API description (seeds/dedicated-endpoints-api.txt), the basic example's spec.
SEED_PAYLOAD: dict[str, Any] = dict(SEED_EXAMPLE)


# -- helpers ---------------------------------------------------------------------------------------


def project_name(project: Path) -> str:
    """The `name:` of a Pulumi.yaml, so config namespaces are what the CLI would use."""
    match = re.search(r"^name:\s*(\S+)", (project / "Pulumi.yaml").read_text(encoding="utf-8"), re.M)
    assert match, f"{project}/Pulumi.yaml has no name"
    return match.group(1)


def fake_endpoint(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    """Answer like the provider: echo the inputs, add an id, a routing key and the region's URL."""
    digest = hashlib.sha256(f"{args.name}/{args.inputs.get('model_name')}".encode()).hexdigest()[:10]
    outputs = {
        **args.inputs,
        "routing_key": f"dedicated/{args.inputs['model_name']}-{digest}",
        "status": "running",
        "inference_base_url": models.inference_base_url(args.inputs.get("region")),
    }
    return f"ep-{digest}", outputs


def provider_mocks(stack_outputs: dict[str, dict[str, Any]] | None = None,
                   endpoint: Callable[[MockResourceArgs], tuple[str, dict[str, Any]]] = fake_endpoint,
                   ) -> RecordingMocks:
    """Endpoints answered by `endpoint`; a StackReference to stack S returns `stack_outputs[S]`."""

    def outputs(args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == RESOURCE_TYPE:
            return endpoint(args)
        if args.typ == STACK_REFERENCE_TYPE:
            name = args.inputs["name"]
            assert stack_outputs is not None and name in stack_outputs, f"unexpected stack reference {name}"
            # What the engine's StackReference resource answers: the referenced stack's outputs.
            return name, {"name": name, "outputs": stack_outputs[name], "secretOutputNames": []}
        return f"{args.name}-id", dict(args.inputs)

    return RecordingMocks(outputs=outputs)


def run_example(project: Path, *, config: dict[str, str] | None = None, stack: str = "dev",
                mocks: RecordingMocks | None = None, preview: bool = False) -> ProgramResult:
    """Run `project/__main__.py` under mocks, as `pulumi up` (or preview) would."""
    def program() -> None:
        # The CLI's language host runs the program the same way: runpy.run_path(..., run_name="__main__").
        runpy.run_path(str(project / "__main__.py"), run_name="__main__")

    return run_program(
        program,
        config=config,
        project=project_name(project),
        stack=stack,
        mocks=mocks or provider_mocks(),
        preview=preview,
    )


def load_module(path: Path) -> ModuleType:
    """Import a script of an example by path (registered in sys.modules, as dataclasses require)."""
    name = f"example_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def consumer_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The consumer imports `app_config_file` from its folder, as the CLI's working directory provides."""
    monkeypatch.syspath_prepend(str(CONSUMER))
    yield
    sys.modules.pop("app_config_file", None)


# -- basic -------------------------------------------------------------------------------------------


def test_basic_registers_the_seed_payload_and_exports_its_coordinates() -> None:
    result = run_example(BASIC)

    [endpoint] = result.of_type(RESOURCE_TYPE)
    assert endpoint.custom
    inputs = endpoint.plain_inputs
    assert {k: inputs[k] for k in SEED_PAYLOAD} == SEED_PAYLOAD  # numbers as given (1 == 1.0)
    assert inputs["region"] == models.DEFAULT_REGION
    assert result.exports["endpoint_id"] == endpoint.id
    assert result.exports["routing_key"] == endpoint.outputs["routing_key"]
    assert result.exports["routing_key"].startswith(f"dedicated/{SEED_PAYLOAD['model_name']}-")
    assert result.exports["inference_base_url"] == models.inference_base_url(models.DEFAULT_REGION)


def test_basic_takes_its_region_from_stack_config() -> None:
    result = run_example(BASIC, config={"tokenfactory:region": "us-central1"})
    [endpoint] = result.of_type(RESOURCE_TYPE)
    assert endpoint.plain_inputs["region"] == "us-central1"
    assert result.exports["inference_base_url"] == models.INFERENCE_BASE_URLS["us-central1"]


def test_example_provider_pickles_by_reference_and_is_secret() -> None:
    [endpoint] = run_example(BASIC).of_type(RESOURCE_TYPE)
    assert "__provider" in endpoint.secret_inputs
    assert endpoint.provider_str is not None
    raw = base64.b64decode(endpoint.provider_str)
    assert len(raw) < 200, "the provider was pickled by value"
    assert isinstance(dill.loads(raw), DedicatedEndpointProvider)


def test_inference_program_registers_an_endpoint_and_can_skip_the_wait() -> None:
    waited = run_example(INFERENCE).of_type(RESOURCE_TYPE)[0].plain_inputs
    assert waited["wait_for_ready"] is True
    quick = run_example(INFERENCE, config={"waitForReady": "false"})
    [endpoint] = quick.of_type(RESOURCE_TYPE)
    assert endpoint.plain_inputs["wait_for_ready"] is False
    assert quick.exports["routing_key"] == endpoint.outputs["routing_key"]
    assert quick.exports["inference_base_url"] == endpoint.outputs["inference_base_url"]


# -- multi-stack: producer --------------------------------------------------------------------------


def test_producer_makes_one_endpoint_named_after_the_stack() -> None:
    result = run_example(PRODUCER, stack="prod")
    [endpoint] = result.of_type(RESOURCE_TYPE)
    assert endpoint.name == "chat-prod"
    assert endpoint.plain_inputs["name"] == f"{project_name(PRODUCER)} prod chat"
    assert result.exports["environment"] == "prod"
    assert result.exports["routing_key"] == endpoint.outputs["routing_key"]
    assert result.exports["endpoint_id"] == endpoint.id
    assert result.exports["endpoints"] == {"prod": {
        "endpoint_id": endpoint.id,
        "routing_key": endpoint.outputs["routing_key"],
        "inference_base_url": endpoint.outputs["inference_base_url"],
    }}


def test_producer_makes_one_endpoint_per_configured_environment() -> None:
    result = run_example(PRODUCER, config={
        "environments": json.dumps(["dev", "Staging EU"]),
        "gpuType": "gpu-h200-sxm", "gpuCount": "2", "minReplicas": "2", "maxReplicas": "3",
    })
    endpoints = {r.name: r for r in result.of_type(RESOURCE_TYPE)}
    assert set(endpoints) == {"chat-dev", "chat-staging-eu"}
    for endpoint in endpoints.values():
        inputs = endpoint.plain_inputs
        assert (inputs["gpu_type"], inputs["gpu_count"]) == ("gpu-h200-sxm", 2)
        assert inputs["scaling"] == {"min_replicas": 2, "max_replicas": 3}
    assert set(result.exports["endpoints"]) == {"dev", "Staging EU"}
    assert result.exports["endpoints"]["Staging EU"]["routing_key"] == endpoints["chat-staging-eu"].outputs[
        "routing_key"]
    # The top-level outputs are the first environment's.
    assert result.exports["environment"] == "dev"
    assert result.exports["routing_key"] == endpoints["chat-dev"].outputs["routing_key"]


def test_producer_refuses_a_repeated_environment() -> None:
    with pytest.raises(Exception, match="twice"):
        run_example(PRODUCER, config={"environments": json.dumps(["dev", "dev"])})


# -- multi-stack: consumer --------------------------------------------------------------------------


PRODUCER_STACK = "organization/tokenfactory-producer/dev"


def producer_exports(**config: str) -> dict[str, Any]:
    return run_example(PRODUCER, config=config or None).exports


@pytest.mark.usefixtures("consumer_on_path")
def test_consumer_wires_the_producers_routing_key_into_the_app(tmp_path: Path) -> None:
    published = producer_exports()
    target = tmp_path / "app-config.json"
    result = run_example(CONSUMER, config={"producerStack": PRODUCER_STACK, "configPath": str(target)},
                         mocks=provider_mocks({PRODUCER_STACK: published}))

    [reference] = result.of_type(STACK_REFERENCE_TYPE)
    assert reference.plain_inputs["name"] == PRODUCER_STACK
    [app] = result.of_type(APP_CONFIG_TYPE)
    assert app.plain_inputs["model"] == published["routing_key"]
    assert app.plain_inputs["base_url"] == published["inference_base_url"]
    assert app.plain_inputs["path"] == str(target)
    assert result.exports["model"] == published["routing_key"]
    assert not result.of_type(RESOURCE_TYPE), "the consumer must not own endpoints"


@pytest.mark.usefixtures("consumer_on_path")
def test_consumer_picks_one_environment_of_the_producer() -> None:
    published = producer_exports(environments=json.dumps(["dev", "staging"]))
    config = {"producerStack": PRODUCER_STACK, "environment": "staging", "configPath": "/nonexistent/x.json"}
    result = run_example(CONSUMER, config=config, mocks=provider_mocks({PRODUCER_STACK: published}))
    [app] = result.of_type(APP_CONFIG_TYPE)
    assert app.plain_inputs["model"] == published["endpoints"]["staging"]["routing_key"]
    assert app.plain_inputs["model"] != published["routing_key"]


@pytest.mark.usefixtures("consumer_on_path")
def test_consumer_names_the_environments_when_one_is_missing() -> None:
    # Called directly: a program failing inside an apply leaves threads printing tracebacks after
    # run_program returns, which on CPython 3.11 can corrupt the ast module's state (SystemError
    # "AST constructor recursion depth mismatch") for the rest of the test session.
    helpers = runpy.run_path(str(CONSUMER / "__main__.py"), run_name="consumer_helpers")
    endpoints = producer_exports(environments=json.dumps(["dev", "staging"]))["endpoints"]
    assert helpers["select_environment"](endpoints, "dev") == endpoints["dev"]
    with pytest.raises(KeyError, match=r"no environment 'qa'.*dev, staging"):
        helpers["select_environment"](endpoints, "qa")


@pytest.mark.usefixtures("consumer_on_path")
def test_consumer_preview_stays_correct_while_the_producer_plans_a_replace() -> None:
    """The README's walkthrough: the producer's new key is unknown, the consumer keeps the current one."""
    current = producer_exports()

    def replacing(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        # A replacement in preview: the new endpoint's computed outputs are not known yet.
        _, outputs = fake_endpoint(args)
        return "", {k: v for k, v in outputs.items() if k not in ("routing_key", "status", "inference_base_url")}

    planned = run_example(PRODUCER, config={"gpuType": "gpu-h200-sxm"}, preview=True,
                          mocks=provider_mocks(endpoint=replacing))
    assert "routing_key" not in planned.exports or not isinstance(planned.exports["routing_key"], str)

    # The consumer's StackReference reads the producer's last completed outputs, never its plan.
    result = run_example(CONSUMER, config={"producerStack": PRODUCER_STACK, "configPath": "/nonexistent/x.json"},
                         preview=True, mocks=provider_mocks({PRODUCER_STACK: current}))
    [app] = result.of_type(APP_CONFIG_TYPE)
    assert app.plain_inputs["model"] == current["routing_key"]


@pytest.mark.usefixtures("consumer_on_path")
def test_app_config_provider_pickles_by_reference() -> None:
    result = run_example(CONSUMER, config={"producerStack": PRODUCER_STACK, "configPath": "/nonexistent/x.json"},
                         mocks=provider_mocks({PRODUCER_STACK: producer_exports()}))
    [app] = result.of_type(APP_CONFIG_TYPE)
    assert app.provider_str is not None
    raw = base64.b64decode(app.provider_str)
    assert b"app_config_file" in raw and b"AppConfigFileProvider" in raw
    assert len(raw) < 200 and b"_create_code" not in raw, "pickled by value: code would be frozen in the state"


@pytest.mark.usefixtures("consumer_on_path")
def test_app_config_file_lifecycle(tmp_path: Path) -> None:
    from app_config_file import AppConfigFileProvider  # the consumer's own module
    from pulumi.output import Unknown

    provider = AppConfigFileProvider()
    path = tmp_path / "conf" / "app.json"
    props = {"path": str(path), "base_url": "https://api.example/v1/", "model": "dedicated/m-1",
             "settings": {"source_stack": "org/p/dev"}}
    assert not provider.check({}, props).failures
    assert [f.property for f in provider.check({}, {**props, "model": ""}).failures] == ["model"]
    assert not provider.check({}, {**props, "model": Unknown()}).failures

    created = provider.create(props)
    assert created.id == str(path.resolve())
    assert json.loads(path.read_text()) == {"base_url": "https://api.example/v1/", "model": "dedicated/m-1",
                                            "source_stack": "org/p/dev"}
    olds = created.outs
    assert provider.diff(created.id, olds, props).changes is False
    new_key = provider.diff(created.id, olds, {**props, "model": "dedicated/m-2"})
    assert new_key.changes is True and not new_key.replaces
    assert provider.diff(created.id, olds, {**props, "model": Unknown()}).changes is True
    assert provider.diff(created.id, olds, {**props, "path": str(tmp_path / "b.json")}).replaces == ["path"]

    updated = provider.update(created.id, olds, {**props, "model": "dedicated/m-2"})
    assert json.loads(path.read_text())["model"] == "dedicated/m-2"
    assert updated.outs["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    read = provider.read(created.id, updated.outs)
    assert (read.id, read.outs["model"], read.outs["settings"]) == (created.id, "dedicated/m-2",
                                                                    {"source_stack": "org/p/dev"})

    provider.delete(created.id, updated.outs)
    assert not path.exists()
    assert provider.read(created.id, updated.outs).id == ""
    provider.delete(created.id, updated.outs)  # already gone: no error


# -- against a live emulator ------------------------------------------------------------------------


def _api(emulator: EmulatorProcess) -> httpx.Client:
    headers = {"Authorization": f"Bearer {emulator.api_key}"} if emulator.api_key else {}
    return httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10)


def _raw_catalogue(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    """The templates exactly as the API sends them (published: under "data"; legacy: a bare list or "templates")."""
    with _api(emulator) as api:
        body = api.get("/v0/dedicated_endpoints/templates").raise_for_status().json()
    if isinstance(body, list):
        return body
    return body["data"] if "data" in body else body["templates"]


def _template_name(template: dict[str, Any]) -> str:
    return str(template.get("model_name") or template.get("template_name") or template["name"])


def _flavor(emulator: EmulatorProcess, model: str, flavor: str) -> dict[str, Any]:
    template = next(t for t in _raw_catalogue(emulator) if _template_name(t) == model)
    flavors = template["flavors"]
    if isinstance(flavors, dict):  # published: keyed by flavor name
        return dict(flavors[flavor])
    return next(f for f in flavors if (f.get("flavor_name") or f.get("name")) == flavor)


def test_templates_example_chooses_the_hardware_from_the_live_catalogue(
        clean_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = clean_emulator
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", emulator.api_key or "any-token")
    offered = _flavor(emulator, "openai/gpt-oss-20b", "base")
    emulator.clear_requests()

    result = run_example(TEMPLATES)

    [endpoint] = result.of_type(RESOURCE_TYPE)
    inputs = endpoint.plain_inputs
    # The first GPU type and count the catalogue lists for the default model and flavor.
    expected = {"model_name": "openai/gpt-oss-20b", "flavor_name": "base",
                "gpu_type": offered["gpu_types"][0], "gpu_count": offered["gpu_counts"][0]}
    assert {k: inputs[k] for k in expected} == expected
    assert result.exports["choice"] == expected
    assert result.exports["available_models"] == [_template_name(t) for t in _raw_catalogue(emulator)]
    assert result.exports["routing_key"] == endpoint.outputs["routing_key"]
    # One catalogue call per run, and nothing created: under mocks only the program talks to the API.
    paths = [(r["method"], r["path"]) for r in emulator.requests()]
    assert paths == [("GET", "/v0/dedicated_endpoints/templates")] * 2  # the program's, then _raw_catalogue's


def test_templates_example_follows_stack_config(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_API_KEY", emulator.api_key or "any-token")
    monkeypatch.delenv("TOKENFACTORY_BASE_URL", raising=False)
    offered = _flavor(emulator, "openai/gpt-oss-120b", "fast")
    pinned = offered["gpu_types"][-1]
    result = run_example(TEMPLATES, config={
        "tokenfactory:baseUrl": emulator.base_url,  # stack config, as `pulumi config set` would give it
        "model": "openai/gpt-oss-120b", "flavor": "fast", "gpuType": pinned, "maxReplicas": "3",
    })
    inputs = result.of_type(RESOURCE_TYPE)[0].plain_inputs
    assert (inputs["flavor_name"], inputs["gpu_type"], inputs["gpu_count"]) == ("fast", pinned,
                                                                               offered["gpu_counts"][0])
    assert inputs["scaling"] == {"min_replicas": 1, "max_replicas": 3}


def test_templates_example_names_the_models_when_one_is_missing(
        emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", emulator.api_key or "any-token")
    with pytest.raises(KeyError, match=r"no template for model 'acme/nope'; available: .*openai/gpt-oss-20b"):
        run_example(TEMPLATES, config={"model": "acme/nope"})


@pytest.mark.parametrize("project", [BASIC, INFERENCE, PRODUCER, TEMPLATES], ids=lambda p: p.name)
def test_example_endpoints_pass_the_providers_check(project: Path, clean_emulator: EmulatorProcess,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """What each example declares is valid for the catalogue, so `pulumi preview` would accept it."""
    emulator = clean_emulator  # blank: check also refuses duplicates of endpoints that already exist
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", emulator.api_key or "any-token")
    endpoints = run_example(project).of_type(RESOURCE_TYPE)
    assert endpoints
    provider = DedicatedEndpointProvider()  # unconfigured: falls back to the environment, like the CLI's
    for endpoint in endpoints:
        inputs = {k: v for k, v in endpoint.plain_inputs.items() if v is not None}
        outcome = provider.check({}, inputs)
        assert not outcome.failures, [(f.property, f.reason) for f in outcome.failures]


def test_producer_stacks_never_look_like_each_others_leftovers(clean_emulator: EmulatorProcess,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The producer names endpoints per project and environment, so `prod` can be created while `dev` runs."""
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", clean_emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "any-token")
    [dev] = run_example(PRODUCER, stack="dev").of_type(RESOURCE_TYPE)
    dev_inputs = {k: v for k, v in dev.plain_inputs.items() if v is not None}
    with _api(clean_emulator) as api:  # what `pulumi up` on the dev stack leaves in the account
        api.post("/v0/dedicated_endpoints",
                 json={k: dev_inputs[k] for k in (*SEED_PAYLOAD, "region")}).raise_for_status()

    [prod] = run_example(PRODUCER, stack="prod").of_type(RESOURCE_TYPE)
    prod_inputs = {k: v for k, v in prod.plain_inputs.items() if v is not None}
    assert not DedicatedEndpointProvider().check({}, prod_inputs).failures
    # ...whereas a second `dev` stack would be told about the first one's endpoint.
    failures = DedicatedEndpointProvider().check({}, dev_inputs).failures
    assert [f.property for f in failures] == ["name"] and "already exists" in failures[0].reason


# -- inference script -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def call_endpoint() -> ModuleType:
    return load_module(INFERENCE / "call_endpoint.py")


def _create_endpoint(emulator: EmulatorProcess, name: str) -> dict[str, Any]:
    with _api(emulator) as api:
        body = api.post("/v0/dedicated_endpoints", json={**SEED_PAYLOAD, "name": name}).raise_for_status().json()
    return parse_created(body).model_dump()


def _wait_running(emulator: EmulatorProcess, endpoint_id: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    with _api(emulator) as api:
        while time.monotonic() < deadline:
            listed = parse_endpoints(api.get("/v0/dedicated_endpoints").raise_for_status().json())
            if any(e.id == endpoint_id and e.readiness_state is Readiness.READY for e in listed):
                return
            time.sleep(0.1)
    raise AssertionError(f"{endpoint_id} did not become running within {timeout}s")


def _chat(emulator: EmulatorProcess, routing_key: str, prompt: str) -> str:
    """The endpoint's answer to one prompt, asked directly."""
    with _api(emulator) as api:
        body = api.post("/v1/chat/completions", json={
            "model": routing_key, "messages": [{"role": "user", "content": prompt}]}).raise_for_status().json()
    return str(body["choices"][0]["message"]["content"]).strip()


@pytest.fixture
def slow_emulator(emulator_factory: Callable[..., EmulatorProcess]) -> EmulatorProcess:
    """Endpoints take 2 s to start: long enough to meet a 404, short enough to wait out. Auth is on."""
    return emulator_factory(provision_seconds=2.0, api_key="tf-example-key")


def test_call_endpoint_answers_from_a_running_endpoint(call_endpoint: ModuleType, slow_emulator: EmulatorProcess,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    created = _create_endpoint(slow_emulator, "inference running")
    _wait_running(slow_emulator, created["id"])
    slow_emulator.clear_requests()

    status = call_endpoint.main(["--routing-key", created["routing_key"], "--base-url", f"{slow_emulator.base_url}/v1/",
                                 "--prompt", "ping 42"], env={"TOKENFACTORY_API_KEY": "tf-example-key"})

    out, err = capsys.readouterr()
    assert status == call_endpoint.EXIT_OK, err
    chats = [r for r in slow_emulator.requests() if r["path"] == "/v1/chat/completions"]
    assert len(chats) == 1
    # The script prints exactly the answer the endpoint gives to that request.
    assert out.strip() == _chat(slow_emulator, created["routing_key"], "ping 42")
    assert "ping 42" in out


def test_call_endpoint_explains_the_404_of_a_starting_endpoint(
        call_endpoint: ModuleType, slow_emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]) -> None:
    created = _create_endpoint(slow_emulator, "inference starting")
    argv = ["--routing-key", created["routing_key"], "--base-url", f"{slow_emulator.base_url}/v1/"]
    env = {"TOKENFACTORY_API_KEY": "tf-example-key"}

    status = call_endpoint.main(argv, env=env)
    _, err = capsys.readouterr()
    assert status == call_endpoint.EXIT_NOT_READY
    assert "404 Not Found" in err and created["routing_key"] in err and "--wait" in err

    # --wait rides it out: retries with growing pauses until the endpoint runs, then answers.
    status = call_endpoint.main([*argv, "--wait", "20", "--prompt", "still there?"], env=env)
    out, err = capsys.readouterr()
    assert status == call_endpoint.EXIT_OK, err
    assert "retrying" in err
    assert out.strip() == _chat(slow_emulator, created["routing_key"], "still there?")


def test_call_endpoint_reads_the_stack_outputs(call_endpoint: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_pulumi(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        outputs = {"routing_key": "dedicated/from-stack", "inference_base_url": "https://stack.example/v1/"}
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps(outputs), stderr="")

    monkeypatch.setattr(call_endpoint.shutil, "which", lambda _: "/usr/bin/pulumi")
    args = call_endpoint.parse_args(["--stack", "prod"])
    target = call_endpoint.resolve_target(args, {"TOKENFACTORY_API_KEY": "k"}, run=fake_pulumi)
    assert (target.routing_key, target.base_url) == ("dedicated/from-stack", "https://stack.example/v1/")
    assert seen == [["pulumi", "stack", "output", "--json", "--stack", "prod"]]

    # Arguments and environment win, and then the CLI is not asked at all.
    args = call_endpoint.parse_args(["--routing-key", "dedicated/arg"])
    target = call_endpoint.resolve_target(
        args, {"TOKENFACTORY_API_KEY": "k", "TOKENFACTORY_INFERENCE_BASE_URL": "https://env.example/v1/"},
        run=fake_pulumi)
    assert (target.routing_key, target.base_url) == ("dedicated/arg", "https://env.example/v1/")
    assert len(seen) == 1


def test_call_endpoint_refuses_to_run_without_a_token(call_endpoint: ModuleType,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    status = call_endpoint.main(["--routing-key", "r", "--base-url", "http://127.0.0.1:9/v1/"], env={})
    assert status == call_endpoint.EXIT_USAGE
    assert "TOKENFACTORY_API_KEY" in capsys.readouterr().err

