"""The published API's schemas, as the emulator's `/openapi.json` names them.

The routes parse bodies by hand (strict types, the catalogue, both answer shapes), so FastAPI cannot
infer these; they are declared here for the document alone and attached to the routes through
`response_model`, `responses` and `openapi_extra`. The request schemas are built from the API's own
models (`EndpointSpec`, `EndpointPatch`, which come from fields.py), so a field declared there appears
here too; a field's choices become an `enum`, its pattern a `pattern`, its doc a `description`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema

from ..api.models import EndpointPatch, EndpointSpec
from ..fields import BY_NAME
from .store import DeploymentReadiness, DeploymentStatus, StoredEndpoint
from .validation import PUBLISHED_REQUIRED

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
    """`openapi_extra` declaring a JSON request body of `schema`."""
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
