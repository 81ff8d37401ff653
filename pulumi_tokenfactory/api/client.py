"""Synchronous HTTP client of the Token Factory dedicated-endpoints API, in the manner of openai-python.

A timeout on every request, retries with full-jitter backoff that honour ``Retry-After`` within a
bounded number of attempts and a total deadline, and typed errors carrying status, method, path and
request id but never the token: everything an error answer says passes through one `Redactor`,
because a gateway or the API itself may echo the request's `Authorization` header.

GET, PATCH and DELETE are retried blindly. A POST is repeated only when the API certainly did not act
(429, or a connection never established); any other failed create is left to the provider, which looks
for the endpoint before trying again, so that a retry never buys a second GPU endpoint.
"""

from __future__ import annotations

import base64
import email.utils
import html
import json as jsonlib
import logging
import math
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from .. import errors
from ..fields import flatten_errors
from ..settings import API_KEY, BASE_URL, PROJECT_ID, ApiKey, Settings
from .models import (
    Endpoint,
    EndpointList,
    EndpointPatch,
    EndpointSpec,
    Template,
    first_problem,
    inference_base_url,
    parse_created,
    parse_endpoints,
    parse_patched,
    parse_templates,
)

log = logging.getLogger(__name__)

ENDPOINTS_PATH = "/v0/dedicated_endpoints"
TEMPLATES_PATH = "/v0/dedicated_endpoints/templates"

_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PATCH", "DELETE", "PUT"})
_REQUEST_ID_HEADERS = ("x-request-id", "x-nebius-request-id", "request-id", "x-trace-id")
_E = TypeVar("_E", bound=errors.TokenFactoryError)
_R = TypeVar("_R")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up; the defaults suit an interactive `pulumi up`."""

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    total_deadline: float = 60.0

    def backoff(self, attempt: int) -> float:
        """The full-jitter pause after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_initial * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


REDACTED = "[REDACTED]"
#: Held secrets shorter than this are only removed as whole words: a test key such as "k" must not
#: garble every message, and a real token is far longer.
_MIN_SUBSTRING_SECRET = 8
_TOKEN_CHARS = "A-Za-z0-9._~+/=-"
#: `Bearer <credential>` / `Basic <credential>`, whoever's credential it is (a gateway's, a truncated echo of ours).
_SCHEME_CREDENTIAL = re.compile(rf"(?i)\b(bearer|basic)(\s+|%20|\+)([{_TOKEN_CHARS}]{{8,}})")
#: `Authorization: <value>` or `"authorization": "<value>"`, when no scheme word precedes the value.
_AUTHORIZATION_VALUE = re.compile(
    rf"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?!bearer\b|basic\b|\[REDACTED\])([{_TOKEN_CHARS}]{{8,}})")
_BASE64_RUN = "[A-Za-z0-9+/_-]*"


def _base64_cores(secret: bytes) -> list[str]:
    """The part of base64(prefix + secret + suffix) that depends only on the secret, for each alignment.

    A `Basic base64(user:token)` header (or any blob that embeds the token) encodes the token
    at an offset of 0, 1 or 2 bytes modulo 3; the groups wholly inside it encode the same way
    whatever surrounds them. Both the standard and the URL-safe alphabet are covered.
    """
    cores: list[str] = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode()
        first, last = (1 if shift else 0), (shift + len(secret)) // 3
        core = encoded[4 * first: 4 * last]
        if len(core) >= 8:
            cores += [core, core.replace("+", "-").replace("/", "_")]
    return cores


def _text_patterns(secret: str) -> set[str]:
    """Regular expressions for the secret as an answer might spell it: verbatim, JSON-, HTML- or URL-escaped.

    Every form matches without regard to case: `%2b` and `%2B` are both found, and so is a token an
    answer upper-cases (`TOKEN TFK-4F0C... IS NOT VALID`); and across whitespace, so a token an answer
    wraps onto the next line is found whole (an excerpt joins the lines, and no half may remain).
    """
    escaped = jsonlib.dumps(secret)[1:-1]
    forms = {secret, html.escape(secret), escaped, escaped.replace("/", "\\/"),
             jsonlib.dumps(secret, ensure_ascii=False)[1:-1], urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret), urllib.parse.quote(secret, safe="/")}
    return {"(?i:" + r"\s*".join(re.escape(ch) for ch in form) + ")" for form in forms}


