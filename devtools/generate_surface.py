"""Write the program surface from the field model, as Pulumi generates its SDKs from a schema.

    python -m devtools.generate_surface           # rewrite what is stale
    python -m devtools.generate_surface --check   # exit 1, naming each stale file; write nothing

From `pulumi_tokenfactory/endpoint/fields.py` (the only hand-written list of the resource's fields) it writes:

* `pulumi_tokenfactory/endpoint/program.py`, whole: the typed constructor (both overloads), the class
  docstring `help()` shows, `DedicatedEndpointArgs`, the `TypedDict`s, the nested argument and output
  types (`ScalingArgs`, `ScalingArgsDict`, `ScalingOutput`) and every `pulumi.Output[...]` getter. What
  the constructor does (the checks, the refusals, the registration) is hand-written in
  `endpoint/_program.py`, which the generated code calls.
* the reference tables of `sdk-docs/dedicated-endpoint.md` between `<!-- generated: KEY ... -->` and
  `<!-- end generated: KEY -->`: `inputs`, `outputs`, and for each nested field (`scaling`)
  `scaling-args` and `scaling-output`. The prose around them stays hand-written.
* `pulumi_tokenfactory/api/_fields_generated.py` and `pulumi_tokenfactory/endpoint/_fields_generated.py`,
  whole: the declared fields of the pydantic models, one base class per model (`EndpointSpecFields`
  for `EndpointSpec`, ...; which fields, and how, is `api_models()` and `host_models()` below): types,
  `| None`, defaults, and the API's limits as `Field(...)` constraints. The models (api/models.py,
  endpoint/properties.py) inherit them and add only what is not a declared field: configuration,
  validators, methods, and the API's own keys (`id`, the deployment's status and readiness).

tests/unit/test_generated.py fails while any of it is stale. Wording comes from each field's `doc`
(docstrings), `reference` (the reference page), `output_doc`, `change_note` and `default_doc`; the
rest (types, requiredness, defaults, limits, choices, what a change does) from its other attributes.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_tokenfactory.endpoint.fields import FIELDS, KIND_WORDS
from pulumi_tokenfactory.fields import Field, Kind

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "pulumi_tokenfactory" / "endpoint" / "program.py"
REFERENCE = ROOT / "sdk-docs" / "dedicated-endpoint.md"
API_FIELDS_MODULE = ROOT / "pulumi_tokenfactory" / "api" / "_fields_generated.py"
HOST_FIELDS_MODULE = ROOT / "pulumi_tokenfactory" / "endpoint" / "_fields_generated.py"
COMMAND = "python -m devtools.generate_surface"
WIDTH = 116  # under ruff's 120, with room for the closing quotes

RESOURCE = "DedicatedEndpoint"
ARGS = f"{RESOURCE}Args"
ARGS_DICT = f"{RESOURCE}ArgsDict"
REQUIRED_ARGS_DICT = f"_{RESOURCE}RequiredArgsDict"


# -- what each field is called and typed ----------------------------------------------------------------


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _inputs() -> list[Field]:
    """The inputs in constructor order: the required ones first, each group in declaration order."""
    inputs = [f for f in FIELDS if f.is_input]
    return [f for f in inputs if f.required] + [f for f in inputs if not f.required]


def _nested() -> list[Field]:
    return [f for f in FIELDS if f.children]


def _plain_type(f: Field) -> str:
    return f.type.__name__


def _input_type(f: Field) -> str:
    """The value type an input takes: `str`, or a nested field's argument class or its dict twin."""
    return f"{_camel(f.name)}Args | {_camel(f.name)}ArgsDict" if f.children else _plain_type(f)


def _input_annotation(f: Field) -> str:
    annotation = f"pulumi.Input[{_input_type(f)}]"
    return annotation if f.required else f"{annotation} | None"


def _parameter(f: Field) -> str:
    return f"{f.name}: {_input_annotation(f)}" + ("" if f.required else " = None")


def _output_type(f: Field) -> str:
    """The type an output resolves to: None only where nothing fills it in (no default, not computed)."""
    if f.children:
        return f"{_camel(f.name)}Output"
    optional = not f.required and f.default is None and not f.computed
    return f"{_plain_type(f)} | None" if optional else _plain_type(f)


# -- how each field is described ------------------------------------------------------------------------


