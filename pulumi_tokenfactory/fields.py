"""How a resource's fields are declared: `Field` (name, type, kind, limits, doc), `Kind` and `Limits`.

A resource declares its fields once, as a tuple of `Field` in its own folder
(`endpoint/fields.py` for `DedicatedEndpoint`); everything else is derived from that
tuple. This module holds only the vocabulary of a declaration and `flatten_errors`,
the one place pydantic's errors become messages that name the property.

No heavy imports (no pydantic, no httpx): a Pulumi program imports this on every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What a change of the field does; the value is how the reference docs say it."""

    IN_PLACE = "in place"
    """Sent to the API on create, and changed with one PATCH of the same endpoint."""
    REPLACE = "replace"
    """Sent to the API on create only: a different value means a new endpoint (and routing key)."""
    PROVIDER_ONLY = "provider option"
    """Steers the provider; never sent to the API, kept in the state."""
    COMPUTED = "computed"
    """An output the API or the provider computes; a program never sets it."""


@dataclass(frozen=True)
class Limits:
    """What values a field accepts. Messages quote these, so a person sees what is allowed."""

    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: The only values allowed (in this order in messages).
    choices: tuple[str, ...] = ()
    #: A regular expression the whole value must match (then `format` says it in words).
    pattern: str | None = None
    #: The allowed values in words, as a message ends: "{prop} must be {format}".
    format: str = ""
    #: Text that may span lines (line breaks and tabs allowed).
    multiline: bool = False
    #: A number's unit in messages ("a number of seconds from 1 to 86400").
    unit: str = ""
    #: The upper bound (max_length / maximum) is this provider's guard against typos, not a limit the
    #: API documents: the emulator does not apply it.
    provider_max: bool = False


@dataclass(frozen=True)
class Field:
    """One property of the resource."""

    name: str
    #: The Python type of a known value: str, int, float, bool, or dict for a nested object (`children`).
    type: type
    kind: Kind
    doc: str
    required: bool = False
    #: The value an optional input takes when the program leaves it out (None: absent, and then left out
    #: of the state, so a state written before the field existed stays as it was).
    default: Any = None
    limits: Limits = Limits()
    #: The fields of a nested object (`scaling`).
    children: tuple[Field, ...] = ()
    #: False for an input that diff never compares (read only when the resource is created).
    diffed: bool = True
    #: Also an output: the API fills it in when the program leaves it out (`routing_key`), and a left-out
    #: value keeps what the API has (no PATCH clears it), as Terraform's "optional and computed".
    computed: bool = False
    #: Sent in the create request. False for a field only the update request takes (`enabled`: a resource
    #: declared stopped is created, then stopped with one PATCH).
    on_create: bool = True
    #: A change moves the deployment (replicas start, stop or restart): an update waits for readiness after it.
    redeploys: bool = False
    #: What a PATCH sends to clear the field when the program leaves it out (None: it is never cleared).
    clear_with: Any = None
    #: The release that added the field; None for the fields of the first release (0.1.0). An optional
    #: input added later stays out of check's inputs and the state while the program leaves it out (its
    #: default applies where it is read), so a state or a program written before it existed replays
    #: unchanged; an output added later is new information in answers about old states.
    added: str | None = None
    # -- how the generated surface (devtools/generate_surface.py) words it, where `doc` is not enough --
    #: The reference page's description (markdown) of the input, or of the computed output; default: `doc`.
    #: The generator adds what the declaration knows: limits, choices, the default and what a change does.
    reference: str = ""
    #: What the output of an input holds (markdown: the reference's outputs table; its docstring without
    #: the links), when that is not the input's `doc`.
    output_doc: str = ""
    #: What a change does besides its kind ("the replicas restart"); for an input diff never compares, when
    #: it is read. Said in the reference's "On change" column and in the docstrings.
    change_note: str = ""
    #: The default in words (markdown), when it is not the value `default`: the stack setting that comes first.
    default_doc: str = ""
    #: A valid value (an optional text input added after the first release needs one: the unit tests send it
    #: where a state written before the field existed meets a program that sets it).
    example: Any = None

    @property
    def is_input(self) -> bool:
        return self.kind is not Kind.COMPUTED

    @property
    def to_api(self) -> bool:
        """Whether the API knows this field (create body, and PATCH when in place)."""
        return self.kind in (Kind.IN_PLACE, Kind.REPLACE)


@dataclass(frozen=True)
class Problem:
    """One validation problem: the property it concerns (dotted, None for the whole body) and the message."""

    property: str | None
    message: str


def flatten_errors(errors: Iterable[Mapping[str, Any]], *, skip: int = 0) -> list[Problem]:
    """pydantic's `ValidationError.errors()` as problems naming the property: `scaling.min_replicas: ...`.

    The one place such errors become messages (the API models, the controller, the emulator's admin,
    fault and request parsing). `skip` drops leading location parts that are not properties (FastAPI's
    "body"). Duck-typed, so this module needs no pydantic: pass the list `errors()` returns.
    """
    problems = []
    for err in errors:
        where = ".".join(str(p) for p in tuple(err.get("loc", ()))[skip:]) or None
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        problems.append(Problem(where, f"{where}: {message}" if where else message))
    return problems
