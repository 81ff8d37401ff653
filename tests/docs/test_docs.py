"""Keep the reference docs in sync with the code they describe.

Every claim a reader acts on (which inputs exist, which replace the endpoint,
which outputs and types there are, which settings and environment variables
are read, where a link goes) is checked here against the package itself, so
a change to the code that the docs do not follow fails the suite.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pulumi_tokenfactory as tokenfactory
from devtools.generate_surface import doc_literal
from pulumi_tokenfactory import schema
from pulumi_tokenfactory.api import models
from pulumi_tokenfactory.api.client import RetryPolicy, TokenFactoryClient, resolve_api_key, resolve_base_url
from pulumi_tokenfactory.api.models import parse_created
from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE, TEMPLATES
from pulumi_tokenfactory.emulator.testing import EmulatorProcess
from pulumi_tokenfactory.endpoint import fields
from pulumi_tokenfactory.endpoint.fields import INPUT_FIELDS, OUTPUT_FIELDS
from pulumi_tokenfactory.endpoint.program import DedicatedEndpoint, DedicatedEndpointArgs, ScalingArgsDict
from pulumi_tokenfactory.endpoint.properties import EndpointInputs
from pulumi_tokenfactory.fields import Kind
from pulumi_tokenfactory.host.waiting import PollSchedule
from pulumi_tokenfactory.policy.rules import DEFAULT_GPU_TYPES as ALLOWED_GPU_TYPES_DEFAULT
from pulumi_tokenfactory.provider import DedicatedEndpointProvider
from tests.harness.mocks import RecordingMocks, run_program

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "sdk-docs"
EXAMPLES = ROOT / "examples"
PACKAGE = ROOT / "pulumi_tokenfactory"
REFERENCE = DOCS / "dedicated-endpoint.md"
INSTALL = DOCS / "installation-configuration.md"
TYPE_TOKEN = "pulumi-python:dynamic/tokenfactory:DedicatedEndpoint"
#: The declared inputs (pulumi_tokenfactory/endpoint/fields.py): what the reference's inputs table is checked against.
DECLARED_INPUTS = tuple(f for f in fields.FIELDS if f.is_input)
#: Package modules that are not the user-facing provider (their settings are documented elsewhere).
NON_PROVIDER_MODULES = {"demo", "enginehost"}


# -- markdown helpers ---------------------------------------------------------------------------


def _section(text: str, heading: str) -> str:
    """The body of the `## heading` section (up to the next heading of level 2 or less)."""
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^#{{1,2}} |\Z)", text, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def _tables(section: str) -> list[list[dict[str, str]]]:
    """Every markdown table of a section, as rows keyed by header."""
    tables: list[list[dict[str, str]]] = []
    lines = section.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|[\s:|-]+\|\s*$",
                                                                                 lines[i + 1]):
            header = _cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(dict(zip(header, _cells(lines[i]), strict=True)))
                i += 1
            tables.append(rows)
        else:
            i += 1
    return tables


def _code(cell: str) -> str:
    """`name` -> name; fails on a cell that is not one code span."""
    match = re.fullmatch(r"`([^`]+)`", cell.strip())
    assert match, f"expected a `code` cell, got {cell!r}"
    return match.group(1)


def _rows_by_name(section: str, first_column: str) -> dict[str, dict[str, str]]:
    table = next(t for t in _tables(section) if t and first_column in t[0])
    rows = {_code(row[first_column]): row for row in table}
    assert len(rows) == len(table), f"a name is listed twice in the {first_column} table"
    return rows


@pytest.fixture(scope="module")
def reference() -> str:
    return REFERENCE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def input_rows(reference: str) -> dict[str, dict[str, str]]:
    return _rows_by_name(_section(reference, "Inputs"), "Input")


@pytest.fixture(scope="module")
def output_rows(reference: str) -> dict[str, dict[str, str]]:
    return _rows_by_name(_section(reference, "Outputs"), "Output")


# -- dedicated-endpoint.md: inputs -----------------------------------------------------------------


def test_every_input_is_documented_with_what_a_change_does(input_rows: dict[str, dict[str, str]]) -> None:
    """The table says for every declared input (fields.FIELDS) what a change does: its kind."""
    assert set(INPUT_FIELDS) <= set(input_rows), f"undocumented inputs: {set(INPUT_FIELDS) - set(input_rows)}"
    for f in DECLARED_INPUTS:
        cell = input_rows[f.name]["On change"]
        if f.kind is Kind.REPLACE:
            assert cell == "replace", f"{f.name} replaces the endpoint: {cell!r}"
        else:
            assert cell.startswith("in place") and "replace" not in cell, f"{f.name}: {cell!r} should be in place"
        assert ("provider option" in cell) == (f.kind is Kind.PROVIDER_ONLY), f"{f.name}: {cell!r}"
        if not f.diffed:
            assert "no diff" in cell, f"{f.name} is never compared: {cell!r} should say 'no diff'"


def test_every_declared_limit_and_choice_is_documented(input_rows: dict[str, dict[str, str]]) -> None:
    """What the declaration allows (lengths, ranges, choices) is what the reader is told."""
    for f in DECLARED_INPUTS:
        row = input_rows[f.name]
        text = f"{row['Required / default']} {row['Description']}"
        limits = f.limits
        if limits.max_length is not None and not limits.provider_max:
            assert str(limits.max_length) in text, f"{f.name}: at most {limits.max_length} characters, not documented"
        if limits.maximum is not None:
            assert f"{doc_literal(limits.minimum)} to {doc_literal(limits.maximum)}" in text, \
                f"{f.name}: {doc_literal(limits.minimum)} to {doc_literal(limits.maximum)} is not documented: {text!r}"
        for choice in limits.choices:
            assert f"`{choice}`" in text, f"{f.name}: the choice {choice} is not documented"
    for child in fields.SCALING_CHILDREN:
        row = input_rows[f"scaling.{child.name}"]
        assert doc_literal(child.limits.maximum) in row["Required / default"], f"scaling.{child.name}: {row}"


def _arg_parameters() -> list[inspect.Parameter]:
    """The inputs as DedicatedEndpointArgs.__init__ declares them (keyword-only, annotations as written)."""
    return [p for p in inspect.signature(DedicatedEndpointArgs.__init__).parameters.values()
            if p.kind is p.KEYWORD_ONLY]


def test_scaling_bounds_are_documented(input_rows: dict[str, dict[str, str]]) -> None:
    for bound in ScalingArgsDict.__annotations__:
        row = input_rows[f"scaling.{bound}"]
        assert row["On change"] == input_rows["scaling"]["On change"]
        assert row["Required / default"].startswith("required")


def test_every_documented_input_exists(input_rows: dict[str, dict[str, str]]) -> None:
    scaling_fields = {f"scaling.{name}" for name in ScalingArgsDict.__annotations__}
    unknown = set(input_rows) - set(INPUT_FIELDS) - scaling_fields
    assert not unknown, f"documented inputs that the code does not have: {unknown}"
    args_fields = {p.name for p in _arg_parameters()}
    assert set(INPUT_FIELDS) == args_fields, "DedicatedEndpointArgs and fields.INPUT_FIELDS disagree"


def test_input_types_requiredness_and_defaults_match_the_code(input_rows: dict[str, dict[str, str]]) -> None:
    arguments = {p.name: p for p in _arg_parameters()}
    for f in DECLARED_INPUTS:
        row = input_rows[f.name]
        annotation = str(arguments[f.name].annotation)
        for part in _code(row["Type"]).split(" | "):
            assert re.search(rf"\b{re.escape(part)}\b", annotation), \
                f"{f.name}: documented type {part!r} is not in the annotation {annotation!r}"
        cell = row["Required / default"]
        assert cell.startswith("required") == f.required, f"{f.name}: {cell!r}"
        if not f.required:
            literal = doc_literal(f.default)
            assert f"`{literal}`" in cell, f"{f.name}: default {literal} not in {cell!r}"
            assert EndpointInputs.model_fields[f.name].default == f.default, f"{f.name}: the model's default differs"
    assert schema.REGION_CONFIG in input_rows["region"]["Required / default"]
    assert fields.BY_NAME["region"].default == models.DEFAULT_REGION == fields.DEFAULT_REGION


# -- dedicated-endpoint.md: outputs ----------------------------------------------------------------


def _output_annotations() -> dict[str, str]:
    """DedicatedEndpoint's output properties `-> pulumi.Output[T]` -> T (as written in resources.py)."""
    found = {}
    for name, value in vars(DedicatedEndpoint).items():
        if not isinstance(value, property) or value.fget is None:
            continue
        match = re.fullmatch(r"pulumi\.Output\[(.*)\]", str(inspect.get_annotations(value.fget).get("return")))
        if match:
            found[name] = match.group(1)
    assert found, "no pulumi.Output properties found on DedicatedEndpoint"
    return found