def doc_literal(value: object) -> str:
    """A default as the docs write it: true, "", 1800."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return '""'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lower_first(text: str) -> str:
    """"Wait until ..." -> "wait until ..." for a text that follows a colon; "GPUs per ..." stays."""
    word = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if word and (len(word) == 1 or word[1:].islower()) else text


def _upper_first(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def _without_links(markdown: str) -> str:
    """`[Routing key](#routing-key)` -> `Routing key`, for docstrings."""
    return re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)


def _first_clause(text: str) -> str:
    """"Display name, 1 to 100 characters ..." -> "Display name": what an input is, said of its output."""
    return re.split(r"[,;:(]|\. ", text.rstrip("."), maxsplit=1)[0].strip()


def _spelled(items: Sequence[str]) -> str:
    quoted = [f"`{item}`" for item in items]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _default_words(f: Field) -> str:
    return f.default_doc or f"`{doc_literal(f.default)}`"


def _limit_words(f: Field) -> str:
    """The declared range or length in words ("1 to 64", "at most 500 characters"); "" when none is told."""
    limits = f.limits
    if f.type in (int, float):
        unit = f" {limits.unit}" if limits.unit else ""
        if limits.minimum is not None and limits.maximum is not None:
            return f"{doc_literal(limits.minimum)} to {doc_literal(limits.maximum)}{unit}"
        if limits.minimum is not None:
            return f"at least {doc_literal(limits.minimum)}{unit}"
        if limits.maximum is not None:
            return f"at most {doc_literal(limits.maximum)}{unit}"
        return ""
    maximum = None if limits.provider_max else limits.max_length
    if maximum is None:
        return ""
    if limits.min_length:
        return f"{limits.min_length} to {maximum} characters"
    return f"at most {maximum} characters"


def _choice_words(f: Field) -> str:
    if not f.limits.choices:
        return ""
    return f"{_upper_first(f.limits.format) or 'One of'}: {_spelled(f.limits.choices)}."


def _kind_sentence(f: Field) -> str:
    """What a change does, in the words the program-surface tests look for (fields.KIND_WORDS)."""
    if f.kind is Kind.REPLACE:
        return f"Changing it {KIND_WORDS[Kind.REPLACE]}."
    if f.kind is Kind.IN_PLACE:
        return KIND_WORDS[Kind.IN_PLACE] + (f" ({f.change_note})." if f.change_note else ".")
    if not f.diffed:
        return "Changing only it shows no change" + (f"; it is {f.change_note}." if f.change_note else ".")
    return ""


def _input_doc(f: Field) -> str:
    """An input's docstring: the TypedDict key, the Args property and `:param` (IDEs show each)."""
    parts = [f"{KIND_WORDS[Kind.PROVIDER_ONLY]}: {_lower_first(f.doc)}" if f.kind is Kind.PROVIDER_ONLY else f.doc,
             _kind_sentence(f)]
    if not f.required and (f.default is not None or f.default_doc):
        parts.append(f"Default: {_default_words(f)}.")
    return " ".join(p for p in parts if p)


def _output_doc(f: Field, *, markdown: bool) -> str:
    """What an output holds: the getter's docstring, or (markdown) the reference's outputs row."""
    if f.kind is Kind.COMPUTED:
        return (f.reference or f.doc) if markdown else f.doc
    if f.output_doc:
        return f.output_doc if markdown else _without_links(f.output_doc)
    if f.kind is Kind.PROVIDER_ONLY:
        return f"{KIND_WORDS[Kind.PROVIDER_ONLY]}, as declared" + ("." if markdown else f": {_lower_first(f.doc)}")
    return f"{_first_clause(f.doc)}, as the API reports it."


def _on_change(f: Field) -> str:
    """The reference's "On change" cell: the kind, then what else a change does."""
    if f.kind is Kind.PROVIDER_ONLY:
        notes = ["no API change" if f.diffed else "no diff", *([f.change_note] if f.change_note else [])]
        return f"{Kind.IN_PLACE.value} ({Kind.PROVIDER_ONLY.value}: {'; '.join(notes)})"
    return f.kind.value + (f" ({f.change_note})" if f.change_note else "")


def _required_or_default(f: Field) -> str:
    words = "required" if f.required else f"optional, default {_default_words(f)}"
    limit = _limit_words(f)
    return f"{words}, {limit}" if limit else words


# -- text helpers ---------------------------------------------------------------------------------------


