"""Operator routes under `/_emulator/`: how tests make the API misbehave on cue (faults, broken endpoints, time).

They need the API key like every route, and are neither logged nor faultable, so that looking at the
emulator never changes what it reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .clock import Clock
from .config import EmulatorConfig
from .errors import ADMIN_PREFIX, ApiError, FieldProblem, parse_model
from .faults import FaultRegistry, FaultSpec
from .gateway import RequestLog
from .store import (
    DEFAULT_PROJECT,
    RUNNING,
    SEED_STATUSES,
    STOPPED,
    CreateOutcome,
    CreateRequest,
    DeploymentReadiness,
    DeploymentStatus,
    EndpointRecord,
    Store,
    isoformat,
)
from .validation import read_json, validate_create


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Behaviour(_Body):
    #: How the next creates end: "error" (starting -> error), "stuck" (starting forever), "normal" clears.
    next_create: Literal["error", "stuck", "normal"] | None
    count: int = Field(default=1, ge=1, le=1000)


class DeploymentPin(_Body):
    status: DeploymentStatus
    readiness: DeploymentReadiness


class ClockMove(_Body):
    advance: float = Field(ge=0, le=365 * 86400)


#: The fields of a seed body beyond a create body: what only the API itself sets (a caller may choose a routing
#: key, but a recorded one is taken as it is, whatever its form).
SEED_ONLY_FIELDS = ("id", "routing_key", "status", "deployment", "created_at", "updated_at")


def _timestamp(body: dict[str, Any], key: str, problems: list[FieldProblem]) -> float | None:
    """An ISO-8601 time with a zone (`...Z` as the API writes it), or absent/null for "now"."""
    value = body.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        if moment.tzinfo is None:
            raise ValueError
    except ValueError:
        problems.append(FieldProblem(key, f"{key} must be an ISO-8601 time with a zone such as "
                                          f"'2026-01-01T00:00:00.000Z', got {value!r}"))
        return None
    return moment.timestamp()


def _identifier(body: dict[str, Any], key: str, problems: list[FieldProblem]) -> str:
    value = body.get(key)
    if value is None:
        problems.append(FieldProblem(key, f"{key} is required", "missing_field"))
    elif not isinstance(value, str) or not value.strip() or value != value.strip() or (key == "id" and "/" in value):
        problems.append(FieldProblem(key, f"{key} must be a non-empty string without surrounding blanks"
                                          f"{' or /' if key == 'id' else ''}, got {value!r}", "invalid_value"))
    else:
        return value
    return ""


def validate_seed(body: Any) -> dict[str, Any]:
    """An endpoint as the API lists it (either shape), its create fields checked as a legacy create checks them:
    the arguments of `Store.seed`."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the request body must be a JSON object (an endpoint)")
    problems: list[FieldProblem] = []
    endpoint_id = _identifier(body, "id", problems)
    routing_key = _identifier(body, "routing_key", problems)
    # The status asked for: `status` (legacy), else `deployment.status` (published), else by `enabled`.
    deployment = body.get("deployment")
    status = body.get("status", deployment.get("status") if isinstance(deployment, dict) else None)
    if status is None:
        status = RUNNING if body.get("enabled", True) is not False else STOPPED
    if status not in SEED_STATUSES:
        problems.append(FieldProblem("status", f"status {status!r} cannot be seeded; allowed: "
                                               f"{', '.join(SEED_STATUSES)}"))
    elif SEED_STATUSES[status] is not None and body.get("enabled", True) is not SEED_STATUSES[status]:
        problems.append(FieldProblem("status", f"status {status!r} needs enabled={SEED_STATUSES[status]}"))
    created_at = _timestamp(body, "created_at", problems)
    updated_at = _timestamp(body, "updated_at", problems)
    request: CreateRequest | None = None
    try:
        request = validate_create({k: v for k, v in body.items() if k not in SEED_ONLY_FIELDS}, legacy=True)
    except ApiError as exc:
        problems.extend(exc.problems or [FieldProblem(exc.field, exc.message, exc.code)])
    if problems:
        raise ApiError.invalid(problems)
    return {"request": request, "endpoint_id": endpoint_id, "routing_key": routing_key, "status": str(status),
            "created_at": created_at, "updated_at": updated_at}