class Redactor:
    """Removes every credential the client holds from a text, whatever the encoding it was echoed in.

    Every message, body excerpt and request id taken from an answer goes through it before it
    becomes part of an exception (the gRPC error detail the Pulumi CLI prints) or a log line. It also
    removes any `Bearer`/`Basic` credential and any value after `Authorization:`, so a partial echo
    or a gateway's own credential is not shown either.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        long_forms: set[str] = set()
        short: set[str] = set()
        cores: list[str] = []
        for secret in {s for s in secrets if s}:
            if len(secret) < _MIN_SUBSTRING_SECRET:
                short.add(secret)
                continue
            long_forms |= _text_patterns(secret)
            cores += _base64_cores(secret.encode())
        longest_first = sorted(long_forms, key=len, reverse=True)
        self._secrets = re.compile("|".join(longest_first)) if longest_first else None
        words = [rf"(?<![{_TOKEN_CHARS}]){re.escape(s)}(?![{_TOKEN_CHARS}])"
                 for s in sorted(short, key=len, reverse=True)]
        self._short = re.compile("|".join(words)) if words else None
        # Across whitespace too: base64 quoted as MIME wraps its lines (76 characters), maybe inside the token.
        core_group = "|".join(r"\s*".join(re.escape(ch) for ch in c) for c in sorted(set(cores), key=len, reverse=True))
        self._base64 = re.compile(f"{_BASE64_RUN}(?:{core_group}){_BASE64_RUN}=*") if cores else None

    def _held(self, text: str) -> str:
        """`text` without the secrets held (of at least `_MIN_SUBSTRING_SECRET` characters), in any spelling."""
        if self._base64 is not None:
            text = self._base64.sub(REDACTED, text)
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        return text

    def answer(self, value: Any) -> Any:
        """A decoded answer with the secrets held removed from every string in it, keys included: its values
        reach the state, progress and log lines, messages and console output.

        Only the secrets themselves: the credential patterns below would also rewrite a declared description
        that merely looks like a credential, and a short test key (a word) a name, so a refresh would show drift.
        """
        if isinstance(value, str):
            return self._held(value)
        if isinstance(value, list):
            return [self.answer(item) for item in value]
        if isinstance(value, dict):
            return {self.answer(key): self.answer(item) for key, item in value.items()}
        return value

    def __call__(self, text: str) -> str:
        text = self._held(text)
        if self._short is not None:
            text = self._short.sub(REDACTED, text)

        def credential(match: re.Match[str]) -> str:
            """Keep everything before the credential (`Bearer `, `Authorization: `); drop it if it is one. A digit
            or symbol, or length, tells `Bearer tfk-4f0c...` from prose such as `Basic authentication`."""
            word = match.group(match.lastindex or 0)
            return match.group()[: -len(word)] + REDACTED if len(word) >= 20 or not word.isalpha() else match.group()

        return _AUTHORIZATION_VALUE.sub(credential, _SCHEME_CREDENTIAL.sub(credential, text))

    def __repr__(self) -> str:
        return "Redactor(<secrets hidden>)"

    def __reduce__(self) -> Any:
        raise TypeError("a Redactor holds the secrets it removes; it must never be pickled")


def _unreadable(exc: ValueError) -> str:
    """What a parser found wrong, in one line. For pydantic, the first error naming its field (its own first line,
    "1 validation error for Endpoint", names none) and how many more."""
    if not isinstance(exc, ValidationError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    more = exc.error_count() - 1
    return first_problem(exc) + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else "")


def resolve_base_url(base_url: str | None, *, redact: Callable[[str], str] | None = None,
                     settings: Settings | None = None) -> str:
    """Argument, else stack config, else env, else the public API; messages go through `redact`, by default one
    holding the configured API key, if any (a caller that sends no token still must not print one given as the
    URL, e.g. the two variables swapped)."""
    where = settings or Settings()
    if redact is None:
        try:
            redact = Redactor([where.get(API_KEY).reveal()])
        except errors.ConfigurationError:  # no usable key: none to hide
            redact = Redactor()
    return BASE_URL.resolve(where.config, where.environ, given=base_url, redact=redact)


def resolve_api_key(api_key: str | None, *, settings: Settings | None = None) -> ApiKey:
    """Argument, else stack config, else env TOKENFACTORY_API_KEY."""
    where = settings or Settings()
    return API_KEY.resolve(where.config, where.environ, given=api_key)


def _request_id(response: httpx.Response, body: Any = None) -> str | None:
    for header in _REQUEST_ID_HEADERS:
        if header in response.headers:
            return response.headers[header]
    if isinstance(body, dict):
        err = body.get("error")
        rid = (err.get("request_id") if isinstance(err, dict) else None) or body.get("request_id")
        return str(rid) if rid else None
    return None


#: How much of a body that is not an API error object an error message quotes (after redaction).
_BODY_EXCERPT = 300
#: Leading parts of a FastAPI `loc` that say where in the request, not which property.
_LOC_PLACES = frozenset({"body", "query", "path", "header"})


def _detail_item(item: Any) -> tuple[str, str | None]:
    """One FastAPI validation detail as `field: msg`, and the field it names (from `loc`)."""
    if not isinstance(item, dict):
        return str(item), None
    loc = [str(p) for p in item.get("loc", ()) if p is not None] if isinstance(item.get("loc"), list) else []
    while loc and loc[0] in _LOC_PLACES:
        loc = loc[1:]
    problem = flatten_errors([{**item, "loc": loc}])[0]
    return problem.message, problem.property


def _error_message(body: Any, response: httpx.Response) -> tuple[str, bool, tuple[str, ...]]:
    """The API's own words, True when they are a raw body to excerpt, and the properties they name.

    Published: `{"detail": [{"loc": [...], "msg": ...}]}` (422) and `{"detail": "text"}`. Also read:
    `{"error": {"message", "field"}}` and `{"message": ...}`.
    """
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            message, field = str(err["message"]), err.get("field")
            named = (str(field),) if field else ()
            return (f"{message} (field: {field})" if field and str(field) not in message else message), False, named
        for key in ("detail", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value, False, ()
            if isinstance(value, list) and value:
                parts = [_detail_item(item) for item in value]
                return "; ".join(m for m, _ in parts), False, tuple(f for _, f in parts if f)
    text = response.text.strip()
    return (text, True, ()) if text else (response.reason_phrase or "no message", False, ())


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError):
            return None  # neither seconds nor an HTTP date: the client's own backoff applies
    return max(0.0, seconds) if math.isfinite(seconds) else None


_STATUS_ERRORS: dict[int, type[errors.APIStatusError]] = {
    400: errors.RequestValidationError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.RequestValidationError,
    429: errors.RateLimitError,
}


class TokenFactoryClient:
    """The dedicated-endpoints API, one method per operation, returning pydantic models."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 settings: Settings | None = None) -> None:
        """`api_key` and `base_url`, when given, take the place of the stack config in `settings`."""
        settings = settings or Settings()
        self._api_key = resolve_api_key(api_key, settings=settings)
        self._redact = Redactor([self._api_key.reveal()])
        self.base_url = resolve_base_url(base_url, redact=self._redact, settings=settings)
        self.retry = retry or RetryPolicy()
        #: Sent as `ai_project_id` on every control-plane call when set (a key may reach several projects).
        self.project_id = settings.get(PROJECT_ID)
        if self.project_id == self._api_key.reveal():  # the token pasted in the wrong place
            raise errors.InvalidSettingError(
                f"The Token Factory project id ({PROJECT_ID.config_key}, else {PROJECT_ID.env}) is the API key: it "
                f"would be sent in every request's URL and recorded in the state as `project_id` in plain text. Set "
                f"it to the project's id from the Token Factory console, or unset it to use the key's default project",
                setting=str(PROJECT_ID.config_key))
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  headers={"User-Agent": "pulumi-tokenfactory", "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"TokenFactoryClient(base_url={self.base_url!r})"

    def __reduce__(self) -> Any:
        raise TypeError("TokenFactoryClient holds a token and a connection pool; it must never be pickled")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TokenFactoryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list_templates(self) -> list[Template]:
        return self._read("GET", TEMPLATES_PATH, parse_templates)

    def list_endpoints(self) -> EndpointList:
        return self._read("GET", ENDPOINTS_PATH, parse_endpoints)

    def create_endpoint(self, spec: EndpointSpec) -> Endpoint:
        """POST once. A lost or unreadable answer raises; the caller finds out what happened (by routing key)."""
        return self._read("POST", ENDPOINTS_PATH, parse_created, json=spec.payload())

    def get_endpoint(self, endpoint_id: str) -> Endpoint:
        """One endpoint, read through the list: the published API has no route for a single endpoint.

        Raises NotFoundError only when a readable list lacks it and holds no unreadable item that has its
        id or no readable id (which may be it); otherwise UnexpectedResponseError, never "not found".
        """
        listed = self.list_endpoints()
        found = next((e for e in listed if e.id == endpoint_id), None)
        if found is not None:
            return found
        unreadable = listed.unreadable(endpoint_id)
        if unreadable is not None and unreadable.id == endpoint_id:
            raise self._error(errors.UnexpectedResponseError,
                              f"endpoint {endpoint_id} is listed in a form this provider cannot read",
                              method="GET", path=ENDPOINTS_PATH)
        if unreadable is not None:
            raise self._error(errors.UnexpectedResponseError,
                              f"endpoint {endpoint_id} is not among the endpoints listed, but the list holds an "
                              f"item this provider cannot read that may be it ({unreadable.label()}: "
                              f"{unreadable.reason})", method="GET", path=ENDPOINTS_PATH)
        raise self._error(errors.NotFoundError, f"endpoint {endpoint_id} does not exist", status_code=404,
                          method="GET", path=ENDPOINTS_PATH)

    def update_endpoint(self, endpoint_id: str, patch: EndpointPatch) -> Endpoint | None:
        """PATCH only the given fields; returns the endpoint the API echoes (None for an empty answer)."""
        return self._read("PATCH", f"{ENDPOINTS_PATH}/{endpoint_id}", parse_patched, json=patch.payload())

    def delete_endpoint(self, endpoint_id: str, *, missing_ok: bool = False) -> bool:
        """DELETE; with `missing_ok`, an endpoint that is already gone is success (returns False)."""
        try:
            self._request("DELETE", f"{ENDPOINTS_PATH}/{endpoint_id}")
        except errors.NotFoundError:
            if not missing_ok:
                raise
            return False
        return True

    def probe_inference(self, routing_key: str, region: str | None) -> str:
        """POST one tiny chat completion (`max_tokens: 1`) to the inference URL: is the routing key served yet?

        It goes to the URL `inference_base_url` reports for `region`, never to one taken from the state,
        so the token only reaches hosts this client already trusts. Returns the URL probed; raises
        `NotFoundError` while the routing key is not routable (the API's 404 during startup).
        """
        url = f"{inference_base_url(region, self.base_url).rstrip('/')}/chat/completions"
        self._request("POST", url, json={"model": routing_key, "max_tokens": 1,
                                         "messages": [{"role": "user", "content": "ping"}]})
        return url

    def _read(self, method: str, path: str, parser: Callable[[Any], _R], *,
              json: Mapping[str, Any] | None = None) -> _R:
        """`_request`, then the answer as `parser` reads it; a body it cannot read is an UnexpectedResponseError."""
        body = self._request(method, path, json=json)
        try:
            return parser(body)
        except ValueError as exc:
            raise self._error(errors.UnexpectedResponseError,
                              f"The API answered with a body this provider cannot read: {_unreadable(exc)}",
                              method=method, path=path) from None

    def _request(self, method: str, path: str, *, json: Mapping[str, Any] | None = None) -> Any:
        """Send with retries; return the decoded JSON body (None for an empty one)."""
        deadline = time.monotonic() + self.retry.total_deadline
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, json=json, params=self._params(path),
                                              headers={"Authorization": f"Bearer {self._api_key.reveal()}"})
            except httpx.TimeoutException as exc:
                sent = not isinstance(exc, httpx.ConnectTimeout)
                failure: errors.TokenFactoryError = self._error(
                    errors.RequestTimeoutError, f"The API did not answer in time ({type(exc).__name__})",
                    request_sent=sent, method=method, path=path)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                # The cause tells a name that does not resolve from a port nobody listens on, or a TLS refusal.
                cause = " ".join(str(exc).split())
                failure = self._error(
                    errors.TransportError, f"Could not reach the API at {self.base_url} ({type(exc).__name__}"
                                           f"{f': {cause}' if cause else ''})",
                    request_sent=sent, method=method, path=path)
            except httpx.DecodingError as exc:  # an answer arrived (the request acted), its body undecodable
                failure = self._error(
                    errors.UnexpectedResponseError,
                    f"The API answered with a body that could not be decoded ({type(exc).__name__}: {exc})",
                    method=method, path=path)
            else:
                if response.is_success:
                    return self._decode(response, method, path)
                failure = self._status_error(response, method, path)
            pause = self._retry_pause(failure, method, attempt, deadline)
            if pause is None:
                raise failure
            log.info("retrying %s %s in %.2fs after: %s", method, path, pause, failure.message)
            self._sleep(pause)

    def _params(self, path: str) -> dict[str, str] | None:
        """`ai_project_id` for the control plane (our own paths), never for an inference URL."""
        return {"ai_project_id": self.project_id} if self.project_id and path.startswith("/v0/") else None

    def _retry_pause(self, failure: errors.TokenFactoryError, method: str, attempt: int,
                     deadline: float) -> float | None:
        """Seconds to wait before the next attempt, or None when this failure must be raised."""
        if attempt >= self.retry.max_attempts:
            return None
        certainly_not_acted = isinstance(failure, errors.RateLimitError) or (
            isinstance(failure, errors.TransportError) and not failure.request_sent)
        if method not in _IDEMPOTENT_METHODS and not certainly_not_acted:
            return None
        retryable = isinstance(failure, errors.TransportError) or failure.status_code in _RETRYABLE_STATUS
        if not retryable:
            return None
        pause = self.retry.backoff(attempt)
        if isinstance(failure, errors.RateLimitError) and failure.retry_after is not None:
            pause = max(pause, failure.retry_after)
        if time.monotonic() + pause > deadline:
            return None
        return pause

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        if not response.content.strip():
            return None
        try:
            return self._redact.answer(response.json())
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser can go
            raise self._error(
                errors.UnexpectedResponseError,
                f"The API answered HTTP {response.status_code} with a body that is not valid JSON "
                f"({len(response.content)} bytes)",
                status_code=response.status_code, method=method, path=path,
                request_id=_request_id(response)) from None

    def _status_error(self, response: httpx.Response, method: str, path: str) -> errors.APIStatusError:
        """The typed error for an HTTP error answer, its message and request id redacted."""
        try:
            body: Any = response.json()
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser can go
            body = None
        message, raw_body, named = _error_message(body, response)
        if response.is_redirect:  # e.g. http:// for an https:// API; not followed: the token goes nowhere else
            message, raw_body = (f"the API redirects to {response.headers['location']}, which this client does not "
                                 f"follow (the token would go with it): give as the base URL what precedes {path} "
                                 "there"), False
        if raw_body:
            # Redact the whole body before cutting it, so that a cut can never leave half a token.
            message = " ".join(self._redact(message).split())[:_BODY_EXCERPT]
        status = response.status_code
        kind = errors.ServerError if status >= 500 else _STATUS_ERRORS.get(status, errors.APIStatusError)
        extra = {"retry_after": _retry_after(response)} if status == 429 else {}
        return self._error(kind, message, status_code=status, method=method, path=path,
                           request_id=_request_id(response, body), fields=named, **extra)

    def _error(self, kind: type[_E], message: str, *, request_id: str | None = None, **fields: Any) -> _E:
        """Every error the client raises is built here, so the message and request id (the texts an answer can
        echo a credential in) are always redacted; method, path and status are our own."""
        return kind(self._redact(message), request_id=self._redact(request_id) if request_id else None, **fields)
