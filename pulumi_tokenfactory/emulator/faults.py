"""Scripted failures: the next N requests matching a method and path glob go wrong in a chosen way.

Each action is one way an HTTP exchange fails that a client must survive (sdk-docs/emulator.md lists them).
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Action = Literal["error", "drop", "delay", "apply_then_error", "apply_then_drop", "malformed", "truncated",
                 "extra_fields", "alternate_shape"]
#: Actions that let the request reach the routes (the change is made) before bending the answer.
APPLYING_ACTIONS = frozenset(get_args(Action)) - {"error", "drop"}
DEFAULT_STATUS = {"error": 503, "apply_then_error": 500}
MAX_PATTERN_LENGTH = 256


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    #: A glob over the whole path (`*` crosses `/`; see `_path_pattern`).
    path: str = "*"
    action: Action = "error"
    #: How many matching requests to fault; null for every one until the faults are cleared.
    count: int | None = Field(default=1, ge=1)
    #: Matching requests to let through untouched before the first fault.
    skip: int = Field(default=0, ge=0)
    status: int | None = Field(default=None, ge=100, le=599)
    retry_after: float | None = Field(default=None, ge=0)
    delay: float = Field(default=0.0, ge=0, le=600)
    #: The error body (`error`, `apply_then_error`), the raw text (`malformed`) or the keys to add (`extra_fields`).
    body: Any = None

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper() or "*"

    @field_validator("path")
    @classmethod
    def _path_pattern(cls, value: str) -> str:
        """Globs only: `fnmatch` matches one in time bounded by the path (its translation never backtracks
        across stars), where Python's `re` can stall the emulator's one event loop for hours on a short
        pattern such as `^/(a+)+$`, and no length bound prevents that."""
        if value.startswith("^"):
            raise ValueError("not a supported path pattern: regular expressions are not supported; use a glob "
                             "over the whole path (`*` any characters, `/` included; `?` one; `[...]` a class), "
                             "e.g. /v0/dedicated_endpoints/ep-*")
        if len(value) > MAX_PATTERN_LENGTH:
            raise ValueError(f"not a supported path pattern: at most {MAX_PATTERN_LENGTH} characters, "
                             f"got {len(value)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FaultSpec:
        if self.action == "delay" and self.delay <= 0:
            raise ValueError("action 'delay' needs delay > 0 (seconds)")
        if self.action == "extra_fields" and self.body is not None and not isinstance(self.body, dict):
            raise ValueError("body of an extra_fields fault must be an object (the keys to add)")
        if self.action == "malformed" and self.body is not None and not isinstance(self.body, str):
            raise ValueError("body of a malformed fault must be a string (sent verbatim)")
        return self

    @property
    def response_status(self) -> int | None:
        return self.status or DEFAULT_STATUS.get(self.action)


@dataclass
class Fault:
    id: str
    spec: FaultSpec
    hits: int = 0
    skipped: int = 0

    def matches(self, method: str, path: str) -> bool:
        exhausted = self.spec.count is not None and self.hits >= self.spec.count
        return not exhausted and self.spec.method in ("*", method.upper()) and fnmatch.fnmatchcase(path, self.spec.path)

    def as_json(self) -> dict[str, Any]:
        remaining = None if self.spec.count is None else max(0, self.spec.count - self.hits)
        return {"id": self.id, **self.spec.model_dump(), "hits": self.hits, "remaining": remaining}


class FaultRegistry:
    """Armed faults, tried in the order they were added; the first that matches takes the request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, spec: FaultSpec) -> Fault:
        with self._lock:
            fault = Fault(id=f"fault-{next(self._ids)}", spec=spec)
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                if fault.skipped < fault.spec.skip:
                    fault.skipped += 1
                    return None
                fault.hits += 1
                return fault
            return None

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults]

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) < before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


# -- how each action bends an answer ---------------------------------------------------------------

def malformed_body(original: bytes, replacement: str | None) -> bytes:
    """Not JSON, but plausible: the start of the real answer running into an HTML error page."""
    if replacement is not None:
        return replacement.encode()
    return original[: len(original) // 2] + b"<html><body>upstream connect error</body></html>"


_DEFAULT_EXTRAS: dict[str, Any] = {
    "x_emulator_note": "unknown field added by fault injection",
    "labels": {"injected": "true"},
    "metadata": {"revision": 7, "tags": ["a", "b"]},
}


def with_extra_fields(value: Any, extras: dict[str, Any] | None) -> Any:
    """Unknown keys added to every JSON object, at every depth: a tolerant reader must ignore them."""
    if isinstance(value, dict):
        return {**{k: with_extra_fields(v, extras) for k, v in value.items()}, **(extras or _DEFAULT_EXTRAS)}
    if isinstance(value, list):
        return [with_extra_fields(v, extras) for v in value]
    return value


def _alternate_endpoint(endpoint: dict[str, Any]) -> dict[str, Any]:
    """`endpoint_id` for `id`; a legacy flat status nested, a published deployment's words upper-cased."""
    out = {("endpoint_id" if k == "id" else k): v for k, v in endpoint.items() if k != "status"}
    if "status" in endpoint:
        out["deployment"] = {"status": str(endpoint["status"]).upper(), "ready": endpoint["status"] == "running"}
    deployment = endpoint.get("deployment")
    if isinstance(deployment, dict):
        out["deployment"] = {k: v.upper() if isinstance(v, str) else v for k, v in deployment.items()}
    return out


def _alternate_template(template: dict[str, Any]) -> dict[str, Any]:
    """`template_name` for the model's name, and flavors as a list of `{name, ...}` (a third-party guide's form)."""
    out = {("template_name" if k in ("model_name", "name") else k): v for k, v in template.items()}
    flavors = template.get("flavors", [])
    if isinstance(flavors, dict):
        flavors = [{"flavor_name": name, **value} for name, value in flavors.items() if isinstance(value, dict)]
    out["flavors"] = [{("name" if k == "flavor_name" else k): v for k, v in f.items()}
                      for f in flavors if isinstance(f, dict)]
    return out


def _is_endpoint(value: dict[str, Any]) -> bool:
    return "id" in value and "routing_key" in value


def alternate_shape(value: Any) -> Any:
    """The variants reported by third-party integrations (see api-notes): same data, other keys.

    A list answer (`{"data": [...]}`, `{"endpoints": [...]}`, `{"templates": [...]}`) becomes a bare
    list; the create's `{"endpoint": {...}}` the bare endpoint.
    """
    if not isinstance(value, dict):
        return value
    items = next((value[k] for k in ("data", "endpoints", "templates") if isinstance(value.get(k), list)), None)
    if items is not None:
        return [(_alternate_endpoint(i) if _is_endpoint(i) else _alternate_template(i)) if isinstance(i, dict) else i
                for i in items]
    if isinstance(value.get("endpoint"), dict):
        return _alternate_endpoint(value["endpoint"])
    return _alternate_endpoint(value) if _is_endpoint(value) else value