def _wrap(text: str, indent: str, width: int = WIDTH, subsequent: str | None = None) -> list[str]:
    """`text` filled to `width`, never breaking the kind words (tests search each docstring for them)."""
    for phrase in (*KIND_WORDS.values(), "Changing only it"):
        text = re.sub(re.escape(phrase), lambda m: m.group(0).replace(" ", "\0"), text, flags=re.I)
    lines = textwrap.wrap(text, width=width, initial_indent=indent,
                          subsequent_indent=indent if subsequent is None else subsequent,
                          break_long_words=False, break_on_hyphens=False)
    return [line.replace("\0", " ") for line in lines]


def _docstring(text: str, indent: str) -> list[str]:
    """A docstring of one paragraph: `\"\"\"text\"\"\"`, wrapped."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = _wrap(f'"""{text}"""', indent)
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# -- endpoint/program.py -------------------------------------------------------------------------------

HEADER = f'''\
# *** Generated by `{COMMAND}` from pulumi_tokenfactory/endpoint/fields.py: do not edit. ***
"""The public Pulumi surface: `{RESOURCE}`, its argument types and its output types.

Generated from the field model (pulumi_tokenfactory/endpoint/fields.py) by devtools/generate_surface.py, as
Pulumi generates its SDKs from a schema: change a field there, then run `{COMMAND}`
(tests/unit/test_generated.py fails while this file is stale). What the constructor does (both call
forms, the checks, the refusals, the registration) is hand-written in endpoint/_program.py.

Shaped like a generated Pulumi Python SDK, because that is what users (and
their IDEs and type checkers) know:

* The `*Args` classes are `@pulumi.input_type` classes (keyword-only `__init__`,
  `pulumi.getter` properties with setters). The SDK serializes such an object
  wherever it sits: given directly, inside an `Output`
  (`size.apply(lambda n: ScalingArgs(...))`) or holding `Output`s.
* The `*ArgsDict` classes are their `TypedDict` twins, so a dict literal is
  type-checked key by key.
* Outputs are `pulumi.getter` properties typed `pulumi.Output[...]`; a nested
  object resolves to its `@pulumi.output_type` (attribute access, and still a dict).
* The constructor has both overloads, so an IDE lists every input, and it carries
  a real docstring and `__signature__`, so `help({RESOURCE})` shows the inputs and
  outputs instead of the dynamic resource's `props` and `__provider`.
"""

from __future__ import annotations

from typing import {{typing_names}}

import pulumi
import pulumi.dynamic

from ..schema import RESOURCE_MODULE, RESOURCE_NAME
from . import _program
'''

INIT_DOC = f'''\
        """Declare one dedicated endpoint: the inputs as keywords, or one `{ARGS}` as `args`.

        :param resource_name: The Pulumi logical name (unique in the stack; not the display `name`).
        :param args: All inputs as one `{ARGS}` (or `{ARGS_DICT}`), instead of
               keywords.
        :param opts: A `pulumi.ResourceOptions` (parent, depends_on, protect, ...). Not `import_`: the engine's
               import cannot reach a dynamic provider; `adopt_id` takes an existing endpoint over instead. Not
               `custom_timeouts`: a dynamic provider never receives them; `ready_timeout` bounds the waits.

        Unknown or missing inputs raise `TypeError` here, naming them; values are checked by the provider
        in `pulumi preview`. See the class docstring for every input and output.
        """'''

GET_DOC = '''\
        """A read-only reference to an existing endpoint, as every generated Pulumi resource has.

        The engine reads the endpoint (its ReadStep carries the program's inputs, so the dynamic
        provider is reached) and records nothing it would create, change or delete: use it for an
        endpoint another stack or team owns. To take an endpoint over, use `adopt_id` instead.

        :param resource_name: The Pulumi logical name of the reference.
        :param id: The endpoint id (`ep-...`).
        :param opts: Further `pulumi.ResourceOptions`; `id` is set from the argument.
        """'''


def _getter(name: str, annotation: str, doc: str, *, setter: bool) -> Iterator[str]:
    yield ""
    yield "    @property"
    yield "    @pulumi.getter"
    yield f"    def {name}(self) -> {annotation}:"
    yield from _docstring(doc, " " * 8)
    yield f'        return pulumi.get(self, "{name}")'
    if setter:
        yield ""
        yield f"    @{name}.setter"
        yield f"    def {name}(self, value: {annotation}) -> None:"
        yield f'        pulumi.set(self, "{name}", value)'


def _init(fields: Sequence[Field], annotation: dict[str, str], *, params_doc: bool) -> Iterator[str]:
    """A keyword-only `__init__(__self__, *, ...)` that `pulumi.set`s each field."""
    yield "    def __init__(__self__, *,"
    pad = " " * len("    def __init__(")
    for i, f in enumerate(fields):
        default = "" if f.required else " = None"
        end = ") -> None:" if i == len(fields) - 1 else ","
        yield f"{pad}{f.name}: {annotation[f.name]}{default}{end}"
    if params_doc:
        yield '        """'
        for f in fields:
            yield from _wrap(f":param {f.name}: {_input_doc(f)}", " " * 8, subsequent=" " * 15)
        yield '        """'
    for f in fields:
        yield f'        pulumi.set(__self__, "{f.name}", {f.name})'


