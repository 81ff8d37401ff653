"""Keep the reference docs in sync with the code they describe.

Every claim a reader acts on (which inputs exist, which replace the endpoint,
which outputs and types there are, which settings and environment variables
are read, where a link goes) is checked here against the package itself, so
a change to the code that the docs do not follow fails the suite.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_tokenfactory import models, resources, schema
from pulumi_tokenfactory.properties import EndpointInputs
from pulumi_tokenfactory.resources import DedicatedEndpoint, DedicatedEndpointArgs, ScalingArgsDict
from pulumi_tokenfactory.schema import (
    INPUT_FIELDS,
    OUTPUT_FIELDS,
    PROVIDER_OPTION_FIELDS,
    REPLACE_FIELDS,
    UPDATABLE_FIELDS,
)
from pulumi_tokenfactory.waiting import PollSchedule
from tests.harness.mocks import run_program

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "sdk-docs"
EXAMPLES = ROOT / "examples"
PACKAGE = ROOT / "pulumi_tokenfactory"
REFERENCE = DOCS / "dedicated-endpoint.md"
INSTALL = DOCS / "installation-configuration.md"
TYPE_TOKEN = "pulumi-python:dynamic/tokenfactory:DedicatedEndpoint"
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
    assert set(INPUT_FIELDS) <= set(input_rows), f"undocumented inputs: {set(INPUT_FIELDS) - set(input_rows)}"
    for field in UPDATABLE_FIELDS + PROVIDER_OPTION_FIELDS:
        cell = input_rows[field]["On change"]
        assert cell.startswith("in place") and "replace" not in cell, f"{field}: {cell!r} should be in place"
    for field in REPLACE_FIELDS:
        assert input_rows[field]["On change"] == "replace", f"{field} replaces the endpoint"
    for field in PROVIDER_OPTION_FIELDS:
        assert "provider option" in input_rows[field]["On change"]


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
    assert set(INPUT_FIELDS) == args_fields, "DedicatedEndpointArgs and schema.INPUT_FIELDS disagree"


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return '""'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_input_types_requiredness_and_defaults_match_the_code(input_rows: dict[str, dict[str, str]]) -> None:
    defaults = EndpointInputs.model_fields
    for field in _arg_parameters():
        row = input_rows[field.name]
        annotation = str(field.annotation)
        for part in _code(row["Type"]).split(" | "):
            assert re.search(rf"\b{re.escape(part)}\b", annotation), \
                f"{field.name}: documented type {part!r} is not in the annotation {annotation!r}"
        required = field.default is inspect.Parameter.empty
        cell = row["Required / default"]
        assert cell.startswith("required") == required, f"{field.name}: {cell!r}"
        if not required:
            literal = _literal(defaults[field.name].default)
            assert f"`{literal}`" in cell, f"{field.name}: default {literal} not in {cell!r}"
    assert resources.REGION_CONFIG in input_rows["region"]["Required / default"]
    assert EndpointInputs.model_fields["region"].default == models.DEFAULT_REGION


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
    assert set(OUTPUT_FIELDS) <= set(annotations), "schema.OUTPUT_FIELDS lacks annotations in resources.py"
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
    assert f"`{schema.DEFAULT_READY_TIMEOUT_SECONDS}`" in text


def test_import_type_token_is_the_registered_one(reference: str) -> None:
    assert f"pulumi import {TYPE_TOKEN} " in reference
    assert "import_=" in reference


def _python_blocks(path: Path) -> Iterator[str]:
    yield from re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)


@pytest.mark.parametrize("doc", sorted(p.name for p in DOCS.glob("*.md")))
def test_python_snippets_parse(doc: str) -> None:
    for block in _python_blocks(DOCS / doc):
        ast.parse(block)


def test_reference_examples_run_under_mocks() -> None:
    """The usage and import snippets register exactly what they promise."""
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
            assert inputs["region"] in models.REGIONS
        if "import_=" in block:
            assert endpoints[0].import_id == "<endpoint id>"


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
    # A program installs what it imports: this package from the clone (tests/test_install.py installs each).
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
