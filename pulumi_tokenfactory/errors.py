"""One exception hierarchy for everything the Token Factory API can answer.

Each error carries what a person needs to act (status, method, path, the API's message, its request
id) and never the token: the client builds every one through its `Redactor`, since the API's message
and request id may echo the `Authorization` header.
"""

from __future__ import annotations


class TokenFactoryError(Exception):
    """Base of every error this package raises about the API or its configuration."""

    def __init__(self, message: str, *, status_code: int | None = None, method: str | None = None,
                 path: str | None = None, request_id: str | None = None) -> None:
        self.message = message
        self.status_code = status_code
        self.method = method
        self.path = path
        self.request_id = request_id
        parts = []
        if method and path:
            parts.append(f"{method} {path}")
        if status_code is not None:
            parts.append(f"HTTP {status_code}")
        where = f" ({', '.join(parts)})" if parts else ""
        rid = f" [request id {request_id}]" if request_id else ""
        super().__init__(f"{message}{where}{rid}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConfigurationError(TokenFactoryError):
    """The provider is not configured well enough to talk to the API (no token, bad URL)."""


class InvalidSettingError(ConfigurationError):
    """A setting holds a value that cannot be used; `setting` names where it came from (`tokenfactory:baseUrl`,
    `TOKENFACTORY_API_KEY`, ...), so a caller can tell which one to fix."""

    def __init__(self, message: str, *, setting: str) -> None:
        self.setting = setting
        super().__init__(message)


class MissingApiKeyError(ConfigurationError):
    def __init__(self, *, empty: bool = False) -> None:
        problem = "The configured Token Factory API key is empty" if empty else \
            "No Token Factory API key is configured"
        super().__init__(
            f"{problem}. Set it with `pulumi config set --secret tokenfactory:apiKey <token>` "
            "or export TOKENFACTORY_API_KEY."
        )


class APIStatusError(TokenFactoryError):
    """The API answered with an HTTP error status; `fields` are the request properties its answer names
    (FastAPI's `loc`), so a caller can tell a refused `routing_key` from any other refusal."""

    def __init__(self, message: str, *, fields: tuple[str, ...] = (), **kwargs: object) -> None:
        self.fields = fields
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class AuthenticationError(APIStatusError):
    """401: the token is missing, wrong or expired."""


class PermissionDeniedError(AuthenticationError):
    """403: the token is valid but may not do this."""


class NotFoundError(APIStatusError):
    """404: no such endpoint (or route)."""


class ConflictError(APIStatusError):
    """409: the request clashes with the endpoint's current state."""


class RequestValidationError(APIStatusError):
    """400/422: the API refused the request's content."""


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` is the wait the API asked for, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class ServerError(APIStatusError):
    """5xx: the API failed; for a POST the change may or may not have been made."""


class TransportError(TokenFactoryError):
    """No usable HTTP answer: connection refused or dropped, or a broken protocol exchange.

    `request_sent` is False only when the request certainly never reached the server (a refused
    connection), which is what makes a POST safe to repeat.
    """

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: object) -> None:
        self.request_sent = request_sent
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class RequestTimeoutError(TransportError):
    """The API did not answer within the client's timeout."""


class UnexpectedResponseError(TokenFactoryError):
    """The API answered 2xx with a body this client cannot understand (malformed JSON, wrong shape)."""


class EndpointOperationError(TokenFactoryError):
    """A lifecycle operation did not reach its goal (never ready, ended in error, not gone)."""

    def __init__(self, message: str, *, endpoint_id: str | None = None) -> None:
        self.endpoint_id = endpoint_id
        super().__init__(message)


class WaitInterrupted(EndpointOperationError):
    """The provider host was interrupted while waiting for an endpoint (`host.interrupts`): the caller records
    `last`, the endpoint as the last poll read it (None before the first poll), instead of failing."""

    def __init__(self, message: str, *, endpoint_id: str, last: object = None) -> None:
        self.last = last
        super().__init__(message, endpoint_id=endpoint_id)


class ProviderBugError(TokenFactoryError):
    """An exception this package did not raise on purpose, as the provider host reports it: one line saying that
    it is a bug and how to see the traceback (`host.failures`)."""
