"""The program surface, the models and the checks agree with the one field declaration.

`pulumi_tokenfactory/fields.py` declares every field once. The program surface (the constructor,
`DedicatedEndpointArgs`, the TypedDicts, the output getters) and the fields of the pydantic models
(api/_fields_generated.py, endpoint/_fields_generated.py, which api/models.py and endpoint/properties.py
inherit) are generated from it by `python -m devtools.generate_surface`; tests/unit/test_generated.py
fails while any of it is stale. These tests check what the generated code means, read back at
runtime: a field missing from the surface or a model, a wrong type, default, requiredness or limit,
a docstring that says "in place" for a field that replaces, or a model that restates a field by hand,
fails here and names the field.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from devtools import generate_surface
from devtools.generate_surface import ModelFields
from pulumi_tokenfactory import fields as generic_fields
from pulumi_tokenfactory.api import _fields_generated as api_generated
from pulumi_tokenfactory.api import models
from pulumi_tokenfactory.api.models import Endpoint, EndpointPatch, EndpointSpec
from pulumi_tokenfactory.endpoint import _fields_generated as host_generated
from pulumi_tokenfactory.endpoint import fields, properties
from pulumi_tokenfactory.endpoint import program as resources
from pulumi_tokenfactory.endpoint.fields import (
    API_FIELDS,
    FIELDS,
    INPUT_FIELDS,
    KIND_WORDS,
    OUTPUT_FIELDS,
    REQUIRED_INPUTS,
    SCALING_FIELDS,
    UPDATABLE_FIELDS,
)
from pulumi_tokenfactory.endpoint.program import (
    DedicatedEndpoint,
    DedicatedEndpointArgs,
    DedicatedEndpointArgsDict,
    ScalingArgs,
    ScalingArgsDict,
)
from pulumi_tokenfactory.endpoint.properties import EndpointInputs, EndpointState
from pulumi_tokenfactory.endpoint.validation import check_inputs
from pulumi_tokenfactory.fields import Field, Kind, flatten_errors
from pulumi_tokenfactory.wire import integral

INPUTS = [f for f in FIELDS if f.is_input]
RESOURCES_SOURCE = Path(resources.__file__).read_text(encoding="utf-8")
VALID: dict[str, Any] = {
    "name": "fields", "model_name": "openai/gpt-oss-120b", "flavor_name": "base", "gpu_type": "gpu-h100-sxm",
    "gpu_count": 1.0, "scaling": {"min_replicas": 1.0, "max_replicas": 2.0},
}


def _keyword_parameters(function: Any) -> dict[str, inspect.Parameter]:
    return {p.name: p for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY}


def _type_word(f: Field) -> str:
    return "ScalingArgs" if f.name == fields.SCALING_FIELD else f.type.__name__


def _kind_problems(f: Field, text: str | None, where: str) -> list[str]:
    """What is wrong with how `text` says what a change of `f` does (the declaration's kind words)."""
    if not text:
        return [f"{where}: no docstring for {f.name}"]
    found = []
    wanted = KIND_WORDS[f.kind]
    if wanted.lower() not in text.lower():
        found.append(f"{where}: {f.name} is {f.kind.value}, but its docstring lacks {wanted!r}: {text!r}")
    for kind, words in KIND_WORDS.items():
        if kind is not f.kind and kind is not Kind.PROVIDER_ONLY and words.lower() in text.lower():
            found.append(f"{where}: {f.name} is {f.kind.value}, but its docstring says {words!r}: {text!r}")
    return found


def _class_attribute_docs(class_name: str) -> dict[str, str]:
    """`name: T` followed by a string literal, in a class of resources.py: the attribute docstrings IDEs show."""
    tree = ast.parse(RESOURCES_SOURCE)
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == class_name)
    docs: dict[str, str] = {}
    for node, following in zip(cls.body, [*cls.body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            docs[node.target.id] = str(following.value.value)
    return docs


def _param_docs(function: Any) -> dict[str, str]:
    """`:param name: text` (continuation lines included) from a docstring."""
    doc = inspect.getdoc(function) or ""
    return {m.group(1): " ".join(m.group(2).split())
            for m in re.finditer(r":param (\w+):(.*?)(?=\n\s*:param |\Z)", doc, re.S)}


# -- the declaration itself ---------------------------------------------------------------------


def test_the_declaration_is_consistent() -> None:
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names)), "a field is declared twice"
    for f in FIELDS:
        assert f.doc, f"{f.name} has no doc"
        assert not (f.required and f.default is not None), f"{f.name} is required but has a default"
        if f.kind is Kind.COMPUTED:
            assert not f.required, f"output {f.name} cannot be required"
        if f.limits.choices:
            assert f.default is None or f.default in f.limits.choices, f"{f.name}: default not among its choices"
    assert fields.DEFAULT_REGION in fields.REGIONS
    assert fields.BY_NAME["region"].default == fields.DEFAULT_REGION
    assert set(UPDATABLE_FIELDS).isdisjoint(fields.REPLACE_FIELDS)
    assert set(INPUT_FIELDS) == {f.name for f in INPUTS}
    # Inputs and outputs overlap exactly in the inputs the API fills in when the program leaves them out.
    assert set(OUTPUT_FIELDS) & set(INPUT_FIELDS) == {f.name for f in FIELDS if f.computed}
    assert fields.field_named("scaling.min_replicas").name == "min_replicas"


