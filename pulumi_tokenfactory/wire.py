"""The engine's wire conventions, stated once: the `__provider` key and what an unknown value looks like.

The provider host gets `pulumi.output.Unknown` instances in Check and Diff (`keep_unknowns`) and the
sentinel string elsewhere; the policy pack gets the raw sentinels, one per kind of value; tests and
`devtools/enginehost.py` build such bags by hand. Detection is by identity and type, never by class
name, which also matched the policy pack's own `Unknown` enum. No heavy imports: pulumi is consulted
only when already loaded (a value cannot be an instance of a class whose module was never imported).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final

#: The input in which `pulumi.dynamic.Resource` stores the pickled provider (and the host echoes back).
PROVIDER_KEY: Final = "__provider"

#: The engine's sentinel for an unknown value; it marks every unknown it sends to a provider.
UNKNOWN_STRING: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

#: Every sentinel the engine defines (one per kind of value); pulumi-policy documents all seven.
UNKNOWN_SENTINELS: Final[frozenset[str]] = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    UNKNOWN_STRING,                          # string (and the engine's default)
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})


def is_unknown(value: Any) -> bool:
    """True for a value the engine does not know yet: a sentinel string or a `pulumi.output.Unknown`."""
    if isinstance(value, str):
        return value in UNKNOWN_SENTINELS
    unknown_type = getattr(sys.modules.get("pulumi.output"), "Unknown", None)  # None: pulumi is not loaded
    return isinstance(unknown_type, type) and isinstance(value, unknown_type)


def contains_unknown(value: Any) -> bool:
    """True if the value, or anything nested in a mapping or list inside it, is unknown."""
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(item) for item in value)
    return is_unknown(value)


def integral(value: Any) -> Any:
    """The engine's numbers as a person wrote them (protobuf Structs carry every number as a float).

    A whole float becomes an int (`2.0` -> `2`), inside mappings and lists too; everything else,
    including bools, `2.5`, NaN and infinities, is returned as it is.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value