def _repr(fields: Sequence[Field]) -> Iterator[str]:
    names = ", ".join(f'"{f.name}"' for f in fields) + ("," if len(fields) == 1 else "")
    yield ""
    yield "    def __repr__(self) -> str:"
    yield from _wrap(f"return _program.input_repr(self, ({names}))", " " * 8, subsequent=" " * 44)


def _typed_dict_keys(fields: Iterable[Field], *, not_required: bool = False) -> Iterator[str]:
    for f in fields:
        annotation = f"pulumi.Input[{_input_type(f)}]"
        if not_required and not f.required:
            annotation = f"NotRequired[{annotation}]"
        yield f"    {f.name}: {annotation}"
        yield from _docstring(_input_doc(f), "    ")


def _nested_types(parent: Field) -> Iterator[str]:
    """`ScalingArgsDict`, `ScalingArgs` and `ScalingOutput` for a nested field (`scaling`)."""
    camel, children = _camel(parent.name), parent.children
    yield ""
    yield ""
    yield f"class {camel}ArgsDict(TypedDict):"
    required = "every key is required" if all(f.required for f in children) else "optional keys may be left out"
    yield from _docstring(f"`{camel}Args` as a dict ({required}): the value of `{parent.name}` as a literal.", "    ")
    yield ""
    yield from _typed_dict_keys(children, not_required=True)
    yield ""
    yield ""
    yield "@pulumi.input_type"
    yield f"class {camel}Args:"
    yield from _docstring(f"The value of `{parent.name}`. {parent.doc}", "    ")
    yield ""
    yield from _init(children, {f.name: _input_annotation(f) for f in children}, params_doc=True)
    for f in children:
        yield from _getter(f.name, _input_annotation(f), _input_doc(f), setter=True)
    yield from _repr(children)
    yield ""
    yield ""
    value_type = children[0].type.__name__ if len({f.type for f in children}) == 1 else "Any"
    yield "@pulumi.output_type"
    yield f"class {camel}Output(dict[str, {value_type}]):"
    yield from _docstring(
        f"The `{parent.name}` output, as the API reports it: read it as attributes "
        f"(`{parent.name}.{children[0].name}`) or, like a generated SDK's output types, as a dict "
        f"(`{parent.name}[\"{children[0].name}\"]`); it equals a dict with the same items.", "    ")
    yield ""
    output_types = {f.name: _output_type(f) for f in children}
    yield from _init(children, output_types, params_doc=False)
    for f in children:
        yield from _getter(f.name, output_types[f.name], _output_doc(f, markdown=False), setter=False)
    yield ""
    yield "    def __eq__(self, other: object) -> bool:"
    yield "        return _program.same_items(self, other)"
    yield ""
    yield "    __hash__ = None  # mutable, like dict"
    yield from _repr(children)


def _class_docstring() -> Iterator[str]:
    inputs = _inputs()
    call = ", ".join(["resource_name", "opts=None", "*", *(f.name if f.required else f"{f.name}=None"
                                                          for f in inputs)])
    head = f"{RESOURCE}("
    yield '    """A Nebius Token Factory dedicated endpoint: an isolated, autoscaled GPU deployment of one model.'
    yield ""
    yield "    Its Pulumi `id` is the endpoint id. Use `routing_key` as the `model` of"
    yield "    OpenAI-compatible `/v1/chat/completions` calls at `inference_base_url`."
    yield ""
    yield "    Two ways to call it (`opts`, a `pulumi.ResourceOptions`, comes after the name, or after `args`)::"
    yield ""
    yield from _wrap(f"{head}{call})", " " * 8, subsequent=" " * (8 + len(head)))
    yield f"        {RESOURCE}(resource_name, args: {ARGS}, opts=None)"
    yield f"        {RESOURCE}.get(resource_name, id, opts=None)   # a read-only reference to an existing one"
    yield ""
    yield '    Inputs (every one accepts a plain value or a `pulumi.Output`; "in place" is one PATCH of the'
    yield '    same endpoint, "replace" a new endpoint and a new routing key; "waits" marks an in-place change'
    yield '    that starts, stops or restarts replicas, after which an update waits for readiness again; "no diff"'
    yield "    an input a change of which alone changes nothing)::"
    for f in inputs:
        told = "required" if f.required else f"default {_default_words(f)}"
        change = ", ".join([f.kind.value, *(["waits"] if f.redeploys else []), *([] if f.diffed else ["no diff"])])
        yield ""
        yield f"        {f.name}: {_input_type(f)}, {told}; {change}"
        yield from _wrap(f.doc, " " * 12)
    nested = ", ".join(f"`{f.name}` as a `{_output_type(f)}`" for f in _nested())
    yield ""
    yield from _wrap(f"Outputs (`pulumi.Output` attributes): `id`, every input as the API reports it ({nested}), "
                     "and::", "    ")
    for f in FIELDS:
        if f.kind is Kind.COMPUTED:
            yield ""
            yield f"        {f.name}: {_output_type(f)}"
            yield from _wrap(f.doc, " " * 12)
    yield ""
    yield "    Reference: sdk-docs/dedicated-endpoint.md."
    yield '    """'


