"""Where the emulator's idea of "now" comes from.

Endpoint status is computed from timestamps rather than by background
threads, so swapping the clock makes every transition deterministic in unit
tests (``ManualClock``), and lets a live emulator skip a realistic 15-minute
start (``POST /_emulator/clock``) without sleeping.
"""

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
        self._offset = offset

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds


class ManualClock:
    """A clock that stands still until told to move: for tests that must not depend on timing."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._start = start
        self._now = start

    @property
    def offset(self) -> float:
        return self._now - self._start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += seconds
