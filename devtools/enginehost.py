"""Drive a Python dynamic provider over gRPC exactly the way the Pulumi engine does.

Used by the stand-in demo (``devtools/demo.py``), and through ``devtools/harness.py`` by the
benchmarks and the engine-protocol tests: it plays the engine's part against the real provider
host from the installed SDK (``pulumi/dynamic/__main__.py``, pulumi 3.272), so that fault
injection runs in seconds without the CLI; ``tests/cli/test_cli_basic.py`` compares it call by
call with the real engine. The facts it mirrors (see /work/shared/engine-protocol-notes.md; each was
checked against the installed SDK and the engine's ``provider_plugin.go``):

* **Launch.** The CLI's ``pulumi-resource-pulumi-python`` shim runs
  ``python -u -m pulumi.dynamic <engine-address>``. ``-u`` matters: the host writes its
  port with ``sys.stdout.buffer.write`` and never flushes, so without it the port would
  sit in a pipe buffer forever. The port is the first stdout line. Later stdout and all
  of stderr are plugin logs; we capture both (``stdout_text()`` / ``stderr_text()``).
* **Concurrency.** The host serves ``ResourceProvider`` on a 4-worker thread pool:
  at most 4 calls run at once; more wait in gRPC's queue. gRPC stubs and channels are
  thread-safe, so one stub is shared; :meth:`ProviderHost.run_concurrently` fans out.
* **Configure first.** The engine always sends ``Configure`` before any resource call
  and waits for it. The host reads config from ``ConfigureRequest.args`` only
  (``variables`` is ignored, but we still fill it the way the engine does: key
  ``pulumi-python:config:<key>``, value a string or JSON). The engine marshals ``args``
  with ``KeepSecrets``, so secret values arrive wrapped; the host unwraps them and
  answers ``acceptSecrets=False``/``supportsPreview=False``. Hence later calls carry
  plain values (no secret wrappers) and the engine never calls ``Create``/``Update``
  with ``preview=True`` on this host (``create(preview=True)`` is there only to probe).
* **Caching.** The host deserializes each distinct ``__provider`` string once and calls
  ``configure()`` on it then; a later ``Configure`` does not reconfigure a cached one.
* **Values.** Properties travel as ``google.protobuf.Struct``: every number becomes a
  float. Unknown (preview) values travel as the sentinel string
  :data:`UNKNOWN`; the host turns them into ``pulumi.output.Unknown`` in Check/Diff.
  We build the Struct the way Go's ``MarshalProperties`` does (plain JSON-like values)
  and decode replies with ``rpc.deserialize_properties(..., keep_unknowns=True)``.
* **Requests.** Check sends old *inputs* and new inputs; Diff/Update send old
  *outputs* as ``olds`` plus ``old_inputs``; Delete sends old outputs plus
  ``old_inputs``; Read sends prior outputs (refresh) or only ``inputs`` (import/get).
  Newer engines also fill ``name`` and ``type`` (derived from the URN); we do too.
* **Errors.** Any exception in the provider becomes gRPC ``UNKNOWN`` whose details are
  the full traceback; :class:`ProviderCallError` keeps it and exposes ``last_line``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NoReturn, TypeVar, cast, overload

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime._serialization import _serialize
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_tokenfactory.wire import PROVIDER_KEY

__all__ = [
    "PROVIDER_KEY",
    "UNKNOWN",
    "CheckFailed",
    "CheckOutcome",
    "ConfigureOutcome",
    "CreateOutcome",
    "DiffOutcome",
    "HarnessError",
    "Plan",
    "ProviderCallError",
    "ProviderHost",
    "ReadOutcome",
    "ResourceSteps",
    "build_configure_request",
    "decode_provider",
    "from_struct",
    "make_urn",
    "serialized_provider",
    "serialized_provider_is_secret",
    "to_struct",
]

T = TypeVar("T")

UNKNOWN: str = rpc.UNKNOWN
"""The engine's wire sentinel for a value not yet known in preview."""

DEFAULT_PROVIDER_URN_TEMPLATE = "urn:pulumi:{stack}::{project}::pulumi:providers:pulumi-python::default"
DIFF_CHANGES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "DIFF_UNKNOWN",
    provider_pb2.DiffResponse.DIFF_NONE: "DIFF_NONE",
    provider_pb2.DiffResponse.DIFF_SOME: "DIFF_SOME",
}