def test_the_declarations_attributes_fit_their_kinds() -> None:
    """computed, on_create, redeploys and clear_with only where the API can honour them."""
    for f in FIELDS:
        if f.computed:
            assert f.to_api and not f.required and f.default is None, f"{f.name}: computed, so an optional API input"
            assert f.clear_with is None, f"{f.name}: computed keeps what the API has, so it is never cleared"
        if not f.on_create:
            assert f.kind is Kind.IN_PLACE, f"{f.name}: only the update request takes it, so it must change in place"
        if f.redeploys:
            assert f.kind is Kind.IN_PLACE, f"{f.name}: redeploys is about an update, so it must change in place"
        if f.clear_with is not None:
            assert f.kind is Kind.IN_PLACE and not f.required and f.default is None, \
                f"{f.name}: only an optional in-place input the program can leave out is cleared"
    assert tuple(n for n in API_FIELDS if fields.BY_NAME[n].on_create) == fields.CREATE_FIELDS
    assert "enabled" in API_FIELDS and "enabled" not in fields.CREATE_FIELDS
    assert set(fields.GPU_TYPES) == set(fields.BY_NAME["gpu_type"].limits.choices)
    assert set(fields.INFERENCE_BASE_URLS) == set(fields.REGIONS)


@pytest.mark.parametrize("module", [fields, generic_fields], ids=["endpoint/fields.py", "fields.py"])
def test_the_declaration_needs_no_heavy_imports(module: Any) -> None:
    """A program imports both on every run: the standard library's light modules, and the vocabulary."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {"." * n.level + (n.module or "").split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "collections", "dataclasses", "enum", "typing", "..fields"}, imported


# -- the program surface (generated; what it says, read back) -----------------------------------


def test_args_constructor_parameters_match_the_declaration() -> None:
    params = _keyword_parameters(DedicatedEndpointArgs.__init__)
    assert set(params) == set(INPUT_FIELDS), "DedicatedEndpointArgs.__init__ and the declared inputs differ"
    order = [fields.BY_NAME[name].required for name in params]
    assert order == sorted(order, reverse=True), "DedicatedEndpointArgs.__init__: required inputs come first"
    for f in INPUTS:
        param = params[f.name]
        assert (param.default is param.empty) == f.required, f"{f.name}: required={f.required}"
        if not f.required:
            assert param.default is None, f"{f.name}: an optional input defaults to None (the provider fills it)"
        assert re.search(rf"\b{_type_word(f)}\b", str(param.annotation)), f"{f.name}: {param.annotation}"


def test_the_keyword_overload_and_the_shown_signature_match_the_declaration() -> None:
    overloads = typing.get_overloads(DedicatedEndpoint.__init__)
    keyword_forms = [o for o in overloads if _keyword_parameters(o)]
    assert len(keyword_forms) == 1
    params = _keyword_parameters(keyword_forms[0])
    assert set(params) == set(INPUT_FIELDS)
    for f in INPUTS:
        assert (params[f.name].default is inspect.Parameter.empty) == f.required, f.name
        assert re.search(rf"\b{_type_word(f)}\b", str(params[f.name].annotation)), f.name
    shown = inspect.signature(DedicatedEndpoint.__init__).parameters
    assert list(shown)[4:] == list(_keyword_parameters(DedicatedEndpointArgs.__init__))
    docstring = inspect.getdoc(DedicatedEndpoint) or ""
    for f in INPUTS:
        assert re.search(rf"\b{f.name}\b", docstring), f"the class docstring does not list {f.name}"


def test_typed_dict_keys_and_requiredness_match_the_declaration() -> None:
    assert set(DedicatedEndpointArgsDict.__annotations__) == set(INPUT_FIELDS)
    assert set(DedicatedEndpointArgsDict.__required_keys__) == set(REQUIRED_INPUTS)
    assert set(ScalingArgsDict.__annotations__) == set(SCALING_FIELDS)
    assert set(ScalingArgsDict.__required_keys__) == {f.name for f in fields.SCALING_CHILDREN if f.required}
    assert list(_keyword_parameters(ScalingArgs.__init__)) == list(SCALING_FIELDS)


def test_every_input_docstring_says_what_a_change_does() -> None:
    problems: list[str] = []
    typed_dict_docs = {**_class_attribute_docs("_DedicatedEndpointRequiredArgsDict"),
                       **_class_attribute_docs("DedicatedEndpointArgsDict")}
    params = _param_docs(DedicatedEndpointArgs.__init__)
    for f in INPUTS:
        getter = getattr(DedicatedEndpointArgs, f.name)
        problems += _kind_problems(f, inspect.getdoc(getter), "DedicatedEndpointArgs property")
        problems += _kind_problems(f, typed_dict_docs.get(f.name), "DedicatedEndpointArgsDict key")
        problems += _kind_problems(f, params.get(f.name), "DedicatedEndpointArgs :param")
    scaling_docs = _class_attribute_docs("ScalingArgsDict")
    for child in fields.SCALING_CHILDREN:
        problems += _kind_problems(child, inspect.getdoc(getattr(ScalingArgs, child.name)), "ScalingArgs property")
        problems += _kind_problems(child, scaling_docs.get(child.name), "ScalingArgsDict key")
    assert not problems, "\n".join(problems)


def test_every_field_is_an_output_attribute() -> None:
    for f in FIELDS:
        attribute = vars(DedicatedEndpoint).get(f.name)
        assert isinstance(attribute, property), f"DedicatedEndpoint has no output property {f.name}"
        returns = str(inspect.get_annotations(attribute.fget).get("return"))  # type: ignore[arg-type]
        word = "ScalingOutput" if f.name == fields.SCALING_FIELD else f.type.__name__
        assert returns.startswith("pulumi.Output[") and re.search(rf"\b{word}\b", returns), f"{f.name}: {returns}"


# -- the provider host's models and checks ----------------------------------------------------------


def test_property_models_have_the_declared_fields_and_defaults() -> None:
    for model, declared in ((EndpointInputs, INPUTS), (EndpointState, FIELDS)):
        assert list(model.model_fields) == [f.name for f in declared]
        for f in declared:
            info = model.model_fields[f.name]
            assert info.is_required() == f.required, f"{model.__name__}.{f.name}"
            if not f.required:
                assert info.default == f.default, f"{model.__name__}.{f.name}: {info.default!r} != {f.default!r}"


#: Each model's declared fields, as the generator writes them: (the module of the model, its generated module, how).
MODEL_SPECS = [(models, api_generated, spec) for spec in generate_surface.api_models()] + \
              [(properties, host_generated, spec) for spec in generate_surface.host_models()]


def _limits_of(info: Any) -> dict[str, Any]:
    """The length and minimum constraints of a pydantic field, by `Field` keyword."""
    found = {}
    for item in info.metadata:
        for key in ("min_length", "max_length", "ge"):
            if hasattr(item, key):
                found[key] = getattr(item, key)
    return found


@pytest.mark.parametrize(("module", "generated", "spec"), MODEL_SPECS, ids=[s.model for _, _, s in MODEL_SPECS])
def test_each_model_takes_its_declared_fields_from_its_generated_base(module: Any, generated: Any,
                                                                      spec: ModelFields) -> None:
    """Each model inherits its generated base, and its fields mean what the declaration says, checked here at
    runtime and independently of how the generator writes them: the type (a nested field's model), `| None`,
    requiredness, the default and the API's limits (lengths and minimums, not the provider's own typo guards).
    What mypy sees is the same class, so the typed view cannot drift from the runtime model any more."""
    model = getattr(module, spec.model)
    assert issubclass(model, getattr(generated, spec.base)), f"{spec.model} does not inherit {spec.base}"
    declared = spec.fields
    assert declared, spec.model
    assert [name for name in model.model_fields if name in {f.name for f in declared}] == [f.name for f in declared]
    for f in declared:
        where = f"{spec.model}.{f.name}"
        info = model.model_fields[f.name]
        kind: Any = getattr(models, "".join(p.capitalize() for p in f.name.split("_")) + spec.nested_suffix) \
            if f.children else f.type
        if f.children:
            assert list(kind.model_fields) == [child.name for child in f.children], where
        default = None if spec.optional or (spec.empty_text_is_none and f.default == "") else f.default
        optional = spec.optional or (not f.required and default is None)
        assert info.annotation == (kind | None if optional else kind), f"{where}: {info.annotation}"
        assert info.is_required() == (f.required and not spec.optional), where
        if not info.is_required():
            assert info.default == default and type(info.default) is type(default), f"{where}: {info.default!r}"
        limits = f.limits
        wanted = {"min_length": limits.min_length, "ge": limits.minimum,
                  "max_length": None if limits.provider_max else limits.max_length} if spec.constrained else {}
        assert _limits_of(info) == {k: v for k, v in wanted.items() if v is not None}, where


@pytest.mark.parametrize("module", [models, properties], ids=lambda m: m.__name__)
def test_no_model_restates_a_declared_field(module: Any) -> None:
    """A declared field is written once, in its generated base: the hand-written models restate none (no annotation,
    no `if TYPE_CHECKING:` copy for mypy), and nothing builds fields at runtime any more (`declare_into`)."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    inheriting = 0
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        runtime = getattr(module, cls.name)
        generated = {name for base in runtime.__mro__ if base.__module__.endswith("._fields_generated")
                     for name in vars(base).get("__annotations__", {})}
        inheriting += bool(generated)
        for node in cls.body:
            assert not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)), \
                f"{cls.name}: a typed copy of fields; they come from the generated base"
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                assert node.target.id not in generated, f"{cls.name}.{node.target.id} restates a generated field"
    assert inheriting >= {models: 5, properties: 2}[module]
    assert not hasattr(module, "declare_into")


