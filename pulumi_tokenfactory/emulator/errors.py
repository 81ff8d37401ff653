"""The error shapes the emulator answers with, and the exception that carries one.

The management API (`/v0/...` and every other path but the two below) answers as the API is
published, FastAPI's shapes: a validation failure is 422
``{"detail": [{"loc": ["body", "scaling", "min_replicas"], "msg", "type", "input", "ctx"}]}``
and any other error ``{"detail": "text"}``. With `api_shapes="legacy"` it answers the emulator's
older ``{"error": {"code", "message", "field", "details", "request_id"}}`` (status 400 for validation),
so that a client's reading of that form stays testable. The operator routes (`/_emulator/...`) are
the emulator's own and always use the older shape; the OpenAI-compatible routes (`/v1/...`) answer
OpenAI's ``{"error": {"message", "type", "param", "code"}}`` so that the official `openai` client maps
them to its exception classes unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

INFERENCE_PREFIX = "/v1/"
ADMIN_PREFIX = "/_emulator"
#: A FieldProblem's `input` when the request did not hold the field at all.
ABSENT: Any = None


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a request, named by its dotted field path."""

    field: str | None
    message: str
    code: str = "invalid_value"
    #: The offending value as sent (FastAPI's `input`); None when the field was absent.
    input: Any = ABSENT
    #: The limit broken (FastAPI's `ctx`), e.g. {"max_length": 100}.
    ctx: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}

    def as_detail(self) -> dict[str, Any]:
        """FastAPI's validation error item: `loc` starts with "body" and names the field part by part."""
        loc = ["body", *(self.field.split(".") if self.field else ())]
        item = {"loc": loc, "msg": self.message, "type": self.code, "input": self.input}
        if self.ctx:
            item["ctx"] = self.ctx
        return item


@dataclass(eq=False)
class ApiError(Exception):
    """Raised anywhere in a handler; rendered as the route family's error shape."""

    status: int
    code: str
    message: str
    field: str | None = None
    problems: list[FieldProblem] = dataclasses.field(default_factory=list)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def invalid(cls, problems: list[FieldProblem]) -> ApiError:
        """A validation failure listing every problem; the first one names the field (400, or 422 published)."""
        first = problems[0]
        if len(problems) == 1:
            message = first.message
        else:
            message = f"{len(problems)} problems: " + "; ".join(p.message for p in problems)
        return cls(400, first.code, message, field=first.field, problems=problems)

    @classmethod
    def not_found(cls, what: str) -> ApiError:
        return cls(404, "not_found", what)


_OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
                 404: "invalid_request_error", 409: "invalid_request_error", 422: "invalid_request_error",
                 429: "rate_limit_error"}


def _openai_body(error: ApiError, request_id: str) -> dict[str, Any]:
    return {"error": {
        "message": error.message,
        "type": _OPENAI_TYPES.get(error.status, "server_error" if error.status >= 500 else "invalid_request_error"),
        "param": error.field,
        "code": error.code,
        "request_id": request_id,
    }}


def _legacy_body(error: ApiError, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "field": error.field,
        "request_id": request_id,
    }
    if error.problems:
        body["details"] = [p.as_json() for p in error.problems]
    return {"error": body}


def render_error(error: ApiError, *, path: str, request_id: str, legacy: bool) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for `error` on `path`, in that route family's shape."""
    if path.startswith(INFERENCE_PREFIX):
        return error.status, _openai_body(error, request_id)
    if legacy or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
        return error.status, _legacy_body(error, request_id)
    if error.problems:  # a validation failure (or a conflict naming fields): FastAPI's list of problems
        status = 422 if error.status == 400 else error.status
        return status, {"detail": [p.as_detail() for p in error.problems]}
    return error.status, {"detail": error.message}


def error_bytes(error: ApiError, *, path: str, request_id: str, legacy: bool) -> tuple[int, bytes]:
    status, body = render_error(error, path=path, request_id=request_id, legacy=legacy)
    return status, json.dumps(body).encode()
