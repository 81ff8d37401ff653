"""What the emulator served, for tests that assert on API traffic.

Entries hold the method, path, query, status, timing, request id, the fault
that hit the request and its JSON body, never a header, so the API token
cannot end up in a log that tests print; a body that happens to contain the
token has it masked as well.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

DROPPED = "dropped"


@dataclass
class LoggedRequest:
    seq: int
    time: str
    method: str
    path: str
    query: str
    #: The HTTP status sent, or "dropped" when the connection was closed without a complete answer.
    status: int | str
    duration_ms: float
    request_id: str
    fault: str | None
    action: str | None
    body: Any

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def decode_body(raw: bytes, secret: str | None) -> Any:
    """The request body as JSON when it is JSON (else as text), with `secret` masked."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if secret:
        text = text.replace(secret, "***")
    try:
        return json.loads(text)
    except ValueError:
        return text[:2000]


class RequestLog:
    """A bounded, thread-safe list of served requests, oldest first."""

    def __init__(self, limit: int) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def next_seq(self) -> int:
        with self._lock:
            return next(self._seq)

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [e.as_json() for e in sorted(self._entries, key=lambda e: e.seq) if e.seq > since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