def _resource_class() -> Iterator[str]:
    inputs = _inputs()
    yield ""
    yield ""
    yield f"class {RESOURCE}(pulumi.dynamic.Resource, module=RESOURCE_MODULE, name=RESOURCE_NAME):"
    yield from _class_docstring()
    yield ""
    yield "    @overload"
    yield f"    def __init__(self, resource_name: str, args: {ARGS} | {ARGS_DICT},"
    yield "                 opts: pulumi.ResourceOptions | None = None) -> None: ..."
    yield ""
    yield "    @overload"
    yield "    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, *,"
    for i, f in enumerate(inputs):
        yield f"                 {_parameter(f)}" + (") -> None: ..." if i == len(inputs) - 1 else ",")
    yield ""
    yield "    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:"
    yield INIT_DOC
    yield f"        _program.construct(self, resource_name, args, kwargs, {ARGS})"
    yield ""
    yield "    # What help(), IDEs' runtime inspection and IPython show instead of `(resource_name, *args, **kwargs)`."
    yield f"    __init__.__signature__ = _program.shown_signature({ARGS})  # type: ignore[attr-defined]"
    yield ""
    yield "    @staticmethod"
    yield "    def get(resource_name: str, id: pulumi.Input[str],"
    yield f"            opts: pulumi.ResourceOptions | None = None) -> {RESOURCE}:"
    yield GET_DOC
    yield f"        return _program.reference({RESOURCE}, resource_name, id, opts, {ARGS})"
    yield ""
    yield "    # -- outputs: each resolves to what the provider reports " + "-" * 46
    for f in FIELDS:
        yield from _getter(f.name, f"pulumi.Output[{_output_type(f)}]", _output_doc(f, markdown=False), setter=False)


def resources_source() -> str:
    """endpoint/program.py as the field model makes it."""
    inputs = _inputs()
    nested = _nested()
    public = sorted([RESOURCE, ARGS, ARGS_DICT, *(f"{_camel(f.name)}{suffix}" for f in nested
                                                  for suffix in ("Args", "ArgsDict", "Output"))])
    optional_keys = any(not child.required for f in nested for child in f.children)
    typing_names = ", ".join(["Any", *(["NotRequired"] if optional_keys else []), "TypedDict", "overload"])
    lines = [HEADER.rstrip("\n").replace("{typing_names}", typing_names), "",
             "__all__ = [", *(f'    "{name}",' for name in public), "]"]
    for parent in nested:
        lines += _nested_types(parent)
    required = [f for f in inputs if f.required]
    optional = [f for f in inputs if not f.required]
    lines += ["", "", f"class {REQUIRED_ARGS_DICT}(TypedDict):"]
    lines += _typed_dict_keys(required)
    lines += ["", "", f"class {ARGS_DICT}({REQUIRED_ARGS_DICT}, total=False):"]
    lines += _docstring(f"`{ARGS}` as a dict; the inputs of `{REQUIRED_ARGS_DICT}` are required. Unpack it into "
                        f'the constructor, `{RESOURCE}("gpt", **spec)`, or pass it as `args`.', "    ")
    lines += [""]
    lines += _typed_dict_keys(optional)
    lines += ["", "", "@pulumi.input_type", f"class {ARGS}:"]
    lines += _docstring(f"The inputs of a `{RESOURCE}`, as one object. See `sdk-docs/dedicated-endpoint.md` for "
                        "each one.", "    ")
    lines += [""]
    lines += _init(inputs, {f.name: _input_annotation(f) for f in inputs}, params_doc=True)
    for f in inputs:
        lines += _getter(f.name, _input_annotation(f), _input_doc(f), setter=True)
    lines += _repr([f for kind in (Kind.IN_PLACE, Kind.REPLACE, Kind.PROVIDER_ONLY) for f in FIELDS if f.kind is kind])
    lines += _resource_class()
    return "\n".join(lines) + "\n"


