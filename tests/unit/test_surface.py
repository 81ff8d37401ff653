"""The Pulumi-native surface: argument types like a generated SDK's, typed outputs, help(), dir(), mypy.

Issue 13, items 1 and 2. Every documented shape of `scaling` (a `ScalingArgs`, a dict, an
`Output` of either, a `ScalingArgs` holding `Output`s) registers the same inputs under Pulumi's
mocks; the real CLI runs them in tests/cli/test_cli_args.py. `help()` and `dir()` show this package's
names, not the dynamic resource's internals, and importing it still loads neither httpx nor
pydantic. Type checkers resolve the installed package: mypy runs on an example program from
outside the repository, and must also reject a wrong one.
"""

from __future__ import annotations

import functools
import inspect
import os
import pydoc
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_origin, get_type_hints

import pulumi
import pytest

import pulumi_tokenfactory as tokenfactory
from pulumi_tokenfactory.endpoint import program as resources
from pulumi_tokenfactory.endpoint.fields import INPUT_FIELDS, OUTPUT_FIELDS, REQUIRED_INPUTS
from pulumi_tokenfactory.schema import RESOURCE_TYPE
from tests.harness.mocks import RecordedResource, run_program

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "examples" / "basic" / "__main__.py"
HARDWARE: dict[str, Any] = {"model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
                            "gpu_count": 1}


def _pyproject_version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert match
    return match.group(1)


# -- every shape of scaling serializes, under mocks --------------------------------------------------


def _scaling_shapes() -> dict[str, Callable[[], Any]]:
    """Each documented way to give `scaling` 1..3, built inside the program (Outputs need its event loop)."""
    def size() -> pulumi.Output[int]:
        return pulumi.Output.from_input(3)

    return {
        "args-object": lambda: tokenfactory.ScalingArgs(min_replicas=1, max_replicas=3),
        "dict": lambda: {"min_replicas": 1, "max_replicas": 3},
        "typed-dict": lambda: tokenfactory.ScalingArgsDict(min_replicas=1, max_replicas=3),
        "output-of-args-object": lambda: size().apply(
            lambda n: tokenfactory.ScalingArgs(min_replicas=1, max_replicas=n)),
        "output-of-dict": lambda: size().apply(lambda n: {"min_replicas": 1, "max_replicas": n}),
        "args-object-of-outputs": lambda: tokenfactory.ScalingArgs(min_replicas=pulumi.Output.from_input(1),
                                                                   max_replicas=size()),
        "secret-output-of-args-object": lambda: pulumi.Output.secret(
            tokenfactory.ScalingArgs(min_replicas=1, max_replicas=3)),
    }


SHAPES = sorted(_scaling_shapes())


@pytest.mark.parametrize("shape", SHAPES)
def test_every_scaling_shape_registers_the_same_inputs_and_resolves_a_typed_output(shape: str) -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        endpoint = tokenfactory.DedicatedEndpoint("sized", name="sized", scaling=_scaling_shapes()[shape](),
                                                  **HARDWARE)
        endpoint.scaling.apply(lambda value: seen.update(scaling=value))

    [endpoint] = run_program(program).of_type(RESOURCE_TYPE)
    assert endpoint.plain_inputs["scaling"] == {"min_replicas": 1, "max_replicas": 3}
    # The output resolves to the typed object, with int fields, equal to the plain dict as before.
    scaling = seen["scaling"]
    assert isinstance(scaling, tokenfactory.ScalingOutput)
    assert (scaling.min_replicas, scaling.max_replicas) == (1, 3)
    assert type(scaling.max_replicas) is int
    assert scaling["max_replicas"] == 3
    assert scaling == {"min_replicas": 1, "max_replicas": 3}


def _only_endpoint(program: Callable[[], None]) -> RecordedResource:
    [endpoint] = run_program(program).of_type(RESOURCE_TYPE)
    return endpoint


