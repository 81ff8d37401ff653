"""`EmulatorProcess`: the emulator as a real subprocess (real sockets, restartable with its `--state-file`).

The process is always stopped: by the context manager, at garbage collection or exit, and, should the test
runner be killed, by the emulator noticing that its parent is gone.
"""

from __future__ import annotations

import collections
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Any

import httpx

from .config import API_KEY_ENV, ApiShapes

_URL = re.compile(r"(http://\S+):(\d+)")
STARTUP_TIMEOUT_SECONDS = 30.0


class EmulatorStartError(RuntimeError):
    """The emulator process exited or stayed silent instead of printing its URL."""


class EmulatorAdminError(RuntimeError):
    """An admin call answered an HTTP error."""


def _terminate(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(grace)


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(10)


def route_of(path: str) -> str:
    """`/v0/dedicated_endpoints/ep-1` -> `/v0/dedicated_endpoints/{id}` (templates and /v1 routes stay as they are)."""
    parts = path.split("/")
    if path.startswith("/v0/dedicated_endpoints/") and parts[3] != "templates":
        parts[3] = "{id}"
    return "/".join(parts)


@dataclass(eq=False, kw_only=True)
class EmulatorProcess:
    """One emulator subprocess on a free loopback port."""

    provision_seconds: float = 0.5
    update_seconds: float | None = None
    stop_seconds: float | None = None
    delete_seconds: float | None = None
    routable_seconds: float | None = None
    api_key: str | None = None
    state_file: str | os.PathLike[str] | None = None
    #: "legacy" starts it with `--legacy-shapes` (the answers this emulator gave before the published API).
    api_shapes: ApiShapes = "published"
    extra_args: Sequence[str] = ()
    startup_timeout: float = STARTUP_TIMEOUT_SECONDS
    base_url: str = field(default="", init=False)
    _port: int = field(default=0, init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _stderr: IO[bytes] | None = field(default=None, init=False)
    _url_line: str = field(default="", init=False)
    _http: httpx.Client | None = field(default=None, init=False)
    _finalizer: weakref.finalize | None = field(default=None, init=False)

    def __repr__(self) -> str:
        return f"EmulatorProcess(base_url={self.base_url!r}, running={self.running})"

    def _command(self, port: int) -> list[str]:
        command = [sys.executable, "-m", "pulumi_tokenfactory.emulator", "--host", "127.0.0.1",
                   "--port", str(port), "--provision-seconds", str(self.provision_seconds), "--exit-with-parent"]
        for flag, value in (("--update-seconds", self.update_seconds), ("--stop-seconds", self.stop_seconds),
                            ("--delete-seconds", self.delete_seconds),
                            ("--routable-seconds", self.routable_seconds)):
            if value is not None:
                command += [flag, str(value)]
        if self.state_file is not None:
            command += ["--state-file", os.fspath(self.state_file)]
        if self.api_shapes == "legacy":
            command.append("--legacy-shapes")
        return command + list(self.extra_args)

    def start(self) -> EmulatorProcess:
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        self._launch(self._port)
        return self

    def _launch(self, port: int) -> None:
        env = dict(os.environ)
        env.pop(API_KEY_ENV, None)
        if self.api_key is not None:
            env[API_KEY_ENV] = self.api_key  # the environment, not argv: a process list shows argv
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process it records
        process = subprocess.Popen(self._command(port), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=self._stderr, env=env)
        self._process = process
        self._finalizer = weakref.finalize(self, _terminate, process)
        lines: queue.Queue[bytes] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True,
                         name="emulator-stdout").start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            self.kill()
            raise EmulatorStartError(f"the emulator printed no URL within {self.startup_timeout:g}s; "
                                     f"stderr:\n{self.logs()}") from None
        self._url_line = line.decode(errors="replace")
        match = _URL.search(self._url_line)
        if match is None:
            process.wait(5)
            raise EmulatorStartError(f"the emulator exited (status {process.returncode}) before listening; "
                                     f"stderr:\n{self.logs()}")
        self.base_url = f"{match.group(1)}:{match.group(2)}"
        self._port = int(match.group(2))
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key is not None else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=10.0, trust_env=False)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it does not exit within 5 s."""
        self._shutdown(_terminate)

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to tidy up."""
        self._shutdown(_kill)

    def _shutdown(self, how: Callable[[subprocess.Popen[bytes]], object]) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._process is not None:
            how(self._process)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def restart(self) -> None:
        """Stop, then start on the same port when it is still free (else on a new one: see base_url)."""
        self.stop()
        try:
            self._launch(self._port)
        except EmulatorStartError:
            self._launch(0)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def logs(self) -> str:
        """Everything the process wrote on stderr so far (its log; since the last start)."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def output(self) -> str:
        """Everything the process printed: the URL line on stdout, then its stderr log (for leak scans)."""
        return f"{self._url_line}{self.logs()}"

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _client(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError(f"{self!r} is not running; call start() first")
        return self._http

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call an admin route (`faults` or `/_emulator/faults`); returns the JSON answer."""
        if not path.startswith("/"):
            path = f"/_emulator/{path}"
        response = self._client().request(method, path, json=json)
        if response.is_error:
            raise EmulatorAdminError(f"{method} {path} answered HTTP {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def requests(self) -> list[dict[str, Any]]:
        """Requests served since the last clear, oldest first (admin calls are not logged)."""
        return list(self.admin("GET", "requests")["requests"])

    def clear_requests(self) -> None:
        self.admin("DELETE", "requests")

    def call_counts(self) -> collections.Counter[str]:
        """Requests served since the last clear, counted by `METHOD route` with endpoint ids folded."""
        return collections.Counter(f"{r['method']} {route_of(r['path'])}" for r in self.requests())

    def inject_fault(self, **fault: Any) -> str:
        """Arm a fault (see sdk-docs/emulator.md for the fields); returns its id."""
        return str(self.admin("POST", "faults", json=fault)["id"])

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def endpoints(self, project: str | None = None) -> list[dict[str, Any]]:
        """The endpoints (of every project, or of `project`) as listed, plus the operator's `status` and `project`;
        read through the admin twin of the list, so looking is neither logged nor faulted."""
        path = "endpoints" if project is None else f"endpoints?ai_project_id={project}"
        return list(self.admin("GET", path)["endpoints"])

    def pin_deployment(self, endpoint_id: str, status: str, readiness: str) -> dict[str, Any]:
        """Show `deployment {status, readiness}` (e.g. running + not_ready, an outage) until `recover`."""
        return dict(self.admin("POST", f"endpoints/{endpoint_id}/deployment",
                               json={"status": status, "readiness": readiness}))

    def recover(self, endpoint_id: str) -> dict[str, Any]:
        """Undo fail, stuck and a pinned deployment: settled at once as `enabled` asks."""
        return dict(self.admin("POST", f"endpoints/{endpoint_id}/recover"))

    def seed_endpoint(self, endpoint: dict[str, Any], project: str | None = None) -> dict[str, Any]:
        """Put `endpoint` (as the API returns one: id, routing_key, status, ...) in place as given, to replay a
        recorded state; returns the endpoint as the API now shows it."""
        path = "endpoints" if project is None else f"endpoints?ai_project_id={project}"
        return dict(self.admin("POST", path, json=endpoint))

    def reset(self) -> None:
        """No endpoints, faults, queued behaviours or logged requests."""
        self.admin("POST", "reset")

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's time forward: transitions due within `seconds` complete at once."""
        self.admin("POST", "clock", json={"advance": seconds})


def _pump(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    """Hand over the first line, then keep draining so the child never blocks on a full pipe."""
    first = True
    for line in iter(stream.readline, b""):
        if first:
            lines.put(line)
            first = False
    if first:
        lines.put(b"")
    stream.close()
