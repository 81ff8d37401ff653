"""A local, loopback-only server speaking the Token Factory dedicated-endpoints API (sdk-docs/emulator.md).

Imports nothing heavy: FastAPI and uvicorn (the `emulator` extra) load only when an app is built or served, and
without them importing this package fails at once with the command that installs them.
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
