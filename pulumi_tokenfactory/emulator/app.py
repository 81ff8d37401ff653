"""Assemble the emulator: routes, error rendering and the gateway, as one ASGI application.

`create_app` is the in-process entry point (fast unit tests drive it with a
`ManualClock` through Starlette's test client); the CLI serves the same
application with uvicorn.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..fields import flatten_errors
from .admin import build_admin_router
from .api import build_api_router
from .clock import Clock, SystemClock
from .config import EmulatorConfig
from .errors import ApiError, FieldProblem, render_error
from .faults import FaultRegistry
from .gateway import Gateway
from .inference import build_inference_router
from .persistence import StateFile
from .requestlog import RequestLog
from .schemas import openapi_document
from .store import Store

log = logging.getLogger("tokenfactory.emulator")
#: The emulator's `/openapi.json` version: the published schema version it follows, marked as the emulator's.
SCHEMA_VERSION = "20260930-emulator"


class EmulatorApp(Gateway):
    """The ASGI application, holding the parts tests may want to reach directly."""

    def __init__(self, app: FastAPI, *, config: EmulatorConfig, store: Store, clock: Clock,
                 faults: FaultRegistry, requests: RequestLog) -> None:
        super().__init__(app, api_key=config.api_key, faults=faults, requests=requests, clock=clock.now,
                         max_body_bytes=config.max_body_bytes, log_body_bytes=config.request_log_body_bytes,
                         trusted_hosts=config.trusted_hosts, legacy=config.legacy)
        self.config = config
        self.store = store
        self.clock = clock


def _install_error_handlers(app: FastAPI, *, legacy: bool) -> None:
    """Every failure, including FastAPI's own 404/405/422, leaves in the route family's error shape."""

    def _render(request: Request, error: ApiError) -> JSONResponse:
        request_id = str(getattr(request.state, "request_id", ""))
        status, body = render_error(error, path=request.url.path, request_id=request_id, legacy=legacy)
        return JSONResponse(body, status_code=status, headers=error.headers or None)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _render(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            error = ApiError(404, "not_found", f"no route {request.method} {request.url.path}")
        elif exc.status_code == 405:
            error = ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}",
                             headers=dict(exc.headers or {}))
        else:
            error = ApiError(exc.status_code, "http_error", str(exc.detail))
        return _render(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The first location part says where in the request ("body", "query"): not a property.
        problems = [FieldProblem(p.property, p.message) for p in flatten_errors(exc.errors(), skip=1)]
        return _render(request, ApiError.invalid(problems or [FieldProblem(None, "invalid request")]))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error serving %s %s", request.method, request.url.path)
        return _render(request, ApiError(500, "internal", f"internal emulator error: {type(exc).__name__}"))


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
    _install_error_handlers(app, legacy=config.legacy)
    return EmulatorApp(app, config=config, store=store, clock=clock, faults=faults, requests=requests)

