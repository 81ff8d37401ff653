"""The resource's vocabulary as plain constants: property names, regions, defaults.

Kept free of heavy imports, because a Pulumi program imports it (through
`resources`) on every run, while pydantic, httpx and the lifecycle logic
are only needed inside the provider host.
"""

from __future__ import annotations

#: The resource's Pulumi module and name; the engine's type token for a Python dynamic resource follows.
RESOURCE_MODULE = "tokenfactory"
RESOURCE_NAME = "DedicatedEndpoint"
RESOURCE_TYPE = f"pulumi-python:dynamic/{RESOURCE_MODULE}:{RESOURCE_NAME}"

#: The public management API (region eu-north1 also serves inference there).
DEFAULT_BASE_URL = "https://api.tokenfactory.nebius.com"

#: Regions an endpoint can be placed in, and the OpenAI-compatible base URL of each.
INFERENCE_BASE_URLS: dict[str, str] = {
    "eu-north1": "https://api.tokenfactory.nebius.com/v1/",
    "eu-west1": "https://api.tokenfactory.eu-west1.nebius.com/v1/",
    "us-central1": "https://api.tokenfactory.us-central1.nebius.com/v1/",
}
REGIONS: tuple[str, ...] = tuple(INFERENCE_BASE_URLS)
DEFAULT_REGION = "eu-north1"

#: Generous by default: the API documents 10 to 15 minutes for a cold start.
DEFAULT_READY_TIMEOUT_SECONDS = 1800

#: Inputs whose change the API can apply in place with PATCH.
UPDATABLE_FIELDS: tuple[str, ...] = ("name", "description", "scaling", "enabled")
#: Inputs the API cannot change: a different value means a new endpoint.
REPLACE_FIELDS: tuple[str, ...] = ("model_name", "flavor_name", "gpu_type", "gpu_count", "region")
#: An existing endpoint's id that a create takes over instead of POSTing (see adoption.py).
ADOPT_FIELD = "adopt_id"
#: Inputs that only steer the provider; they never reach the API.
PROVIDER_OPTION_FIELDS: tuple[str, ...] = ("wait_for_ready", "ready_timeout", ADOPT_FIELD)
INPUT_FIELDS: tuple[str, ...] = UPDATABLE_FIELDS + REPLACE_FIELDS + PROVIDER_OPTION_FIELDS
#: The resource's own URN, passed by the program so the provider can put spend lines on the resource's row
#: (the dynamic-provider API does not give it); never diffed, never sent to the API (see host/enginelog.py).
URN_FIELD = "__urn"
OUTPUT_FIELDS: tuple[str, ...] = ("routing_key", "status", "inference_base_url", "created_at", "updated_at")

#: Stack configuration keys the provider reads.
API_KEY_CONFIG = "tokenfactory:apiKey"
BASE_URL_CONFIG = "tokenfactory:baseUrl"
REGION_CONFIG = "tokenfactory:region"
