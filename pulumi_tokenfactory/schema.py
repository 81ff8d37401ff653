"""The resource's vocabulary as plain constants: type token, API URL, config keys.

The fields themselves (names, kinds, defaults, limits, regions) are declared once in
`endpoint/fields.py`; their groups stay importable from here under the names modules and programs
already use.

Kept free of heavy imports, because a Pulumi program imports it (through
`resources`) on every run, while pydantic, httpx and the lifecycle logic
are only needed inside the provider host.
"""

from __future__ import annotations

from .endpoint.fields import (
    ADOPT_FIELD,
    DEFAULT_READY_TIMEOUT_SECONDS,
    DEFAULT_REGION,
    INFERENCE_BASE_URLS,
    INPUT_FIELDS,
    OUTPUT_FIELDS,
    PROVIDER_OPTION_FIELDS,
    REGIONS,
    REPLACE_FIELDS,
    UPDATABLE_FIELDS,
)

__all__ = [
    "ADOPT_FIELD", "API_KEY_CONFIG", "BASE_URL_CONFIG", "DEFAULT_BASE_URL", "DEFAULT_READY_TIMEOUT_SECONDS",
    "DEFAULT_REGION", "INFERENCE_BASE_URLS", "INPUT_FIELDS", "OUTPUT_FIELDS", "PROVIDER_OPTION_FIELDS",
    "REGIONS", "REGION_CONFIG", "REPLACE_FIELDS", "RESOURCE_MODULE", "RESOURCE_NAME", "RESOURCE_TYPE",
    "UPDATABLE_FIELDS", "URN_FIELD",
]

#: The resource's Pulumi module and name; the engine's type token for a Python dynamic resource follows.
RESOURCE_MODULE = "tokenfactory"
RESOURCE_NAME = "DedicatedEndpoint"
RESOURCE_TYPE = f"pulumi-python:dynamic/{RESOURCE_MODULE}:{RESOURCE_NAME}"

#: The public management API (region eu-north1 also serves inference there).
DEFAULT_BASE_URL = "https://api.tokenfactory.nebius.com"

#: The resource's own URN, passed by the program so the provider can put spend lines on the resource's row
#: (the dynamic-provider API does not give it); never diffed, never sent to the API (see host/enginelog.py).
URN_FIELD = "__urn"

#: Stack configuration keys the provider reads.
API_KEY_CONFIG = "tokenfactory:apiKey"
BASE_URL_CONFIG = "tokenfactory:baseUrl"
REGION_CONFIG = "tokenfactory:region"
