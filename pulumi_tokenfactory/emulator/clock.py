"""Where the emulator's "now" comes from: swap in `ManualClock` to make every transition deterministic."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since the epoch (wall-clock, so persisted timestamps survive a restart)."""

    @property
    def offset(self) -> float:
        """Seconds this clock has been moved ahead of where it started."""

    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time, plus whatever an operator has skipped ahead."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds


class ManualClock:
    """A clock that stands still until told to move: for tests that must not depend on timing."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._start = self._now = start

    @property
    def offset(self) -> float:
        return self._now - self._start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += seconds
