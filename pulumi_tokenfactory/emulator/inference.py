"""The OpenAI-compatible routes a running endpoint serves: the `openai` client works unchanged against `<base>/v1/`.

An endpoint not serving yet answers 404 `model_not_found` (`openai.NotFoundError`); answers are deterministic.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .errors import ApiError
from .store import Store
from .validation import read_json


def _text_of(content: Any) -> str:
    """Message content may be a string or a list of typed parts; only text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _check_request(body: Any) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "invalid_value", "model is required: the endpoint's routing_key", field="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "invalid_value", "messages must be a non-empty array", field="messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ApiError(400, "invalid_value", f"messages[{index}] must be an object with a role",
                           field=f"messages[{index}]")
    for key in ("max_tokens", "max_completion_tokens"):
        limit = body.get(key)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ApiError(400, "invalid_value", f"{key} must be an integer >= 1", field=key)
    return model, messages


def _answer(endpoint: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    question = next((_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    quoted = " ".join(question.split())
    if len(quoted) > 200:
        quoted = quoted[:197] + "..."
    return (f"This is an emulated answer from {endpoint['model_name']} on dedicated endpoint "
            f"{endpoint['name']!r} ({endpoint['id']}, {endpoint['region']}). You asked: \"{quoted}\"")


def _tokens(text: str) -> int:
    """A rough token count (words), enough for usage figures to move with the input."""
    return len(text.split())


def build_inference_router(store: Store) -> APIRouter:
    router = APIRouter()

    def serving_endpoint(model: str) -> dict[str, Any]:
        endpoint, why_not = store.serving(model)
        if endpoint is None:
            detail = f" ({why_not})" if why_not else ""
            raise ApiError(404, "model_not_found",
                           f"The model `{model}` does not exist or you do not have access to it{detail}.",
                           field="model")
        return endpoint

    @router.get("/v1/models")
    async def list_models() -> JSONResponse:
        served = (store.serving(endpoint["routing_key"])[0] for endpoint in store.list_endpoints())
        return JSONResponse({"object": "list", "data": [_model_object(e) for e in served if e is not None]})

    @router.get("/v1/models/{model:path}")
    async def get_model(model: str) -> JSONResponse:
        return JSONResponse(_model_object(serving_endpoint(model)))

    @router.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body = await read_json(request)
        model, messages = _check_request(body)
        endpoint = serving_endpoint(model)
        text = _answer(endpoint, messages)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish_reason = "stop"
        words = text.split(" ")
        if limit is not None and len(words) > limit:
            text, finish_reason = " ".join(words[:limit]), "length"
        prompt_tokens = sum(_tokens(_text_of(m.get("content"))) + 3 for m in messages)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": _tokens(text),
                 "total_tokens": prompt_tokens + _tokens(text)}
        completion_id, created = "chatcmpl-" + secrets.token_hex(12), int(time.time())
        if body.get("stream") is True:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _stream(completion_id, created, model, text, finish_reason, usage if include_usage else None)
            return StreamingResponse(chunks, media_type="text/event-stream")
        return JSONResponse({
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                         "logprobs": None, "finish_reason": finish_reason}],
            "usage": usage,
            "system_fingerprint": None,
        })

    return router


def _model_object(endpoint: dict[str, Any]) -> dict[str, Any]:
    created = datetime.fromisoformat(endpoint["created_at"].replace("Z", "+00:00"))
    return {"id": endpoint["routing_key"], "object": "model", "created": int(created.timestamp()),
            "owned_by": "dedicated"}


def _stream(completion_id: str, created: int, model: str, text: str, finish_reason: str,
            usage: dict[str, int] | None) -> Iterator[str]:
    """Server-sent events as OpenAI sends them: role first, then content pieces, then the finish reason."""

    def event(delta: dict[str, Any] | None, finish: str | None = None, **more: Any) -> str:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": choices, **more}
        return f"data: {json.dumps(chunk)}\n\n"

    yield event({"role": "assistant", "content": ""})
    words = text.split(" ")
    for start in range(0, len(words), 4):
        piece = " ".join(words[start:start + 4])
        yield event({"content": piece if start == 0 else " " + piece})
    yield event({}, finish_reason)
    if usage is not None:
        yield event(None, usage=usage)
    yield "data: [DONE]\n\n"

