"""Run a Pulumi program under ``pulumi.runtime.set_mocks`` and collect what it registered.

Why not just ``@pulumi.runtime.test``: that decorator leaves the root ``Stack`` that
``set_mocks`` creates already *finished*, so ``pulumi.export`` values are never sent
anywhere and cannot be asserted on. :func:`run_program` instead runs the program through
``pulumi.runtime.stack.run_in_stack`` -- the same entry point the real Python language
host uses -- so the Stack registers its outputs exactly once at the end, and our
:class:`RecordingMonitor` captures that ``RegisterResourceOutputs`` call. Every run
happens in a copied ``contextvars`` context with its own event loop, mock monitor,
config and root resource, so it can be called repeatedly in one pytest process without
leaking state into other tests (or picking up theirs). The program runs on a worker
thread so the caller's event-loop state is left untouched.

Under mocks nothing calls the dynamic provider: ``new_resource`` receives the type token
and the inputs, with ``__provider`` wrapped as a secret (a dict holding the signature
key ``4dabf18193072939515e22adb298388d`` and a ``value``). :class:`RecordingMocks`
unwraps it so tests can deserialize or compare it directly.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack

from pulumi_tokenfactory.wire import PROVIDER_KEY

__all__ = [
    "PROVIDER_KEY",
    "ProgramResult",
    "RecordedCall",
    "RecordedResource",
    "RecordingMocks",
    "RecordingMonitor",
    "run_program",
    "unwrap_secrets",
]

STACK_TYPE = "pulumi:pulumi:Stack"

OutputsFn = Callable[[MockResourceArgs], "dict[str, Any] | tuple[str | None, dict[str, Any]]"]
CallFn = Callable[[MockCallArgs], "dict[str, Any] | tuple[dict[str, Any], list[tuple[str, str]] | None]"]


def unwrap_secrets(value: Any) -> tuple[Any, bool]:
    """Strip the rpc secret wrappers from a deserialized value; report whether any were found."""
    if rpc.is_rpc_secret(value):
        inner, _ = unwrap_secrets(rpc.unwrap_rpc_secret(value))
        return inner, True
    if isinstance(value, dict):
        found = False
        out = {}
        for k, v in value.items():
            out[k], secret = unwrap_secrets(v)
            found = found or secret
        return out, found
    if isinstance(value, list):
        items = [unwrap_secrets(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


@dataclass
class RecordedResource:
    """One ``new_resource`` call (a registered or read resource) as the mock saw it."""

    type: str
    name: str
    inputs: dict[str, Any]
    """Inputs with ``__provider`` unwrapped to the plain base64 string (other secrets kept wrapped)."""
    raw_inputs: dict[str, Any]
    """Inputs exactly as ``MockResourceArgs`` delivered them."""
    secret_inputs: frozenset[str]
    """Top-level input names whose value was (or contained) a secret, ``__provider`` included."""
    id: str | None
    outputs: dict[str, Any]
    provider: str | None
    import_id: str | None
    custom: bool | None
    urn: str | None = None
    parent: str | None = None
    request: resource_pb2.RegisterResourceRequest | None = None
    """The raw RegisterResourceRequest (options such as ignoreChanges, customTimeouts) when known."""
    read: bool = False
    """True for ``Resource.get`` style reads (ReadResource), False for registrations."""

    @property
    def provider_str(self) -> str | None:
        """The serialized dynamic provider (base64 dill), if this is a dynamic resource."""
        value = self.inputs.get(PROVIDER_KEY)
        return value if isinstance(value, str) else None

    @property
    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with every secret unwrapped and ``__provider`` removed."""
        plain, _ = unwrap_secrets(self.inputs)
        plain.pop(PROVIDER_KEY, None)
        return plain


