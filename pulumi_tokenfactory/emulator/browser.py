"""Refuse requests that a web page, rather than a program, sent to the emulator.

The emulator listens on loopback and, without `--api-key`, answers anyone who
reaches it. A program on this machine may; a web page open in a browser on
this machine must not, or any site could reset the account or arm faults.
A browser can reach a loopback server in three ways, each closed here:

- a cross-site request (a form post, `fetch(..., {mode: "no-cors"})`, an
  image): browsers mark it with `Sec-Fetch-Site: cross-site` (or
  `same-site`, e.g. another port of `localhost`) and, for anything but a
  plain GET, an `Origin` header. Either, when it names somewhere other than
  the emulator itself, is refused with 403 `cross_site_request`;
- a "simple" request that older browsers send without those headers: it can
  only carry a form or text content type, never `application/json`, so a
  request that changes something (POST, PUT, PATCH, DELETE) and carries a
  body or a content type must say `application/json`, else 415
  `unsupported_media_type`. A body-less POST without a content type (how
  `curl -X POST .../_emulator/reset` and the test helper send one) stays
  accepted: a browser sends such a request only with an `Origin` header;
- DNS rebinding: a page from `evil.example` whose name is re-pointed at
  127.0.0.1 is same-origin in the browser's eyes, but its requests say
  `Host: evil.example`. Only loopback names and addresses (and the
  `--host` given) are accepted in `Host`, else 403 `forbidden_host`.

Programs (httpx, the `openai` client, curl, the provider) send none of these
headers, a loopback `Host`, and `application/json` with every body, so they
are not affected.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from .errors import ApiError

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


def cross_site_refusal(*, method: str, host: str | None, origin: str | None, fetch_site: str | None,
                       server: Sequence[object] | None, trusted_hosts: Sequence[str]) -> ApiError | None:
    """The 403 for a request from a web page elsewhere (or through DNS rebinding), else None."""
    if host is not None and not _host_accepted(_split_host(host)[0], server, trusted_hosts):
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


def media_type_refusal(*, method: str, content_type: str | None, has_body: bool) -> ApiError | None:
    """The 415 for a change carrying anything but JSON (what an HTML form or a simple request sends), else None."""
    if method not in MUTATING_METHODS or (content_type is None and not has_body):
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == JSON_MEDIA_TYPE:
        return None
    given = f"Content-Type {media!r}" if media else "no Content-Type"
    return ApiError(415, "unsupported_media_type",
                    f"a {method} request body must be JSON, sent with `Content-Type: {JSON_MEDIA_TYPE}`; got {given}")
