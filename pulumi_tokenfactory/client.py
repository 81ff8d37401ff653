"""Synchronous HTTP client of the Token Factory dedicated-endpoints API.

Built on httpx (the dynamic provider is synchronous) in the manner of
openai-python's base client: a timeout on every request, retries with
exponential backoff and full jitter that honour ``Retry-After``, a bounded
number of attempts and a total deadline, and typed errors that carry the
status, method, path and request id but never the token.

Only requests whose repetition cannot do harm are retried blindly: GET,
PATCH and DELETE. A POST is repeated only when the API certainly did not act
(429, or a connection that was never established); every other failure of a
create is left to the provider, which looks for the endpoint before trying
again, so that a retry never buys a second GPU endpoint.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from . import errors
from .models import DEFAULT_BASE_URL, Endpoint, EndpointPatch, EndpointSpec, Template, parse_endpoints, parse_templates

log = logging.getLogger(__name__)

API_KEY_ENV = "TOKENFACTORY_API_KEY"
BASE_URL_ENV = "TOKENFACTORY_BASE_URL"
ENDPOINTS_PATH = "/v0/dedicated_endpoints"
TEMPLATES_PATH = "/v0/dedicated_endpoints/templates"

_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PATCH", "DELETE", "PUT"})
_REQUEST_ID_HEADERS = ("x-request-id", "x-nebius-request-id", "request-id", "x-trace-id")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up; the defaults suit an interactive `pulumi up`."""

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    total_deadline: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the pause after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_initial * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class ApiKey:
    """Holds the token so that no repr, str or log line can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('**********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("an API key must never be pickled (it would end up in the Pulumi state)")


def resolve_base_url(base_url: str | None) -> str:
    """Argument, else env TOKENFACTORY_BASE_URL, else the public API; validated so typos fail early."""
    url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
    parsed = httpx.URL(url) if url else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise errors.ConfigurationError(
            f"Invalid Token Factory base URL {url!r}: expected http(s)://host[:port], "
            f"e.g. {DEFAULT_BASE_URL} (set tokenfactory:baseUrl or {BASE_URL_ENV})."
        )
    return url


def resolve_api_key(api_key: str | None) -> ApiKey:
    """Argument, else env TOKENFACTORY_API_KEY; a missing or blank token is one clear error."""
    value = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if value is None or not str(value).strip():
        raise errors.MissingApiKeyError(empty=value is not None)
    return ApiKey(str(value).strip())


def _request_id(response: httpx.Response, body: Any = None) -> str | None:
    for header in _REQUEST_ID_HEADERS:
        if header in response.headers:
            return response.headers[header]
    if isinstance(body, dict):
        err = body.get("error")
        rid = (err.get("request_id") if isinstance(err, dict) else None) or body.get("request_id")
        return str(rid) if rid else None
    return None


def _error_message(body: Any, response: httpx.Response) -> str:
    """The API's own words, from whichever error shape it used."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            message, field = str(err["message"]), err.get("field")
            return f"{message} (field: {field})" if field and field not in message else message
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, list) and value:  # FastAPI-style validation detail
                return "; ".join(str(v.get("msg", v)) if isinstance(v, dict) else str(v) for v in value)
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase or "no message"


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


_STATUS_ERRORS: dict[int, type[errors.APIStatusError]] = {
    400: errors.RequestValidationError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.RequestValidationError,
}


def _status_error(response: httpx.Response, method: str, path: str) -> errors.APIStatusError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    fields: dict[str, Any] = {
        "status_code": response.status_code,
        "method": method,
        "path": path,
        "request_id": _request_id(response, body),
    }
    message = _error_message(body, response)
    if response.status_code == 429:
        return errors.RateLimitError(message, retry_after=_retry_after(response), **fields)
    if response.status_code >= 500:
        return errors.ServerError(message, **fields)
    return _STATUS_ERRORS.get(response.status_code, errors.APIStatusError)(message, **fields)