# -- sdk-docs/dedicated-endpoint.md ---------------------------------------------------------------------


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _input_row(f: Field, prefix: str = "") -> str:
    description = " ".join(p for p in (f.reference or f.doc, _choice_words(f)) if p)
    return _row(f"`{prefix}{f.name}`", f"`{_cell(_input_type(f))}`", _required_or_default(f), _on_change(f),
                _cell(description))


def _inputs_table() -> list[str]:
    lines = [_row("Input", "Type", "Required / default", "On change", "Description"), "|---|---|---|---|---|"]
    for f in _inputs():
        lines.append(_input_row(f))
        lines += [_input_row(child, f"{f.name}.") for child in f.children]
    return lines


def _outputs_table() -> list[str]:
    lines = [_row("Output", "Type", "Description"), "|---|---|---|",
             _row("`id`", "`str`", "The endpoint id (the resource's Pulumi id).")]
    computed = [f for f in FIELDS if f.kind is Kind.COMPUTED or f.computed]
    for f in computed + [f for f in FIELDS if f not in computed]:
        lines.append(_row(f"`{f.name}`", f"`{_cell(_output_type(f))}`", _cell(_output_doc(f, markdown=True))))
    return lines


def _nested_args_table(parent: Field) -> list[str]:
    lines = [_row("Field", "Type", "Required / default", "Description"), "|---|---|---|---|"]
    for f in parent.children:
        lines.append(_row(f"`{f.name}`", f"`pulumi.Input[{_cell(_input_type(f))}]`", _required_or_default(f),
                          _cell(f.reference or f.doc)))
    return lines


def _nested_output_table(parent: Field) -> list[str]:
    lines = [_row("Field", "Type", "Description"), "|---|---|---|"]
    for f in parent.children:
        lines.append(_row(f"`{f.name}`", f"`{_cell(_output_type(f))}`", _cell(_output_doc(f, markdown=True))))
    return lines


def reference_tables() -> dict[str, list[str]]:
    """Each generated region of the reference page, by key."""
    tables = {"inputs": _inputs_table(), "outputs": _outputs_table()}
    for parent in _nested():
        tables[f"{parent.name}-args"] = _nested_args_table(parent)
        tables[f"{parent.name}-output"] = _nested_output_table(parent)
    return tables


def _region(key: str) -> re.Pattern[str]:
    return re.compile(rf"(^<!-- generated: {re.escape(key)}\b[^\n]*-->\n)(.*?)(^<!-- end generated: "
                      rf"{re.escape(key)} -->$)", re.M | re.S)


def reference_text(current: str) -> str:
    """The reference page with every generated region rewritten (the rest as it is)."""
    text = current
    for key, lines in reference_tables().items():
        region = _region(key)
        if region.search(text) is None:
            raise SystemExit(f"{REFERENCE.relative_to(ROOT)}: no generated region {key!r}; add the two lines\n"
                             f"<!-- generated: {key} ({COMMAND}; edit pulumi_tokenfactory/endpoint/fields.py) -->\n"
                             f"<!-- end generated: {key} -->\nwhere its table belongs")
        match = region.search(text)
        assert match is not None
        text = text[:match.start(2)] + "\n".join(lines) + "\n" + text[match.end(2):]
    return text


# -- api/_fields_generated.py and endpoint/_fields_generated.py ---------------------------------------------


@dataclass(frozen=True)
class ModelFields:
    """The declared fields one pydantic model takes, written as its base class `{model}Fields`."""

    #: The hand-written model that inherits the base (api/models.py, endpoint/properties.py).
    model: str
    #: Which fields, and how (the base's docstring).
    doc: str
    #: The fields, in declaration order: a function of `FIELDS`, called when the file is written.
    select: Callable[[], Sequence[Field]]
    #: A nested field's type is its model, named after the field: `Scaling`, or with this suffix
    #: `ScalingInfo` (as an API answer reports it).
    nested_suffix: str = ""
    #: Every field `T | None`, default None (a PATCH, an API answer); else a required field has no default
    #: and an optional one its declared default.
    optional: bool = False
    #: With the API's limits as `Field` constraints: lengths and minimums; not the provider's own typo
    #: guards (`Limits.provider_max`), choices or patterns, which check and the emulator apply.
    constrained: bool = False
    #: An optional text whose default is "" is None here: the API is sent no text rather than an empty one.
    empty_text_is_none: bool = False

    @property
    def base(self) -> str:
        return f"{self.model}Fields"

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(self.select())


