"""Unit-test Pulumi programs that use pulumi_tokenfactory, under `pulumi.runtime.set_mocks`.

`TokenFactoryMocks` answers the way this package's provider and API would: a `DedicatedEndpoint` gets
every output the provider fills (`endpoint_outputs`), `get_templates()` gets a catalogue (by default
`SAMPLE_TEMPLATES`, the emulator's), any other resource has its inputs echoed and any other call answers `{}`.

    import pulumi
    from pulumi_tokenfactory.testing import TokenFactoryMocks

    pulumi.runtime.set_mocks(TokenFactoryMocks(), preview=False)   # before the program is imported

With mocks of your own, answer `GET_TEMPLATES_TOKEN` in `call()` with `templates_result()`, and endpoints
in `new_resource()` with `endpoint_outputs(args)`. See sdk-docs/testing.md. Needs neither the emulator
nor the policy extra.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi.runtime
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from . import spend
from .api.models import inference_base_url
from .api.templates import GET_TEMPLATES_TOKEN
from .endpoint.fields import ABSENT_WHEN_UNSET, INPUT_DEFAULTS
from .sample_catalogue import SAMPLE_TEMPLATES
from .schema import RESOURCE_TYPE
from .settings import GPU_PRICES, PROJECT_ID, Settings

__all__ = ["GET_TEMPLATES_TOKEN", "RESOURCE_TYPE", "SAMPLE_TEMPLATES", "TokenFactoryMocks", "endpoint_outputs",
           "templates_result"]


def templates_result(templates: Iterable[Mapping[str, Any]] = SAMPLE_TEMPLATES) -> dict[str, Any]:
    """What `Mocks.call` returns for `GET_TEMPLATES_TOKEN`: `{"templates": [...]}`, as the API answers.

    Each template is a dict with `model_name`, optional `description`, and `flavors`, each flavor with
    `flavor_name`, `gpu_types` and `gpu_counts`. Copied, so a test that edits its result edits no one else's.
    """
    return {"templates": [copy.deepcopy(dict(template)) for template in templates]}


def endpoint_outputs(args: MockResourceArgs, *, base_url: str | None = None,
                     prices: spend.PriceTable | Mapping[str, Any] | str | None = None,
                     project_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """`(id, outputs)` for a new `DedicatedEndpoint`, as the provider reports a created one.

    The inputs are echoed, the optional ones left out at their defaults. `routing_key` (unless set) is
    `dedicated/<model_name>-<hash>` and the id `ep-<hash>`, from the logical name and model, so stable
    from run to run; `status` is `running` and `readiness` `ready` (`stopped`, `not_ready` when disabled);
    `inference_base_url` is the region's, or `<base_url>/v1/` for a `base_url` other than the public API;
    `project_id` the one given (`""`: the default project).
    The spend outputs come from `pulumi_tokenfactory.spend`, the costs from `prices` (a `spend.PriceTable`
    or a `tokenfactory:gpuHourlyPrices` value), None without a price.
    """
    inputs = dict(args.inputs)
    for name, default in INPUT_DEFAULTS.items():
        if name not in ABSENT_WHEN_UNSET and inputs.get(name) is None:
            inputs[name] = default
    model = str(inputs.get("model_name") or "model")
    digest = hashlib.sha256(f"{args.name}\n{model}".encode()).hexdigest()[:12]
    region = inputs.get("region")
    outputs = {
        **inputs,
        "routing_key": inputs.get("routing_key") or f"dedicated/{model}-{digest}",
        "status": "stopped" if inputs.get("enabled") is False else "running",
        "readiness": "not_ready" if inputs.get("enabled") is False else "ready",
        "inference_base_url": inference_base_url(region if isinstance(region, str) else None, base_url),
        "project_id": project_id or "",
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
    }
    table = prices if prices is None or isinstance(prices, spend.PriceTable) else spend.parse_price_table(prices)
    outputs.update(spend.spend_outputs(outputs, table))
    return f"ep-{digest}", outputs


class TokenFactoryMocks(pulumi.runtime.Mocks):
    """`pulumi.runtime.Mocks` that answer like this package's provider and the Token Factory API.

    `templates` is the catalogue `get_templates()` receives (change it between tests to try another).
    `base_url` plays `tokenfactory:baseUrl`; `prices` the price table (left out, the program's own
    `tokenfactory:gpuHourlyPrices` is read, as the provider reads it). Kept for assertions: `endpoints`
    (each `DedicatedEndpoint`'s `MockResourceArgs`, in order) and `template_calls`. Subclass and call
    `super()` to mock further resources or functions.
    """

    def __init__(self, templates: Iterable[Mapping[str, Any]] = SAMPLE_TEMPLATES, *,
                 base_url: str | None = None,
                 prices: spend.PriceTable | Mapping[str, Any] | str | None = None) -> None:
        self.templates: Sequence[Mapping[str, Any]] = list(templates)
        self.base_url = base_url
        self.prices = prices
        self.endpoints: list[MockResourceArgs] = []
        self.template_calls = 0
        self._lock = threading.Lock()  # the mock monitor calls in from several threads

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        if args.typ == RESOURCE_TYPE:
            with self._lock:
                self.endpoints.append(args)
            program = Settings.of_program()
            prices = self.prices if self.prices is not None else program.get(GPU_PRICES)
            return endpoint_outputs(args, base_url=self.base_url, prices=prices, project_id=program.get(PROJECT_ID))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == GET_TEMPLATES_TOKEN:
            with self._lock:
                self.template_calls += 1
            return templates_result(self.templates), []
        return {}, []  # a list, not None: pulumi's MockMonitor iterates the failures of a tuple
