"""Unit-test Pulumi programs that use pulumi_tokenfactory, under `pulumi.runtime.set_mocks`.

Under mocks no provider runs and no API is called: the test's `Mocks` answer
every resource registration and every function call. `TokenFactoryMocks`
answers the way this package's provider and API would:

* a `DedicatedEndpoint` gets every output the provider fills: an id, a routing key,
  `status`, `readiness`, the region's `inference_base_url`, timestamps, and the spend
  (`reserved_gpus`, `max_gpus` and, with a price table, the hourly costs, computed by
  `pulumi_tokenfactory.spend` as the provider and `export_spend` compute them), with its
  inputs echoed back as outputs and the optional ones the program left out at their defaults;
* `get_templates()` (which asks the mocks first, under the function token
  `GET_TEMPLATES_TOKEN`) gets a catalogue: by default `SAMPLE_TEMPLATES`, the
  one the emulator serves, or the templates you give;
* any other resource has its inputs echoed, any other call answers `{}`.

    import pulumi
    from pulumi_tokenfactory.testing import TokenFactoryMocks

    pulumi.runtime.set_mocks(TokenFactoryMocks(), preview=False)   # before the program is imported

With mocks of your own, answer `GET_TEMPLATES_TOKEN` in `call()` with
`templates_result()`, and endpoints in `new_resource()` with
`endpoint_outputs(args)`. See sdk-docs/testing.md.

This module needs neither the emulator nor the policy extra.
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
from .settings import GPU_PRICES, Settings

__all__ = [
    "GET_TEMPLATES_TOKEN",
    "RESOURCE_TYPE",
    "SAMPLE_TEMPLATES",
    "TokenFactoryMocks",
    "endpoint_outputs",
    "templates_result",
]

def templates_result(templates: Iterable[Mapping[str, Any]] = SAMPLE_TEMPLATES) -> dict[str, Any]:
    """What `Mocks.call` returns for `GET_TEMPLATES_TOKEN`: `{"templates": [...]}`, as the API answers.

    Each template is a dict with `model_name`, optional `description`, and `flavors`, each flavor with
    `flavor_name`, `gpu_types` and `gpu_counts`. Copied, so a test that edits its result edits no one else's.
    """
    return {"templates": [copy.deepcopy(dict(template)) for template in templates]}


def _price_table(prices: spend.PriceTable | Mapping[str, Any] | str | None) -> spend.PriceTable | None:
    if prices is None or isinstance(prices, spend.PriceTable):
        return prices
    return spend.parse_price_table(prices)


def endpoint_outputs(args: MockResourceArgs, *, base_url: str | None = None,
                     prices: spend.PriceTable | Mapping[str, Any] | str | None = None
                     ) -> tuple[str, dict[str, Any]]:
    """`(id, outputs)` for a new `DedicatedEndpoint`, as the provider reports a created one.

    The inputs are echoed, and an optional input the program left out takes its default, as the
    provider reports it (`description` "", `region` eu-north1, `enabled` true, `wait_for_ready` true,
    `ready_timeout` 1800); `routing_key` (unless the program sets one) is `dedicated/<model_name>-<hash>` and
    the id `ep-<hash>`, both
    derived from the logical name and model, so they are stable from run to run and differ between
    endpoints; `status` is `running` and `readiness` `ready` (`stopped`, `not_ready` when `enabled` is false);
    `inference_base_url` is the
    region's public one, or `<base_url>/v1/` when a `base_url` other than the public API is given, as
    the provider does when `tokenfactory:baseUrl` points at an emulator. The spend outputs come from
    `pulumi_tokenfactory.spend`, as the provider computes them: `reserved_gpus` and `max_gpus` always,
    `hourly_cost_min`, `hourly_cost_max` and `cost_currency` from `prices` (a `spend.PriceTable`, or the
    value of `tokenfactory:gpuHourlyPrices`: a JSON string or a dict), None without a price.
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
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
    }
    outputs.update(spend.spend_outputs(outputs, _price_table(prices)))
    return f"ep-{digest}", outputs


class TokenFactoryMocks(pulumi.runtime.Mocks):
    """`pulumi.runtime.Mocks` that answer like this package's provider and the Token Factory API.

    `templates` is the catalogue `get_templates()` receives (default `SAMPLE_TEMPLATES`); change the
    attribute between tests to try another catalogue. `base_url` plays `tokenfactory:baseUrl` for
    `inference_base_url`. `prices` is the price table of the hourly costs (a `spend.PriceTable`, or a
    `tokenfactory:gpuHourlyPrices` value); left out, the program's own `tokenfactory:gpuHourlyPrices`
    config is read, as the provider and `export_spend` read it (none: the costs are None).
    What the program did is kept for assertions: `endpoints` (the
    `MockResourceArgs` of each `DedicatedEndpoint`, in order) and `template_calls`. Subclass and call
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
            prices = self.prices if self.prices is not None else Settings.of_program().get(GPU_PRICES)
            return endpoint_outputs(args, base_url=self.base_url, prices=prices)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == GET_TEMPLATES_TOKEN:
            with self._lock:
                self.template_calls += 1
            return templates_result(self.templates), []
        return {}, []  # a list, not None: pulumi's MockMonitor iterates the failures of a tuple
