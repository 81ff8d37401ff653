"""The dedicated-endpoints management routes, with the published API's paths, status codes and payloads.

Every route takes `ai_project_id` (absent: the default project). With `api_shapes="legacy"` the answers keep
the emulator's older shapes, and `GET /v0/dedicated_endpoints/{id}`, which the published schema lacks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema

from ..api.models import EndpointPatch, EndpointSpec
from ..endpoint.fields import BY_NAME
from .catalogue import templates_payload
from .store import DEFAULT_PROJECT, DeploymentReadiness, DeploymentStatus, Store, StoredEndpoint
from .validation import PUBLISHED_REQUIRED, read_json, validate_create, validate_patch

SCHEMA_REF = "#/components/schemas/{model}"


def _documented(name: str, info: FieldInfo) -> Any:
    """The field's type as the document shows it: choices as an enum, the declared pattern and doc attached."""
    annotation: Any = info.annotation
    declared = BY_NAME.get(name)
    if declared is None:
        return annotation
    if declared.limits.choices:
        choice: Any = Literal[declared.limits.choices]
        annotation = choice | None if not info.is_required() and info.default is None else choice
    extra: dict[str, Any] = {"description": declared.doc}
    if declared.limits.pattern:
        extra["pattern"] = f"^{declared.limits.pattern}$"
    return Annotated[annotation, Field(**extra)]


def _model(title: str, source: type[BaseModel], *, all_required: bool = False, required: tuple[str, ...] = (),
           **more: Any) -> type[BaseModel]:
    """A schema named `title` with `source`'s fields; those in `required` (or all: an answer has them all) required."""
    fields: dict[str, Any] = {}
    for name, info in source.model_fields.items():
        annotation = _documented(name, info)
        fields[name] = (annotation, ...) if all_required or name in required else (annotation, info)
    return create_model(title, __config__=ConfigDict(extra="ignore"), **fields, **more)


class Deployment(BaseModel):
    status: DeploymentStatus
    readiness: DeploymentReadiness
    ready_replicas: int


#: `POST /v0/dedicated_endpoints`: the create request (no `enabled`: every endpoint starts).
CreateRequest = _model("DedicatedEndpointCreateRequest", EndpointSpec, required=PUBLISHED_REQUIRED)
#: `PATCH /v0/dedicated_endpoints/{endpoint_id}`: only the fields sent change.
UpdateRequest = _model("DedicatedEndpointUpdateRequest", EndpointPatch)
DedicatedEndpoint = _model("DedicatedEndpoint", StoredEndpoint, all_required=True, id=(str, ...),
                           deployment=(Deployment, ...), created_at=(str, ...))


class CreatedEndpoint(BaseModel):
    """The create's answer: the new endpoint, wrapped."""

    endpoint: DedicatedEndpoint  # type: ignore[valid-type]


class DedicatedEndpointList(BaseModel):
    data: list[DedicatedEndpoint]  # type: ignore[valid-type]
    object: Literal["list"] = "list"


class License(BaseModel):
    name: str
    url: str


class ModelMetadata(BaseModel):
    vendor: str
    context_window_k: int
    size_b: float
    huggingface_url: str
    license: License


class ModelFlavor(BaseModel):
    """What one flavor of a template runs on (the published schema leaves these fields open)."""

    gpu_types: list[str]
    gpu_counts: list[int]
    regions: list[str]


class Model(BaseModel):
    """A template: a model an endpoint may run, with its flavors keyed by name."""

    name: str
    type: str
    metadata: ModelMetadata
    flavors: dict[str, ModelFlavor]


class ModelList(BaseModel):
    data: list[Model]
    object: Literal["list"] = "list"


