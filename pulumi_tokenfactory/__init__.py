"""Pulumi provider for Nebius Token Factory dedicated endpoints.

The Pulumi surface (`DedicatedEndpoint`, `get_templates`, ...) is loaded on
first use, so that the emulator, the policy pack and the provider host do
not pay for modules they never touch; `dir()` lists it all the same.
`__version__` comes from the installed package's metadata, so pyproject.toml
is the only place the version is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

_EXPORTS = {
    "DedicatedEndpoint": "endpoint.program",
    "DedicatedEndpointArgs": "endpoint.program",
    "DedicatedEndpointArgsDict": "endpoint.program",
    "ScalingArgs": "endpoint.program",
    "ScalingArgsDict": "endpoint.program",
    "ScalingOutput": "endpoint.program",
    "get_templates": "api.templates",
    "lookup_endpoint": "api.lookup",
    "EndpointInfo": "api.lookup",
    "TemplateCatalogue": "api.templates",
    "HardwareChoice": "api.templates",
    "Template": "api.models",
    "Flavor": "api.models",
    "TokenFactoryClient": "api.client",
    "TokenFactoryError": "errors",
    "export_spend": "program.spending",
}

__all__ = [
    "DedicatedEndpoint",
    "DedicatedEndpointArgs",
    "DedicatedEndpointArgsDict",
    "EndpointInfo",
    "Flavor",
    "HardwareChoice",
    "ScalingArgs",
    "ScalingArgsDict",
    "ScalingOutput",
    "Template",
    "TemplateCatalogue",
    "TokenFactoryClient",
    "TokenFactoryError",
    "export_spend",
    "get_templates",
    "lookup_endpoint",
]

if TYPE_CHECKING:
    from .api.client import TokenFactoryClient
    from .api.lookup import EndpointInfo, lookup_endpoint
    from .api.models import Flavor, Template
    from .api.templates import HardwareChoice, TemplateCatalogue, get_templates
    from .endpoint.program import (
        DedicatedEndpoint,
        DedicatedEndpointArgs,
        DedicatedEndpointArgsDict,
        ScalingArgs,
        ScalingArgsDict,
        ScalingOutput,
    )
    from .errors import TokenFactoryError
    from .program.spending import export_spend

    __version__: str


def _version() -> str:
    """The installed distribution's version; a bare checkout that was never installed has none."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pulumi-tokenfactory")
    except PackageNotFoundError:
        return "0+unknown"


__getattr__ = lazy_exports(__name__, _EXPORTS, globals(), computed={"__version__": _version})


def __dir__() -> list[str]:
    """The public names, loaded or not (a lazy name is invisible to `dir()` until first used)."""
    return sorted({*__all__, "__version__"})