def test_every_output_attribute_is_documented_with_its_type(output_rows: dict[str, dict[str, str]]) -> None:
    annotations = _output_annotations()
    assert set(OUTPUT_FIELDS) <= set(annotations), "fields.OUTPUT_FIELDS lacks annotations in resources.py"
    for name, type_ in annotations.items():
        assert name in output_rows, f"output {name} is not documented"
        assert _code(output_rows[name]["Type"]) == type_, f"output {name}: documented type differs from {type_}"


def test_every_documented_output_exists(output_rows: dict[str, dict[str, str]]) -> None:
    unknown = set(output_rows) - set(_output_annotations()) - {"id"}
    assert not unknown, f"documented outputs that DedicatedEndpoint does not have: {unknown}"
    assert "id" in output_rows


# -- dedicated-endpoint.md: behaviour -----------------------------------------------------------


def test_lifecycle_states_and_status_mapping_match_the_code(reference: str) -> None:
    rows = _rows_by_name(_section(reference, "Lifecycle states"), "State")
    assert set(rows) == {s.value for s in models.LifecycleState}
    documented_aliases = set()
    for state, row in rows.items():
        for alias in re.findall(r"[a-z_]+", row["API statuses mapped to it"].split("(")[0]):
            if alias in ("anything", "else", "or", "none"):
                continue
            assert models.lifecycle_state(alias).value == state, f"{alias!r} does not map to {state}"
            documented_aliases.add(alias)
    missing = set(models._STATUS_ALIASES) - documented_aliases
    assert not missing, f"status aliases mapped in models.py but not documented: {missing}"


