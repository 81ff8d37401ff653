"""The dedicated-endpoints management routes, with the API description's paths and payloads."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .catalogue import templates_payload
from .store import Store
from .validation import read_json, validate_create, validate_patch

ENDPOINTS = "/v0/dedicated_endpoints"


def build_api_router(store: Store) -> APIRouter:
    router = APIRouter()

    # Declared before `{endpoint_id}` so that "templates" is never taken for an id.
    @router.get(f"{ENDPOINTS}/templates")
    async def list_templates() -> JSONResponse:
        return JSONResponse(templates_payload())

    @router.get(ENDPOINTS)
    async def list_endpoints() -> JSONResponse:
        return JSONResponse({"endpoints": store.list_endpoints()})

    @router.post(ENDPOINTS)
    async def create_endpoint(request: Request) -> JSONResponse:
        spec = validate_create(await read_json(request))
        return JSONResponse(store.create(spec))

    @router.get(f"{ENDPOINTS}/{{endpoint_id}}")
    async def get_endpoint(endpoint_id: str) -> JSONResponse:
        return JSONResponse(store.get(endpoint_id))

    @router.patch(f"{ENDPOINTS}/{{endpoint_id}}")
    async def update_endpoint(endpoint_id: str, request: Request) -> JSONResponse:
        body = await read_json(request)
        patch = validate_patch(body, store.scaling_of(endpoint_id))
        return JSONResponse(store.update(endpoint_id, patch))

    @router.delete(f"{ENDPOINTS}/{{endpoint_id}}")
    async def delete_endpoint(endpoint_id: str) -> JSONResponse:
        return JSONResponse(store.delete(endpoint_id))

    return router