def test_api_models_carry_the_declared_api_fields() -> None:
    assert set(EndpointSpec.model_fields) == set(fields.CREATE_FIELDS)
    assert set(EndpointPatch.model_fields) == set(UPDATABLE_FIELDS)
    assert set(API_FIELDS) <= set(Endpoint.model_fields)
    # An answer dumps as it always did: `id` first, then the declared API fields, then the API's own keys.
    assert list(Endpoint.model_fields)[:1 + len(API_FIELDS)] == ["id", *API_FIELDS]
    for name in fields.CREATE_FIELDS:
        limits = fields.BY_NAME[name].limits
        metadata = {type(m).__name__: m for m in EndpointSpec.model_fields[name].metadata}
        if limits.max_length is not None and not limits.provider_max:
            assert getattr(metadata.get("MaxLen"), "max_length", None) == limits.max_length, name


def test_create_body_and_patch_are_built_from_the_declaration() -> None:
    inputs = EndpointInputs.from_props(check_inputs(dict(VALID)).inputs)
    # Every create field with a value; an empty or absent optional one (description "") is left out, and so is
    # one only the update request takes (`enabled`).
    valued = {name for name in fields.CREATE_FIELDS
              if fields.BY_NAME[name].required or fields.BY_NAME[name].default not in (None, "")}
    assert set(inputs.spec().payload()) == valued
    # One change of each kind: the in-place ones are PATCHed, a replacing one never is.
    update = {"name": "other", "gpu_type": "gpu-h200-sxm", "gpu_count": 2, "enabled": False,
              "routing_key": "dedicated/chosen-by-the-program", "model_name": "openai/gpt-oss-20b"}
    assert {fields.BY_NAME[n].kind for n in update} == {Kind.IN_PLACE, Kind.REPLACE}
    changed = inputs.model_copy(update=update)
    assert set(changed.patch_from(inputs).payload()) == {n for n in update if n in UPDATABLE_FIELDS}


