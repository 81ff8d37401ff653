"""The dynamic provider behind `DedicatedEndpoint`, as Pulumi stores it in every stack's state.

Pulumi pickles this object (with dill) into the state and reuses it for
refresh and destroy. It therefore pickles to a bare reference to this class
(see `__reduce__`): no token, no client, no code frozen by value, so an
upgraded package takes effect on old stacks and the bytes never change.
Its methods only hand the engine's property bags to `endpoint.adapter`, which is
imported on the first call, inside the provider host: a Pulumi program
that merely declares resources never loads the lifecycle logic.

Its dotted path, `pulumi_tokenfactory.provider.DedicatedEndpointProvider`, is written into the
`__provider` input of every stack's state: it must stay here forever, whatever else moves
(tests/engine/test_secrets.py and the recorded upgrade fixtures pin it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .schema import API_KEY_CONFIG
from .settings import API_KEY_ENV, CONFIG_KEYS

if TYPE_CHECKING:
    from .endpoint.adapter import EngineAdapter


class DedicatedEndpointProvider(ResourceProvider):
    """Lifecycle of one Token Factory dedicated endpoint per resource."""

    serialize_as_secret_always = True

    def __init__(self) -> None:
        super().__init__()
        self._config: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._controller: EngineAdapter | None = None

    def __reduce__(self) -> tuple[type[DedicatedEndpointProvider], tuple[()]]:
        # Pickle by reference only: nothing of this instance may reach the state.
        return (DedicatedEndpointProvider, ())

    def __repr__(self) -> str:
        return "DedicatedEndpointProvider()"

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's settings; nothing is contacted until a call needs the API.

        Configure runs only in a provider host, so it also makes the host exit should the engine die
        (see enginewatch), and makes the host report an error as its one line, without the Python
        traceback, unless TOKENFACTORY_TRACEBACKS=1 (see host.failures), and lets the calls in flight finish
        when the host is interrupted (see host.interrupts)."""
        from .host.enginewatch import exit_when_the_engine_is_gone
        from .host.failures import in_dynamic_host, quiet_tracebacks
        from .host.interrupts import finish_calls_when_interrupted

        exit_when_the_engine_is_gone()
        quiet_tracebacks()
        if in_dynamic_host():
            finish_calls_when_interrupted()
        self._config = {key: req.config.get(key) for key in CONFIG_KEYS}  # every setting's key: settings.SETTINGS

    def _control(self) -> EngineAdapter:
        with self._lock:
            if self._controller is None:
                from .endpoint.adapter import EngineAdapter

                self._controller = EngineAdapter(self._config)
            return self._controller

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        with self._reported("check", news):
            return self._control().check(olds, news)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        with self._reported("diff", news, id_):
            return self._control().diff(id_, olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self._reported("create", props), _spending("create"):
            return self._control().create(props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._reported("refresh", props, id_):
            return self._control().read(id_, props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self._reported("update", news, id_), _spending("update"):
            return self._control().update(id_, olds, news)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._reported("delete", props, id_), _spending("delete"):
            self._control().delete(id_, props)

    @contextmanager
    def _reported(self, operation: str, props: Mapping[str, Any], id_: str | None = None) -> Iterator[None]:
        """A failure leaves as one line naming the operation, the resource and the cause (see host.failures),
        never quoting the API key; with TOKENFACTORY_TRACEBACKS=1, as it was raised."""
        try:
            yield
        except Exception as exc:
            from .host.failures import one_line, tracebacks_wanted

            if tracebacks_wanted():
                raise
            keys = (self._config.get(API_KEY_CONFIG), os.environ.get(API_KEY_ENV))
            raise one_line(operation, props, exc, id_=id_, secrets=keys) from None


@contextmanager
def _spending(operation: str) -> Iterator[None]:
    """Counted while in flight, so an interrupted host finishes it (see host.interrupts)."""
    from .host.interrupts import spending

    with spending(operation):
        yield
