"""The stack's GPU spend as one stack output, so that `pulumi preview` shows the total and every delete.

The provider sees one resource per call and is not called at all for a delete during a preview,
so only the program can state a total. `export_spend()` exports it from the endpoints this
program run declared; the engine diffs stack outputs against the last `up` by itself, which gives
``~ reserved_gpus: 2 => 4`` for a change and ``- name: 2`` under ``by_resource`` for a delete,
with no extra machinery. The figures come from `pulumi_tokenfactory.spend`, the one spend model.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from .. import spend
from ..settings import GPU_PRICES, Settings

if TYPE_CHECKING:
    from ..endpoint.program import DedicatedEndpoint

#: The stack output `export_spend` writes by default.
SPEND_OUTPUT = "tokenfactory_spend"
#: The declared inputs a reservation is computed from.
_SPEND_INPUTS = ("gpu_type", "gpu_count", "scaling", "enabled")


@dataclass(frozen=True)
class _Declared:
    resource: object
    resource_name: str
    inputs: Mapping[str, Any]


class _Registry:
    """The endpoints declared in the running program.

    Automation API inline programs run many times in one process, so the list belongs to one run:
    it is keyed by the run's root (Stack) resource and starts afresh when a new run has a new root.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._root: Any = None
        self._declared: list[_Declared] = []

    def _current(self) -> list[_Declared]:
        root = pulumi.runtime.get_root_resource()
        if root is not self._root:
            self._root, self._declared = root, []
        return self._declared

    def add(self, resource: object, resource_name: str, inputs: Mapping[str, Any]) -> None:
        with self._lock:
            self._current().append(_Declared(resource, resource_name, {k: inputs.get(k) for k in _SPEND_INPUTS}))

    def declared(self) -> list[_Declared]:
        with self._lock:
            return list(self._current())


_REGISTRY = _Registry()


def declared(resource: object, resource_name: str, inputs: Mapping[str, Any]) -> None:
    """Called by `DedicatedEndpoint` for every endpoint a program declares (not for `get` references)."""
    _REGISTRY.add(resource, resource_name, inputs)


def _price_table() -> spend.PriceTable | None:
    return Settings.of_program().get(GPU_PRICES)


def spend_total(endpoints: Iterable[DedicatedEndpoint] | None = None) -> pulumi.Output[dict[str, Any]]:
    """The stack total as `spend.stack_total` computes it, from the endpoints' declared inputs.

    ``endpoints`` defaults to every `DedicatedEndpoint` declared in this program run. An input that
    is not known until the deployment (an `Output` of a resource still to be created) makes the
    total unknown in that preview, as Pulumi shows any such output.
    """
    table = _price_table()
    chosen = _REGISTRY.declared()
    if endpoints is not None:
        wanted = {id(e) for e in endpoints}
        chosen = [d for d in chosen if id(d.resource) in wanted]
    names = [d.resource_name for d in chosen]
    values = [pulumi.Output.from_input(dict(d.inputs)) for d in chosen]

    def total(resolved: list[Any]) -> dict[str, Any]:
        by_name = {name: spend.reservation(props) for name, props in zip(names, resolved, strict=True)}
        return spend.stack_total(by_name, table)

    return pulumi.Output.all(*values).apply(total)


def export_spend(name: str = SPEND_OUTPUT, endpoints: Iterable[DedicatedEndpoint] | None = None
                 ) -> pulumi.Output[dict[str, Any]]:
    """Export the stack's GPU spend as the stack output ``name``; call it at the end of the program.

    The output holds ``reserved_gpus``, ``max_gpus``, ``by_resource`` {resource name: reserved GPUs}
    and, when the stack config has ``tokenfactory:gpuHourlyPrices``, ``hourly_cost_min``,
    ``hourly_cost_max`` and ``currency``. `pulumi preview` shows its diff against the last `up`.
    """
    total = spend_total(endpoints)
    pulumi.export(name, total)
    return total
