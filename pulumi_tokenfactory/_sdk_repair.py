"""Undo the pickler patch that Pulumi's `serialize_provider` leaves behind, after each resource is declared.

`pulumi.dynamic.dynamic.serialize_provider` (SDK 3.272 and later) wraps `pickle._Pickler._batch_setitems`
on every call and restores only `pickle.Pickler`, so each dynamic resource adds one level of wrapping;
after about a thousand, pickling any dict in the process ends in `RecursionError`. The SDK calls it from
`Resource.__init__`, so after each `DedicatedEndpoint` is declared `undo_pickler_patch` puts back the
original method, only when the current one is recognisably the SDK's wrapper (anything else is left
alone, with one warning: should a later SDK wrap it differently, a user learns why a large program may
end in `RecursionError`). The SDK installs its wrapper afresh at each call, so its own behaviour is
unaffected.
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any, Final

#: The pure-Python pickler's method before any Pulumi resource was declared in this process.
_ORIGINAL: Final[Any] = getattr(getattr(pickle, "_Pickler", None), "_batch_setitems", None)


_warned = False


def undo_pickler_patch() -> bool:
    """Put back the original `_batch_setitems` if the SDK's wrapper is installed; True when it was."""
    global _warned
    pickler = getattr(pickle, "_Pickler", None)
    current = getattr(pickler, "_batch_setitems", None)
    if pickler is None or _ORIGINAL is None or current is _ORIGINAL:
        return False
    # The SDK's wrapper is a function defined inside `pulumi.dynamic`'s `serialize_provider`.
    sdk_wrapper = (callable(current) and "serialize_provider.<locals>" in getattr(current, "__qualname__", "")
                   and getattr(current, "__module__", "") == "pulumi.dynamic.dynamic")
    if not sdk_wrapper:
        if not _warned:
            _warned = True
            warnings.warn(f"pulumi-tokenfactory: pickle._Pickler._batch_setitems was replaced by something this "
                          f"provider does not recognise ({getattr(current, '__qualname__', current)!r}) and is left "
                          f"alone; if a program declaring many endpoints ends in RecursionError, report this "
                          f"with the pulumi SDK version", RuntimeWarning, stacklevel=2)
        return False
    pickler._batch_setitems = _ORIGINAL
    return True