class TokenFactoryClient:
    """The dedicated-endpoints API, one method per operation, returning pydantic models."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "pulumi-tokenfactory", "Accept": "application/json"},
        )
        self._single_get_supported = True
        self._lock = threading.Lock()

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

    # -- operations -------------------------------------------------------

    def list_templates(self) -> list[Template]:
        return self._parse("GET", TEMPLATES_PATH, self._request("GET", TEMPLATES_PATH), parse_templates)

    def list_endpoints(self) -> list[Endpoint]:
        return self._parse("GET", ENDPOINTS_PATH, self._request("GET", ENDPOINTS_PATH), parse_endpoints)

    def create_endpoint(self, spec: EndpointSpec) -> Endpoint:
        """POST once. A lost answer raises; the caller decides how to find out what happened."""
        body = self._request("POST", ENDPOINTS_PATH, json=spec.payload())
        return self._parse("POST", ENDPOINTS_PATH, body, Endpoint.model_validate)

    def get_endpoint(self, endpoint_id: str) -> Endpoint:
        """GET by id; falls back to the list route where the single-get route does not exist."""
        path = f"{ENDPOINTS_PATH}/{endpoint_id}"
        if self._single_get_supported:
            try:
                return self._parse("GET", path, self._request("GET", path), Endpoint.model_validate)
            except errors.APIStatusError as exc:
                if exc.status_code not in (404, 405, 501):
                    raise
                if exc.status_code != 404:
                    self._single_get_supported = False
        # A 404 may mean "no such endpoint" or "no such route": the list settles it.
        found = next((e for e in self.list_endpoints() if e.id == endpoint_id), None)
        if found is None:
            raise errors.NotFoundError(f"endpoint {endpoint_id} does not exist", status_code=404,
                                       method="GET", path=path)
        return found

    def update_endpoint(self, endpoint_id: str, patch: EndpointPatch) -> Endpoint | None:
        """PATCH only the given fields; returns the endpoint when the API echoes it."""
        path = f"{ENDPOINTS_PATH}/{endpoint_id}"
        body = self._request("PATCH", path, json=patch.payload())
        if isinstance(body, dict) and ("id" in body or "endpoint_id" in body):
            return self._parse("PATCH", path, body, Endpoint.model_validate)
        return None

    def delete_endpoint(self, endpoint_id: str, *, missing_ok: bool = False) -> bool:
        """DELETE; with `missing_ok`, an endpoint that is already gone is success (returns False)."""
        try:
            self._request("DELETE", f"{ENDPOINTS_PATH}/{endpoint_id}")
        except errors.NotFoundError:
            if not missing_ok:
                raise
            return False
        return True

    # -- transport ----------------------------------------------------------

    def _parse(self, method: str, path: str, body: Any, parser: Callable[[Any], Any]) -> Any:
        try:
            return parser(body)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise errors.UnexpectedResponseError(
                f"The API answered with a body this provider cannot read: {first_line}",
                method=method, path=path) from None

    def _request(self, method: str, path: str, *, json: Mapping[str, Any] | None = None) -> Any:
        """Send with retries; return the decoded JSON body (None for an empty one)."""
        deadline = time.monotonic() + self.retry.total_deadline
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    method, path, json=json,
                    headers={"Authorization": f"Bearer {self._api_key.reveal()}"},
                )
            except httpx.TimeoutException as exc:
                sent = not isinstance(exc, httpx.ConnectTimeout)
                failure: errors.TokenFactoryError = errors.RequestTimeoutError(
                    f"The API did not answer in time ({type(exc).__name__})",
                    request_sent=sent, method=method, path=path)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                failure = errors.TransportError(
                    f"Could not reach the API at {self.base_url} ({type(exc).__name__})",
                    request_sent=sent, method=method, path=path)
            else:
                if response.is_success:
                    return self._decode(response, method, path)
                failure = _status_error(response, method, path)
            pause = self._retry_pause(failure, method, attempt, deadline)
            if pause is None:
                raise failure
            log.info("retrying %s %s in %.2fs after: %s", method, path, pause, failure.message)
            self._sleep(pause)

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

    @staticmethod
    def _decode(response: httpx.Response, method: str, path: str) -> Any:
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise errors.UnexpectedResponseError(
                f"The API answered HTTP {response.status_code} with a body that is not valid JSON "
                f"({len(response.content)} bytes)",
                status_code=response.status_code, method=method, path=path,
                request_id=_request_id(response)) from None