def test_a_left_out_input_is_cleared_as_declared_or_kept_when_the_api_fills_it() -> None:
    optional = [f for f in INPUTS if f.kind is Kind.IN_PLACE and not f.required and f.default is None]
    assert all(f.example is not None for f in optional), "declare an example= on each optional in-place input"
    declared = EndpointInputs.from_props(check_inputs({**VALID, **{f.name: f.example for f in optional}}).inputs)
    left_out = EndpointInputs.from_props(check_inputs(dict(VALID)).inputs)
    patch = left_out.patch_from(declared).payload()
    for f in optional:
        if f.computed or f.clear_with is None:
            assert f.name not in patch, f"{f.name} left out keeps what the endpoint has: {patch}"
        else:
            assert patch.get(f.name) == f.clear_with, f"{f.name} left out is cleared with {f.clear_with!r}"
    assert set(patch) == {f.name for f in optional if f.clear_with is not None and not f.computed}
    # The API's own word for "no custom weights" (its update request's documented value).
    assert patch["custom_weights_id"] == fields.UNSET
    # Nothing to clear: a field that was never set sends nothing.
    assert left_out.patch_from(left_out).payload() == {}


@pytest.mark.parametrize(("key", "allowed"), [
    ("dedicated/x", True), ("dedicated/" + "x" * 118, True), ("dedicated/openai/gpt-oss-120b-tSPQ1iBvCKj3", True),
    ("dedicated/", False), ("dedicated/" + "x" * 119, False), ("shared/openai-gpt", False),
    ("dedicated/two words", False), ("dedicated/caf\u00e9", False),
])
def test_routing_keys_follow_the_declared_pattern(key: str, allowed: bool) -> None:
    failures = dict(check_inputs({**VALID, "routing_key": key}).failures)
    assert ("routing_key" not in failures) == allowed, failures
    if not allowed:
        assert fields.ROUTING_KEY_PREFIX in failures["routing_key"] and "128" in failures["routing_key"], failures


