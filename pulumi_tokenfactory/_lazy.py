"""A module-level ``__getattr__`` that imports a package's public names on first use.

`import pulumi_tokenfactory` runs in every program and provider host; loading pydantic, httpx, FastAPI
or the policy pack for names nobody asked for would cost every run (see the import benchmark).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any],
                 computed: Mapping[str, Callable[[], Any]] | None = None) -> Callable[[str], Any]:
    """``__getattr__`` for ``package``: ``exports`` maps a public name to its submodule.

    ``computed`` maps further names to functions that produce their value (``__version__``). The
    value is stored in ``namespace``, so later lookups never reach ``__getattr__``.
    """
    makers = dict(computed or {})

    def __getattr__(name: str) -> Any:
        if name in makers:
            value = makers[name]()
        else:
            module = exports.get(name)
            if module is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return __getattr__
