"""Module-level ``__getattr__`` that imports a package's public names on first use.

`import pulumi_tokenfactory` runs in every Pulumi program and in the provider
host; loading pydantic, httpx, FastAPI or the policy pack there only for
names nobody asked for would cost every run (see the import benchmark).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """``__getattr__`` for ``package``: ``exports`` maps a public name to its submodule.

    The value found is stored in ``namespace`` (the package's globals), so each
    name is imported once and later lookups never reach ``__getattr__``.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return __getattr__
