"""Assemble the emulator (routes, error rendering, the gateway) as one ASGI application; the CLI serves it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .admin import build_admin_router
from .api import build_api_router, openapi_document
from .clock import Clock, SystemClock
from .config import EmulatorConfig
from .errors import ApiError, FieldProblem, problems_of, render_error
from .faults import FaultRegistry
from .gateway import Gateway, RequestLog
from .inference import build_inference_router
from .store import StateFile, Store

log = logging.getLogger("tokenfactory.emulator")
#: The emulator's `/openapi.json` version: the published schema version it follows, marked as the emulator's.
SCHEMA_VERSION = "20260930-emulator"


@dataclass(eq=False)
class EmulatorApp(Gateway):
    """The ASGI application, holding the parts tests may want to reach directly."""

    store: Store


def _as_api_error(request: Request, exc: Exception) -> ApiError:
    """Any failure, FastAPI's own 404/405/422 included, as an ApiError (so it leaves in the route family's shape)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RequestValidationError):
        # The first location part says where in the request ("body", "query"): not a property.
        return ApiError.invalid(problems_of(exc.errors(), skip=1) or [FieldProblem(None, "invalid request")])
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return ApiError(404, "not_found", f"no route {request.method} {request.url.path}")
        if exc.status_code == 405:
            return ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}",
                            headers=dict(exc.headers or {}))
        return ApiError(exc.status_code, "http_error", str(exc.detail))
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return ApiError(500, "internal", f"internal emulator error: {type(exc).__name__}")


def create_app(config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> EmulatorApp:
    """A complete emulator; state lives in memory, or in `config.state_file` when set."""
    config = config or EmulatorConfig()
    clock = clock or SystemClock()
    state_file = StateFile(config.state_file) if config.state_file else None
    store = Store(config, clock, state_file)
    faults, requests = FaultRegistry(), RequestLog(config.request_log_limit)
    # The schema is the published API's; the legacy shapes have none.
    app = FastAPI(title="Token Factory dedicated endpoints (emulator)", version=SCHEMA_VERSION, docs_url=None,
                  redoc_url=None, openapi_url=None if config.legacy else "/openapi.json")
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.include_router(build_api_router(store))
    # The document describes the Token Factory API only: the inference and operator routes stay out of it.
    app.include_router(build_inference_router(store), include_in_schema=False)
    app.include_router(build_admin_router(config=config, store=store, clock=clock, faults=faults,
                                          requests=requests), include_in_schema=False)

    async def render(request: Request, exc: Exception) -> JSONResponse:
        error = _as_api_error(request, exc)
        request_id = str(getattr(request.state, "request_id", ""))
        status, body = render_error(error, path=request.url.path, request_id=request_id, legacy=config.legacy)
        return JSONResponse(body, status_code=status, headers=error.headers or None)

    for kind in (ApiError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(kind, render)
    return EmulatorApp(app, config=config, store=store, clock=clock, faults=faults, requests=requests)

