"""The raw ASGI layer in front of the routes: request ids, refusals, auth, the request log and faults.

It sits below FastAPI because some faults cannot be expressed as a
response object: a dropped connection must close the socket without a
single byte of HTTP, and a truncated answer must promise more body than it
sends. Under uvicorn's h11 protocol the transport is reachable from the
`send` callable; without it (an in-process test client) a drop raises
`ConnectionDropped` instead, which the client sees as a failed request.

Before any route runs, a request is refused, in this order, when a web page
sent it (403, see `browser`), when it lacks the API key (401; `GET /openapi.json` needs none), when its body
is larger than `max_body_bytes` (413: the routes never hold more than that),
or when it changes something with a body that is not declared JSON (415).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .browser import cross_site_refusal, media_type_refusal
from .config import DEFAULT_LOG_BODY_BYTES, DEFAULT_MAX_BODY_BYTES
from .errors import ADMIN_PREFIX, ApiError, error_bytes
from .faults import APPLYING_ACTIONS, Fault, FaultRegistry, alternate_shape, malformed_body, with_extra_fields
from .requestlog import DROPPED, LoggedRequest, RequestLog, body_text
from .store import isoformat

log = logging.getLogger("tokenfactory.emulator")

Headers = list[tuple[bytes, bytes]]
#: Served without the API key, as the real API serves its schema.
PUBLIC_PATHS = frozenset({"/openapi.json"})
#: A body over the limit is still read to its end (and thrown away) so that the client, busy sending, gets to read
#: the 413; beyond this many bytes the emulator stops reading and the connection closes instead.
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024


class ConnectionDropped(Exception):
    """A `drop` fault where no socket can be closed (an in-process client): fail the request instead."""


@dataclass
class Body:
    """A request body as read: all of it, or, when `too_large`, only its start."""

    data: bytes
    #: Bytes received (for a body over the limit: as many as were read before giving up).
    size: int
    too_large: bool = False


@dataclass
class Captured:
    """A response produced by the routes but not yet sent."""

    status: int = 500
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _without(headers: Headers, *names: bytes) -> Headers:
    return [(k, v) for k, v in headers if k.lower() not in names]


class Gateway:
    """Wraps the FastAPI app; everything that must see every request happens here."""

    def __init__(self, app: ASGIApp, *, api_key: str | None, faults: FaultRegistry, requests: RequestLog,
                 clock: Callable[[], float], max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 log_body_bytes: int = DEFAULT_LOG_BODY_BYTES, trusted_hosts: tuple[str, ...] = (),
                 legacy: bool = False) -> None:
        self.app = app
        self._api_key = api_key
        self.faults = faults
        self.requests = requests
        self._clock = clock
        self._max_body_bytes = max_body_bytes
        self._log_body_bytes = log_body_bytes
        self._trusted_hosts = trusted_hosts
        #: Refusals and injected errors on the management routes take the legacy error shape.
        self._legacy = legacy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req-" + uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        method, path = scope["method"], scope["path"]
        admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
        status: int | str = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = _without(list(message.get("headers", [])), b"x-request-id")
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        started, seq = time.monotonic(), 0 if admin else self.requests.next_seq()
        # Of a body too large to keep, only what the log may show (and enough to mask a token cut by it).
        body = await _read_body(receive, self._max_body_bytes,
                                keep=self._log_body_bytes + len((self._api_key or "").encode()))
        replay = _replaying(body.data, receive)
        fault: Fault | None = None
        try:
            refusal = self._refusal(scope, body)
            if refusal is not None:
                await self._send_error(send_with_id, path, request_id, refusal)
            elif admin:
                await self.app(scope, replay, send_with_id)
            else:
                fault = self.faults.take(method, path)
                if fault is None:
                    await self.app(scope, replay, send_with_id)
                else:
                    status = await self._faulted(fault, scope, replay, send, send_with_id, request_id)
        finally:
            if not admin:
                self._log(seq, scope, body, status or DROPPED, started, request_id, fault)

    def _refusal(self, scope: Scope, body: Body) -> ApiError | None:
        """Why the request may not reach the routes (None: it may), in the order the module docstring gives."""
        method = scope["method"]
        refusal = cross_site_refusal(
            method=method, host=_header(scope, b"host"), origin=_header(scope, b"origin"),
            fetch_site=_header(scope, b"sec-fetch-site"), server=scope.get("server"),
            trusted_hosts=self._trusted_hosts)
        if refusal is not None:
            return refusal
        if not self._authorized(scope) and not (method == "GET" and scope["path"] in PUBLIC_PATHS):
            return ApiError(401, "unauthorized", "missing or invalid API token: send `Authorization: Bearer <token>`",
                            headers={"www-authenticate": "Bearer"})
        if body.too_large:
            return ApiError(413, "payload_too_large",
                            f"the request body is larger than {self._max_body_bytes} bytes, the most this emulator "
                            "accepts (--max-body-bytes)")
        return media_type_refusal(method=method, content_type=_header(scope, b"content-type"),
                                  has_body=body.size > 0)

    def _authorized(self, scope: Scope) -> bool:
        if self._api_key is None:
            return True
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._api_key.encode())

    def _log(self, seq: int, scope: Scope, body: Body, status: int | str, started: float, request_id: str,
             fault: Fault | None) -> None:
        duration_ms = round((time.monotonic() - started) * 1000, 2)
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        text, truncated = body_text(body.data, body.size, limit=self._log_body_bytes, secret=self._api_key)
        self.requests.add(LoggedRequest(
            seq=seq, time=isoformat(self._clock()), method=scope["method"], path=scope["path"], query=query,
            status=status, duration_ms=duration_ms, request_id=request_id,
            fault=fault.id if fault else None, action=fault.spec.action if fault else None,
            body_text=text, body_bytes=body.size, body_truncated=truncated))
        fault_note = f" [fault {fault.id}: {fault.spec.action}]" if fault else ""
        log.info("%s %s -> %s (%.1f ms) %s%s", scope["method"], scope["path"], status, duration_ms, request_id,
                 fault_note)

    async def _send_error(self, send: Send, path: str, request_id: str, error: ApiError) -> None:
        status, payload = error_bytes(error, path=path, request_id=request_id, legacy=self._legacy)
        headers = [(k.encode(), v.encode()) for k, v in error.headers.items()]
        await _send_whole(send, Captured(status, [*headers, (b"content-type", b"application/json")], payload))

    async def _faulted(self, fault: Fault, scope: Scope, receive: Receive, raw_send: Send, send: Send,
                       request_id: str) -> int | str:
        """Play the fault; returns the status the client saw, or "dropped"."""
        spec = fault.spec
        if spec.delay:
            await asyncio.sleep(spec.delay)
        captured = await self._capture(scope, receive) if spec.action in APPLYING_ACTIONS else None
        path = scope["path"]
        if spec.action in ("error", "apply_then_error"):
            status = spec.response_status or 500
            headers = {"retry-after": f"{spec.retry_after:g}"} if spec.retry_after is not None else {}
            if spec.body is not None:
                payload = json.dumps(spec.body).encode()
                await _send_whole(send, Captured(status, [*[(k.encode(), v.encode()) for k, v in headers.items()],
                                                          (b"content-type", b"application/json")], payload))
            else:
                applied = " (the change was applied)" if spec.action == "apply_then_error" else ""
                await self._send_error(send, path, request_id, ApiError(
                    status, "injected_fault", f"injected fault {fault.id}: HTTP {status}{applied}", headers=headers))
            return status
        if spec.action in ("drop", "apply_then_drop"):
            await _drop(raw_send, receive)
            return DROPPED
        assert captured is not None
        if spec.action == "truncated":
            await _truncate(raw_send, send, receive, captured)
            return captured.status
        if spec.action == "malformed":
            captured.body = malformed_body(captured.body, spec.body)
        elif spec.action in ("extra_fields", "alternate_shape"):
            try:
                value = captured.json()
            except ValueError:
                value = None
            if value is not None:
                value = with_extra_fields(value, spec.body) if spec.action == "extra_fields" else alternate_shape(value)
                captured.body = json.dumps(value).encode()
        await _send_whole(send, captured)
        return captured.status

    async def _capture(self, scope: Scope, receive: Receive) -> Captured:
        captured = Captured()
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.status, captured.headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, capture)
        captured.body = b"".join(chunks)
        return captured


async def _read_body(receive: Receive, limit: int, *, keep: int) -> Body:
    """The whole body when it is at most `limit` bytes; else its first `keep` bytes, the rest read and dropped.

    Memory stays bounded by `limit` whatever the client sends, and the client, which
    sends its whole body before reading an answer, still gets to read the 413.
    """
    chunks: list[bytes] = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if not too_large:
            chunks.append(chunk)
            if size > limit:
                too_large = True
                chunks = [b"".join(chunks)[:keep]]
        if not message.get("more_body") or size > DRAIN_LIMIT_BYTES:
            break
    return Body(b"".join(chunks), size, too_large)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the routes the body already read, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_whole(send: Send, response: Captured) -> None:
    headers = _without(response.headers, b"content-length")
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


def _transport(send: Send) -> asyncio.BaseTransport | None:
    """The connection's transport, reachable through uvicorn's bound `send` method."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if isinstance(transport, asyncio.BaseTransport) else None


async def _close(send: Send, receive: Receive) -> None:
    transport = _transport(send)
    if transport is None:
        raise ConnectionDropped("drop fault: the connection was closed without an answer")
    transport.close()
    # Wait for the server to notice, so it does not answer 500 for a response never started.
    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(disconnected(), timeout=2.0)


async def _drop(raw_send: Send, receive: Receive) -> None:
    await _close(raw_send, receive)


async def _truncate(raw_send: Send, send: Send, receive: Receive, response: Captured) -> None:
    """The headers promise the whole body; half of it arrives, then the connection closes."""
    if _transport(raw_send) is None:
        raise ConnectionDropped("truncated fault: the answer was cut short")
    headers = _without(response.headers, b"content-length")
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body[: len(response.body) // 2], "more_body": True})
    await _close(raw_send, receive)
