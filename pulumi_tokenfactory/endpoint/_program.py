"""What `DedicatedEndpoint` does when a program declares one: the hand-written half of endpoint/program.py.

program.py is generated from the field model (`python -m devtools.generate_surface`): the typed
constructor and its overloads, the argument and output types, every docstring. What is not a
restatement of the fields is here, and names no field but the one whose behaviour it is (`region`):
both call forms and their `TypeError`s, the refusal of `import_`, `custom_timeouts` and
`replace_on_changes`, the default region, the props the dynamic resource registers (outputs to fill
in, its own URN), the read-only reference of `DedicatedEndpoint.get`, and what `help()` shows as the
constructor's signature.

The inputs, their order and which are required are read from the generated `DedicatedEndpointArgs`
(passed in as `args_type`), so this module holds no list of them.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pulumi
import pulumi.dynamic
import pulumi.resource

from .._sdk_repair import undo_pickler_patch
from ..program import spending
from ..provider import DedicatedEndpointProvider
from ..schema import RESOURCE_TYPE, URN_FIELD
from ..settings import REGION, Settings
from .fields import DEFAULT_READY_TIMEOUT_SECONDS, MAX_READY_TIMEOUT_SECONDS, OUTPUT_FIELDS

R = TypeVar("R", bound=pulumi.dynamic.Resource)


# -- the inputs, as the generated DedicatedEndpointArgs.__init__ declares them --------------------------


@functools.cache
def _parameters(args_type: type) -> tuple[inspect.Parameter, ...]:
    init = vars(args_type)["__init__"]
    return tuple(p for p in inspect.signature(init).parameters.values() if p.kind is p.KEYWORD_ONLY)


def _all_inputs(args_type: type) -> tuple[str, ...]:
    return tuple(p.name for p in _parameters(args_type))


class _Shown(str):
    """An annotation as written in the source, shown without quotes (`name: pulumi.Input[str]`) by `help()`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def shown_signature(args_type: type) -> inspect.Signature:
    """What help(), IDEs' runtime inspection and IPython show instead of `(resource_name, *args, **kwargs)`."""
    return inspect.Signature([
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("resource_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_Shown("str")),
        inspect.Parameter("args", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                          annotation=_Shown(f"{args_type.__name__} | None")),
        inspect.Parameter("opts", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                          annotation=_Shown("pulumi.ResourceOptions | None")),
        *(p.replace(annotation=_Shown(p.annotation)) for p in _parameters(args_type)),
    ])


def input_repr(value: object, names: Iterable[str]) -> str:
    """`ScalingArgs(min_replicas=1, max_replicas=2)`: the fields that hold a value, in order."""
    given = ", ".join(f"{name}={getattr(value, name)!r}" for name in names if getattr(value, name) is not None)
    return f"{type(value).__name__}({given})"


def same_items(value: Mapping[str, Any], other: object) -> bool:
    """An output type's `==`: equal to any mapping with the same items, as when it was a plain dict.

    (`@pulumi.output_type`'s own `__eq__` refuses every other type, so `scaling == {"min_replicas": 1, ...}`,
    true while `scaling` was a plain dict, would silently turn false.)
    """
    return isinstance(other, Mapping) and dict(value) == dict(other)


# -- the constructor ------------------------------------------------------------------------------------


def _checked_inputs(resource_name: str, given: Mapping[str, Any], source: str, args_type: type) -> dict[str, Any]:
    """Every input, None where not given; unknown or missing names fail now, naming them, not in the engine."""
    allowed = _all_inputs(args_type)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise TypeError(f"DedicatedEndpoint {resource_name!r} got unknown {source} {', '.join(unknown)}; "
                        f"allowed: {', '.join(allowed)}")
    missing = [p.name for p in _parameters(args_type) if p.default is p.empty and p.name not in given]
    if missing:
        raise TypeError(f"DedicatedEndpoint {resource_name!r} is missing required {source} {', '.join(missing)}")
    return {name: given.get(name) for name in allowed}


def _split_arguments(resource_name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                     args_type: type) -> tuple[dict[str, Any], pulumi.ResourceOptions | None]:
    """Both overloads, as generated SDKs accept them: `(name, args[, opts])` or `(name[, opts], **inputs)`."""
    positional = list(args)
    resource_args = kwargs.pop("args", None)
    opts = kwargs.pop("opts", None)
    if positional and (positional[0] is None or isinstance(positional[0], (args_type, Mapping))):
        if resource_args is not None:
            raise TypeError("DedicatedEndpoint got `args` both by position and by keyword")
        resource_args = positional.pop(0)
    if positional and (positional[0] is None or isinstance(positional[0], pulumi.ResourceOptions)):
        if opts is not None:
            raise TypeError("DedicatedEndpoint got `opts` both by position and by keyword")
        opts = positional.pop(0)
    if positional:
        raise TypeError(f"DedicatedEndpoint({resource_name!r}, ...) takes a {args_type.__name__} and a "
                        f"pulumi.ResourceOptions by position, got {type(positional[0]).__name__}; "
                        "give the inputs as keyword arguments")
    if opts is not None and not isinstance(opts, pulumi.ResourceOptions):
        raise TypeError(f"opts must be a pulumi.ResourceOptions, got {type(opts).__name__}")
    if resource_args is not None and kwargs:
        raise TypeError(f"pass either a {args_type.__name__} or keyword arguments, not both")
    if isinstance(resource_args, args_type):
        return {name: getattr(resource_args, name) for name in _all_inputs(args_type)}, opts
    if isinstance(resource_args, Mapping):
        return _checked_inputs(resource_name, resource_args, "key(s) in args", args_type), opts
    if resource_args is not None:
        raise TypeError(f"args must be a {args_type.__name__} or a {args_type.__name__}Dict, "
                        f"got {type(resource_args).__name__}")
    return _checked_inputs(resource_name, kwargs, "argument(s)", args_type), opts


def _refuse_import(resource_name: str, opts: pulumi.ResourceOptions | None) -> None:
    if opts is not None and opts.import_ is not None:
        raise ValueError(
            f"DedicatedEndpoint {resource_name!r}: ResourceOptions(import_=...) cannot work for this resource: "
            f"the Pulumi engine imports with the id alone, which a dynamic provider cannot serve "
            f"(pulumi/pulumi#16175). Use adopt_id={opts.import_!r} instead (and drop import_): the create "
            f"then takes that endpoint over, with no new endpoint bought")


def _refuse_replace_on_changes(resource_name: str, opts: pulumi.ResourceOptions | None) -> None:
    """The engine (v3.274) applies `replace_on_changes` only to the changed keys a provider reports, and
    `pulumi.dynamic`'s host reports none: a GPU change the program meant as a new endpoint would be made in place."""
    named = opts.replace_on_changes if opts is not None else None
    if named:
        raise ValueError(
            f"DedicatedEndpoint {resource_name!r}: ResourceOptions(replace_on_changes={list(named)!r}) would be "
            f"silently ignored: Pulumi's dynamic-provider host, which runs this resource, reports no changed "
            f"inputs, and the engine applies replace_on_changes only to those, so the change would be made in "
            f"place. Drop it; for a new endpoint, declare the resource under a new name with a new `name` (one "
            f"`pulumi up` creates the new endpoint, then deletes the old one)")


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|m|s|ms)")


