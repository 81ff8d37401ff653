"""The routing key a create sends when the program sets none: chosen before the first POST.

The routing key is the one value of a new endpoint the client controls, which is what lets a
create whose answer was lost find out, exactly, whether it landed (see creation.py). So `check`
gives every new resource a key when the program leaves `routing_key` out:

    dedicated/<model_name>-<12 characters>

The suffix is derived from the resource's URN and its model, flavor and region, so the preview
and the `up` that follows choose the same key (a dynamic provider's check gets no random seed
from the engine), two resources never share one, and a replacement (a new model, flavor or
region) gets a new key while the old endpoint still holds its own. Without a URN (a caller that
passes none) the suffix is random. Once created, the key is kept in the state's inputs: leaving
`routing_key` out keeps the endpoint's key, and a replace that keeps the key (the program sets it,
or `replace_on_changes` names an in-place field) must delete the old endpoint first.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from ..endpoint.fields import (
    ADOPT_FIELD,
    BY_NAME,
    INPUT_DEFAULTS,
    REPLACE_FIELDS,
    ROUTING_KEY_MAX_LENGTH,
    ROUTING_KEY_PREFIX,
)
from ..wire import integral, is_unknown

ROUTING_KEY = "routing_key"
SUFFIX_LENGTH = 12
#: What a model name may bring into a key: printable ASCII without spaces (the key's declared characters).
_UNSAFE = re.compile(r"[^!-~]")
#: A key `choose` made from a URN: its suffix is lowercase base32.
_CHOSEN = re.compile(rf"{re.escape(ROUTING_KEY_PREFIX)}.+-[a-z2-7]{{{SUFFIX_LENGTH}}}")


def normalised(prop: str, value: Any) -> Any:
    """Compare 1 and 1.0, a missing default and its value, as equal (diff and check alike)."""
    return integral(INPUT_DEFAULTS.get(prop) if value is None else value)


def differs(prop: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """Whether `prop` changes; a field the API fills in (`routing_key`) left out keeps its value: no change."""
    if news.get(prop) is None and BY_NAME[prop].computed:
        return False
    return normalised(prop, olds.get(prop)) != normalised(prop, news.get(prop))


def choose(model_name: str, urn: str | None) -> str:
    """`dedicated/<model_name>-<suffix>`, within the API's 128 characters."""
    if urn:
        digest = hashlib.sha256(urn.encode()).digest()
        suffix = base64.b32encode(digest).decode().lower()[:SUFFIX_LENGTH]
    else:
        suffix = secrets.token_hex(SUFFIX_LENGTH // 2)
    room = ROUTING_KEY_MAX_LENGTH - len(ROUTING_KEY_PREFIX) - len(suffix) - 1
    model = _UNSAFE.sub("-", model_name)[:room] or "endpoint"
    return f"{ROUTING_KEY_PREFIX}{model}-{suffix}"


def settle(olds: Mapping[str, Any], inputs: dict[str, Any], urn: str | None) -> None:
    """Give checked `inputs` the routing key their create will send, when the program sets none.

    A new resource, or a replacement (a model, flavor or region change), gets a chosen key; an
    existing one keeps the key its state holds (none in states written before keys were chosen:
    the API's key stays, and nothing changes). An adoption keeps the adopted endpoint's key. While
    the model, flavor or region is unknown (a preview), so is the key: it may be a replacement's.
    """
    if inputs.get(ROUTING_KEY) is not None or inputs.get(ADOPT_FIELD):
        return
    identity = [inputs.get(prop) for prop in REPLACE_FIELDS]
    unknown = next((v for v in identity if is_unknown(v)), None)
    if unknown is not None:
        # Known once the model, flavor and region are: a replacement's key is new, so a preview must not
        # plan with the old one (it would plan a delete-before-replace that `up` does not make).
        inputs[ROUTING_KEY] = unknown
        return
    replaced = not olds or any(differs(prop, olds, inputs) for prop in REPLACE_FIELDS)
    if not replaced:
        if olds.get(ROUTING_KEY) is not None:
            inputs[ROUTING_KEY] = olds[ROUTING_KEY]
        return
    inputs[ROUTING_KEY] = chosen_for(inputs, urn)


def chosen_for(inputs: Mapping[str, Any], urn: str | None) -> str:
    """The key a create of the resource `urn` with these model, flavor and region sends when the program sets none."""
    identity_text = "\0".join(str(normalised(p, inputs.get(p))) for p in REPLACE_FIELDS)
    return choose(str(inputs.get("model_name")), f"{urn}\0{identity_text}" if urn else None)


def made_for_another(routing_key: str | None, inputs: Mapping[str, Any], urn: str | None) -> bool:
    """Whether an endpoint's key is one this provider chose for another resource (or another model, flavor or
    region): the shape `choose` gives a URN (the API's own keys end in mixed case), but not this resource's."""
    if not routing_key or not urn or not _CHOSEN.fullmatch(routing_key):
        return False
    return routing_key != chosen_for(inputs, urn)
