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

FORMAT_VERSION = 2
#: Versions a state file may have; older ones are read and upgraded (the store's `upgrade_state`).
READABLE_VERSIONS = (1, FORMAT_VERSION)


class StateFileError(Exception):
    """The state file exists but cannot be used; the emulator refuses to start rather than lose it."""


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none yet.

        Anything else that is wrong with the file raises StateFileError with one line naming the file and
        the problem (the CLI prints it and exits with status 2): a traceback would hide which file is at
        fault, and starting anyway would overwrite it on the first change.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(f"cannot read state file {self.path}: {exc}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.invalid(f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except RecursionError:
            raise self.invalid("is not valid JSON (nested too deeply)") from None
        except ValueError as exc:
            raise self.invalid(f"is not valid JSON ({exc})") from None
        version = data.get("version") if isinstance(data, dict) else None
        if type(version) is not int or version not in READABLE_VERSIONS:
            raise StateFileError(f"state file {self.path} is not an emulator state file of version "
                                 f"{' or '.join(map(str, READABLE_VERSIONS))}")
        return dict(data)

    def invalid(self, problem: str) -> StateFileError:
        """The error for a file that exists but cannot be used: it names the file, the problem and the way out."""
        return StateFileError(f"state file {self.path} {problem}; move it away to start afresh")

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
