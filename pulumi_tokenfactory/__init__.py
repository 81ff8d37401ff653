"""Pulumi provider for Nebius Token Factory dedicated endpoints.

The Pulumi surface (`DedicatedEndpoint`, `get_templates`, ...) is loaded on
first use, so that the emulator, the policy pack and the provider host do
not pay for modules they never touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "DedicatedEndpoint": "resources",
    "DedicatedEndpointArgs": "resources",
    "ScalingArgs": "resources",
    "get_templates": "templates",
    "TemplateCatalogue": "templates",
    "HardwareChoice": "templates",
    "Template": "models",
    "Flavor": "models",
    "TokenFactoryClient": "client",
    "TokenFactoryError": "errors",
}

__all__ = [
    "DedicatedEndpoint",
    "DedicatedEndpointArgs",
    "Flavor",
    "HardwareChoice",
    "ScalingArgs",
    "Template",
    "TemplateCatalogue",
    "TokenFactoryClient",
    "TokenFactoryError",
    "get_templates",
]

if TYPE_CHECKING:
    from .client import TokenFactoryClient
    from .errors import TokenFactoryError
    from .models import Flavor, Template
    from .resources import DedicatedEndpoint, DedicatedEndpointArgs, ScalingArgs
    from .templates import HardwareChoice, TemplateCatalogue, get_templates


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