@dataclass
class RecordedCall:
    token: str
    args: dict[str, Any]
    provider: str | None


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record every resource and call, with pluggable responses.

    ``outputs(args)`` returns either the output dict (id defaults to ``<name>-id``) or an
    ``(id, outputs)`` tuple; the default echoes the inputs, as a dynamic resource whose
    provider returns its inputs would. ``call(args)`` returns the result dict or
    ``(result, failures)``. ``delegate`` wraps an existing ``Mocks`` instead.
    Thread-safe: the mock monitor calls in from executor threads concurrently.
    """

    def __init__(
        self,
        outputs: OutputsFn | None = None,
        call: CallFn | None = None,
        *,
        delegate: pulumi.runtime.Mocks | None = None,
    ) -> None:
        self._outputs_fn = outputs
        self._call_fn = call
        self._delegate = delegate
        self._lock = threading.Lock()
        self.resources: list[RecordedResource] = []
        self.calls: list[RecordedCall] = []
        self._monitor_local: threading.local | None = None

    # ------------------------------------------------------------------ Mocks API

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if self._delegate is not None:
            id_, outputs = self._delegate.new_resource(args)
        elif self._outputs_fn is not None:
            response = self._outputs_fn(args)
            if isinstance(response, tuple):
                id_, outputs = response
            else:
                id_, outputs = f"{args.name}-id", response
        else:
            id_, outputs = f"{args.name}-id", dict(args.inputs)

        raw = dict(args.inputs)
        inputs = dict(raw)
        if PROVIDER_KEY in inputs:
            inputs[PROVIDER_KEY] = rpc.unwrap_rpc_secret(inputs[PROVIDER_KEY])
        secret_inputs = frozenset(k for k, v in raw.items() if unwrap_secrets(v)[1])
        local = self._monitor_local
        request = getattr(local, "request", None) if local is not None else None
        urn = getattr(local, "urn", None) if local is not None else None
        record = RecordedResource(
            type=args.typ,
            name=args.name,
            inputs=inputs,
            raw_inputs=raw,
            secret_inputs=secret_inputs,
            id=id_,
            outputs=dict(outputs),
            provider=args.provider or None,
            import_id=args.resource_id or None,
            custom=args.custom,
            urn=urn,
            parent=(request.parent or None) if request is not None else None,
            request=request if isinstance(request, resource_pb2.RegisterResourceRequest) else None,
            read=isinstance(request, resource_pb2.ReadResourceRequest),
        )
        with self._lock:
            self.resources.append(record)
        return id_, outputs

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        with self._lock:
            self.calls.append(RecordedCall(args.token, dict(args.args), args.provider or None))
        if self._delegate is not None:
            response: Any = self._delegate.call(args)
        elif self._call_fn is not None:
            response = self._call_fn(args)
        else:
            response = {}
        if isinstance(response, tuple):
            result, failures = response
            # MockMonitor iterates the failures unconditionally when given a tuple.
            return result, list(failures or [])
        return response, []

    # ------------------------------------------------------------------ queries

    def of_type(self, type_token: str) -> list[RecordedResource]:
        with self._lock:
            return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> RecordedResource:
        with self._lock:
            found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise KeyError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]


class RecordingMonitor(MockMonitor):
    """MockMonitor that also captures ``RegisterResourceOutputs`` (stack exports live there).

    It exposes the in-flight request to :class:`RecordingMocks` through a thread-local so
    recorded resources carry their URN, parent and options.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self._local = threading.local()
        self._outputs_lock = threading.Lock()
        self.registered_outputs: dict[str, resource_pb2.RegisterResourceOutputsRequest] = {}
        self._thread_loops: list[asyncio.AbstractEventLoop] = []
        self._thread_loops_lock = threading.Lock()
        if isinstance(mocks, RecordingMocks):
            mocks._monitor_local = self._local

    def _own_thread_loop(self) -> None:
        """Give this worker thread an event loop that the run closes at its end.

        pulumi's MockMonitor creates one per worker thread (``_ensure_event_loop``) and never
        closes it; collected later, at a random moment, such a loop fails in ``__del__``.
        """
        try:
            asyncio.get_event_loop()
        except RuntimeError:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            with self._thread_loops_lock:
                self._thread_loops.append(loop)

    def close_thread_loops(self) -> None:
        with self._thread_loops_lock:
            loops, self._thread_loops = self._thread_loops, []
        for loop in loops:
            loop.close()

    def Invoke(self, request: Any) -> Any:
        self._own_thread_loop()
        return super().Invoke(request)

    def RegisterResource(self, request: Any) -> Any:
        self._own_thread_loop()
        self._local.request = request
        self._local.urn = self.make_urn(request.parent, request.type, request.name)
        try:
            return super().RegisterResource(request)
        finally:
            self._local.request = None
            self._local.urn = None

    def ReadResource(self, request: Any) -> Any:
        self._own_thread_loop()
        self._local.request = request
        self._local.urn = self.make_urn(request.parent, request.type, request.name)
        try:
            return super().ReadResource(request)
        finally:
            self._local.request = None
            self._local.urn = None

    def RegisterResourceOutputs(self, request: Any) -> Any:
        with self._outputs_lock:
            self.registered_outputs[request.urn] = request
        return super().RegisterResourceOutputs(request)


@dataclass
class ProgramResult:
    """What a program registered and exported."""

    resources: list[RecordedResource]
    exports: dict[str, Any]
    """Stack outputs with secrets unwrapped (see ``secret_exports``)."""
    secret_exports: frozenset[str]
    raw_exports: dict[str, Any]
    """Stack outputs as the engine would receive them (secret wrappers kept)."""
    calls: list[RecordedCall]
    stack_urn: str
    logs: list[tuple[str, str]] = field(default_factory=list)
    """(level name, message) for everything logged through ``pulumi.log``."""
    background_errors: list[str] = field(default_factory=list)
    """Errors of this run's event loop that nothing awaited (e.g. an ``apply`` whose result
    nobody used), caught quietly instead of being printed later (see :func:`_settle_loop`)."""

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise KeyError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]


class _ListHandler(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelname, record.getMessage()))


class _RootPlaceholder:
    """Non-None root so ``set_mocks`` does not create (and immediately finish) its own Stack."""


_RUN_COUNTER = iter(range(1, 1 << 62))
_RUN_COUNTER_LOCK = threading.Lock()


def _normalize_config(config: Mapping[str, Any] | None, project: str) -> dict[str, Any]:
    """Prefix bare keys with the project, as ``pulumi config set key`` does."""
    return {(k if ":" in k else f"{project}:{k}"): v for k, v in (config or {}).items()}


