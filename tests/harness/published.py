"""The Token Factory API's published schema, as its reference describes it (shared/api-notes.md): the tests' one copy.

Written the way FastAPI and pydantic write one (`$ref`, `anyOf: [X, null]` for optional fields, enums as
components, list and create answers wrapped). This is the published API's word, not ours: the provider's
own field list is `pulumi_tokenfactory/endpoint/fields.py`, and tests/unit/test_apicheck.py checks the two
agree. The emulator's answers are checked against it too (tests/emulator/test_emulator_published.py,
test_emulator_seed.py), so an emulator field the API does not publish fails there.
"""

from __future__ import annotations

import copy
from typing import Any

GPU_TYPES = ["gpu-l40s-d", "gpu-l40s-a", "gpu-h100-sxm", "gpu-h200-sxm", "gpu-b200-sxm", "gpu-b200-sxm-a",
             "gpu-b300-sxm"]
REGIONS = ["eu-north1", "us-central1", "eu-west1", "me-west1", "uk-south1", "tf-us1", "tf-us2", "tf-ca1"]
STATUSES = ["starting", "running", "updating", "stopping", "stopped", "error", "warning"]
READINESS = ["ready", "partially_ready", "not_ready"]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def optional(schema: dict[str, Any]) -> dict[str, Any]:
    """How pydantic writes `X | None`."""
    return {"anyOf": [schema, {"type": "null"}]}


def json_body(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


TEXT, INTEGER = {"type": "string"}, {"type": "integer"}
VALIDATION = json_body(ref("HTTPValidationError"), "Validation Error")


def published() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "GpuType": {"type": "string", "enum": GPU_TYPES},
        "Region": {"type": "string", "enum": REGIONS},
        "DeploymentStatus": {"type": "string", "enum": STATUSES},
        "DeploymentReadiness": {"type": "string", "enum": READINESS},
        "Scaling": {"type": "object", "required": ["min_replicas", "max_replicas"],
                    "properties": {"min_replicas": {"type": "integer", "minimum": 1},
                                   "max_replicas": {"type": "integer", "minimum": 1}}},
        "DedicatedEndpointCreateRequest": {
            "type": "object",
            "required": ["name", "model_name", "flavor_name", "gpu_type", "gpu_count", "region", "scaling"],
            "properties": {"name": TEXT, "description": optional(TEXT), "model_name": TEXT, "flavor_name": TEXT,
                           "gpu_type": ref("GpuType"), "gpu_count": INTEGER, "region": ref("Region"),
                           "scaling": ref("Scaling"), "routing_key": optional(TEXT),
                           "custom_weights_id": optional(TEXT), "reservation_policy": optional(TEXT)}},
        "DedicatedEndpointUpdateRequest": {
            "type": "object",
            "properties": {"name": optional(TEXT), "description": optional(TEXT), "routing_key": optional(TEXT),
                           "enabled": optional({"type": "boolean"}), "gpu_type": optional(ref("GpuType")),
                           "gpu_count": optional(INTEGER), "custom_weights_id": optional(TEXT),
                           "scaling": optional(ref("Scaling"))}},
        "Deployment": {"type": "object", "properties": {"status": ref("DeploymentStatus"),
                                                        "readiness": ref("DeploymentReadiness"),
                                                        "ready_replicas": INTEGER}},
        "DedicatedEndpoint": {
            "type": "object",
            "properties": {"id": TEXT, "name": TEXT, "description": optional(TEXT), "enabled": {"type": "boolean"},
                           "routing_key": TEXT, "model_name": TEXT, "flavor_name": TEXT, "region": ref("Region"),
                           "gpu_type": ref("GpuType"), "gpu_count": INTEGER, "custom_weights_id": optional(TEXT),
                           "scaling": ref("Scaling"), "deployment": ref("Deployment"), "created_at": TEXT}},
        "CreatedEndpoint": {"type": "object", "properties": {"endpoint": ref("DedicatedEndpoint")}},
        "EndpointList": {"type": "object", "properties": {"data": {"type": "array", "items": ref("DedicatedEndpoint")},
                                                          "object": TEXT}},
        "Model": {"type": "object", "properties": {"name": TEXT, "type": TEXT, "metadata": {"type": "object"},
                                                   "flavors": {"type": "object", "additionalProperties": {}}}},
        "ModelList": {"type": "object", "properties": {"data": {"type": "array", "items": ref("Model")}}},
        "HTTPValidationError": {"type": "object", "properties": {"detail": {"type": "array", "items": {}}}},
    }
    endpoints = "/v0/dedicated_endpoints"
    return copy.deepcopy({  # a test changes its own copy: nothing shared with the next one
        "openapi": "3.1.0",
        "info": {"title": "Token Factory", "version": "20260930-cfb76be12"},
        "paths": {
            f"{endpoints}/templates": {"get": {"responses": {"200": json_body(ref("ModelList"))}}},
            endpoints: {
                "get": {"responses": {"200": json_body(ref("EndpointList"))}},
                "post": {"requestBody": {"content": {"application/json": {
                            "schema": ref("DedicatedEndpointCreateRequest")}}},
                         "responses": {"201": json_body(ref("CreatedEndpoint")), "422": VALIDATION}},
            },
            f"{endpoints}/{{endpoint_id}}": {
                "patch": {"requestBody": {"content": {"application/json": {
                             "schema": ref("DedicatedEndpointUpdateRequest")}}},
                          "responses": {"200": json_body(ref("DedicatedEndpoint")), "422": VALIDATION}},
                "delete": {"responses": {"200": json_body({}), "422": VALIDATION}},
            },
        },
        "components": {"schemas": schemas},
    })


def published_properties(schema: str) -> dict[str, Any]:
    """One published schema's properties by name (`DedicatedEndpoint`: what an answer's endpoint holds)."""
    return dict(published()["components"]["schemas"][schema]["properties"])


def nullable(property_schema: dict[str, Any]) -> bool:
    """Whether the published schema lets the property be null (an optional field the API answers as null)."""
    return {"type": "null"} in property_schema.get("anyOf", [])