def test_poll_schedule_numbers_match_the_code(reference: str) -> None:
    schedule = PollSchedule()
    text = " ".join(_section(reference, "Timeouts and waiting").split())
    assert f"every {schedule.initial:g} s, doubling the pause up to {schedule.maximum:g} s" in text
    polls = re.search(r"a 15-minute start costs (\d+) polls", text)
    assert polls and int(polls.group(1)) == schedule.polls_for(15 * 60)
    assert f"`{fields.DEFAULT_READY_TIMEOUT_SECONDS}`" in text


def test_import_type_token_is_the_registered_one(reference: str) -> None:
    """The page names the real import command and option, to say why `adopt_id` replaces them."""
    assert f"pulumi import {TYPE_TOKEN} " in reference
    assert "import_=" in reference and "adopt_id=" in reference


def _python_blocks(path: Path) -> Iterator[str]:
    yield from re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)


@pytest.mark.parametrize("doc", sorted(p.name for p in DOCS.glob("*.md")))
def test_python_snippets_parse(doc: str) -> None:
    for block in _python_blocks(DOCS / doc):
        ast.parse(block)


def test_reference_examples_run_under_mocks() -> None:
    """The usage and adoption snippets register exactly what they promise."""
    blocks = [b for b in _python_blocks(REFERENCE) if "tokenfactory.DedicatedEndpoint(" in b]
    assert len(blocks) >= 3
    for block in blocks:
        result = run_program(functools.partial(exec, compile(block, str(REFERENCE), "exec"), {}))
        endpoints = result.of_type(TYPE_TOKEN)
        assert endpoints, "a snippet that declares an endpoint registered none"
        assert len(endpoints) == block.count("tokenfactory.DedicatedEndpoint(")
        for endpoint in endpoints:
            inputs = endpoint.plain_inputs
            assert inputs["scaling"]["min_replicas"] >= 1
            assert inputs["region"] in fields.REGIONS
        if "adopt_id=" in block:
            assert endpoints[0].plain_inputs["adopt_id"].startswith("ep-")


# -- installation-configuration.md ------------------------------------------------------------------