# --------------------------------------------------------------------------- helpers


def make_urn(type_token: str, name: str, stack: str = "dev", project: str = "proj") -> str:
    """URN of a top-level resource, as the engine builds it (no parent type chain)."""
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


def _split_urn(urn: str) -> tuple[str, str]:
    """(type, name) from a URN; the engine sends both alongside the URN in newer protocols."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return "", ""
    qualified_type = parts[2]
    return qualified_type.split("$")[-1], "::".join(parts[3:])


def serialized_provider(provider: ResourceProvider) -> str:
    """The base64 ``__provider`` string exactly as ``pulumi.dynamic.Resource.__init__`` makes it.

    Resource.__init__ runs ``serialize_provider`` (dill, recurse=True, sorted dicts) inside
    ``_serialize(True, ...)`` so captured secret Outputs are allowed; we do the same so
    tests see the very bytes that would be stored in state.
    """
    value, _contains_secrets = _serialize(True, serialize_provider, provider)
    return value


def serialized_provider_is_secret(provider: ResourceProvider) -> bool:
    """Whether Resource.__init__ would mark ``__provider`` secret (default: always)."""
    _value, contains_secrets = _serialize(True, serialize_provider, provider)
    return bool(getattr(provider, "serialize_as_secret_always", True) or contains_secrets)


def _to_value(value: Any, *, path: str) -> Any:
    """Convert a Python value to what Go's MarshalPropertyValue would put in a Struct."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{path}: property keys must be str, got {k!r}")
            out[k] = _to_value(v, path=f"{path}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_to_value(v, path=f"{path}[{i}]") for i, v in enumerate(value)]
    raise TypeError(
        f"{path}: {type(value).__name__} cannot travel through the engine protocol "
        "(only JSON-like values, Unknown/UNKNOWN and secret-wrapped dicts)"
    )


def to_struct(props: Mapping[str, Any] | None) -> struct_pb2.Struct:
    """Serialize a property map the way the engine does: JSON-like values in a Struct.

    Numbers become floats (Struct has only ``number_value``); ``pulumi.output.Unknown``
    instances and the :data:`UNKNOWN` string both travel as the sentinel string.
    """
    struct = struct_pb2.Struct()
    if props:
        struct.update({k: _to_value(v, path=k) for k, v in props.items()})
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Decode a reply the way the SDK does, keeping unknowns as ``Unknown`` objects."""
    result = rpc.deserialize_properties(struct, keep_unknowns=True)
    return dict(result) if isinstance(result, dict) else {"<value>": result}


def _config_variable(value: Any) -> str:
    """Engine rule for ConfigureRequest.variables: strings as-is, anything else as JSON."""
    plain = rpc.unwrap_rpc_secret(value)
    return plain if isinstance(plain, str) else json.dumps(plain, separators=(",", ":"))


def build_configure_request(
    config: Mapping[str, Any],
    secret_keys: Iterable[str] = (),
    *,
    stack: str = "dev",
    project: str = "proj",
    provider_id: str | None = None,
) -> provider_pb2.ConfigureRequest:
    """The ConfigureRequest the engine sends to the default ``pulumi-python`` provider.

    Mirrors ``provider_plugin.go``: ``args`` marshalled with KeepSecrets (secret values
    wrapped), ``variables`` keyed ``pulumi-python:config:<key>`` with plain strings/JSON,
    and the four capability flags set.
    """
    bad = [k for k in config if ":" not in k]
    if bad:
        raise HarnessError(f"config keys must be namespaced like the CLI sends them: {bad}")
    secret = set(secret_keys)
    unknown_secret = secret - set(config)
    if unknown_secret:
        raise HarnessError(f"secret_keys not in config: {sorted(unknown_secret)}")
    args = {k: rpc.wrap_rpc_secret(v) if k in secret else v for k, v in config.items()}
    variables = {f"pulumi-python:config:{k}": _config_variable(v) for k, v in config.items()}
    return provider_pb2.ConfigureRequest(
        variables=variables,
        args=to_struct(args),
        acceptSecrets=True,
        acceptResources=True,
        sends_old_inputs=True,
        sends_old_inputs_to_delete=True,
        urn=DEFAULT_PROVIDER_URN_TEMPLATE.format(stack=stack, project=project),
        name="default",
        type="pulumi:providers:pulumi-python",
        # The default provider's id: the unknown sentinel while it is being created (a stack's first
        # preview), a UUID afterwards. The dynamic host ignores it; the engine always sends one.
        id=provider_id or UNKNOWN,
    )


# --------------------------------------------------------------------------- results


class HarnessError(RuntimeError):
    """Misuse of the harness or a host that failed to start (not a provider error)."""


class ProviderCallError(Exception):
    """A gRPC error returned by the provider host.

    ``details`` is what the engine would show: for a provider exception it is the whole
    ``traceback.format_exc()`` text, so ``last_line`` (``"ValueError: message"``) is the
    line a person actually reads first.
    """

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        self.method = method
        self.code = code
        self.details = details or ""
        super().__init__(f"{method} failed with {code.name}: {self.last_line}")

    @property
    def last_line(self) -> str:
        """Last non-empty line of the details (the exception line of a traceback)."""
        lines = [line for line in self.details.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""

    @property
    def message(self) -> str:
        """``last_line`` without a leading ``SomeError:`` prefix, if it has one."""
        head, sep, tail = self.last_line.partition(": ")
        if sep and head.replace(".", "").replace("_", "").isalnum() and " " not in head:
            return tail
        return self.last_line

    @property
    def is_traceback(self) -> bool:
        """True when the host aborted with a Python traceback (an exception in provider code)."""
        return self.details.startswith("Traceback (most recent call last):")


@dataclass(frozen=True)
class ConfigureOutcome:
    accept_secrets: bool
    supports_preview: bool
    accept_resources: bool
    accept_outputs: bool


@dataclass(frozen=True)
class CheckOutcome:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


@dataclass(frozen=True)
class DiffOutcome:
    changes: Literal["DIFF_SOME", "DIFF_NONE", "DIFF_UNKNOWN"]
    replaces: list[str]
    delete_before_replace: bool
    stables: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    has_detailed_diff: bool = False


@dataclass(frozen=True)
class CreateOutcome:
    id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class ReadOutcome:
    id: str
    """Empty string means "the resource is gone" to the engine."""
    properties: dict[str, Any]
    inputs: dict[str, Any] | None
    """None when the provider did not return inputs (engine keeps the old ones)."""


# --------------------------------------------------------------------------- host


class ProviderHost:
    """A real ``python -m pulumi.dynamic`` subprocess plus a gRPC client for it.

    Use as a context manager. ``env`` is merged over ``os.environ`` (unless
    ``inherit_env=False``); ``PULUMI_PROJECT`` is set from ``project`` because the
    host's ``Config.get("key")`` prefixes un-namespaced keys with it (``None`` leaves
    the environment alone, in which case the host falls back to ``"project"``).
    ``pythonpath`` entries are prepended to PYTHONPATH so that classes pickled by reference
    import in the host: the caller names where its provider class lives (an installed package,
    such as ``pulumi_tokenfactory``, needs nothing). The host runs in ``cwd`` (default: ours), which
    ``python -m`` also puts first on its ``sys.path``.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        project: str | None = "proj",
        pythonpath: Sequence[str | os.PathLike[str]] = (),
        cwd: str | os.PathLike[str] | None = None,
        config: Mapping[str, Any] | None = None,
        secret_keys: Iterable[str] = (),
        startup_timeout: float = 30.0,
        call_timeout: float | None = 120.0,
        stack: str = "dev",
    ) -> None:
        self._env_overrides = dict(env or {})
        self._inherit_env = inherit_env
        self.project = project
        self.stack = stack
        self._pythonpath = [os.fspath(p) for p in pythonpath]
        self._cwd = os.fspath(cwd) if cwd is not None else None
        self._initial_config = dict(config) if config is not None else None
        self._initial_secret_keys = tuple(secret_keys)
        self._startup_timeout = startup_timeout
        self.call_timeout = call_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._stderr_file: Any = None
        self._stdout_chunks: list[str] = []
        self._stdout_lock = threading.Lock()
        self._stdout_thread: threading.Thread | None = None
        self._configured = False
        self._provider_id = str(uuid.uuid4())
        self._stderr_snapshot = ""
        self.port: int | None = None

    # ---------------------------------------------------------------- lifecycle

    def build_env(self) -> dict[str, str]:
        """The environment the host process gets (exposed so tests can assert on it)."""
        env = dict(os.environ) if self._inherit_env else {}
        env.update(self._env_overrides)
        if self.project is not None:
            env["PULUMI_PROJECT"] = self.project
        paths = [*self._pythonpath]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def start(self) -> ProviderHost:
        """Spawn the host, wait for its port, connect, and optionally Configure."""
        if self._proc is not None:
            raise HarnessError("provider host already started")
        self._tmpdir = tempfile.TemporaryDirectory(prefix="provider-host-")
        stderr_path = Path(self._tmpdir.name) / "stderr.log"
        self._stderr_file = open(stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self._proc = subprocess.Popen(
            # Same command line as the CLI shim; the engine address argument is ignored
            # by the Python host but passed for fidelity.
            [sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:0"],
            stdin=subprocess.PIPE,  # as the engine does: a pipe held open for the host's lifetime, never written
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            env=self.build_env(),
            cwd=self._cwd,
        )
        port_ready = threading.Event()
        port_box: list[str] = []
        self._stdout_thread = threading.Thread(
            target=self._pump_stdout, args=(port_ready, port_box), daemon=True, name="host-stdout"
        )
        self._stdout_thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not port_ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                break
        first_line = port_box[0].strip() if port_box else ""
        if not first_line.isdigit():
            # EOF (host died) or garbage: give it a moment to finish writing its traceback.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(2)
            self._fail_start(
                f"provider host did not report a port (first stdout line {first_line!r}, exit code {self._proc.poll()})"
            )
        self.port = int(first_line)
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_GRPC_CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=max(1.0, deadline - time.monotonic()))
        except grpc.FutureTimeoutError:
            self._fail_start("provider host port never became ready")
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        if self._initial_config is not None:
            self.configure(self._initial_config, self._initial_secret_keys)
        return self

    def _fail_start(self, message: str) -> NoReturn:
        """Tear down a host that failed to start (``__exit__`` will not run) and raise."""
        stderr = self.stderr_text()
        self.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None
        raise HarnessError(f"{message}; stderr:\n{stderr}")

    def _pump_stdout(self, port_ready: threading.Event, port_box: list[str]) -> None:
        """First line is the port; the rest is plugin log output the engine would relay."""
        assert self._proc is not None and self._proc.stdout is not None
        stream = self._proc.stdout
        first = stream.readline()
        port_box.append(first.decode("utf-8", "replace"))
        port_ready.set()
        reader = cast(io.BufferedReader, stream)
        for chunk in iter(lambda: reader.read1(65536), b""):
            with self._stdout_lock:
                self._stdout_chunks.append(chunk.decode("utf-8", "replace"))

    def kill(self) -> None:
        """SIGKILL the host now (simulates a crash mid-call); in-flight calls fail UNAVAILABLE."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(10)

    def close(self) -> None:
        """Send Cancel (the engine's last call to every provider), close the channel, stop the host;
        safe to call twice."""
        if self._stub is not None and self.is_alive():
            with contextlib.suppress(ProviderCallError):
                self._call("Cancel", empty_pb2.Empty(), rpc_timeout=5, needs_configure=False)
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._stdout_thread is not None:
            self._stdout_thread.join(5)
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        if self._proc is not None and self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        if self._stderr_file is not None and not self._stderr_file.closed:
            self._stderr_file.close()

    def __enter__(self) -> ProviderHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if self._tmpdir is not None:
            self._stderr_snapshot = self.stderr_text()  # still readable after the block
            self._tmpdir.cleanup()
            self._tmpdir = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise HarnessError("provider host not started")
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """None while the host runs; the exit code (negative signal) afterwards."""
        return None if self._proc is None else self._proc.poll()

    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stderr_text(self) -> str:
        """Everything the host wrote to stderr so far (provider logs, tracebacks)."""
        if self._tmpdir is None:
            return self._stderr_snapshot
        if self._stderr_file is not None and not self._stderr_file.closed:
            self._stderr_file.flush()
        path = Path(self._tmpdir.name) / "stderr.log"
        return path.read_bytes().decode("utf-8", "replace") if path.exists() else ""

    def stdout_text(self) -> str:
        """Host stdout after the port line (e.g. ``print()`` from provider code)."""
        with self._stdout_lock:
            return "".join(self._stdout_chunks)

    def logs_text(self) -> str:
        """stdout + stderr, for scanning all plugin output (e.g. for leaked secrets)."""
        return self.stdout_text() + self.stderr_text()

    # ---------------------------------------------------------------- plumbing

    def _call(
        self,
        method: str,
        request: Any,
        *,
        rpc_timeout: float | None = None,
        needs_configure: bool = True,
    ) -> Any:
        if self._stub is None:
            raise HarnessError("provider host not started (use `with ProviderHost() as host:`)")
        if needs_configure and not self._configured:
            raise HarnessError(
                f"{method} before Configure: the engine always configures the provider first,"
                " call host.configure({...}) (or pass config= to ProviderHost)"
            )
        timeout = rpc_timeout if rpc_timeout is not None else self.call_timeout
        try:
            return getattr(self._stub, method)(request, timeout=timeout)
        except grpc.RpcError as err:
            code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
            details = err.details() if hasattr(err, "details") else str(err)
            raise ProviderCallError(method, code, details or "") from None

    def _names(self, urn: str) -> tuple[str, str, str]:
        """(urn, name, type): newer engines send name and type next to the URN."""
        type_, name = _split_urn(urn)
        return urn, name, type_

    # ---------------------------------------------------------------- engine calls

    def configure(
        self,
        config: Mapping[str, Any],
        secret_keys: Iterable[str] = (),
        *,
        old_config: Mapping[str, Any] | None = None,
        runs_program: bool = True,
        rpc_timeout: float | None = None,
    ) -> ConfigureOutcome:
        """Start the provider the way the engine does: Handshake, GetPluginInfo, then, for commands that run the
        program (preview, up; ``runs_program``), CheckConfig and DiffConfig (the latter when the stack already
        has a default provider, i.e. `old_config` is given), then Configure. Refresh and destroy configure the
        provider from the state, without checking its config.

        The dynamic host implements none of Handshake, CheckConfig and DiffConfig (the engine then falls
        back, as here). ``config`` keys must be full config keys (``"tokenfactory:apiKey"``,
        ``"proj:greeting"``): for dynamic providers the engine passes the whole stack config with
        namespaces kept. Values named in ``secret_keys`` are wrapped as secrets in ``args`` (the engine
        marshals with KeepSecrets) and unwrapped in ``variables``. Real stack config values are usually
        strings.
        """
        urn, name, type_ = self._names(DEFAULT_PROVIDER_URN_TEMPLATE.format(stack=self.stack,
                                                                             project=self.project or "project"))
        self._call_unimplemented_ok("Handshake", provider_pb2.ProviderHandshakeRequest(
            accepts_byte_string=True, accepts_outputs_in_call=True, accepts_outputs_in_invoke=True,
            sends_old_outputs_to_check=True), rpc_timeout)
        self._call("GetPluginInfo", empty_pb2.Empty(), rpc_timeout=rpc_timeout, needs_configure=False)
        news = to_struct(config)
        if runs_program:
            self._call_unimplemented_ok("CheckConfig", provider_pb2.CheckRequest(
                urn=urn, name=name, type=type_, olds=to_struct(old_config), news=news), rpc_timeout)
        if runs_program and old_config is not None:
            self._call_unimplemented_ok("DiffConfig", provider_pb2.DiffRequest(
                urn=urn, name=name, type=type_, olds=to_struct(old_config), news=news,
                old_inputs=to_struct(old_config)), rpc_timeout)
        request = build_configure_request(config, secret_keys, stack=self.stack, project=self.project or "project",
                                          provider_id=self._provider_id if old_config is not None else None)
        resp = self._call("Configure", request, rpc_timeout=rpc_timeout, needs_configure=False)
        self._configured = True
        return ConfigureOutcome(
            accept_secrets=resp.acceptSecrets,
            supports_preview=resp.supportsPreview,
            accept_resources=resp.acceptResources,
            accept_outputs=resp.acceptOutputs,
        )

    def _call_unimplemented_ok(self, method: str, request: Any, rpc_timeout: float | None) -> None:
        try:
            self._call(method, request, rpc_timeout=rpc_timeout, needs_configure=False)
        except ProviderCallError as refused:
            if refused.code is not grpc.StatusCode.UNIMPLEMENTED:
                raise

    def check(
        self,
        urn: str,
        olds: Mapping[str, Any] | None,
        news: Mapping[str, Any],
        random_seed: bytes | None = None,
        *,
        old_outputs: Mapping[str, Any] | None = None,
        rpc_timeout: float | None = None,
    ) -> CheckOutcome:
        """CheckRequest: ``olds`` are the previous *inputs*, ``old_outputs`` the previous outputs ({} / None
        on create); the engine draws a fresh 32-byte random seed for every Check."""
        urn, name, type_ = self._names(urn)
        request = provider_pb2.CheckRequest(
            urn=urn, name=name, type=type_, olds=to_struct(olds), news=to_struct(news),
            randomSeed=os.urandom(32) if random_seed is None else random_seed, old_outputs=to_struct(old_outputs),
        )
        resp = self._call("Check", request, rpc_timeout=rpc_timeout)
        return CheckOutcome(
            inputs=from_struct(resp.inputs),
            failures=[(f.property, f.reason) for f in resp.failures],
        )

    def diff(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
        ignore_changes: Sequence[str] = (),
        *,
        rpc_timeout: float | None = None,
    ) -> DiffOutcome:
        """DiffRequest: ``olds`` are the old *outputs* (state), ``news`` the checked inputs.

        The engine always sends ``old_inputs``; the 3.272 host ignores them.
        """
        urn, name, type_ = self._names(urn)
        request = provider_pb2.DiffRequest(
            id=id,
            olds=to_struct(olds),
            news=to_struct(news),
            old_inputs=to_struct(old_inputs),
            ignoreChanges=list(ignore_changes),
            urn=urn,
            name=name,
            type=type_,
        )
        resp = self._call("Diff", request, rpc_timeout=rpc_timeout)
        return DiffOutcome(
            changes=DIFF_CHANGES[resp.changes],  # type: ignore[arg-type]
            replaces=list(resp.replaces),
            delete_before_replace=resp.deleteBeforeReplace,
            stables=list(resp.stables),
            diffs=list(resp.diffs),
            has_detailed_diff=resp.hasDetailedDiff,
        )

    def create(
        self,
        urn: str,
        properties: Mapping[str, Any],
        timeout: float | None = None,
        preview: bool = False,
        *,
        rpc_timeout: float | None = None,
    ) -> CreateOutcome:
        """CreateRequest. ``timeout`` is the request's customTimeouts field (seconds)."""
        urn, name, type_ = self._names(urn)
        request = provider_pb2.CreateRequest(
            properties=to_struct(properties),
            timeout=timeout or 0.0,
            preview=preview,
            urn=urn,
            name=name,
            type=type_,
        )
        resp = self._call("Create", request, rpc_timeout=rpc_timeout)
        return CreateOutcome(id=resp.id, properties=from_struct(resp.properties))

    def read(
        self,
        urn: str,
        id: str,
        properties: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None = None,
        *,
        rpc_timeout: float | None = None,
    ) -> ReadOutcome:
        """ReadRequest. Refresh: ``properties`` = prior outputs (+ ``inputs``).

        Import / ``Resource.get``: pass ``properties=None`` and the inputs; the host
        then falls back to ``inputs`` to find ``__provider``.
        """
        urn, name, type_ = self._names(urn)
        fields: dict[str, Any] = {
            "id": id,
            "urn": urn,
            "name": name,
            "type": type_,
            "properties": to_struct(properties),
        }
        if inputs is not None:
            fields["inputs"] = to_struct(inputs)
        resp = self._call("Read", provider_pb2.ReadRequest(**fields), rpc_timeout=rpc_timeout)
        return ReadOutcome(
            id=resp.id,
            properties=from_struct(resp.properties),
            inputs=from_struct(resp.inputs) if resp.HasField("inputs") else None,
        )

    def update(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        preview: bool = False,
        ignore_changes: Sequence[str] = (),
        *,
        rpc_timeout: float | None = None,
    ) -> dict[str, Any]:
        """UpdateRequest: ``olds`` = old outputs, ``news`` = new checked inputs; returns outputs."""
        urn, name, type_ = self._names(urn)
        request = provider_pb2.UpdateRequest(
            id=id,
            olds=to_struct(olds),
            news=to_struct(news),
            old_inputs=to_struct(old_inputs),
            timeout=timeout or 0.0,
            preview=preview,
            ignoreChanges=list(ignore_changes),
            urn=urn,
            name=name,
            type=type_,
        )
        resp = self._call("Update", request, rpc_timeout=rpc_timeout)
        return from_struct(resp.properties)

    def delete(
        self,
        urn: str,
        id: str,
        properties: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        *,
        rpc_timeout: float | None = None,
    ) -> None:
        """DeleteRequest: ``properties`` = old outputs (they carry ``__provider``)."""
        urn, name, type_ = self._names(urn)
        request = provider_pb2.DeleteRequest(
            id=id,
            properties=to_struct(properties),
            old_inputs=to_struct(old_inputs),
            timeout=timeout or 0.0,
            urn=urn,
            name=name,
            type=type_,
        )
        self._call("Delete", request, rpc_timeout=rpc_timeout)

    # ---------------------------------------------------------------- concurrency

    @overload
    def run_concurrently(
        self, calls: Sequence[Callable[[], T]], *, return_exceptions: Literal[False] = False
    ) -> list[T]: ...

    @overload
    def run_concurrently(
        self, calls: Sequence[Callable[[], T]], *, return_exceptions: Literal[True]
    ) -> list[T | BaseException]: ...

    def run_concurrently(
        self,
        calls: Sequence[Callable[[], T]],
        *,
        return_exceptions: bool = False,
    ) -> list[T] | list[T | BaseException]:
        """Run ``calls`` (e.g. ``lambda: host.create(...)``) all at once from threads.

        The engine issues independent resource operations in parallel; the host then
        serves 4 at a time. Results come back in input order; with
        ``return_exceptions`` an exception is returned in its slot instead of raised
        (the first one is raised otherwise, after all calls finished).
        """
        if not calls:
            return []
        with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="engine-call") as pool:
            futures = [pool.submit(c) for c in calls]
            results: list[T | BaseException] = []
            first_error: BaseException | None = None
            for fut in futures:
                exc = fut.exception()
                if exc is not None:
                    first_error = first_error or exc
                    results.append(exc)
                else:
                    results.append(fut.result())
        if first_error is not None and not return_exceptions:
            raise first_error
        return results


def decode_provider(provider_str: str) -> bytes:
    """The raw dill bytes behind a ``__provider`` string (for size/content assertions)."""
    return base64.b64decode(provider_str)


# --------------------------------------------------------------------------- engine steps


class CheckFailed(Exception):
    """`Check` returned failures: the engine would stop the preview and print them."""

    def __init__(self, failures: list[tuple[str, str]]) -> None:
        self.failures = failures
        super().__init__("; ".join(f"{prop}: {reason}" for prop, reason in failures))


@dataclass(frozen=True)
class Plan:
    """What `pulumi preview` shows for the resource, and the checked inputs it would apply."""

    action: Literal["create", "same", "update", "replace"]
    inputs: dict[str, Any]
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    replacement_inputs: dict[str, Any] = field(default_factory=dict)
    """For a replace: the inputs the replacement was checked with, as a new resource."""


class ResourceSteps:
    """The engine's step logic for one dynamic resource, over a `ProviderHost`.

    Mirrors what `pulumi preview/up/refresh/destroy` send for a single resource, as
    recorded from the real engine (v3.274, `PULUMI_DEBUG_GRPC`; `tests/cli/test_cli_basic.py`
    compares the two call by call): Check (old inputs, new inputs, old outputs) then Diff
    (old outputs, checked inputs, old inputs); create; update in place; replace as
    create-then-delete (or delete-then-create when the provider asks), the replacement
    checked once more as a new resource (empty olds) before its Create; refresh as Read
    (prior outputs and inputs) followed by a Diff of the refreshed outputs against the
    inputs, in its preview too; import as Read with the id alone (which the dynamic host
    cannot serve: pulumi/pulumi#16175); Delete with old outputs and old inputs.
    The state (`id`, `outputs`, `inputs`) is what the engine would record.
    """

    def __init__(self, host: ProviderHost, provider_str: str, urn: str) -> None:
        self.host = host
        self.provider = provider_str
        self.urn = urn
        self.id = ""
        self.outputs: dict[str, Any] = {}
        self.inputs: dict[str, Any] = {}

    def _news(self, program: Mapping[str, Any]) -> dict[str, Any]:
        return {**program, PROVIDER_KEY: self.provider}

    def preview(self, program: Mapping[str, Any]) -> Plan:
        checked = self.host.check(self.urn, self.inputs, self._news(program), old_outputs=self.outputs)
        if checked.failures:
            raise CheckFailed(checked.failures)
        if not self.id:
            return Plan("create", checked.inputs)
        diff = self.host.diff(self.urn, self.id, self.outputs, checked.inputs, old_inputs=self.inputs)
        if diff.changes == "DIFF_NONE":
            return Plan("same", checked.inputs)
        if diff.replaces:
            return Plan("replace", checked.inputs, list(diff.replaces), diff.delete_before_replace,
                        self._check_as_new(program))
        return Plan("update", checked.inputs)

    def up(self, program: Mapping[str, Any]) -> Plan:
        plan = self.preview(program)
        if plan.action == "create":
            self._create(plan.inputs)
        elif plan.action == "update":
            self.outputs = self.host.update(self.urn, self.id, self.outputs, plan.inputs, old_inputs=self.inputs)
            self.inputs = plan.inputs
        elif plan.action == "replace":
            old_id, old_outputs, old_inputs = self.id, self.outputs, self.inputs
            if plan.delete_before_replace:
                self.host.delete(self.urn, old_id, old_outputs, old_inputs=old_inputs)
                self._create(plan.replacement_inputs)
            else:
                self._create(plan.replacement_inputs)
                self.host.delete(self.urn, old_id, old_outputs, old_inputs=old_inputs)
        return plan

    def _check_as_new(self, program: Mapping[str, Any]) -> dict[str, Any]:
        """The engine checks a replacement again as a brand-new resource (no olds) before creating it."""
        checked = self.host.check(self.urn, {}, self._news(program), old_outputs={})
        if checked.failures:
            raise CheckFailed(checked.failures)
        return checked.inputs

    def _create(self, inputs: dict[str, Any]) -> None:
        created = self.host.create(self.urn, inputs)
        self.id, self.outputs, self.inputs = created.id, created.properties, inputs

    def _read_and_diff(self) -> ReadOutcome:
        read = self.host.read(self.urn, self.id, self.outputs, self.inputs)
        if read.id:
            inputs = read.inputs if read.inputs is not None else self.inputs
            self.host.diff(self.urn, read.id, read.properties, inputs, old_inputs=inputs)
        return read

    def preview_refresh(self) -> dict[str, tuple[Any, Any]]:
        """`pulumi preview --refresh` / the preview of `pulumi refresh`: the same calls, the state kept."""
        read = self._read_and_diff()
        return {k: (self.outputs.get(k), v) for k, v in read.properties.items()
                if k != PROVIDER_KEY and self.outputs.get(k) != v}

    def refresh(self) -> dict[str, tuple[Any, Any]]:
        """Read the live resource; returns the drift `{property: (recorded, live)}`. Gone -> state emptied."""
        read = self._read_and_diff()
        if not read.id:
            self.id, self.outputs, self.inputs = "", {}, {}
            return {}
        drift = {k: (self.outputs.get(k), v) for k, v in read.properties.items()
                 if k != PROVIDER_KEY and self.outputs.get(k) != v}
        self.id, self.outputs = read.id, read.properties
        if read.inputs is not None:
            self.inputs = read.inputs
        return drift

    def import_(self, resource_id: str) -> None:
        """`import_=<id>` / `pulumi import`: the engine's ImportStep reads with the id alone, no inputs, no
        state. The dynamic host then fails looking for `__provider` (pulumi/pulumi#16175): this raises
        `ProviderCallError`, as the real engine's import does."""
        read = self.host.read(self.urn, resource_id, None)
        if not read.id:
            raise HarnessError(f"import of {resource_id}: the provider says it does not exist")
        self.id, self.outputs = read.id, read.properties
        self.inputs = read.inputs or {}

    def destroy(self) -> None:
        if self.id:
            self.host.delete(self.urn, self.id, self.outputs, old_inputs=self.inputs)
        self.id, self.outputs, self.inputs = "", {}, {}