def build_admin_router(*, config: EmulatorConfig, store: Store, clock: Clock, faults: FaultRegistry,
                       requests: RequestLog) -> APIRouter:
    router = APIRouter(prefix=ADMIN_PREFIX)

    @router.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "now": isoformat(clock.now())})

    @router.get("/config")
    async def show_config() -> JSONResponse:
        return JSONResponse({
            "provision_seconds": config.provision_seconds,
            "update_seconds": config.update_duration,
            "stop_seconds": config.stop_duration,
            "delete_seconds": config.delete_duration,
            "routable_seconds": config.routable_seconds,
            "api_key_required": config.api_key is not None,
            "state_file": str(config.state_file) if config.state_file else None,
            "max_body_bytes": config.max_body_bytes,
            "api_shapes": config.api_shapes,
        })

    @router.get("/requests")
    async def list_requests(since: int = 0) -> JSONResponse:
        return JSONResponse({"requests": requests.entries(since)})

    @router.delete("/requests")
    async def clear_requests() -> JSONResponse:
        requests.clear()
        return JSONResponse({"requests": []})

    @router.post("/faults")
    async def add_fault(request: Request) -> JSONResponse:
        return JSONResponse(faults.add(parse_model(FaultSpec, await read_json(request))).as_json())

    @router.get("/faults")
    async def list_faults() -> JSONResponse:
        return JSONResponse({"faults": faults.listing()})

    @router.delete("/faults")
    async def clear_faults() -> JSONResponse:
        faults.clear()
        return JSONResponse({"faults": []})

    @router.delete("/faults/{fault_id}")
    async def remove_fault(fault_id: str) -> JSONResponse:
        if not faults.remove(fault_id):
            raise ApiError.not_found(f"fault {fault_id} not found")
        return JSONResponse({"removed": fault_id})

    @router.get("/endpoints")
    async def list_endpoints(ai_project_id: str | None = None) -> JSONResponse:
        return JSONResponse({"endpoints": store.list_endpoints(ai_project_id, operator=True)})

    @router.post("/endpoints")
    async def seed(request: Request, ai_project_id: str = DEFAULT_PROJECT) -> JSONResponse:
        return JSONResponse(store.seed(**validate_seed(await read_json(request)), project=ai_project_id))

    def operator(change: Callable[[EndpointRecord, float], None]) -> Callable[[str], Awaitable[JSONResponse]]:
        async def route(endpoint_id: str) -> JSONResponse:
            return JSONResponse(store.operate(endpoint_id, change))
        return route

    for action, change in (("fail", EndpointRecord.fail), ("stuck", EndpointRecord.stick),
                           ("recover", EndpointRecord.recover)):
        router.add_api_route(f"/endpoints/{{endpoint_id}}/{action}", operator(change), methods=["POST"])

    @router.post("/endpoints/{endpoint_id}/deployment")
    async def pin_deployment(endpoint_id: str, request: Request) -> JSONResponse:
        pin = parse_model(DeploymentPin, await read_json(request))
        deployment = (pin.status.value, pin.readiness.value)
        return JSONResponse(store.operate(endpoint_id, lambda record, now: record.pin_to(deployment, now)))

    @router.get("/behaviour")
    async def show_behaviour() -> JSONResponse:
        return JSONResponse({"next_creates": store.pending_creates()})

    @router.post("/behaviour")
    async def set_behaviour(request: Request) -> JSONResponse:
        wanted = parse_model(Behaviour, await read_json(request))
        outcome = None if wanted.next_create in (None, "normal") else cast(CreateOutcome, wanted.next_create)
        return JSONResponse({"next_creates": store.queue_next_creates(outcome, wanted.count)})

    @router.get("/clock")
    async def show_clock() -> JSONResponse:
        return JSONResponse({"now": isoformat(clock.now()), "offset": clock.offset})

    @router.post("/clock")
    async def move_clock(request: Request) -> JSONResponse:
        store.advance_clock(parse_model(ClockMove, await read_json(request)).advance)
        return await show_clock()

    @router.post("/reset")
    async def reset() -> JSONResponse:
        store.reset()
        faults.clear()
        requests.clear()
        return JSONResponse({"endpoints": [], "faults": [], "requests": []})

    return router
