"""The raw ASGI layer in front of the routes: request ids, refusals, auth, the request log and faults.

It sits below FastAPI because some faults are no response object: a drop closes the socket without a byte of
HTTP, a truncated answer promises more body than it sends. Under uvicorn's h11 protocol the transport is
reachable from `send`; without it (an in-process client) they raise `ConnectionDropped` instead.

A web page must not drive the emulator (sdk-docs/emulator.md says how): a cross-site request (403), a "simple"
non-JSON one (415) and DNS rebinding (a `Host` that is not loopback, 403) are refused. The request log keeps no
header, masks the token in bodies, and is bounded: `request_log_limit` entries, a body prefix of valid text each.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import itertools
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import Clock
from .config import EmulatorConfig
from .errors import ApiError, is_admin_path, render_error
from .faults import APPLYING_ACTIONS, Fault, FaultRegistry, alternate_shape, malformed_body, with_extra_fields
from .store import isoformat
from .validation import BodyError, loads_strict

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
    """A request body as read: all of it, or, when `too_large`, only its start (`size`: bytes received)."""

    data: bytes
    size: int
    too_large: bool = False


@dataclass
class Captured:
    """A response produced by the routes but not yet sent."""

    status: int = 500
    headers: Headers = field(default_factory=list)
    body: bytes = b""


def _header(scope: Scope, name: bytes) -> str | None:
    return next((bytes(v).decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name), None)


def _without(headers: Headers, *names: bytes) -> Headers:
    return [(k, v) for k, v in headers if k.lower() not in names]


@dataclass(eq=False)
class Gateway:
    """Wraps the FastAPI app; everything that must see every request happens here (refusals in `_refusal`'s order)."""

    app: ASGIApp
    config: EmulatorConfig
    faults: FaultRegistry
    requests: RequestLog
    clock: Clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req-" + uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        method, path = scope["method"], scope["path"]
        admin = is_admin_path(path)
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
        body = await _read_body(receive, self.config.max_body_bytes,
                                keep=self.config.request_log_body_bytes + len((self.config.api_key or "").encode()))
        replay = _replaying(body.data, receive)
        fault: Fault | None = None
        try:
            refusal = self._refusal(scope, body)
            if refusal is not None:
                await self._send_error(send_with_id, path, request_id, refusal)
            elif admin or (fault := self.faults.take(method, path)) is None:
                await self.app(scope, replay, send_with_id)
            else:
                status = await self._faulted(fault, scope, replay, send, send_with_id, request_id)
        finally:
            if not admin:
                self._log(seq, scope, body, status or DROPPED, started, request_id, fault)

    def _refusal(self, scope: Scope, body: Body) -> ApiError | None:
        """Why the request may not reach the routes (None: it may), in order: sent by a web page (403, see below),
        no API key (401; not `GET /openapi.json`), a body over `max_body_bytes` (413), a change not in JSON (415)."""
        method, config = scope["method"], self.config
        if (refusal := cross_site_refusal(scope, config.trusted_hosts)) is not None:
            return refusal
        if not self._authorized(scope) and not (method == "GET" and scope["path"] in PUBLIC_PATHS):
            return ApiError(401, "unauthorized", "missing or invalid API token: send `Authorization: Bearer <token>`",
                            headers={"www-authenticate": "Bearer"})
        if body.too_large:
            return ApiError(413, "payload_too_large",
                            f"the request body is larger than {config.max_body_bytes} bytes, the most this emulator "
                            "accepts (--max-body-bytes)")
        return media_type_refusal(method, _header(scope, b"content-type"), has_body=body.size > 0)

    def _authorized(self, scope: Scope) -> bool:
        if self.config.api_key is None:
            return True
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.config.api_key.encode())

    def _log(self, seq: int, scope: Scope, body: Body, status: int | str, started: float, request_id: str,
             fault: Fault | None) -> None:
        duration_ms = round((time.monotonic() - started) * 1000, 2)
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        text, truncated = body_text(body.data, body.size, limit=self.config.request_log_body_bytes,
                                    secret=self.config.api_key)
        self.requests.add(LoggedRequest(
            seq=seq, time=isoformat(self.clock.now()), method=scope["method"], path=scope["path"], query=query,
            status=status, duration_ms=duration_ms, request_id=request_id,
            fault=fault.id if fault else None, action=fault.spec.action if fault else None,
            body_text=text, body_bytes=body.size, body_truncated=truncated))
        fault_note = f" [fault {fault.id}: {fault.spec.action}]" if fault else ""
        log.info("%s %s -> %s (%.1f ms) %s%s", scope["method"], scope["path"], status, duration_ms, request_id,
                 fault_note)

    async def _send_error(self, send: Send, path: str, request_id: str, error: ApiError) -> None:
        status, payload = render_error(error, path=path, request_id=request_id, legacy=self.config.legacy)
        await _send_json(send, status, error.headers, payload)

    async def _faulted(self, fault: Fault, scope: Scope, receive: Receive, raw_send: Send, send: Send,
                       request_id: str) -> int | str:
        """Play the fault; returns the status the client saw, or "dropped"."""
        spec = fault.spec
        if spec.delay:
            await asyncio.sleep(spec.delay)
        captured = await self._capture(scope, receive) if spec.action in APPLYING_ACTIONS else None
        if spec.action in ("error", "apply_then_error"):
            status = spec.response_status or 500
            headers = {"retry-after": f"{spec.retry_after:g}"} if spec.retry_after is not None else {}
            if spec.body is not None:
                await _send_json(send, status, headers, spec.body)
            else:
                applied = " (the change was applied)" if spec.action == "apply_then_error" else ""
                await self._send_error(send, scope["path"], request_id, ApiError(
                    status, "injected_fault", f"injected fault {fault.id}: HTTP {status}{applied}", headers=headers))
            return status
        if spec.action in ("drop", "apply_then_drop"):
            await _close(raw_send, receive)
            return DROPPED
        assert captured is not None
        if spec.action == "truncated":
            if _transport(raw_send) is None:
                raise ConnectionDropped("truncated fault: the answer was cut short")
            # The headers promise the whole body; half of it arrives, then the connection closes.
            await _send_whole(send, captured, cut=True)
            await _close(raw_send, receive)
            return captured.status
        if spec.action == "malformed":
            captured.body = malformed_body(captured.body, spec.body)
        elif spec.action in ("extra_fields", "alternate_shape"):
            with contextlib.suppress(ValueError):
                value = json.loads(captured.body)
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
    """The whole body when it is at most `limit` bytes; else its first `keep` bytes, the rest read and dropped
    (memory stays bounded, and the client, which sends its whole body before reading, still reads the 413)."""
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