def test_the_args_object_holds_outputs_and_takes_opts_second() -> None:
    def program() -> None:
        scaling = pulumi.Output.from_input(4).apply(lambda n: tokenfactory.ScalingArgs(min_replicas=2, max_replicas=n))
        args = tokenfactory.DedicatedEndpointArgs(name=pulumi.Output.from_input("from args"), scaling=scaling,
                                                  region="eu-west1", **HARDWARE)
        tokenfactory.DedicatedEndpoint("via-args", args, pulumi.ResourceOptions(protect=True))

    endpoint = _only_endpoint(program)
    inputs = endpoint.plain_inputs
    assert (inputs["name"], inputs["region"], inputs["scaling"]) == (
        "from args", "eu-west1", {"min_replicas": 2, "max_replicas": 4})
    assert endpoint.request is not None and endpoint.request.protect


@pytest.mark.parametrize("form", ["unpacked", "as-args", "keyword-args"])
def test_the_typed_dict_twin_works_unpacked_and_as_args(form: str) -> None:
    def program() -> None:
        spec: tokenfactory.DedicatedEndpointArgsDict = {
            "name": "from a dict", "model_name": "openai/gpt-oss-120b", "flavor_name": "base",
            "gpu_type": "gpu-h100-sxm", "gpu_count": 1, "scaling": {"min_replicas": 1, "max_replicas": 2},
            "enabled": False}
        if form == "unpacked":
            tokenfactory.DedicatedEndpoint("d", pulumi.ResourceOptions(protect=True), **spec)
        elif form == "as-args":
            tokenfactory.DedicatedEndpoint("d", spec, opts=pulumi.ResourceOptions(protect=True))
        else:
            tokenfactory.DedicatedEndpoint("d", args=spec, opts=pulumi.ResourceOptions(protect=True))

    endpoint = _only_endpoint(program)
    assert endpoint.plain_inputs["name"] == "from a dict"
    assert endpoint.plain_inputs["enabled"] is False
    assert endpoint.request is not None and endpoint.request.protect


def test_an_args_object_and_keyword_arguments_register_the_same_inputs() -> None:
    def by_keywords() -> None:
        tokenfactory.DedicatedEndpoint("same", name="n", scaling={"min_replicas": 1, "max_replicas": 2}, **HARDWARE)

    def by_args() -> None:
        tokenfactory.DedicatedEndpoint("same", tokenfactory.DedicatedEndpointArgs(
            name="n", scaling=tokenfactory.ScalingArgs(min_replicas=1, max_replicas=2), **HARDWARE))

    assert _only_endpoint(by_keywords).plain_inputs == _only_endpoint(by_args).plain_inputs


@pytest.mark.parametrize("form", ["keywords", "args-object", "typed-dict"])
def test_an_input_that_is_also_an_output_keeps_the_programs_value(form: str) -> None:
    """`routing_key` is an input and an output: the program's value is sent, and left out it is left to the provider."""
    both = sorted(set(INPUT_FIELDS) & set(OUTPUT_FIELDS))
    assert both == ["routing_key"]
    given = {"routing_key": "dedicated/chosen-by-the-program", "custom_weights_id": "model-artifact_abc"}

    def program(**extra: Any) -> None:
        spec: dict[str, Any] = {"name": "keyed", "scaling": {"min_replicas": 1, "max_replicas": 2}, **HARDWARE,
                                **extra}
        if form == "keywords":
            tokenfactory.DedicatedEndpoint("keyed", **spec)
        elif form == "args-object":
            tokenfactory.DedicatedEndpoint("keyed", tokenfactory.DedicatedEndpointArgs(**spec))
        else:
            tokenfactory.DedicatedEndpoint("keyed", tokenfactory.DedicatedEndpointArgsDict(**spec))  # type: ignore[typeddict-item]

    inputs = _only_endpoint(functools.partial(program, **given)).plain_inputs
    assert {name: inputs.get(name) for name in given} == given
    left_out = _only_endpoint(program).plain_inputs
    assert not {name for name in given if left_out.get(name) is not None}, left_out


#: The constructor without its static types: these calls are wrong on purpose (mypy rejects each one too).
UNTYPED: Any = tokenfactory.DedicatedEndpoint
SCALING: tokenfactory.ScalingArgsDict = {"min_replicas": 1, "max_replicas": 2}


