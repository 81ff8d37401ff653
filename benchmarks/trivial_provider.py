"""The baseline for the host's first-call cost: a dynamic provider that does nothing."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, ResourceProvider


class TrivialProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("trivial", props)
