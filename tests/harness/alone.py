"""Under pytest-xdist, a test marked `alone` runs while no other test of the run does.

Such a test times the real CLI against the wall clock, with margins for a quiet 2-core machine;
the other workers' load would fail it. Every worker holds an `AloneGate` on one directory the
whole run shares, and passes each test through it (tests/conftest.py, around the whole test, so
the waiting is no part of pytest-timeout's clock). A readers-writer lock made of files, with
`flock`, so that whatever a worker that dies held is released:

- an alone test holds `<key>.lock` from the moment it asks to run, marks itself `<key>.started`,
  then takes the turnstile and `running` exclusively (waiting for the tests in flight), runs, and
  marks itself `<key>.done` before it lets go;
- any other test first waits while an alone test of the run has started and is not done (and,
  for the run's first minute, while one has not started yet: the workers put the alone tests
  first, so that they run at the start, while the rest waits), then passes through the
  turnstile and takes `running` shared.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

#: How long, from a worker's collection, other tests wait for an alone test of the run that has not started yet.
STARTUP_GRACE = 60.0
POLL = 0.2


class AloneGate:
    """One worker's view of the run's gate: the run's alone tests (node ids) and the shared directory."""

    def __init__(self, root: Path, alone: Iterable[str]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.keys = {nodeid: hashlib.sha256(nodeid.encode()).hexdigest()[:16] for nodeid in alone}
        self.grace_until = time.monotonic() + STARTUP_GRACE

    @contextmanager
    def passage(self, nodeid: str) -> Iterator[None]:
        """Hold the gate for one test: alone if it is an alone test, alongside the other tests otherwise."""
        with self._open("turnstile") as turnstile, self._open("running") as running:
            key = self.keys.get(nodeid)
            if key is None:
                while self._an_alone_test_is_due():
                    time.sleep(POLL)
                fcntl.flock(turnstile, fcntl.LOCK_EX)
                fcntl.flock(turnstile, fcntl.LOCK_UN)
                fcntl.flock(running, fcntl.LOCK_SH)
                yield
                return
            with self._open(f"{key}.lock") as mine:
                fcntl.flock(mine, fcntl.LOCK_EX)
                (self.root / f"{key}.started").touch()
                fcntl.flock(turnstile, fcntl.LOCK_EX)
                fcntl.flock(running, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    (self.root / f"{key}.done").touch()
        # Closing the files lets go of their locks.

    def _an_alone_test_is_due(self) -> bool:
        for key in self.keys.values():
            if (self.root / f"{key}.done").exists():
                continue
            if (self.root / f"{key}.started").exists():
                if self._held(key):  # waiting for its turn or running; not held: its worker died
                    return True
            elif time.monotonic() < self.grace_until:
                return True
        return False

    def _held(self, key: str) -> bool:
        with self._open(f"{key}.lock") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False

    def _open(self, name: str) -> IO[str]:
        return (self.root / name).open("a")