@pytest.mark.parametrize(("call", "message"), [
    (lambda: UNTYPED("x", name="n", scaling=SCALING, size=3, **HARDWARE),
     r"unknown argument\(s\) size; allowed: name, model_name"),
    (lambda: UNTYPED("x", name="n", **HARDWARE),
     r"'x' is missing required argument\(s\) scaling"),
    (lambda: UNTYPED("x", {"name": "n", **HARDWARE}),
     r"missing required key\(s\) in args scaling"),
    (lambda: UNTYPED("x", tokenfactory.DedicatedEndpointArgs(name="n", scaling=SCALING, **HARDWARE), name="n"),
     "either a DedicatedEndpointArgs or keyword arguments, not both"),
    (lambda: UNTYPED("x", 3),
     "takes a DedicatedEndpointArgs and a pulumi.ResourceOptions by position, got int"),
    (lambda: UNTYPED("x", opts={"protect": True}, name="n", scaling=SCALING, **HARDWARE),
     "opts must be a pulumi.ResourceOptions, got dict"),
])
def test_wrong_arguments_fail_in_the_program_naming_the_problem(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        run_program(call)


def test_argument_types_are_pulumi_input_types_with_typed_dict_twins() -> None:
    from pulumi import _types

    assert _types.is_input_type(tokenfactory.ScalingArgs)
    assert _types.is_input_type(tokenfactory.DedicatedEndpointArgs)
    assert _types.is_output_type(tokenfactory.ScalingOutput)
    assert set(_types.input_type_py_to_pulumi_names(tokenfactory.DedicatedEndpointArgs)) == set(INPUT_FIELDS)
    assert set(tokenfactory.DedicatedEndpointArgsDict.__annotations__) == set(INPUT_FIELDS)
    assert tokenfactory.DedicatedEndpointArgsDict.__required_keys__ == frozenset(REQUIRED_INPUTS)
    assert tokenfactory.ScalingArgsDict.__required_keys__ == frozenset({"min_replicas", "max_replicas"})
    # Keyword-only, like generated SDKs; a setter changes what will be sent.
    with pytest.raises(TypeError):
        tokenfactory.ScalingArgs(1, 2)  # type: ignore[misc]
    scaling = tokenfactory.ScalingArgs(min_replicas=1, max_replicas=2)
    scaling.max_replicas = 5
    assert _types.input_type_to_dict(scaling) == {"min_replicas": 1, "max_replicas": 5}
    assert repr(scaling) == "ScalingArgs(min_replicas=1, max_replicas=5)"


def test_every_output_is_a_typed_property() -> None:
    outputs = {name: value for name, value in vars(resources.DedicatedEndpoint).items() if isinstance(value, property)}
    assert set(outputs) == set(INPUT_FIELDS) | set(OUTPUT_FIELDS)
    for name, prop in outputs.items():
        assert prop.fget is not None and prop.fget.__doc__, f"output {name} has no docstring"
        hint = get_type_hints(prop.fget, vars(resources))["return"]
        assert get_origin(hint) is pulumi.Output, f"output {name} is typed {hint}, not pulumi.Output[...]"
    scaling = get_type_hints(outputs["scaling"].fget, vars(resources))["return"]
    assert scaling == pulumi.Output[tokenfactory.ScalingOutput]


# -- help() and dir() ------------------------------------------------------------------------------


def test_help_shows_our_inputs_and_outputs_not_the_dynamic_resources() -> None:
    text = pydoc.plain(pydoc.render_doc(tokenfactory.DedicatedEndpoint))
    head = text.split("Method resolution order", 1)[0]
    for name in INPUT_FIELDS + OUTPUT_FIELDS:
        assert re.search(rf"\b{name}\b", head), f"{name} is not in help(DedicatedEndpoint)'s description"
    assert "__provider" not in text and ":param Optional[dict] props" not in text
    signature = inspect.signature(tokenfactory.DedicatedEndpoint)
    assert list(signature.parameters)[:3] == ["resource_name", "args", "opts"]
    assert set(list(signature.parameters)[3:]) == set(INPUT_FIELDS)
    required = [n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty]
    assert required == ["resource_name", *REQUIRED_INPUTS]
    assert "name: pulumi.Input[str]," in str(signature)  # annotations as written, not quoted strings
    assert "scaling: pulumi.Input[ScalingArgs | ScalingArgsDict]" in str(signature)
    init_doc = inspect.getdoc(tokenfactory.DedicatedEndpoint.__init__) or ""
    assert init_doc.startswith("Declare one dedicated endpoint")


def test_dir_lists_the_public_names() -> None:
    names = dir(tokenfactory)
    assert set(tokenfactory.__all__) <= set(names)
    assert "__version__" in names
    assert not {"TYPE_CHECKING", "annotations", "lazy_exports", "lazy_dir"} & set(names)
    for name in tokenfactory.__all__:
        assert getattr(tokenfactory, name) is not None


def test_import_stays_light_and_the_version_comes_from_the_metadata() -> None:
    code = textwrap.dedent("""
        import sys
        import pulumi_tokenfactory as t
        t.DedicatedEndpoint, t.ScalingArgs, t.DedicatedEndpointArgs, t.export_spend, dir(t)
        # Every module of the program side, and what it pickles (the provider), loads light too.
        import pulumi_tokenfactory.endpoint.program, pulumi_tokenfactory.program.spending
        import pulumi_tokenfactory.provider, pulumi_tokenfactory.fields, pulumi_tokenfactory.settings
        import pulumi_tokenfactory.spend, pulumi_tokenfactory.wire
        heavy = sorted({m.split(".")[0] for m in sys.modules} & {"httpx", "pydantic", "fastapi", "uvicorn",
                                                                   "pulumi_policy"})
        print(heavy, t.__version__)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                          cwd=ROOT)
    assert done.stdout.split() == ["[]", _pyproject_version()]


# -- static type checkers resolve the installed package -------------------------------------------------

WRONG_PROGRAM = '''
import pulumi_tokenfactory as tokenfactory

tokenfactory.DedicatedEndpoint(
    "gpt", name="GPT", model_name="openai/gpt-oss-120b", flavor_name="base", gpu_type="gpu-h100-sxm",
    gpu_count="one", scaling={"min_replicas": 1, "max_replicas": 2},
)
tokenfactory.ScalingArgs(min_replicas=1)
bounds: tokenfactory.ScalingArgsDict = {"min_replicas": 1, "max_replica": 2}
'''

TYPED_SHAPES_PROGRAM = '''
import pulumi
import pulumi_tokenfactory as tokenfactory

size = pulumi.Output.from_input(3)
spec: tokenfactory.DedicatedEndpointArgsDict = {
    "name": "GPT", "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1, "scaling": size.apply(lambda n: tokenfactory.ScalingArgs(min_replicas=1, max_replicas=n)),
}
first = tokenfactory.DedicatedEndpoint("first", **spec)
second = tokenfactory.DedicatedEndpoint("second", tokenfactory.DedicatedEndpointArgs(**spec),
                                        pulumi.ResourceOptions(depends_on=[first]))
most: pulumi.Output[int] = first.scaling.apply(lambda scaling: scaling.max_replicas)
key: pulumi.Output[str] = second.routing_key
'''


def _mypy(tmp_path: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    """mypy on one program from outside the repository, so `pulumi_tokenfactory` resolves through the install."""
    program = tmp_path / name
    program.write_text(source, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MYPYPATH")}
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--no-error-summary",
                           "--python-executable", sys.executable, name],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_mypy_checks_an_example_program_against_the_installed_package(tmp_path: Path) -> None:
    assert not (tmp_path / "pulumi_tokenfactory").exists() and ROOT not in tmp_path.parents
    done = _mypy(tmp_path, "program.py", BASIC.read_text(encoding="utf-8"))
    assert done.returncode == 0, done.stdout + done.stderr
    done = _mypy(tmp_path, "shapes.py", TYPED_SHAPES_PROGRAM)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_rejects_a_wrong_program(tmp_path: Path) -> None:
    done = _mypy(tmp_path, "wrong.py", WRONG_PROGRAM)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Cannot find implementation or library stub" not in out, "mypy did not resolve the installed package"
    assert 'No overload variant of "DedicatedEndpoint" matches' in out  # gpu_count="one"
    assert 'Missing named argument "max_replicas" for "ScalingArgs"' in out
    assert '"max_replica"' in out  # the typo'd key of the TypedDict
