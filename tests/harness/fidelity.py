"""Compare, call by call, what the real engine and our stand-in (`enginehost`) send to the provider host.

The real side is the engine's own record (`PULUMI_DEBUG_GRPC=<file>`: one JSON line per
gRPC exchange); the stand-in side is what `ProviderHost` sends, recorded by `RecordingHost`.
Both are reduced to the same *shape*: the method, and for each request field that is set,
what it holds. Property maps are named by what they are (`inputs`: has `__provider` and no
computed output; `outputs`: has `routing_key`; `config`: namespaced keys) with their keys;
other values by kind. So "Diff sends the old outputs as olds and the old inputs as
oldInputs" is compared, while ids, ports and random seeds, which differ between runs, are not.

Not mirrored, on purpose, and left out of the comparison (`NOT_MIRRORED`): fields that point
at services of the engine the stand-in does not run (the Handshake's addresses and flags about
them, the resource-status service of Create, Read, Update and Delete). The dynamic host ignores
all of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from devtools.enginehost import PROVIDER_KEY, ProviderCallError, ProviderHost

PROVIDER_SERVICE = "/pulumirpc.ResourceProvider/"
NOT_MIRRORED: Mapping[str, frozenset[str]] = {
    "Handshake": frozenset({"engineAddress", "rootDirectory", "programDirectory", "configureWithUrn",
                            "supportsViews", "supportsRefreshBeforeUpdate", "invokeWithPreview", "mapperTarget",
                            "loaderTarget", "resolverTarget"}),
    "Create": frozenset({"resourceStatusAddress", "resourceStatusToken"}),
    "Read": frozenset({"resourceStatusAddress", "resourceStatusToken"}),
    "Update": frozenset({"resourceStatusAddress", "resourceStatusToken"}),
    "Delete": frozenset({"resourceStatusAddress", "resourceStatusToken"}),
}


@dataclass(frozen=True)
class Call:
    """One provider call reduced to what must be equal between the engine and the stand-in."""

    method: str
    fields: tuple[tuple[str, str], ...]
    failed: bool

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.fields)
        return f"{self.method}({shown}){' -> error' if self.failed else ''}"


def _describe_map(value: Mapping[str, Any]) -> str:
    if not value:
        return "{}"
    keys = sorted(value)
    if "routing_key" in value:
        kind = "outputs"
    elif PROVIDER_KEY in value:
        kind = "inputs"
    elif all(":" in key for key in keys):
        kind = "config"
    else:
        kind = "map"
    return f"{kind}[{','.join(keys)}]"


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return _describe_map(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return f"list[{len(value)}]"
    return "set"


def shape(method: str, request: Mapping[str, Any], failed: bool) -> Call:
    skipped = NOT_MIRRORED.get(method, frozenset())
    fields = tuple(sorted((key, _describe(value)) for key, value in request.items() if key not in skipped))
    return Call(method, fields, failed)


def engine_calls(log: Path) -> list[Call]:
    """The provider calls of one CLI command, in the order they completed, from its PULUMI_DEBUG_GRPC file."""
    calls: list[Call] = []
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        method = str(entry.get("method", ""))
        if method.startswith(PROVIDER_SERVICE) and "duration" in entry:  # a finished exchange, not a progress line
            calls.append(shape(method.removeprefix(PROVIDER_SERVICE), entry.get("request") or {}, "errors" in entry))
    return calls


class RecordingHost(ProviderHost):
    """A `ProviderHost` that keeps the shape of every call it sends."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[Call] = []

    def _call(self, method: str, request: Any, *, rpc_timeout: float | None = None,
              needs_configure: bool = True) -> Any:
        as_json = json_format.MessageToDict(request)
        try:
            answer = super()._call(method, request, rpc_timeout=rpc_timeout, needs_configure=needs_configure)
        except ProviderCallError:
            self.calls.append(shape(method, as_json, True))
            raise
        self.calls.append(shape(method, as_json, False))
        return answer


def differences(engine: Iterable[Call], stand_in: Iterable[Call]) -> list[str]:
    """Human-readable differences between two call sequences ([] when they are the same)."""
    engine, stand_in = list(engine), list(stand_in)
    found: list[str] = []
    for index in range(max(len(engine), len(stand_in))):
        real = engine[index] if index < len(engine) else None
        ours = stand_in[index] if index < len(stand_in) else None
        if real != ours:
            found.append(f"call {index + 1}: engine {real or 'nothing'} / stand-in {ours or 'nothing'}")
    return found