def _children(parent: str) -> Callable[[], Sequence[Field]]:
    return lambda: next(f for f in FIELDS if f.name == parent).children


def api_models() -> list[ModelFields]:
    """The bases of api/models.py: each nested object's two models, then the request and answer models."""
    models = []
    for parent in _nested():
        camel = _camel(parent.name)
        models += [
            ModelFields(camel, f"The fields of `{parent.name}` in a request, with the API's limits.",
                        _children(parent.name), constrained=True),
            ModelFields(f"{camel}Info", f"The fields of `{parent.name}` as the API reports them, each of "
                        "which may be missing.", _children(parent.name), optional=True),
        ]
    return [
        *models,
        ModelFields("EndpointSpec", "The create request's fields (`fields.CREATE_FIELDS`), with the API's limits; "
                    "an optional text without a value is None, so that the body leaves it out.",
                    lambda: [f for f in FIELDS if f.to_api and f.on_create], constrained=True,
                    empty_text_is_none=True),
        ModelFields("EndpointPatch", "The in-place fields (`fields.UPDATABLE_FIELDS`), each optional (a PATCH "
                    "changes only those it holds), with the API's limits.",
                    lambda: [f for f in FIELDS if f.kind is Kind.IN_PLACE], optional=True, constrained=True),
        ModelFields("Endpoint", "The fields the API knows (`fields.API_FIELDS`), each optional: an answer may "
                    "lack any.", lambda: [f for f in FIELDS if f.to_api], nested_suffix="Info", optional=True),
    ]


def host_models() -> list[ModelFields]:
    """The bases of endpoint/properties.py: the inputs, and the computed outputs the state adds to them."""
    return [
        ModelFields("EndpointInputs", "Every declared input, in declaration order, with its declared default.",
                    lambda: [f for f in FIELDS if f.is_input]),
        ModelFields("EndpointState", "The computed outputs, which `EndpointState` adds to the inputs of "
                    "`EndpointInputs`.", lambda: [f for f in FIELDS if f.kind is Kind.COMPUTED]),
    ]


_PLAIN_TYPES: tuple[type, ...] = (str, int, float, bool)


def model_default(f: Field, spec: ModelFields) -> Any:
    """The default of `f` in the model (None for every field of an all-optional model)."""
    if spec.optional:
        return None
    if spec.empty_text_is_none and isinstance(f.default, str) and f.default == "":
        return None
    return f.default


def model_field_is_optional(f: Field, spec: ModelFields) -> bool:
    """Whether `f` is `T | None` in the model: every field of an all-optional model, else one defaulting to None."""
    return spec.optional or (not f.required and model_default(f, spec) is None)


def model_constraints(f: Field, spec: ModelFields) -> dict[str, Any]:
    """The `Field(...)` constraints of `f` in the model, in the order they are written."""
    if not spec.constrained:
        return {}
    limits = f.limits
    pairs = (("min_length", limits.min_length), ("ge", limits.minimum),
             ("max_length", None if limits.provider_max else limits.max_length))
    return {key: value for key, value in pairs if value is not None}


def _model_field(f: Field, spec: ModelFields) -> str:
    """`name: T | None = Field(default=None, max_length=500)`: one annotated attribute of a generated base."""
    if f.children:
        if any(child.children for child in f.children):
            raise SystemExit(f"{f.name}: a nested object within a nested object is not supported")
        type_name = _camel(f.name) + spec.nested_suffix
    elif f.type in _PLAIN_TYPES:
        type_name = f.type.__name__
    else:
        raise SystemExit(f"{f.name}: no model type for {f.type!r}")
    default = model_default(f, spec)
    if not (default is None or type(default) in _PLAIN_TYPES):
        raise SystemExit(f"{f.name}: the default {default!r} cannot be written as a literal")
    constraints = ", ".join(f"{key}={_python(value)}" for key, value in model_constraints(f, spec).items())
    line = f"    {f.name}: {type_name}" + (" | None" if model_field_is_optional(f, spec) else "")
    if f.required and not spec.optional:
        return f"{line} = Field({constraints})" if constraints else line
    if not constraints:
        return f"{line} = {_python(default)}"
    # `default=` by keyword: type checkers (PEP 681's field specifiers) see no default in a positional one.
    return f"{line} = Field(default={_python(default)}, {constraints})"