def _string_constants(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


SETTING = re.compile(r"^(tokenfactory:[A-Za-z]+|TOKENFACTORY_[A-Z_]+)$")


def test_documented_settings_exist_in_the_code() -> None:
    text = INSTALL.read_text(encoding="utf-8")
    documented = set(re.findall(r"\b(tokenfactory:[A-Za-z]+|TOKENFACTORY_[A-Z_]+)\b", text))
    assert {"tokenfactory:apiKey", "tokenfactory:baseUrl", "tokenfactory:region"} <= documented
    constants = _string_constants(sorted(PACKAGE.rglob("*.py")))
    unknown = {name for name in documented if name not in constants}
    assert not unknown, f"installation-configuration.md names settings the package never reads: {unknown}"


def test_every_provider_setting_is_documented() -> None:
    modules = [p for p in PACKAGE.glob("*.py") if p.stem not in NON_PROVIDER_MODULES]
    read = {c for c in _string_constants(modules) if SETTING.match(c)}
    assert read, "found no settings in the package: has the naming changed?"
    text = INSTALL.read_text(encoding="utf-8")
    missing = {name for name in read if name not in text}
    assert not missing, f"settings read by the provider but not documented: {missing}"


# -- examples ----------------------------------------------------------------------------------------


def _projects() -> list[Path]:
    return sorted(p.parent for p in EXAMPLES.rglob("__main__.py"))


def test_examples_exist() -> None:
    names = {p.relative_to(EXAMPLES).as_posix() for p in _projects()}
    assert {"basic", "templates", "inference", "multi-stack/producer", "multi-stack/consumer"} <= names


@pytest.mark.parametrize("project", _projects(), ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_every_example_project_is_complete(project: Path) -> None:
    assert (project / "README.md").is_file()
    assert (project / "requirements.txt").is_file()
    if (project / "PulumiPolicy.yaml").is_file():
        return  # a policy pack, not a stack project
    manifest = (project / "Pulumi.yaml").read_text(encoding="utf-8")
    assert re.search(r"^name:\s*\S+", manifest, re.M)
    assert re.search(r"^runtime:\s*(python\s*$|\n\s+name:\s*python\s*$)", manifest, re.M)
    requirements = (project / "requirements.txt").read_text(encoding="utf-8")
    uses_package = any("pulumi_tokenfactory" in p.read_text(encoding="utf-8") for p in project.glob("*.py"))
    # A program installs what it imports: this package from the clone (tests/docs/test_install.py installs each).
    assert bool(re.search(r"^-e \.\./\.\.(/\.\.)?$", requirements, re.M)) == uses_package, requirements
    assert uses_package or re.search(r"^pulumi>=", requirements, re.M)


def test_every_example_folder_has_a_readme() -> None:
    for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        assert (folder / "README.md").is_file(), f"{folder.name} has no README.md"


# -- links ---------------------------------------------------------------------------------------------


def _markdown_files() -> list[Path]:
    files = sorted(DOCS.glob("*.md")) + sorted(EXAMPLES.rglob("README.md"))
    if (ROOT / "README.md").is_file():  # written by the lead; may not exist yet
        files.append(ROOT / "README.md")
    return files


def _anchors(path: Path) -> set[str]:
    """GitHub's heading slugs: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("doc", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(doc: Path) -> None:
    text = re.sub(r"^```.*?^```", "", doc.read_text(encoding="utf-8"), flags=re.M | re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (doc.parent / path_part).resolve() if path_part else doc
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


# -- every Python block of the docs runs ------------------------------------------------------------------
#
# Blocks of one page run in order in one namespace, like a reader pasting them into one session:
# a block that declares resources (or calls get_templates) runs as a program under Pulumi's mocks,
# with the API an emulator; the others run as plain code. Names a block uses without defining them
# (an application's `routing_key`, a recorded endpoint) come from BLOCK_CONTEXT, built from the
# same emulator, so even the OpenAI snippet makes a real call.


def _runnable_docs() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted(EXAMPLES.rglob("README.md"))]


#: Pages whose blocks are a test module of their own, run by pytest in tests/unit/test_user_testing.py.
OWN_TEST_MODULE = {"sdk-docs/testing.md"}


def _program_block(block: str) -> bool:
    return "tokenfactory.DedicatedEndpoint(" in block or "get_templates(" in block or "pulumi.export(" in block


def _running_endpoint(emulator: EmulatorProcess) -> dict[str, Any]:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as api:
        answer = api.post("/v0/dedicated_endpoints", json={**SEED_EXAMPLE, "name": "docs snippet"}
                          ).raise_for_status().json()
    emulator.advance_clock(900)
    return parse_created(answer).model_dump()


def _openai_names(emulator: EmulatorProcess) -> dict[str, Any]:
    endpoint = _running_endpoint(emulator)
    return {"inference_base_url": f"{emulator.base_url}/v1/", "token": "any-token",
            "routing_key": endpoint["routing_key"]}


def _recorded_endpoint(_: EmulatorProcess) -> dict[str, Any]:
    return {"recorded": {**SEED_EXAMPLE, "region": "eu-north1", "enabled": True, "status": "running",
                         "id": "ep-docsrecorded0001", "routing_key": "dedicated/openai/gpt-oss-120b-docsRecorded1"}}


#: Page -> the names its blocks use but leave to the reader's application, made real.
BLOCK_CONTEXT: dict[str, Callable[[EmulatorProcess], dict[str, Any]]] = {
    "sdk-docs/dedicated-endpoint.md": _openai_names,
    "examples/inference/README.md": _openai_names,
    "sdk-docs/emulator.md": _recorded_endpoint,
}


@pytest.mark.parametrize("doc", _runnable_docs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_python_block_runs(doc: Path, clean_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    name = doc.relative_to(ROOT).as_posix()
    blocks = list(_python_blocks(doc))
    if name in OWN_TEST_MODULE:
        assert any("set_mocks(" in b for b in blocks), f"{name} no longer holds the example test module"
        return
    if not blocks:
        assert name not in BLOCK_CONTEXT, f"BLOCK_CONTEXT names {name}, which has no Python block"
        return
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", clean_emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "any-token")
    monkeypatch.setenv("TOKENFACTORY_POLL_MAX_INTERVAL", "0.2")
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    context = BLOCK_CONTEXT.get(name)
    if context is not None:
        given = context(clean_emulator)
        namespace.update(given)
        used = "\n".join(blocks)
        assert all(re.search(rf"\b{key}\b", used) for key in given), f"{name}: BLOCK_CONTEXT has unused names"
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{name} (Python block {number})", "exec")
        if _program_block(block):
            result = run_program(functools.partial(exec, code, namespace))
            assert not result.background_errors, result.background_errors
        else:
            exec(code, namespace)


# -- quoted messages are what the code prints ----------------------------------------------------------
#
# Each line of a ```text block in these pages is a message a reader will search for. Every one must
# be produced by the code: TRIGGERS provoke each situation for real (the provider against an
# emulator, the client, the settings, the example script) and collect the messages; a sample
# matches a message where it says the same, reading `...` as "anything", an endpoint id as any id,
# a duration as any duration and a loopback port as any port.

MESSAGE_DOCS = ("sdk-docs/troubleshooting.md", "sdk-docs/installation-configuration.md", "sdk-docs/get-templates.md",
                "sdk-docs/testing.md", "sdk-docs/emulator.md", "examples/inference/README.md")
TWIN_SPEC: dict[str, Any] = {**SEED_EXAMPLE, "region": "eu-north1"}


def _sample_pattern(sample: str) -> re.Pattern[str]:
    """A quoted sample as a regular expression over the message the code prints."""
    pieces = re.split(r"(\.\.\.|<[^>]+>|ep-[0-9a-z]+|\b\d+s\b|127\.0\.0\.1:\d+)", sample)
    regex = []
    for piece in pieces:
        if piece == "..." or (piece.startswith("<") and piece.endswith(">")):
            regex.append(".*")
        elif piece.startswith("ep-"):
            regex.append(r"ep-[0-9a-z]+")
        elif re.fullmatch(r"\d+s", piece):
            regex.append(r"\d+(?:\.\d+)?s")
        elif piece.startswith("127.0.0.1:"):
            regex.append(r"127\.0\.0\.1:\d+")
        else:
            regex.append(re.escape(piece))
    return re.compile("".join(regex), re.S)


def _quoted_samples() -> list[tuple[str, str]]:
    found = []
    for name in MESSAGE_DOCS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for block in re.findall(r"^```text\n(.*?)^```", text, re.M | re.S):
            found += [(name, line.strip()) for line in block.splitlines() if line.strip() and line.strip() != "..."]
    return found


def _shown(exc: BaseException) -> list[str]:
    """How a reader meets an exception: its text, and the traceback's last line."""
    return [str(exc), f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}", f"{type(exc).__name__}: {exc}"]


def _raised(call: Callable[[], Any]) -> list[str]:
    try:
        call()
    except Exception as exc:  # any exception is a message to compare
        return _shown(exc)
    raise AssertionError(f"{call} raised nothing")


def _check_failures(props: dict[str, Any]) -> list[str]:
    return [f.reason for f in DedicatedEndpointProvider().check({}, props).failures]


def _validation_messages(_: EmulatorProcess) -> list[str]:
    base = {**SEED_EXAMPLE, "region": "eu-north1"}
    variants: list[dict[str, Any]] = [
        {"scaling": {"min_replicas": 3, "max_replicas": 2}}, {"region": "eu-central1"},
        {"model_name": "openai/gpt-oss-12b"}, {"flavor_name": "turbo"}, {"gpu_count": 3}, {"gpu_count": 1.5},
        {"min_replicas": 1}, {"name": "GPT-\u202e120B"}, {"gpu_type": "gpu-l40s-d"},
    ]
    return [reason for variant in variants for reason in _check_failures({**base, **variant})]


def _twin_messages(emulator: EmulatorProcess) -> list[str]:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as api:
        api.post("/v0/dedicated_endpoints", json=TWIN_SPEC).raise_for_status()
    emulator.advance_clock(900)
    return _check_failures(TWIN_SPEC)


def _create(emulator: EmulatorProcess, name: str) -> list[str]:
    props = {**TWIN_SPEC, "name": name, "ready_timeout": 1}
    return _raised(lambda: DedicatedEndpointProvider().create(props))


def _failed_create_messages(emulator: EmulatorProcess) -> list[str]:
    emulator.admin("POST", "behaviour", {"next_create": "stuck", "count": 1})
    timed_out = _create(emulator, "GPT-120B Endpoint")
    emulator.admin("POST", "behaviour", {"next_create": "error", "count": 1})
    errored = _create(emulator, "GPT-120B Endpoint")
    emulator.admin("POST", "behaviour", {"next_create": "stuck", "count": 1})
    emulator.inject_fault(method="DELETE", path="/v0/dedicated_endpoints/*", status=500, count=None)
    stranded = _create(emulator, "GPT-120B Endpoint")
    emulator.clear_faults()
    return timed_out + errored + stranded


def _update_and_delete_messages(emulator: EmulatorProcess, emulator_factory: Callable[..., EmulatorProcess],
                                monkeypatch: pytest.MonkeyPatch) -> list[str]:
    olds = {**TWIN_SPEC, "routing_key": "dedicated/x", "status": "running", "wait_for_ready": True,
            "ready_timeout": 1}
    gone = _raised(lambda: DedicatedEndpointProvider().update(
        "ep-7f3a", olds, {**TWIN_SPEC, "scaling": {"min_replicas": 1, "max_replicas": 3}, "ready_timeout": 1}))
    slow = emulator_factory(provision_seconds=0.2, delete_seconds=60)  # a delete that outlasts ready_timeout
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", slow.base_url)
    with httpx.Client(base_url=slow.base_url, timeout=10) as api:
        endpoint = parse_created(api.post("/v0/dedicated_endpoints", json={**TWIN_SPEC, "name": "stays"})
                                 .raise_for_status().json())
    stuck = _raised(lambda: DedicatedEndpointProvider().delete(endpoint.id, {**olds, "name": "GPT-120B Endpoint"}))
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", emulator.base_url)
    return gone + stuck


def _client_messages(emulator: EmulatorProcess) -> list[str]:
    once = RetryPolicy(max_attempts=1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = _raised(lambda: TokenFactoryClient("k", f"http://127.0.0.1:{closed_port}", retry=once).list_endpoints())
    emulator.inject_fault(method="GET", path="/v0/dedicated_endpoints", action="delay", delay=2, count=1)
    late = _raised(lambda: TokenFactoryClient("k", emulator.base_url, retry=once, timeout=0.3).list_endpoints())
    emulator.clear_faults()
    return refused + late


def _refused_token(emulator_factory: Callable[..., EmulatorProcess]) -> list[str]:
    from pulumi_tokenfactory import errors
    from pulumi_tokenfactory.host.failures import one_line

    guarded = emulator_factory(api_key="the-right-token")
    refused = _raised(lambda: TokenFactoryClient("a-wrong-token", guarded.base_url).list_templates())
    try:  # as the provider host reports it (tests/cli/test_cli_errors.py shows it through the CLI)
        TokenFactoryClient("a-wrong-token", guarded.base_url).list_templates()
    except errors.AuthenticationError as exc:
        return refused + _shown(one_line("check", {"name": "GPT-120B Endpoint"}, exc))
    raise AssertionError("a wrong token was accepted")


def _settings_messages(_: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    return [*_raised(lambda: TokenFactoryClient(None, "http://127.0.0.1:9")),
            *_raised(lambda: resolve_api_key("tok\u200ben")),
            *_raised(lambda: resolve_base_url("api.tokenfactory.nebius.com"))]


def _environment_messages(_: EmulatorProcess) -> list[str]:
    bare = subprocess.run([sys.executable, "-I", "-S", "-c", "import pulumi_tokenfactory"], capture_output=True,
                          text=True, timeout=60, check=False)
    missing_extras = []
    for module, blocked in (("pulumi_tokenfactory.emulator", "fastapi=None, uvicorn=None"),
                            ("pulumi_tokenfactory.policy", "pulumi_policy=None")):
        done = subprocess.run([sys.executable, "-c", f"import sys; sys.modules.update({blocked}); import {module}"],
                              capture_output=True, text=True, timeout=60, check=False)
        missing_extras.append(done.stderr.strip().splitlines()[-1])
    return [bare.stderr.strip().splitlines()[-1], *missing_extras]


def _emulator_messages(emulator: EmulatorProcess) -> list[str]:
    return emulator.output().splitlines()[:1]


def _fetch_templates() -> None:
    tokenfactory.get_templates()


def _unmocked_templates(_: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    return _raised(lambda: run_program(_fetch_templates, mocks=RecordingMocks()))


def _inference_messages(emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]) -> list[str]:
    spec = importlib.util.spec_from_file_location("docs_call_endpoint", EXAMPLES / "inference" / "call_endpoint.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    spec.loader.exec_module(script)
    with httpx.Client(base_url=emulator.base_url, timeout=10) as api:
        starting = parse_created(api.post("/v0/dedicated_endpoints", json={**SEED_EXAMPLE, "name": "still starting"}
                                          ).raise_for_status().json())
    emulator.pin_deployment(starting.id, "starting", "not_ready")  # however long the script takes to start
    capsys.readouterr()
    script.main(["--routing-key", str(starting.routing_key), "--base-url", f"{emulator.base_url}/v1/"],
                env={"TOKENFACTORY_API_KEY": "k"})
    return capsys.readouterr().err.splitlines()


def test_every_quoted_message_is_one_the_code_prints(clean_emulator: EmulatorProcess,
                                                     emulator_factory: Callable[..., EmulatorProcess],
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    emulator = clean_emulator
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", emulator.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "any-token")
    monkeypatch.setenv("TOKENFACTORY_POLL_MAX_INTERVAL", "0.1")
    produced: dict[str, list[str]] = {
        "validation": _validation_messages(emulator),
        "twin": _twin_messages(emulator),
        "failed create": _failed_create_messages(emulator),
        "update and delete": _update_and_delete_messages(emulator, emulator_factory, monkeypatch),
        "client": _client_messages(emulator),
        "refused token": _refused_token(emulator_factory),
        "environment": _environment_messages(emulator),
        "emulator": _emulator_messages(emulator),
        "inference script": _inference_messages(emulator, capsys),
        "settings": _settings_messages(emulator, monkeypatch),
        "unmocked templates": _unmocked_templates(emulator, monkeypatch),
    }
    messages = [m for found in produced.values() for m in found]
    unmatched = [(doc, sample) for doc, sample in _quoted_samples()
                 if not any(_sample_pattern(sample).fullmatch(m) for m in messages)]
    assert not unmatched, "quoted messages that the code does not print:\n" + "\n".join(
        f"  {doc}: {sample}" for doc, sample in unmatched)
    idle = [what for what, found in produced.items()
            if not any(_sample_pattern(s).fullmatch(m) for m in found for _, s in _quoted_samples())]
    assert not idle, f"triggers whose messages no page quotes any more: {idle}"


# -- names of models, flavors and GPUs are the catalogue's ---------------------------------------------

#: Names the docs use on purpose although no template offers them: each sample of a refusal.
NOT_IN_THE_CATALOGUE = {
    "gpu-a100": "policy-pack.md: the allowed-GPU rule refusing an unknown type",
    "openai/gpt-oss-12b": "troubleshooting.md: a misspelt model, refused by check",
    "Qwen/Qwen3-235B": "policy-pack.md: the allowed-models rule refusing a model (test_policy_validators.py)",
    "turbo": "troubleshooting.md: a flavor the model does not have",
}


def _doc_texts() -> dict[str, str]:
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in _markdown_files()}


def _catalogue() -> tuple[set[str], set[str], set[str]]:
    models_ = {t.model_name for t in TEMPLATES}
    flavors = {f.flavor_name for t in TEMPLATES for f in t.flavors}
    gpus = {g for t in TEMPLATES for f in t.flavors for g in f.gpu_types}
    return models_, flavors, gpus


def test_every_gpu_type_named_in_the_docs_is_in_the_catalogue() -> None:
    _, _, gpus = _catalogue()
    known_to_the_policy = set(ALLOWED_GPU_TYPES_DEFAULT)
    problems = []
    for name, text in _doc_texts().items():
        for token in set(re.findall(r"\bgpu-[a-z0-9*-]*[a-z0-9*]", text)):
            gpu = token
            if "*" in token or not re.match(r"gpu-[a-z]*\d", token):
                continue  # a pattern (gpu-l40s-*), or a word such as a policy's name (gpu-count-ceiling)
            if gpu in gpus or gpu in NOT_IN_THE_CATALOGUE:
                continue
            # The policy pack's default allow-list names every type seen in public sources, offered here or not.
            if name == "sdk-docs/policy-pack.md" and gpu in known_to_the_policy:
                continue
            # The reference lists every GPU type the API publishes (gpu_type's declared choices).
            if name == REFERENCE.relative_to(ROOT).as_posix() and gpu in fields.GPU_TYPES:
                continue
            problems.append(f"{name}: {gpu}")
    assert not problems, f"GPU types that no template offers: {problems}"


def test_every_model_and_flavor_named_in_the_docs_is_in_the_catalogue() -> None:
    models_, flavors, _ = _catalogue()
    organisations = {m.split("/")[0] for m in models_}
    problems = []
    for name, text in _doc_texts().items():
        model_pattern = rf"(?<![\w/.-])(?:{'|'.join(map(re.escape, organisations))})/[\w.-]*\w(?![\w*/-])"
        for model in set(re.findall(model_pattern, text)):
            if model not in models_ and model not in NOT_IN_THE_CATALOGUE:
                problems.append(f"{name}: model {model}")
        flavor_spots = re.findall(
            r"""flavor_name=["'](\w+)|"flavor_name": "(\w+)"|flavor '(\w+)'|config set flavor (\w+)""", text)
        for flavor in {next(f for f in spot if f) for spot in flavor_spots}:
            if flavor not in flavors and flavor not in NOT_IN_THE_CATALOGUE:
                problems.append(f"{name}: flavor {flavor}")
    for name in NOT_IN_THE_CATALOGUE:
        assert name not in models_ | flavors, f"{name} is in the catalogue now: drop it from NOT_IN_THE_CATALOGUE"
    assert not problems, f"names that the catalogue does not have: {problems}"


def test_the_emulator_guide_shows_the_catalogue_it_serves() -> None:
    rows = _rows_by_name(_section((DOCS / "emulator.md").read_text(encoding="utf-8"), "Template catalogue"), "Model")

    def cell(types: list[str], counts: list[int]) -> str:
        short = ", ".join(t.removeprefix("gpu-").removesuffix("-sxm") for t in types)
        return f"{short}; {', '.join(map(str, counts))}"

    assert set(rows) == {t.model_name for t in TEMPLATES}
    for template in TEMPLATES:
        row = rows[template.model_name]
        for flavor in template.flavors:
            column = next(k for k in row if k.startswith(f"`{flavor.flavor_name}`"))
            assert row[column] == cell(flavor.gpu_types, flavor.gpu_counts), (template.model_name, flavor.flavor_name)


# -- numbers and URLs stated in prose ------------------------------------------------------------------


def test_retry_numbers_match_the_client() -> None:
    policy = RetryPolicy()
    stated = []
    for name, text in _doc_texts().items():
        prose = " ".join(text.split())
        assert not re.search(r"retried up to \d+ times", prose), f"{name}: retries are counted in attempts"
        for attempts, seconds in re.findall(r"up to (\d+) attempts within (\d+) s", prose):
            stated.append(name)
            assert (int(attempts), float(seconds)) == (policy.max_attempts, policy.total_deadline), name
        for low, high in re.findall(r"backoff from ([\d.]+) s to ([\d.]+) s", prose):
            assert (float(low), float(high)) == (policy.backoff_initial, policy.backoff_max), name
    assert {"sdk-docs/dedicated-endpoint.md", "sdk-docs/installation-configuration.md",
            "sdk-docs/troubleshooting.md"} <= set(stated)


def _default_provision_seconds(path: Path) -> float:
    """The `--provision-seconds` default of a script's argument parser."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and node.args[0].value == "--provision-seconds":
            default = next(k.value for k in node.keywords if k.arg == "default")
            assert isinstance(default, ast.Constant) and isinstance(default.value, int | float)
            return float(default.value)
    raise AssertionError(f"{path} has no --provision-seconds")


def test_the_readme_states_the_demos_provisioning_time() -> None:
    prose = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    match = re.search(r"a 15-minute provisioning takes ([\d.]+) s", prose)
    assert match, "README no longer says how long the demo's provisioning takes"
    for script in (ROOT / "devtools" / "cli_demo.py", ROOT / "devtools" / "demo.py"):
        assert float(match.group(1)) == _default_provision_seconds(script), script


def test_inference_base_url_table_is_what_the_provider_computes(reference: str) -> None:
    rows = next(t for t in _tables(_section(reference, "Outputs")) if t and "`inference_base_url`" in t[0])
    assert len(rows) >= 4
    for row in rows:
        setting = re.findall(r"`([^`]+)`", row["`tokenfactory:baseUrl`"])
        regions = [_code(row["`region`"])] if row["`region`"] != "any" else list(fields.REGIONS)
        for base_url in setting or [None]:
            for region in regions:
                assert models.inference_base_url(region, base_url) == _code(row["`inference_base_url`"]), row
    wrong = [name for name, text in _doc_texts().items() if re.search(r"still names? the public API", text)]
    assert not wrong, f"pages saying inference_base_url names the public API under the emulator: {wrong}"


def test_the_policy_packs_version_is_the_packages() -> None:
    manifest = (EXAMPLES / "policy-pack" / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pack = re.search(r"^version: (\S+)", manifest, re.M)
    package = re.search(r'^version = "([^"]+)"', pyproject, re.M)
    assert pack and package and pack.group(1) == package.group(1)
