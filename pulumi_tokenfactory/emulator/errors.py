"""The two error shapes the emulator answers with, and the exception that carries one.

The management API (`/v0/...`, `/_emulator/...`) answers
``{"error": {"code", "message", "field", "details", "request_id"}}`` so that a
client can name the offending property; the OpenAI-compatible routes
(`/v1/...`) answer OpenAI's own ``{"error": {"message", "type", "param",
"code"}}`` so that the official `openai` client maps them to its exception
classes unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

INFERENCE_PREFIX = "/v1/"


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a request, named by its dotted field path."""

    field: str | None
    message: str
    code: str = "invalid_value"

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}


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
        """A 400 listing every problem; the first one names the field."""
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


def error_body(error: ApiError, *, path: str, request_id: str) -> dict[str, Any]:
    """The JSON body for `error` on `path`, in that route family's shape."""
    if path.startswith(INFERENCE_PREFIX):
        return {"error": {
            "message": error.message,
            "type": _OPENAI_TYPES.get(error.status, "server_error" if error.status >= 500 else "invalid_request_error"),
            "param": error.field,
            "code": error.code,
            "request_id": request_id,
        }}
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "field": error.field,
        "request_id": request_id,
    }
    if error.problems:
        body["details"] = [p.as_json() for p in error.problems]
    return {"error": body}


def error_bytes(error: ApiError, *, path: str, request_id: str) -> bytes:
    return json.dumps(error_body(error, path=path, request_id=request_id)).encode()
