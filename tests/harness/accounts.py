"""What an engine suite's emulator account looks like (see the fixtures in tests/engine/conftest.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AccountSettings:
    """A module's account: the token its emulator accepts, the emulator's timings, the host's polling and env.

    Each suite uses a token of its own, so that a leak scan or a failure message points at the suite.
    """

    token: str = "tf-engine-suite-token-0c4d"
    emulator: Mapping[str, Any] = field(default_factory=lambda: {"provision_seconds": 0.3, "delete_seconds": 0.05})
    """`EmulatorProcess` keywords (all but `api_key`)."""
    poll_max: float = 0.1
    host_env: Mapping[str, str] = field(default_factory=dict)
    """Added to every provider host's environment, e.g. ``{"TOKENFACTORY_HTTP_TIMEOUT": "1"}``."""