async def _send_whole(send: Send, response: Captured, *, cut: bool = False) -> None:
    """The response with its length; `cut`: only the first half of the body, the answer left unfinished."""
    headers = _without(response.headers, b"content-length")
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    body = response.body[: len(response.body) // 2] if cut else response.body
    await send({"type": "http.response.body", "body": body, "more_body": cut})


async def _send_json(send: Send, status: int, headers: dict[str, str], payload: Any) -> None:
    encoded = [(k.encode(), v.encode()) for k, v in headers.items()]
    await _send_whole(send, Captured(status, [*encoded, (b"content-type", b"application/json")],
                                     json.dumps(payload).encode()))


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


# -- requests sent by a web page ------------------------------------------------------------------

#: `Sec-Fetch-Site` values of requests the emulator's own origin, or the user by hand (`none`), started.
_OWN_SITES = frozenset({"same-origin", "none"})
#: Methods a request that changes something uses.
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_MEDIA_TYPE = "application/json"


def _split_host(value: str) -> tuple[str, str]:
    """`host[:port]` (or `[v6]:port`) -> (lower-case host, port or "")."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = value.partition(":") if value.count(":") == 1 else (value, "", "")
    return host, port


def is_loopback_name(host: str) -> bool:
    """`localhost`, a `*.localhost` name (which browsers resolve to loopback themselves), or a loopback address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_accepted(host: str, server: Sequence[object] | None, trusted: Sequence[str]) -> bool:
    if "*" in trusted or is_loopback_name(host):
        return True
    trusted_names = {name.strip("[]").lower() for name in trusted}
    if server:  # the address the connection arrived on (and the in-process test client's "testserver")
        trusted_names.add(str(server[0]).strip("[]").lower())
    return host in trusted_names


def _same_origin(origin: str, host_header: str | None) -> bool:
    """True when `Origin` names this very server: http, with the host and port the request was sent to."""
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep or scheme != "http" or host_header is None:
        return False  # includes "null": a sandboxed frame, a file:// page or a redirect hides its origin
    origin_host, origin_port = _split_host(rest)
    host, port = _split_host(host_header)
    return origin_host == host and (origin_port or "80") == (port or "80")


def cross_site_refusal(scope: Scope, trusted_hosts: Sequence[str]) -> ApiError | None:
    """The 403 for a request from a web page elsewhere (or through DNS rebinding), else None."""
    method, host, origin = scope["method"], _header(scope, b"host"), _header(scope, b"origin")
    fetch_site = _header(scope, b"sec-fetch-site")
    if host is not None and not _host_accepted(_split_host(host)[0], scope.get("server"), trusted_hosts):
        return ApiError(403, "forbidden_host",
                        f"refusing a request addressed to host {host!r}: the emulator answers only requests to a "
                        "loopback name or address (a web page may not reach it by DNS rebinding)")
    if fetch_site is not None and fetch_site.strip().lower() not in _OWN_SITES:
        return ApiError(403, "cross_site_request",
                        f"refusing a {fetch_site.strip()} {method} request sent by a web page "
                        "(Sec-Fetch-Site): only programs may drive the emulator")
    if origin is not None and not _same_origin(origin, host):
        return ApiError(403, "cross_site_request",
                        f"refusing a {method} request from origin {origin.strip()!r}: only programs, or pages "
                        "served by the emulator itself, may drive it")
    return None


def media_type_refusal(method: str, content_type: str | None, *, has_body: bool) -> ApiError | None:
    """The 415 for a change carrying anything but JSON (what an HTML form or a simple request sends), else None."""
    if method not in MUTATING_METHODS or (content_type is None and not has_body):
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == JSON_MEDIA_TYPE:
        return None
    given = f"Content-Type {media!r}" if media else "no Content-Type"
    return ApiError(415, "unsupported_media_type",
                    f"a {method} request body must be JSON, sent with `Content-Type: {JSON_MEDIA_TYPE}`; got {given}")


# -- the request log ------------------------------------------------------------------------------

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
        """The body as JSON when it is all here and strict JSON, else as the text kept (decoded only here: the
        decoded value of a few kilobytes of JSON can cost many times its text)."""
        entry = asdict(self)
        body = entry.pop("body_text")
        if body is not None and not self.body_truncated:
            with contextlib.suppress(BodyError):
                body = loads_strict(body)
        return {**entry, "body": body}


def body_text(raw: bytes, size: int, *, limit: int, secret: str | None) -> tuple[str | None, bool]:
    """The text to log of a body of `size` bytes (`raw`: all of it, or its start), and whether it is cut short;
    the secret is masked before the cut (over a window that holds it whole), so not even a prefix is kept."""
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