def run_program(
    program: Callable[[], Awaitable[None] | None],
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    project: str = "proj",
    stack: str = "dev",
    mocks: pulumi.runtime.Mocks | None = None,
    preview: bool = False,
    organization: str = "organization",
    log_level: int = logging.INFO,
) -> ProgramResult:
    """Run ``program`` under mocks and return its resources and stack exports.

    ``config`` keys may be full (``"tokenfactory:apiKey"``) or bare (``"region"``, which
    becomes ``"<project>:region"`` like the CLI). ``secret_keys`` marks keys as secret
    config (use the same spelling as in ``config``). ``program`` may return an awaitable.
    ``log_level`` filters the captured ``pulumi.log`` messages (the SDK logs a lot at DEBUG).
    Exceptions raised by the program (or by resource registration) propagate.
    """
    recording = mocks if isinstance(mocks, RecordingMocks) else RecordingMocks(delegate=mocks)
    # A copied context keeps the settings/config/root-resource contextvars of this run
    # private; a worker thread keeps its event loop private (set_event_loop is per
    # thread), so the caller's loop state is exactly as before, even after a failure.
    ctx = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pulumi-program") as pool:
        future = pool.submit(
            ctx.run,
            _run_in_context,
            program,
            _normalize_config(config, project),
            list(_normalize_config(dict.fromkeys(secret_keys, ""), project)),
            project,
            stack,
            recording,
            preview,
            organization,
            log_level,
        )
        return future.result()


def _run_in_context(
    program: Callable[[], Awaitable[None] | None],
    config: dict[str, Any],
    secret_keys: list[str],
    project: str,
    stack: str,
    mocks: RecordingMocks,
    preview: bool,
    organization: str,
    log_level: int,
) -> ProgramResult:
    pulumi.runtime.set_all_config(config, secret_keys)
    first_resource, first_call = len(mocks.resources), len(mocks.calls)

    with _RUN_COUNTER_LOCK:
        run_no = next(_RUN_COUNTER)
    logger = logging.getLogger(f"{__name__}.run{run_no}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = _ListHandler(log_level)
    logger.addHandler(handler)

    monitor = RecordingMonitor(mocks)
    settings.set_root_resource(_RootPlaceholder())  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=monitor,
        organization=organization,
    )
    settings.set_root_resource(None)  # type: ignore[arg-type]
    # MockSettings does not reset these; give this run its own so nothing leaks between runs.
    settings.SETTINGS.outputs = set()
    settings.SETTINGS.lock = threading.Lock()
    settings.SETTINGS.package_refs = {}
    settings.SETTINGS.base_providers_by_ref = {}

    loop = asyncio.new_event_loop()
    background_errors: list[str] = []
    loop.set_exception_handler(_quiet_exception_handler(background_errors))
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(program))
    finally:
        try:
            _settle_loop(loop)
        finally:
            loop.close()
            monitor.close_thread_loops()
            asyncio.set_event_loop(None)
            logger.removeHandler(handler)
            # Unretrieved futures sit in reference cycles (exception -> traceback -> frame); collect
            # them now, while the quiet handler is theirs, not at some random later moment.
            gc.collect()

    stack_urn = monitor.make_urn("", STACK_TYPE, f"{project}-{stack}")
    request = monitor.registered_outputs.get(stack_urn)
    raw_exports: dict[str, Any] = {}
    if request is not None:
        raw_exports = dict(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
    exports: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in raw_exports.items():
        exports[key], is_secret = unwrap_secrets(value)
        if is_secret:
            secret.add(key)
    return ProgramResult(
        resources=mocks.resources[first_resource:],
        exports=exports,
        secret_exports=frozenset(secret),
        raw_exports=raw_exports,
        calls=mocks.calls[first_call:],
        stack_urn=stack_urn,
        logs=list(handler.records),
        background_errors=list(background_errors),
    )


def _quiet_exception_handler(sink: list[str]) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """Record the loop's stray errors as one line each instead of logging a formatted traceback.

    A program that fails inside an ``Output.apply`` leaves futures whose exception nobody
    retrieved and tasks still pending. Their ``__del__`` reports them through the loop's
    exception handler whenever the garbage collector gets to them, which may be in a later
    test, in the middle of pytest compiling (``ast``) a module. The default handler formats a
    traceback, and on CPython 3.11 traceback formatting calls ``ast.parse`` itself; re-entering
    the AST constructor from a GC callback corrupts its state and a later ``ast.parse`` fails
    with ``SystemError: AST constructor recursion depth mismatch``. This handler never formats.
    """

    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        detail = f"{type(exc).__name__}: {exc}" if exc is not None else ""
        sink.append(f"{context.get('message', 'error')}: {detail}".rstrip(": "))

    return handle


def _settle_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Leave nothing of a run behind: cancel and await its pending tasks, then its worker threads.

    Without this, a failed program returns while resource registrations are still pending
    ("Task was destroyed but it is pending!") and mock-monitor calls still run on the
    loop's executor threads, which ``loop.close()`` does not wait for.
    """
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
