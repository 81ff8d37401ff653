"""`lookup_endpoint()`: an existing endpoint's current values, by id or by exact display name.

For an endpoint another team or stack owns, where `DedicatedEndpoint.get` (a resource in this
stack's state) is more than needed: one API call, no state. Settings as for `get_templates()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import errors
from ..endpoint.fields import DEFAULT_REGION
from ..settings import Settings
from .client import TokenFactoryClient
from .models import inference_base_url


@dataclass(frozen=True)
class EndpointInfo:
    """An endpoint as the API reports it now, with the values a client needs to call it."""

    id: str
    name: str | None
    model_name: str | None
    region: str
    status: str | None
    routing_key: str | None
    inference_base_url: str
    min_replicas: int | None
    max_replicas: int | None


def lookup_endpoint(*, id: str | None = None, name: str | None = None, api_key: str | None = None,
                    base_url: str | None = None) -> EndpointInfo:
    """The endpoint with this id, or the one endpoint with exactly this display name.

    Raises `LookupError` naming what was asked when none matches, or when a name matches several
    (names are not unique; pass the id then, which the error lists).
    """
    if (id is None) == (name is None):
        raise TypeError("lookup_endpoint() takes exactly one of id= or name=")
    with TokenFactoryClient(api_key=api_key, base_url=base_url, settings=Settings.of_program()) as client:
        if id is not None:
            try:
                found = client.get_endpoint(id)
            except errors.NotFoundError:
                raise LookupError(f"no endpoint {id} in this account (as the API key sees it)") from None
        else:
            named = [e for e in client.list_endpoints() if e.name == name]
            if not named:
                raise LookupError(f"no endpoint named {name!r} in this account (as the API key sees it)")
            if len(named) > 1:
                raise LookupError(f"{len(named)} endpoints are named {name!r}: "
                                  f"{', '.join(e.id for e in named)}; look one up by id")
            found = named[0]
    region = found.region or DEFAULT_REGION
    scaling = found.scaling
    return EndpointInfo(
        id=found.id, name=found.name, model_name=found.model_name, region=region, status=found.status,
        routing_key=found.routing_key, inference_base_url=inference_base_url(region, client.base_url),
        min_replicas=scaling.min_replicas if scaling else None, max_replicas=scaling.max_replicas if scaling else None)
