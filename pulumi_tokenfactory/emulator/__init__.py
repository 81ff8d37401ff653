"""A local, loopback-only HTTP server speaking the Token Factory dedicated-endpoints API.

README demos and the whole test suite run against it, so it behaves like the
real service (validation, lifecycle timing, inference 404s while starting)
and can misbehave on purpose (fault injection) in ways the client must
survive. Run it with ``tokenfactory-emulator`` or ``python -m
pulumi_tokenfactory.emulator``; drive it from tests with
:class:`~pulumi_tokenfactory.emulator.testing.EmulatorProcess`.

This package imports nothing heavy at import time: FastAPI and uvicorn load
only when an app is built or a server started, so importing the testing
helper stays cheap. They come with the `emulator` extra, which a Pulumi
program does not need; without it, importing this package fails at once with
the command that installs it, rather than with a bare "No module named
'fastapi'" from deep inside a request or a subprocess.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# find_spec only locates the modules; it imports neither.
_MISSING = [module for module in ("fastapi", "uvicorn") if find_spec(module) is None]
if _MISSING:
    raise ModuleNotFoundError(
        f"The Token Factory emulator needs {' and '.join(_MISSING)}, which pulumi-tokenfactory installs only "
        "with its `emulator` extra: pip install 'pulumi-tokenfactory[emulator]' "
        "(from a checkout: pip install -e '.[emulator]')",
        name=_MISSING[0])

__all__ = ["EmulatorConfig", "EmulatorProcess", "ManualClock", "SystemClock", "create_app"]

_EXPORTS = {
    "EmulatorConfig": "config",
    "ManualClock": "clock",
    "SystemClock": "clock",
    "create_app": "app",
    "EmulatorProcess": "testing",
}

if TYPE_CHECKING:
    from .app import create_app
    from .clock import ManualClock, SystemClock
    from .config import EmulatorConfig
    from .testing import EmulatorProcess


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
