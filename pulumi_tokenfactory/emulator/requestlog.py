"""What the emulator served, for tests that assert on API traffic.

Entries hold the method, path, query, status, timing, request id, the fault
that hit the request and its JSON body, never a header, so the API token
cannot end up in a log that tests print; a body that happens to contain the
token has it masked as well.

The log is bounded twice over, so that hostile or careless clients cannot
grow the emulator's memory: it keeps the last `request_log_limit` entries,
and of each body only a prefix (`request_log_body_bytes`), stored as text
that is always valid Unicode. An entry says when its body was cut
(`body_truncated`) and how long the body really was (`body_bytes`).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from .jsonbody import BodyError, loads_strict

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
    #: The kept prefix of the body as text (secret masked, invalid UTF-8 replaced), None for no body.
    body_text: str | None
    #: The body's size as received, in bytes (a body refused as too large: as much as was read).
    body_bytes: int = 0
    #: True when `body_text` is only the start of the body.
    body_truncated: bool = False

    def as_json(self) -> dict[str, Any]:
        entry = asdict(self)
        del entry["body_text"]
        entry["body"] = self.body
        return entry

    @property
    def body(self) -> Any:
        """The body as JSON when it is all here and strict JSON, else as the text kept.

        Decoded when asked for rather than when logged: text costs its length, while
        the decoded value of a few kilobytes of JSON can cost many times that.
        """
        if self.body_text is None or self.body_truncated:
            return self.body_text
        try:
            return loads_strict(self.body_text)
        except BodyError:
            return self.body_text


def body_text(raw: bytes, size: int, *, limit: int, secret: str | None) -> tuple[str | None, bool]:
    """The text to log of a body of `size` bytes (`raw`: all of it, or its start), and whether it is cut short.

    The secret is masked before the cut, over a window long enough to hold whole any
    occurrence that starts before the cut, so not even a prefix of the token is kept.
    """
    if size == 0:
        return None, False
    window = limit + (len(secret.encode("utf-8")) if secret else 0)
    text = raw[:window].decode("utf-8", errors="replace")
    if secret:
        text = text.replace(secret, "***")
    if size <= limit:
        return text, False
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore"), True


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
