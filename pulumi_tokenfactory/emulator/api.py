"""The dedicated-endpoints management routes, with the published API's paths, status codes and payloads.

Every route takes the query parameter `ai_project_id` (the project the call acts in; absent: the
default project). With `api_shapes="legacy"` the answers keep the emulator's older shapes (a bare
endpoint from the create, `{"endpoints": [...]}`, `{"templates": [...]}`) and it keeps its
`GET /v0/dedicated_endpoints/{id}`, which the published schema does not have.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from . import schemas
from .catalogue import templates_payload
from .store import DEFAULT_PROJECT, Store
from .validation import read_json, validate_create, validate_patch

ENDPOINTS = "/v0/dedicated_endpoints"
PROJECT_QUERY = Query(None, description="The project the call acts in (an API key can reach more than one); "
                                        "absent: the key's default project.")


def _project(ai_project_id: str | None) -> str:
    return ai_project_id or DEFAULT_PROJECT


def build_api_router(store: Store) -> APIRouter:
    router = APIRouter(tags=["dedicated endpoints"])
    legacy = store.config.legacy

    # Declared before `{endpoint_id}` so that "templates" is never taken for an id.
    @router.get(f"{ENDPOINTS}/templates", response_model=schemas.ModelList, responses=schemas.ERRORS,
                operation_id="list_templates")
    async def list_templates(ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        return JSONResponse(templates_payload(legacy=legacy))

    @router.get(ENDPOINTS, response_model=schemas.DedicatedEndpointList, responses=schemas.ERRORS,
                operation_id="list_dedicated_endpoints")
    async def list_endpoints(ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        endpoints = store.list_endpoints(_project(ai_project_id))
        return JSONResponse({"endpoints": endpoints} if legacy else {"data": endpoints, "object": "list"})

    @router.post(ENDPOINTS, status_code=200 if legacy else 201, response_model=schemas.CreatedEndpoint,
                 responses={**schemas.ERRORS, 409: {"model": schemas.HTTPError, "description": "Routing key taken"}},
                 openapi_extra=schemas.request_body(schemas.CreateRequest), operation_id="create_dedicated_endpoint")
    async def create_endpoint(request: Request, ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        created = store.create(validate_create(await read_json(request), legacy=legacy), _project(ai_project_id))
        return JSONResponse(created) if legacy else JSONResponse({"endpoint": created}, status_code=201)

    if legacy:
        @router.get(f"{ENDPOINTS}/{{endpoint_id}}", include_in_schema=False)
        async def get_endpoint(endpoint_id: str, ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
            return JSONResponse(store.get(endpoint_id, _project(ai_project_id)))

    @router.patch(f"{ENDPOINTS}/{{endpoint_id}}", response_model=schemas.DedicatedEndpoint,
                  responses={**schemas.ERRORS, 409: {"model": schemas.HTTPError, "description": "Routing key taken"}},
                  openapi_extra=schemas.request_body(schemas.UpdateRequest), operation_id="update_dedicated_endpoint")
    async def update_endpoint(endpoint_id: str, request: Request,
                              ai_project_id: str | None = PROJECT_QUERY) -> JSONResponse:
        project = _project(ai_project_id)
        body = await read_json(request)
        current = store.spec_of(endpoint_id, project)
        patch = validate_patch(body, current.scaling, legacy=legacy, current=current)
        return JSONResponse(store.update(endpoint_id, patch, project))

    @router.delete(f"{ENDPOINTS}/{{endpoint_id}}", response_model=schemas.DedicatedEndpoint, responses=schemas.ERRORS,
                   operation_id="delete_dedicated_endpoint")
    async def delete_endpoint(endpoint_id: str, ai_project_id: str | None = PROJECT_QUERY) -> Any:
        return JSONResponse(store.delete(endpoint_id, _project(ai_project_id)))

    return router