@pytest.mark.parametrize("f", [f for f in INPUTS if f.type in (int, float) and f.limits.maximum is not None],
                         ids=lambda f: f.name)
def test_numbers_beyond_the_declared_range_are_refused_naming_the_range(f: Field) -> None:
    too_big = float(f.limits.maximum or 0) + 1
    failures = dict(check_inputs({**VALID, f.name: too_big}).failures)
    assert f.name in failures and f"{integral(f.limits.maximum)}" in failures[f.name], failures


@pytest.mark.parametrize("f", [f for f in INPUTS if f.type is str and f.limits.max_length], ids=lambda f: f.name)
def test_texts_beyond_the_declared_length_are_refused_naming_the_limit(f: Field) -> None:
    failures = dict(check_inputs({**VALID, f.name: "x" * ((f.limits.max_length or 0) + 1)}).failures)
    assert f.name in failures and str(f.limits.max_length) in failures[f.name], failures


@pytest.mark.parametrize("f", [f for f in INPUTS if f.limits.choices], ids=lambda f: f.name)
def test_a_value_outside_the_declared_choices_is_refused_listing_them(f: Field) -> None:
    failures = dict(check_inputs({**VALID, f.name: "nowhere"}).failures)
    assert all(choice in failures[f.name] for choice in f.limits.choices), failures


def test_left_out_inputs_take_the_declared_defaults() -> None:
    outcome = check_inputs({**VALID, **dict.fromkeys(f.name for f in INPUTS if not f.required)})
    assert outcome.failures == []
    for f in INPUTS:
        if not f.required:
            filled = f.default is not None and f.added is None
            assert (f.name in outcome.inputs) == filled, f"{f.name}: filled in is {filled}"
            if filled:
                assert outcome.inputs[f.name] == f.default, f.name
    model = EndpointInputs.from_props(outcome.inputs)
    for f in INPUTS:
        if not f.required:
            assert getattr(model, f.name) == f.default, f"{f.name}: the model applies the default where it is read"
            assert (f.name in model.input_props()) == (f.name in outcome.inputs), f"{f.name}: state differs"


def test_an_input_added_later_is_kept_when_given() -> None:
    later = [f for f in INPUTS if f.added is not None and f.type is bool]
    for f in later:
        outcome = check_inputs({**VALID, f.name: not f.default})
        assert outcome.failures == [] and outcome.inputs[f.name] is (not f.default)
        assert EndpointInputs.from_props(outcome.inputs).input_props()[f.name] is (not f.default)
    texts = {f.name: f.example for f in INPUTS if f.added is not None and f.type is str}
    assert None not in texts.values(), f"declare an example= on each of these fields: {texts}"
    assert texts, "no optional text input added later: this test would check nothing"
    for name, value in texts.items():
        outcome = check_inputs({**VALID, name: value})
        assert outcome.failures == [] and outcome.inputs[name] == value
        assert EndpointInputs.from_props(outcome.inputs).input_props()[name] == value


# -- one number normalisation, one error flattening --------------------------------------------------


def test_integral_turns_whole_floats_into_ints_everywhere_and_nothing_else() -> None:
    assert integral({"a": 2.0, "b": [1.0, 1.5], "c": True, "d": "2.0"}) == {"a": 2, "b": [1, 1.5], "c": True,
                                                                            "d": "2.0"}
    assert type(integral(2.0)) is int and integral(True) is True
    assert math.isnan(integral(math.nan)) and integral(math.inf) == math.inf


def test_flatten_errors_names_the_property() -> None:
    errors = [{"loc": ("body", "scaling", "min_replicas"), "msg": "Value error, must be >= 1"},
              {"loc": (), "msg": "bad body"}]
    problems = flatten_errors(errors, skip=1)
    assert [(p.property, p.message) for p in problems] == [
        ("scaling.min_replicas", "scaling.min_replicas: must be >= 1"), (None, "bad body")]
