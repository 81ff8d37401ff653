"""Optional JSON persistence of the emulator's endpoints across restarts.

Each change rewrites the whole file through a temporary file and an atomic
rename, so a crash (or `kill -9` in a test) leaves either the old state or
the new one, never half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1


class StateFileError(Exception):
    """The state file exists but cannot be used; the emulator refuses to start rather than lose it."""


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(f"cannot read state file {self.path}: {exc}") from None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StateFileError(f"state file {self.path} is not valid JSON ({exc}); move it away to start "
                                 "afresh") from None
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise StateFileError(f"state file {self.path} is not an emulator state file of version "
                                 f"{FORMAT_VERSION}")
        return data

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": FORMAT_VERSION, **data}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
