"""The raw ASGI layer in front of the routes: request ids, auth, the request log and faults.

It sits below FastAPI because some faults cannot be expressed as a
response object: a dropped connection must close the socket without a
single byte of HTTP, and a truncated answer must promise more body than it
sends. Under uvicorn's h11 protocol the transport is reachable from the
`send` callable; without it (an in-process test client) a drop raises
`ConnectionDropped` instead, which the client sees as a failed request.
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

from .errors import ApiError, error_bytes
from .faults import APPLYING_ACTIONS, Fault, FaultRegistry, alternate_shape, malformed_body, with_extra_fields
from .requestlog import DROPPED, LoggedRequest, RequestLog, decode_body
from .store import isoformat

log = logging.getLogger("tokenfactory.emulator")

ADMIN_PREFIX = "/_emulator"
Headers = list[tuple[bytes, bytes]]


class ConnectionDropped(Exception):
    """A `drop` fault where no socket can be closed (an in-process client): fail the request instead."""


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
                 clock: Callable[[], float]) -> None:
        self.app = app
        self._api_key = api_key
        self.faults = faults
        self.requests = requests
        self._clock = clock

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
        body = await _read_body(receive)
        replay = _replaying(body, receive)
        fault: Fault | None = None
        try:
            if not self._authorized(scope):
                await self._send_error(send_with_id, path, request_id, ApiError(
                    401, "unauthorized", "missing or invalid API token: send `Authorization: Bearer <token>`",
                    headers={"www-authenticate": "Bearer"}))
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

    def _authorized(self, scope: Scope) -> bool:
        if self._api_key is None:
            return True
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._api_key.encode())

    def _log(self, seq: int, scope: Scope, body: bytes, status: int | str, started: float, request_id: str,
             fault: Fault | None) -> None:
        duration_ms = round((time.monotonic() - started) * 1000, 2)
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        self.requests.add(LoggedRequest(
            seq=seq, time=isoformat(self._clock()), method=scope["method"], path=scope["path"], query=query,
            status=status, duration_ms=duration_ms, request_id=request_id,
            fault=fault.id if fault else None, action=fault.spec.action if fault else None,
            body=decode_body(body, self._api_key)))
        fault_note = f" [fault {fault.id}: {fault.spec.action}]" if fault else ""
        log.info("%s %s -> %s (%.1f ms) %s%s", scope["method"], scope["path"], status, duration_ms, request_id,
                 fault_note)

    async def _send_error(self, send: Send, path: str, request_id: str, error: ApiError) -> None:
        payload = error_bytes(error, path=path, request_id=request_id)
        headers = [(k.encode(), v.encode()) for k, v in error.headers.items()]
        await _send_whole(send, Captured(error.status, [*headers, (b"content-type", b"application/json")], payload))

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


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


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
