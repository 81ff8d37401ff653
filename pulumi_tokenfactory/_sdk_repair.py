"""Undo the pickler patch that Pulumi's `serialize_provider` leaves behind, after each resource is declared.

`pulumi.dynamic.dynamic.serialize_provider` (SDK 3.272, and every release we have seen since the
sorted-dict change) sets `pickle._Pickler._batch_setitems` to a wrapper of its current value on every
call and restores only `pickle.Pickler`. Each dynamic resource declared in one process therefore adds
one level of wrapping, and after about a thousand (a large fleet, or a user's test suite under mocks)
pickling any dict ends in `RecursionError`, inside Pulumi or anywhere else in the process.

There is no public way around it: the SDK calls `serialize_provider` from `Resource.__init__`. So, right
after each `DedicatedEndpoint` is declared, `undo_pickler_patch` puts back the method as it was when this
module was imported, and only when the current one is recognisably the SDK's wrapper (a function defined
inside `serialize_provider`); anything else (a fixed SDK, another library's patch) is left alone. The
SDK's own behaviour (sorted dicts while it serializes) is unaffected: it installs its wrapper afresh at
each call. `tests/unit/test_sdk_repair.py` declares 1,500 resources under mocks and fails if the leak
comes back or the repair stops recognising it.
"""

from __future__ import annotations

import pickle
from typing import Any, Final

#: The pure-Python pickler's method before any Pulumi resource was declared in this process.
_ORIGINAL: Final[Any] = getattr(getattr(pickle, "_Pickler", None), "_batch_setitems", None)


def is_sdk_wrapper(method: Any) -> bool:
    """Whether `method` is a wrapper defined inside `pulumi.dynamic`'s `serialize_provider`."""
    return (callable(method) and "serialize_provider.<locals>" in getattr(method, "__qualname__", "")
            and getattr(method, "__module__", "") == "pulumi.dynamic.dynamic")


def undo_pickler_patch() -> bool:
    """Put back the original `_batch_setitems` if the SDK's wrapper is installed; True when it was."""
    pickler = getattr(pickle, "_Pickler", None)
    if pickler is None or _ORIGINAL is None or not is_sdk_wrapper(getattr(pickler, "_batch_setitems", None)):
        return False
    pickler._batch_setitems = _ORIGINAL
    return True
