"""Lines on a resource's row of `pulumi preview` / `pulumi up`: the engine's Log service, from the provider host.

What the provider host writes to stderr, and what `logging` or `pulumi.log` print there, the
engine shows only on the Stack row (measured with the real CLI v3.274.1). A line belongs on the
endpoint's own row: the engine puts it there when it arrives through its `Log` RPC with the
resource's URN. The dynamic-provider host is started as ``python -m pulumi.dynamic
<engine-address>`` (the public plugin protocol), so the address is the host's argument.

The dynamic-provider API does not hand the URN to the provider, so the program side passes it as
the provider-only input ``__urn`` (`schema.URN_FIELD`). Without it (a state written before this
version), the line goes to the Stack row, naming the endpoint. Without an engine (the repo's
engine stand-in passes port 0, unit tests pass nothing) the line goes to stderr.

A log line must never fail the operation it describes: any error sending it falls back to stderr.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Final

#: How long one Log call may take; the engine answers in milliseconds.
LOG_TIMEOUT_SECONDS: Final = 5.0

_DYNAMIC_HOST_MAIN: Final = os.path.join("pulumi", "dynamic", "__main__.py")

#: The resource a call in this thread works on (URN, label), for lines sent from deep inside it (waits).
_current: contextvars.ContextVar[tuple[str | None, str] | None] = contextvars.ContextVar(
    "tokenfactory_engine_log_resource", default=None)


def engine_address(argv: list[str] | None = None) -> str | None:
    """The engine's address when this process is the dynamic-provider host it started; else None.

    Port 0 (what the repo's engine stand-in passes) is no engine one can reach.
    """
    args = sys.argv if argv is None else argv
    if not args or not args[0].endswith(_DYNAMIC_HOST_MAIN):
        return None
    for arg in args[1:]:
        if arg.startswith("-"):
            continue
        host, sep, port = arg.rpartition(":")
        if sep and host and port.isdigit() and int(port) != 0:
            return arg
        return None
    return None


class EngineLog:
    """Sends info lines to the engine for one resource's row, or to stderr when there is no engine."""

    def __init__(self, address: str | None = None, *, stream: IO[str] | None = None, engine: Any = None) -> None:
        """``engine``: an object with the Log stub's method, in place of a channel to ``address`` (tests)."""
        self._address = address
        self._stream = stream
        self._lock = threading.Lock()
        self._stub: Any = engine

    def _engine(self) -> Any:
        with self._lock:
            if self._stub is None and self._address is not None:
                import grpc
                from pulumi.runtime.proto import engine_pb2_grpc

                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
            return self._stub

    def info(self, message: str, urn: str | None, label: str) -> None:
        """One line for the resource ``urn``; without a URN it goes to the Stack row, prefixed with ``label``."""
        labelled = f"{label}: {message}"
        stub = self._engine()
        if stub is not None:
            from pulumi.runtime.proto import engine_pb2

            try:
                stub.Log(engine_pb2.LogRequest(severity=engine_pb2.INFO, message=message if urn else labelled,
                                               urn=urn or ""), timeout=LOG_TIMEOUT_SECONDS)
                return
            except Exception:
                pass  # a lost line must not fail the operation; stderr gets it
        stream = self._stream or sys.stderr
        stream.write(labelled + "\n")
        stream.flush()

    @contextmanager
    def resource(self, urn: str | None, label: str) -> Iterator[None]:
        """Lines sent with :meth:`progress` while inside belong to this resource (this thread only)."""
        token = _current.set((urn, label))
        try:
            yield
        finally:
            _current.reset(token)

    def progress(self, message: str) -> None:
        """A progress line (a long wait) for the resource this thread is working on, if any."""
        current = _current.get()
        urn, label = current if current is not None else (None, "tokenfactory")
        self.info(message, urn, label)


def resource_label(urn: str | None, props: dict[str, Any]) -> str:
    """How a line names its endpoint off its row: the resource name, else the display name."""
    if urn:
        return f"DedicatedEndpoint {urn.rsplit('::', 1)[-1]!r}"
    name = props.get("name")
    return f"DedicatedEndpoint {name!r}" if isinstance(name, str) else "DedicatedEndpoint"
