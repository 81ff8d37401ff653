"""Undo the pickler patch that Pulumi's `serialize_provider` leaves behind, after each resource is declared.

`pulumi.dynamic.dynamic.serialize_provider` (SDK 3.272 and later) wraps `pickle._Pickler._batch_setitems`
on every call and restores only `pickle.Pickler`, so each dynamic resource adds one level of wrapping;
after about a thousand, pickling any dict in the process ends in `RecursionError`. The SDK calls it from
`Resource.__init__`, so after each `DedicatedEndpoint` is declared `undo_pickler_patch` puts back the
original method, only when the current one is recognisably the SDK's wrapper (anything else is left
alone). The SDK installs its wrapper afresh at each call, so its own behaviour is unaffected.
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
