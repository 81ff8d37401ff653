"""Settings of one emulator instance, shared by the CLI and in-process tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: Read when --api-key is not given, so the token need not appear in a process list.
API_KEY_ENV = "TOKENFACTORY_EMULATOR_API_KEY"
DEFAULT_PROVISION_SECONDS = 2.0


@dataclass(frozen=True)
class EmulatorConfig:
    """How long each transition takes and what the server demands of its callers.

    Durations left as None derive from `provision_seconds`, so one knob
    speeds the whole emulator up or down proportionally.
    """

    provision_seconds: float = DEFAULT_PROVISION_SECONDS
    update_seconds: float | None = None
    stop_seconds: float | None = None
    delete_seconds: float | None = None
    api_key: str | None = field(default=None, repr=False)
    state_file: str | os.PathLike[str] | None = None
    #: The request log keeps only this many recent entries, so a long-running demo cannot grow without bound.
    request_log_limit: int = 10_000

    def __post_init__(self) -> None:
        for name in ("provision_seconds", "update_seconds", "stop_seconds", "delete_seconds"):
            value = getattr(self, name)
            if value is not None and (value != value or value < 0):  # NaN or negative
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if self.request_log_limit < 1:
            raise ValueError("request_log_limit must be >= 1")

    @property
    def update_duration(self) -> float:
        return self.update_seconds if self.update_seconds is not None else self.provision_seconds / 4

    @property
    def stop_duration(self) -> float:
        return self.stop_seconds if self.stop_seconds is not None else self.provision_seconds / 4

    @property
    def delete_duration(self) -> float:
        return self.delete_seconds if self.delete_seconds is not None else self.provision_seconds / 5
