"""Adoption: a resource with `adopt_id` takes over an existing endpoint instead of creating one.

Why not `ResourceOptions(import_=...)`: the engine's import reads with the id alone, and the
dynamic-provider host cannot serve that (pulumi/pulumi#16175). `adopt_id` is an input, so
it reaches every call like any other: `check` verifies the endpoint in preview, and `create`
takes it over with no POST:

* the endpoint must exist and be adoptable (not in error, not being deleted);
* the fields that cannot change in place (model, flavor, region) must equal the program's,
  each difference named, or adopting it would silently mean a different endpoint than the
  program declares;
* what may change in place (name, description, GPU type and count, scaling, enabled, custom
  weights, a routing key the program sets) is PATCHed to the program's values, and the create
  waits as usual; a routing key the program leaves out stays the endpoint's;
* one endpoint is adopted by at most one resource of a deployment; a failed adoption never
  deletes the endpoint (it was not this create's to delete).

Afterwards `adopt_id` is only an echoed provider option: keeping or removing it changes
nothing, and naming another endpoint is refused (that would be a different resource).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ..api.models import Endpoint, EndpointPatch, LifecycleState
from .fields import ADOPT_FIELD, DEFAULT_REGION, REPLACE_FIELDS
from .properties import EndpointInputs, EndpointState

_NOT_ADOPTABLE = {
    LifecycleState.ERROR: "is in error; fix or delete it in the Token Factory console, or remove adopt_id",
    LifecycleState.DELETING: "is being deleted; remove adopt_id to create a new endpoint",
}


def unadoptable(endpoint: Endpoint) -> str | None:
    """Why the endpoint cannot be taken over in its current state, or None."""
    reason = _NOT_ADOPTABLE.get(endpoint.lifecycle)
    return f"endpoint {endpoint.id} ({endpoint.status}) {reason}" if reason else None


def mismatches(endpoint: Endpoint, inputs: EndpointInputs) -> list[tuple[str, str]]:
    """(property, reason) for each field that cannot change in place and differs from the program."""
    found: list[tuple[str, str]] = []
    for prop in REPLACE_FIELDS:
        live: Any = getattr(endpoint, prop)
        if prop == "region" and live is None:
            live = DEFAULT_REGION  # the API omits the region of endpoints in the default one
        wanted = getattr(inputs, prop)
        if live is None:
            found.append((prop, f"the API does not report the {prop} of endpoint {endpoint.id}, so adopting it "
                                f"cannot be verified against the program's {wanted!r}"))
        elif live != wanted:
            found.append((prop, f"endpoint {endpoint.id} has {prop} {live!r}, the program says {wanted!r}; "
                                f"{prop} cannot change in place, so set {prop}={live!r} to adopt it as it is, "
                                f"or remove adopt_id to create a new endpoint"))
    return found


def planned_patch(endpoint: Endpoint, inputs: EndpointInputs) -> EndpointPatch:
    """The PATCH that makes the endpoint's in-place settings the program's (empty when they already are)."""
    current = EndpointState.from_endpoint(endpoint, inputs.input_props())
    return inputs.patch_from(current)


def describe_patch(endpoint: Endpoint, patch: EndpointPatch) -> str:
    """`scaling 1..2 -> 2..4, name 'a' -> 'b'`: what adopting will change, for the preview's message."""
    if patch.is_empty():
        return "nothing (its settings are the program's)"
    parts = []
    for prop in sorted(patch.model_fields_set):
        new = getattr(patch, prop)
        old: Any = getattr(endpoint, prop)
        if prop == "scaling":
            old_text = f"{old.min_replicas}..{old.max_replicas}" if old is not None else "unknown"
            parts.append(f"scaling {old_text} -> {new.min_replicas}..{new.max_replicas}")
        else:
            parts.append(f"{prop} {old!r} -> {new!r}")
    return "PATCH " + ", ".join(parts)


class AdoptionClaims:
    """Which resource of this provider process named which endpoint in `adopt_id`, as `check` saw it.

    A dynamic provider is not told which resource a Check is for, so a resource is known by its
    declared inputs: the same endpoint named by two different declarations is refused in preview.
    Two identical declarations cannot be told apart here; the creator's ownership refuses the
    second at create, before anything is changed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: dict[str, frozenset[tuple[str, str]]] = {}

    def conflict(self, endpoint_id: str, inputs: Mapping[str, Any]) -> bool:
        """Record this declaration's claim; True when another declaration already claimed the endpoint."""
        key = frozenset((k, repr(v)) for k, v in inputs.items() if k != ADOPT_FIELD)
        with self._lock:
            previous = self._by_endpoint.setdefault(endpoint_id, key)
        return previous != key
