"""Provider-wide constants: the type token, the public API's URL, the stack config keys, the URN key.

A resource's fields, regions and limits are declared in its folder (`endpoint/fields.py`), not here.
Kept free of heavy imports, because a Pulumi program imports it on every run.
"""

from __future__ import annotations

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
