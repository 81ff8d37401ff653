"""Reading the emulator's answers in the published shapes (its default), for the emulator suites.

Each helper checks the shape as it reads it, so a test that uses one fails on an answer in any other
shape (the legacy ones included) instead of reading it wrongly. Works on an `httpx.Client` on a live
emulator and on the `TestClient` of an in-process one alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Answer(Protocol):
    """An HTTP answer: an `httpx.Response`, or the in-process `TestClient`'s (a type of its own)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self, **kwargs: Any) -> Any: ...


class Client(Protocol):
    """What the helpers need of a client: an `httpx.Client`, or an in-process emulator's `TestClient`."""

    def get(self, url: str, *, params: Any = None) -> Any: ...

ENDPOINTS = "/v0/dedicated_endpoints"
#: The operator routes: the emulator's own, always in its own error shape (`legacy_error`).
ADMIN = "/_emulator"


def created(response: Answer) -> dict[str, Any]:
    """The endpoint of a create's answer: 201 `{"endpoint": {...}}`."""
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"endpoint"}, body
    return dict(body["endpoint"])


def listed(client: Client, project: str | None = None) -> list[dict[str, Any]]:
    """`GET /v0/dedicated_endpoints` (of `project`, or the default one): `{"data": [...], "object": "list"}`."""
    response = client.get(ENDPOINTS, params={"ai_project_id": project} if project else None)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "object"} and body["object"] == "list", body
    return list(body["data"])


def find(client: Client, endpoint_id: str) -> dict[str, Any] | None:
    """One endpoint, read through the list (the published API has no GET of one endpoint); None when not listed."""
    return next((e for e in listed(client) if e["id"] == endpoint_id), None)


#: What the operator's view (`EmulatorProcess.endpoints()`, `GET /_emulator/endpoints`) adds to a listed endpoint.
OPERATOR_FIELDS = ("status", "project")


def as_listed(endpoint: dict[str, Any]) -> dict[str, Any]:
    """An endpoint of the operator's view as the published list shows it (the operator's extra keys left out)."""
    return {k: v for k, v in endpoint.items() if k not in OPERATOR_FIELDS}


def status_of(endpoint: dict[str, Any]) -> str:
    """The published `deployment.status` (the endpoint has no flat `status`)."""
    assert "status" not in endpoint, endpoint
    return str(endpoint["deployment"]["status"])


def problems(response: Answer, status: int = 422) -> list[dict[str, Any]]:
    """FastAPI's validation answer: `{"detail": [{"loc", "msg", "type", "input", ...}]}`, and a request id header."""
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"]
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    for item in detail:
        assert {"loc", "msg", "type", "input"} <= set(item) and item["loc"][0] == "body", item
    return list(detail)


def field_of(problem: dict[str, Any]) -> str:
    """A problem's field, as the provider names it: `loc` after "body", joined with dots."""
    return ".".join(str(part) for part in problem["loc"][1:])


def fields_of(response: Answer, status: int = 422) -> list[str]:
    return [field_of(p) for p in problems(response, status)]


def detail_of(response: Answer, status: int) -> str:
    """Any other error of the management routes: `{"detail": "text"}`, and a request id header."""
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"]
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail, detail
    return detail


def legacy_error(response: Answer, status: int) -> dict[str, Any]:
    """The emulator's own error shape (the operator routes, and everything with `api_shapes="legacy"`):
    `{"error": {"code", "message", "field", "details", "request_id"}}`, naming the request id."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["request_id"] == response.headers["x-request-id"]
    return dict(error)
