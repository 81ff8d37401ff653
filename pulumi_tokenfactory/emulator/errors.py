"""The error shapes the emulator answers with, and the exception that carries one.

Management routes answer FastAPI's shapes as published (`{"detail": [...]}` with 422, or `{"detail": "text"}`);
`api_shapes="legacy"` and the operator routes answer `{"error": {"code", "message", "field", "details",
"request_id"}}`; the inference routes answer OpenAI's `{"error": {...}}`, so the `openai` client maps them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..fields import flatten_errors

INFERENCE_PREFIX = "/v1/"
ADMIN_PREFIX = "/_emulator"
Model = TypeVar("Model", bound=BaseModel)


def is_admin_path(path: str) -> bool:
    """An operator route (`/_emulator` and below), which no published answer shape applies to."""
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a request, named by its dotted field path."""

    field: str | None
    message: str
    code: str = "invalid_value"
    #: The offending value as sent (FastAPI's `input`); None when the field was absent.
    input: Any = None
    #: The limit broken (FastAPI's `ctx`), e.g. {"max_length": 100}.
    ctx: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_detail(self) -> dict[str, Any]:
        """FastAPI's validation error item: `loc` starts with "body" and names the field part by part."""
        loc = ["body", *(self.field.split(".") if self.field else ())]
        item = {"loc": loc, "msg": self.message, "type": self.code, "input": self.input}
        return {**item, "ctx": self.ctx} if self.ctx else item


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
        message = first.message if len(problems) == 1 else (
            f"{len(problems)} problems: " + "; ".join(p.message for p in problems))
        return cls(400, first.code, message, field=first.field, problems=problems)

    @classmethod
    def not_found(cls, what: str) -> ApiError:
        return cls(404, "not_found", what)


def problems_of(errors: Any, skip: int = 0) -> list[FieldProblem]:
    """pydantic's errors as FieldProblems (`skip`: leading location parts that are not a property)."""
    return [FieldProblem(p.property, p.message) for p in flatten_errors(errors, skip=skip)]


def parse_model(model: type[Model], body: Any) -> Model:
    """`body` as `model`, or a 400 that names each field wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError.invalid(problems_of(exc.errors())) from None


def render_error(error: ApiError, *, path: str, request_id: str, legacy: bool) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for `error` on `path`, in that route family's shape."""
    if path.startswith(INFERENCE_PREFIX):
        kind = "rate_limit_error" if error.status == 429 else "server_error" if error.status >= 500 \
            else "invalid_request_error"
        return error.status, {"error": {"message": error.message, "type": kind, "param": error.field,
                                        "code": error.code, "request_id": request_id}}
    if legacy or is_admin_path(path):
        body: dict[str, Any] = {"code": error.code, "message": error.message, "field": error.field,
                                "request_id": request_id}
        if error.problems:
            body["details"] = [{"field": p.field, "message": p.message, "code": p.code} for p in error.problems]
        return error.status, {"error": body}
    if error.problems:  # a validation failure (or a conflict naming fields): FastAPI's list of problems
        return 422 if error.status == 400 else error.status, {"detail": [p.as_detail() for p in error.problems]}
    return error.status, {"detail": error.message}
