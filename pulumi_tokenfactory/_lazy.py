"""Module-level ``__getattr__`` and ``__dir__`` that import a package's public names on first use.

`import pulumi_tokenfactory` runs in every Pulumi program and in the provider
host; loading pydantic, httpx, FastAPI or the policy pack there only for
names nobody asked for would cost every run (see the import benchmark). A
lazy name is invisible to ``dir()`` until first used, so ``lazy_dir`` lists
the public names instead of the helpers the module happens to hold.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any],
                 computed: Mapping[str, Callable[[], Any]] | None = None) -> Callable[[str], Any]:
    """``__getattr__`` for ``package``: ``exports`` maps a public name to its submodule.

    ``computed`` maps further names to functions that produce their value (such as
    ``__version__``, read from the installed metadata only when someone asks).
    The value found is stored in ``namespace`` (the package's globals), so each
    name is imported once and later lookups never reach ``__getattr__``.
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


def lazy_dir(public: Iterable[str]) -> Callable[[], list[str]]:
    """``__dir__`` listing ``public`` (the package's ``__all__`` and the like), loaded or not."""
    names = sorted(set(public))

    def __dir__() -> list[str]:
        return list(names)

    return __dir__