def _python(value: object) -> str:
    """A literal as the code base writes it: `"eu-north1"` (double quotes where the text allows), `1800`, `True`."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        return f'"{text[1:-1]}"'
    return text


def _model_base(spec: ModelFields, where: str) -> Iterator[str]:
    yield ""
    yield ""
    yield f"class {spec.base}(BaseModel):"
    yield from _docstring(f"The declared fields of `{spec.model}` ({where}): {_lower_first(spec.doc)}", "    ")
    yield ""
    for f in spec.fields:
        yield _model_field(f, spec)


def _fields_module(specs: Sequence[ModelFields], where: str, nested_from: str, *, nested_at_runtime: bool) -> str:
    """A module of generated model bases; the nested models are imported from `nested_from`."""
    nested = sorted({_camel(f.name) + spec.nested_suffix for spec in specs for f in spec.fields if f.children})
    bodies = [line for spec in specs for line in _model_base(spec, where)]
    first = specs[0] if specs else None
    example = f"`{first.model}({first.base}, ...)`" if first else "its base"
    about = [
        f"Generated from the field model (pulumi_tokenfactory/endpoint/fields.py) by devtools/generate_surface.py: "
        f"change a field there, then run `{COMMAND}` (tests/unit/test_generated.py fails while this file is stale). "
        f"Each model of {where} inherits its base here ({example}) and adds only what is not a declared field: its "
        "configuration, validators and methods.",
    ]
    if nested and not nested_at_runtime:
        names = " and ".join(f"`{name}`" for name in nested)
        about.append(f"The nested models ({names}) are defined in {where}, which imports this module, so "
                     "they are imported here for type checkers only; pydantic resolves them where the models that "
                     "inherit these bases are defined.")
    lines = [f"# *** Generated by `{COMMAND}` from pulumi_tokenfactory/endpoint/fields.py: do not edit. ***",
             f'"""The declared fields of the pydantic models of {where}, one base class per model.']
    for paragraph in about:
        lines += ["", *textwrap.wrap(paragraph, width=WIDTH, break_long_words=False, break_on_hyphens=False)]
    lines += ['"""', "", "from __future__ import annotations", ""]
    if nested and not nested_at_runtime:
        lines += ["from typing import TYPE_CHECKING", ""]
    uses_field = any(" = Field(" in line for line in bodies)
    lines += [f"from pydantic import BaseModel{', Field' if uses_field else ''}"]
    if nested:
        imported = f"from {nested_from} import {', '.join(nested)}"
        lines += ["", imported] if nested_at_runtime else ["", "if TYPE_CHECKING:", f"    {imported}"]
    lines += ["", "__all__ = [", *(f'    "{name}",' for name in sorted(spec.base for spec in specs)), "]", *bodies]
    return "\n".join(lines) + "\n"


def api_fields_source() -> str:
    """api/_fields_generated.py as the field model makes it."""
    return _fields_module(api_models(), "api/models.py", ".models", nested_at_runtime=False)


def host_fields_source() -> str:
    """endpoint/_fields_generated.py as the field model makes it."""
    return _fields_module(host_models(), "endpoint/properties.py", "..api.models", nested_at_runtime=True)


# -- the command ----------------------------------------------------------------------------------------


def expected() -> dict[Path, str]:
    """Every generated file as the field model makes it."""
    return {RESOURCES: resources_source(),
            REFERENCE: reference_text(REFERENCE.read_text(encoding="utf-8")),
            API_FIELDS_MODULE: api_fields_source(),
            HOST_FIELDS_MODULE: host_fields_source()}


def stale() -> list[Path]:
    """The generated files whose committed text differs from what the field model makes."""
    return [path for path, text in expected().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 naming each generated file that is stale")
    options = parser.parse_args(argv)
    outdated = stale()
    for path in outdated:
        where = path.relative_to(ROOT)
        if options.check:
            print(f"stale: {where} (run `{COMMAND}`)", file=sys.stderr)
        else:
            path.write_text(expected()[path], encoding="utf-8")
            print(f"wrote {where}")
    if options.check and outdated:
        return 1
    if not outdated:
        print("up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