def _duration_seconds(text: str | None) -> float | None:
    """A Go duration as Pulumi's `CustomTimeouts` spell them (`30m`, `1h30m`, `90s`) in seconds; None if not one."""
    text = (text or "").strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(number) * scale[unit] for number, unit in parts)


def _refuse_custom_timeouts(resource_name: str, opts: pulumi.ResourceOptions | None) -> None:
    """`custom_timeouts` never reach a dynamic provider (`pulumi.dynamic`'s host reads no timeout from the
    engine's requests): refuse them rather than let a program believe they bound a 10-15 minute create."""
    timeouts = opts.custom_timeouts if opts is not None else None
    given = {name: getattr(timeouts, name, None) for name in ("create", "update", "delete", "read")}
    given = {name: value for name, value in given.items() if value}
    if not given:
        return
    seconds = [s for s in (_duration_seconds(given.get(n)) for n in ("create", "update", "delete")) if s]
    longest = min(MAX_READY_TIMEOUT_SECONDS, max(1, round(max(seconds)))) if seconds else None
    suggestion = f"ready_timeout={longest}" if longest is not None else "ready_timeout=<seconds>"
    spelled = ", ".join(f"{name}={value!r}" for name, value in given.items())
    raise ValueError(
        f"DedicatedEndpoint {resource_name!r}: ResourceOptions(custom_timeouts=CustomTimeouts({spelled})) would be "
        f"silently ignored: Pulumi's dynamic-provider host, which runs this resource, drops custom_timeouts. Use "
        f"{suggestion} instead (and drop custom_timeouts): the seconds create, update and delete wait for the "
        f"endpoint, default {DEFAULT_READY_TIMEOUT_SECONDS}")


def construct(resource: pulumi.dynamic.Resource, resource_name: str, args: tuple[Any, ...],
              kwargs: Mapping[str, Any], args_type: type) -> None:
    """`DedicatedEndpoint.__init__`: check the call, then register the dynamic resource with its props."""
    inputs, opts = _split_arguments(resource_name, args, dict(kwargs), args_type)
    _refuse_import(resource_name, opts)
    _refuse_custom_timeouts(resource_name, opts)
    _refuse_replace_on_changes(resource_name, opts)
    props: dict[str, Any] = dict(inputs)
    # `tokenfactory:region`, else eu-north1; a region that does not exist fails here, naming the setting.
    if props["region"] is None:
        props["region"] = Settings.of_program().get(REGION)
    # Outputs to be filled in; an input that is also an output (`routing_key`) keeps the program's value.
    props.update(dict.fromkeys(name for name in OUTPUT_FIELDS if name not in props))
    # Our own URN, so the provider can put spend lines on this resource's row (see host/enginelog.py).
    props[URN_FIELD] = pulumi.resource.create_urn(resource_name, RESOURCE_TYPE,
                                                  parent=opts.parent if opts is not None else None)
    _register(resource, resource_name, props, opts)
    spending.declared(resource, resource_name, props)


def reference(cls: type[R], resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None,
              args_type: type) -> R:
    """`DedicatedEndpoint.get`: a read-only reference, whose ReadStep carries every property (so the dynamic
    provider is reached) and records nothing it would create, change or delete."""
    opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
    found = cls.__new__(cls)
    props: dict[str, Any] = dict.fromkeys((*_all_inputs(args_type), *OUTPUT_FIELDS))
    _register(found, resource_name, props, opts)
    return found


def _register(resource: pulumi.dynamic.Resource, resource_name: str, props: dict[str, Any],
              opts: pulumi.ResourceOptions | None) -> None:
    """Register the dynamic resource, then undo the pickler patch the SDK leaves behind (see _sdk_repair)."""
    pulumi.dynamic.Resource.__init__(resource, DedicatedEndpointProvider(), resource_name, props, opts)
    undo_pickler_patch()
