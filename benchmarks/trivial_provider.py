"""Baselines for the overhead figures: dynamic providers that do the least possible.

`TrivialProvider` does nothing (the host's own first-call cost);
`PostOnlyProvider` makes the create POST with a bare httpx call and nothing
else (the floor any provider pays for a create through the host: gRPC,
Struct encoding, one HTTP request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from pulumi.dynamic import ConfigureRequest, CreateResult, ResourceProvider

IMPORT_ROOT = Path(__file__).resolve().parents[1]
"""What a provider host needs on its PYTHONPATH to unpickle these classes, which pickle by reference to
`benchmarks.trivial_provider` (a module of this checkout, not of an installed package)."""


class TrivialProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("trivial", props)


class PostOnlyProvider(ResourceProvider):
    def configure(self, req: ConfigureRequest) -> None:
        self._client = httpx.Client(base_url=req.config.get("tokenfactory:baseUrl"),
                                    headers={"Authorization": f"Bearer {req.config.get('tokenfactory:apiKey')}"})

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {k: v for k, v in props.items() if k != "__provider" and k != "wait_for_ready"}
        body["gpu_count"] = int(body["gpu_count"])
        body["scaling"] = {k: int(v) for k, v in body["scaling"].items()}
        response = self._client.post("/v0/dedicated_endpoints", json=body)
        response.raise_for_status()
        endpoint = response.json().get("endpoint", response.json())  # published: {"endpoint": {...}}
        return CreateResult(endpoint["id"], endpoint)