class ValidationError(BaseModel):
    """FastAPI's validation problem: `loc` names the field ("body", then its path)."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class HTTPValidationError(BaseModel):
    detail: list[ValidationError]


class HTTPError(BaseModel):
    """Any other error: a text (a conflict names its fields as a validation error does)."""

    detail: str | list[ValidationError]


#: Schemas only a `$ref` in a route's openapi_extra names: FastAPI does not collect them itself.
REQUEST_SCHEMAS = (CreateRequest, UpdateRequest)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": HTTPError, "description": "Missing or invalid API token"},
    404: {"model": HTTPError, "description": "No such endpoint (in this project)"},
    422: {"model": HTTPValidationError, "description": "Validation Error"},
}


def request_body(schema: type[BaseModel]) -> dict[str, Any]:
    ref = SCHEMA_REF.format(model=schema.__name__)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document for `app`, plus the request schemas its routes name by reference."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, routes=app.routes,
                               description=app.description)
        _, definitions = models_json_schema([(m, "validation") for m in REQUEST_SCHEMAS], ref_template=SCHEMA_REF)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in definitions.get("$defs", {}).items():
            components.setdefault(name, schema)
        app.openapi_schema = document
    return app.openapi_schema


ENDPOINTS = "/v0/dedicated_endpoints"
CONFLICT_ERRORS = {**ERRORS, 409: {"model": HTTPError, "description": "Routing key taken"}}
PROJECT_QUERY = Query(None, description="The project the call acts in (an API key can reach more than one); "
                                        "absent: the key's default project.")


def build_api_router(store: Store) -> APIRouter:
    router = APIRouter(tags=["dedicated endpoints"])
    legacy = store.config.legacy

    # Declared before `{endpoint_id}` so that "templates" is never taken for an id.
    @router.get(f"{ENDPOINTS}/templates", response_model=ModelList, responses=ERRORS,
                operation_id="list_templates")
    async def list_templates(ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        return JSONResponse(templates_payload(legacy=legacy))

    @router.get(ENDPOINTS, response_model=DedicatedEndpointList, responses=ERRORS,
                operation_id="list_dedicated_endpoints")
    async def list_endpoints(ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        endpoints = store.list_endpoints(ai_project_id or DEFAULT_PROJECT)
        return JSONResponse({"endpoints": endpoints} if legacy else {"data": endpoints, "object": "list"})

    @router.post(ENDPOINTS, status_code=200 if legacy else 201, response_model=CreatedEndpoint,
                 responses=CONFLICT_ERRORS,
                 openapi_extra=request_body(CreateRequest), operation_id="create_dedicated_endpoint")
    async def create_endpoint(request: Request, ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        wanted = validate_create(await read_json(request), legacy=legacy)
        created = store.create(wanted, ai_project_id or DEFAULT_PROJECT)
        return JSONResponse(created) if legacy else JSONResponse({"endpoint": created}, status_code=201)

    if legacy:
        @router.get(f"{ENDPOINTS}/{{endpoint_id}}", include_in_schema=False)
        async def get_endpoint(endpoint_id: str, ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
            return JSONResponse(store.get(endpoint_id, ai_project_id or DEFAULT_PROJECT))

    @router.patch(f"{ENDPOINTS}/{{endpoint_id}}", response_model=DedicatedEndpoint,
                  responses=CONFLICT_ERRORS,
                  openapi_extra=request_body(UpdateRequest), operation_id="update_dedicated_endpoint")
    async def update_endpoint(endpoint_id: str, request: Request,
                              ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        project, body = ai_project_id or DEFAULT_PROJECT, await read_json(request)
        patch = validate_patch(body, store.spec_of(endpoint_id, project), legacy=legacy)
        return JSONResponse(store.update(endpoint_id, patch, project))

    @router.delete(f"{ENDPOINTS}/{{endpoint_id}}", response_model=DedicatedEndpoint, responses=ERRORS,
                   operation_id="delete_dedicated_endpoint")
    async def delete_endpoint(endpoint_id: str, ai_project_id: str | None = PROJECT_QUERY) -> Any:
        return JSONResponse(store.delete(endpoint_id, ai_project_id or DEFAULT_PROJECT))

    return router
