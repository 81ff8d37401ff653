"""The emulated account: each endpoint's API model (`StoredEndpoint`) next to what only the emulator knows.

Status is never advanced by a background task: a record holds the transition it is in and its status is
read off the clock whenever someone looks, so a manual clock makes behaviour exact and a restarted
emulator resumes every transition where the wall clock says it should be.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import string
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from ..api.models import EndpointPatch, EndpointSpec, LifecycleState
from ..endpoint.fields import ROUTING_KEY_PREFIX
from ..fields import flatten_errors
from .clock import Clock
from .config import EmulatorConfig
from .errors import ApiError, FieldProblem


class DeploymentStatus(str, Enum):
    """The published `deployment.status` (the lifecycle; `warning`: an issue that may still serve)."""

    STARTING = "starting"
    RUNNING = "running"
    UPDATING = "updating"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"
    WARNING = "warning"


class DeploymentReadiness(str, Enum):
    """The published `deployment.readiness`: whether to send traffic, apart from the lifecycle."""

    READY = "ready"
    PARTIALLY_READY = "partially_ready"
    NOT_READY = "not_ready"


STARTING, RUNNING, UPDATING, STOPPING, STOPPED, ERROR, WARNING = (s.value for s in DeploymentStatus)
READY, PARTIALLY_READY, NOT_READY = (r.value for r in DeploymentReadiness)
DELETING = LifecycleState.DELETING.value
DEPLOYMENT_STATUSES = tuple(s.value for s in DeploymentStatus)
#: Statuses in which the endpoint answers inference: a change that starts replicas keeps the old ones serving.
SERVING = frozenset({RUNNING, UPDATING})
#: Fields whose change leaves the deployment alone; a change of any other rolls out new replicas: `updating`.
QUIET_FIELDS = frozenset({"name", "description", "routing_key", "enabled"})
#: The project of a call that names none (no `ai_project_id`).
DEFAULT_PROJECT = "default"
#: Statuses a seeded endpoint may have, and the `enabled` each requires (None: either).
SEED_STATUSES: dict[str, bool | None] = {
    RUNNING: True, STARTING: True, UPDATING: True, STOPPED: False, STOPPING: False, ERROR: None, DELETING: None,
}

CreateOutcome = Literal["error", "stuck"]
Deployment = tuple[str, str]


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def isoformat(timestamp: float) -> str:
    """ISO-8601 in UTC with a `Z`, millisecond precision, as most JSON APIs write it."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StoredEndpoint(EndpointSpec):
    """The create request's fields plus the two every endpoint has (a routing key is made when none is named)."""

    routing_key: str
    enabled: bool = True


@dataclass(frozen=True)
class CreateRequest:
    """A checked create body: the API's model, and `enabled` (only legacy bodies may say false)."""

    spec: EndpointSpec
    enabled: bool = True


@dataclass
class Transition:
    status: str
    settles_to: str
    until: float


@dataclass
class EndpointRecord:
    id: str
    project: str
    spec: StoredEndpoint
    created_at: float
    updated_at: float
    #: The status once no transition is under way.
    settled: str = RUNNING
    transition: Transition | None = None
    #: Transitions never complete (a broken deployment), until an operator recovers it.
    stuck: bool = False
    deleting_until: float | None = None
    #: Before this time the routing key answers 404 even when the status serves (replicas warming up).
    routable_at: float | None = None
    #: A (status, readiness) an operator pinned the deployment to, shown until `recover`.
    pinned: Deployment | None = None

    @property
    def pin(self) -> Deployment | None:
        """The pinned deployment, unless a deletion runs (which shows whatever the pin said)."""
        return self.pinned if self.deleting_until is None else None

    def status(self, now: float) -> str:
        """The lifecycle underneath any pin (`deleting` while a deletion runs)."""
        if self.deleting_until is not None:
            return DELETING
        t = self.transition
        if t is None:
            return self.settled
        return t.status if self.stuck or now < t.until else t.settles_to

    def deployment(self, now: float) -> Deployment:
        """The published (status, readiness): a deletion shows as stopping; old replicas serve while updating."""
        if self.pin is not None:
            return self.pin
        status = self.status(now)
        if status == DELETING:
            return STOPPING, NOT_READY
        return status, READY if status in SERVING else NOT_READY

    def routable(self, now: float) -> bool:
        """Whether inference on the routing key is answered now: a serving deployment, and warm."""
        if self.pin is not None:
            return self.pin[1] != NOT_READY
        return self.status(now) in SERVING and (self.routable_at is None or now >= self.routable_at)

    def settle(self, now: float) -> None:
        """Fold a finished transition into `settled`, dating the change when it happened."""
        t = self.transition
        if t is not None and not self.stuck and now >= t.until:
            self.settled, self.transition = t.settles_to, None
            self.updated_at = max(self.updated_at, t.until)

    def begin(self, status: str, settles_to: str, now: float, duration: float) -> None:
        self.transition = Transition(status, settles_to, now + duration)

    def fail(self, now: float) -> None:
        """The deployment breaks: `error` at once, whatever it was doing."""
        self.transition, self.settled, self.stuck, self.updated_at = None, ERROR, False, now

    def stick(self, now: float) -> None:
        """Transitions stop completing: the current one freezes; a running endpoint restarts, forever."""
        self.settle(now)
        if self.transition is None and self.spec.enabled:
            self.begin(STARTING, RUNNING, now, 0.0)
            self.updated_at = now
        self.stuck = True

    def pin_to(self, deployment: Deployment, now: float) -> None:
        """Show this (status, readiness) whatever the lifecycle does underneath, until `recover`."""
        self.pinned, self.updated_at = deployment, now

    def recover(self, now: float) -> None:
        """Undo `fail`, `stick` and `pin_to`: settled at once in the state `enabled` asks for."""
        self.transition, self.stuck, self.pinned, self.updated_at, self.routable_at = None, False, None, now, None
        self.settled = RUNNING if self.spec.enabled else STOPPED

    def to_json(self, now: float, *, legacy: bool) -> dict[str, Any]:
        """The endpoint as the API answers it: published (deployment object) or legacy (flat status, updated_at)."""
        self.settle(now)
        fields = {"id": self.id, **self.spec.model_dump(mode="json")}
        if legacy:
            return {**fields, "status": self.pin[0] if self.pin is not None else self.status(now),
                    "created_at": isoformat(self.created_at), "updated_at": isoformat(self.updated_at)}
        status, readiness = self.deployment(now)
        low = self.spec.scaling.min_replicas
        ready = {READY: low, PARTIALLY_READY: max(1, low // 2)}.get(readiness, 0)
        return {**fields, "deployment": {"status": status, "readiness": readiness, "ready_replicas": ready},
                "created_at": isoformat(self.created_at)}

    def saved(self) -> dict[str, Any]:
        return {**asdict(self), "spec": self.spec.model_dump(mode="json")}

    @classmethod
    def from_state(cls, data: Any, where: str = "endpoint") -> EndpointRecord:
        """A record saved by `saved`, checked field by field (ValueError names the first bad one), so that a
        hand-edited file fails at start rather than later and far away; the API fields by the API's model."""
        _expect(data, "object", where)
        unknown = sorted(set(data) - set(_RECORD_FIELDS))
        if unknown:
            raise ValueError(f"{where} has unknown field {unknown[0]!r}")
        for key, (kind, required) in _RECORD_FIELDS.items():
            if key in data:
                _expect(data[key], kind, f"{where}.{key}")
            elif required:
                raise ValueError(f"{where}.{key} is missing")
        _expect_status(data, "settled", where)
        try:
            spec = StoredEndpoint.model_validate_json(json.dumps(data["spec"]), strict=True)
        except ValidationError as exc:
            raise ValueError(f"{where}.spec.{flatten_errors(exc.errors())[0].message}") from None
        transition, pinned = data.get("transition"), data.get("pinned")
        if transition is not None:
            if set(transition) != {"status", "settles_to", "until"}:
                raise ValueError(f"{where}.transition must have exactly status, settles_to and until")
            for key in ("status", "settles_to"):
                _expect_status(transition, key, f"{where}.transition")
            _expect(transition["until"], "time", f"{where}.transition.until")
            transition = Transition(**transition)
        if pinned is not None:
            if len(pinned) != 2 or pinned[0] not in DEPLOYMENT_STATUSES or pinned[1] not in (READY, PARTIALLY_READY,
                                                                                             NOT_READY):
                raise ValueError(f"{where}.pinned must be [status, readiness] of the published values, "
                                 f"got {pinned!r:.60}")
            pinned = (str(pinned[0]), str(pinned[1]))
        return cls(**{**data, "spec": spec, "transition": transition, "pinned": pinned})


_STATUSES = frozenset({*DEPLOYMENT_STATUSES, DELETING})
#: Each saved field: its kind (see `_expect`) and whether a saved record must have it.
_RECORD_FIELDS: dict[str, tuple[str, bool]] = {
    "id": ("string", True), "project": ("string", True), "spec": ("object", True),
    "created_at": ("time", True), "updated_at": ("time", True), "settled": ("string", False),
    "transition": ("object or null", False), "stuck": ("boolean", False), "deleting_until": ("time or null", False),
    "routable_at": ("time or null", False), "pinned": ("array or null", False),
}


def _expect_status(data: dict[str, Any], key: str, where: str) -> None:
    if key in data and data[key] not in _STATUSES:
        raise ValueError(f"{where}.{key} must be one of {', '.join(sorted(_STATUSES))}, got {data[key]!r}")


def upgrade_state(saved: dict[str, Any]) -> dict[str, Any]:
    """A version 1 state (flat records, no projects) in today's form; a current one as it is."""
    if saved.get("version") != 1 or not isinstance(saved.get("endpoints"), list):
        return saved
    return {**saved, "endpoints": [_upgrade_record(r) if isinstance(r, dict) else r for r in saved["endpoints"]]}


def _upgrade_record(record: dict[str, Any]) -> dict[str, Any]:
    lifecycle = {k: v for k, v in record.items() if k in _RECORD_FIELDS}
    spec = {k: v for k, v in record.items() if k not in _RECORD_FIELDS and k not in ("min_replicas", "max_replicas")}
    if "min_replicas" in record or "max_replicas" in record:
        spec["scaling"] = {k: record[k] for k in ("min_replicas", "max_replicas") if k in record}
    return {"project": DEFAULT_PROJECT, **lifecycle, "spec": spec}


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object",
            type(None): "null"}.get(type(value), type(value).__name__)


def _expect(value: Any, kind: str, where: str) -> None:
    """ValueError unless `value` is of `kind`: string, boolean, time (a finite number), object, array, "X or null"."""
    base = kind.removesuffix(" or null")
    if value is None and base != kind:
        return
    ok = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "time": type(value) in (int, float) and math.isfinite(value) and abs(value) < 1e11,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }[base]
    if not ok:
        wanted = {"time": "a finite number of seconds", "object": "an object", "array": "an array"}.get(base,
                                                                                                  f"a {base}")
        raise ValueError(f"{where} must be {wanted}{' or null' if base != kind else ''}, "
                         f"got {_json_type(value)} {value!r:.40}")


FORMAT_VERSION = 2
#: Versions a state file may have; older ones are read and upgraded (the store's `upgrade_state`).
READABLE_VERSIONS = (1, FORMAT_VERSION)


class StateFileError(Exception):
    """The state file exists but cannot be used; the emulator refuses to start rather than lose it."""


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> tuple[float, list[EndpointRecord]]:
        """The saved clock offset and endpoints (none yet: 0 and none), every field checked; a file that cannot be
        used raises StateFileError naming it and the problem (the CLI prints that line and exits 2), rather than a
        traceback that hides which file is at fault, or starting anyway and overwriting it on the first change."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return 0.0, []
        except OSError as exc:
            raise StateFileError(f"cannot read state file {self.path}: {exc}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.invalid(f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
        if not text.strip():
            return 0.0, []
        try:
            data = json.loads(text)
        except RecursionError:
            raise self.invalid("is not valid JSON (nested too deeply)") from None
        except ValueError as exc:
            raise self.invalid(f"is not valid JSON ({exc})") from None
        version = data.get("version") if isinstance(data, dict) else None
        if type(version) is not int or version not in READABLE_VERSIONS:
            raise StateFileError(f"state file {self.path} is not an emulator state file of version "
                                 f"{' or '.join(map(str, READABLE_VERSIONS))}")
        try:
            saved = upgrade_state(data)
            unknown = sorted(set(saved) - {"version", "clock_offset", "endpoints"})
            if unknown:
                raise ValueError(f"unknown top-level field {unknown[0]!r}")
            offset = saved.get("clock_offset", 0.0)
            _expect(offset, "time", "clock_offset")
            endpoints = saved.get("endpoints", [])
            if not isinstance(endpoints, list):
                raise ValueError(f"endpoints must be an array, got {_json_type(endpoints)}")
            return float(offset), [EndpointRecord.from_state(r, f"endpoints[{i}]") for i, r in enumerate(endpoints)]
        except ValueError as exc:
            raise self.invalid(f"is not usable: {exc}") from None

    def invalid(self, problem: str) -> StateFileError:
        return StateFileError(f"state file {self.path} {problem}; move it away to start afresh")

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": FORMAT_VERSION, **data}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass
class Store:
    """Every endpoint of the emulated account, in every project; all reads and writes go through here.

    `project` arguments: the project a call acts in (None: any, for the operator routes). An endpoint of
    another project is not found, as the API answers for an id it does not know.
    """

    config: EmulatorConfig
    clock: Clock
    state_file: StateFile | None = None
    _records: dict[str, EndpointRecord] = field(default_factory=dict, init=False)
    _next_creates: deque[CreateOutcome] = field(default_factory=deque, init=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False)

    def __post_init__(self) -> None:
        offset, records = (0.0, []) if self.state_file is None else self.state_file.load()
        if offset > self.clock.offset:
            self.clock.advance(offset - self.clock.offset)
        self._records.update((record.id, record) for record in records)

    def _json(self, record: EndpointRecord, now: float) -> dict[str, Any]:
        return record.to_json(now, legacy=self.config.legacy)

    def _now(self) -> float:
        """The current time, after dropping endpoints whose deletion has finished."""
        now = self.clock.now()
        for endpoint_id in [i for i, r in self._records.items() if r.deleting_until is not None
                            and now >= r.deleting_until]:
            del self._records[endpoint_id]
        return now

    def list_endpoints(self, project: str | None = None, *, operator: bool = False) -> list[dict[str, Any]]:
        """Oldest first; of one project, or (None) of all. `operator`: plus the flat lifecycle `status`
        (`deleting` while a deletion runs, underneath any pin) and the `project`, for the admin routes."""
        with self._lock:
            now = self._now()
            records = sorted(self._records.values(), key=lambda r: (r.created_at, r.id))
            return [{**self._json(r, now), "status": r.status(now), "project": r.project} if operator
                    else self._json(r, now) for r in records if project is None or r.project == project]

    def get(self, endpoint_id: str, project: str | None = None) -> dict[str, Any]:
        with self._lock:
            now = self._now()
            return self._json(self._record(endpoint_id, project), now)

    def serving(self, routing_key: str) -> tuple[dict[str, Any] | None, str | None]:
        """The endpoint with this routing key if it answers inference, else None and why not (None: no such key)."""
        with self._lock:
            now = self._now()
            record = self._holder(routing_key)
            if record is None:
                return None, None
            if record.routable(now):
                return self._json(record, now), None
            status, readiness = record.deployment(now)
            if readiness != NOT_READY or (record.pinned is None and record.status(now) in SERVING):
                return None, f"the endpoint is {status}, but its replicas are still warming up; it answers shortly"
            return None, f"the endpoint is {status}; it answers once running"

    def _holder(self, routing_key: str) -> EndpointRecord | None:
        """The endpoint holding `routing_key`, in any project: routing keys are unique across the service."""
        return next((r for r in self._records.values() if r.spec.routing_key == routing_key), None)

    def _record(self, endpoint_id: str, project: str | None = None, *, live: bool = False) -> EndpointRecord:
        """The endpoint; `live`: one that can still be changed (one being deleted is as good as gone)."""
        record = self._records.get(endpoint_id)
        if record is None or (project is not None and record.project != project):
            raise ApiError.not_found(f"endpoint {endpoint_id} not found")
        if live and record.deleting_until is not None:
            raise ApiError.not_found(f"endpoint {endpoint_id} is being deleted")
        return record

    def spec_of(self, endpoint_id: str, project: str | None = None) -> StoredEndpoint:
        """The endpoint's API fields as they stand (what a PATCH is checked against)."""
        with self._lock:
            self._now()
            return self._record(endpoint_id, project, live=True).spec

    def _routable_after(self, until: float) -> float | None:
        """When a start that reaches `running` at `until` becomes routable (None: at once, no gap configured)."""
        gap = self.config.routable_seconds
        return until + gap if gap > 0 else None

    def _claim(self, routing_key: str | None, model_name: str, owner: str | None = None) -> str:
        """`routing_key` when no other endpoint holds it (409 otherwise); a fresh one when None."""
        if routing_key is None:
            return f"{ROUTING_KEY_PREFIX}{model_name}-{_random(string.ascii_letters + string.digits, 12)}"
        holder = self._holder(routing_key)
        if holder is not None and holder.id != owner:
            # It names the field, so a client can say which.
            message = f"routing_key {routing_key!r} is already taken by another endpoint"
            raise ApiError(409, "conflict", message, field="routing_key",
                           problems=[FieldProblem("routing_key", message, "conflict", input=routing_key)])
        return routing_key

    def _add(self, request: CreateRequest, record_id: str, routing_key: str, project: str, created: float,
             updated: float, start: Callable[[EndpointRecord], None]) -> EndpointRecord:
        stored = StoredEndpoint.model_validate({**request.spec.model_dump(), "routing_key": routing_key,
                                                "enabled": request.enabled})
        record = EndpointRecord(id=record_id, project=project, spec=stored, created_at=created, updated_at=updated,
                                settled=STOPPED)
        start(record)
        self._records[record.id] = record
        self._save()
        return record

    def create(self, request: CreateRequest, project: str = DEFAULT_PROJECT) -> dict[str, Any]:
        with self._lock:
            now = self._now()

            def start(record: EndpointRecord) -> None:
                if request.enabled:
                    outcome = self._next_creates.popleft() if self._next_creates else None
                    self._start(record, now, settles_to=ERROR if outcome == "error" else RUNNING)
                    record.stuck = outcome == "stuck"

            endpoint_id = "ep-" + _random(string.ascii_lowercase + string.digits, 16)
            routing_key = self._claim(request.spec.routing_key, request.spec.model_name)
            return self._json(self._add(request, endpoint_id, routing_key, project, now, now, start), now)

    def _start(self, record: EndpointRecord, now: float, settles_to: str = RUNNING) -> None:
        """Replicas start from none: `starting` for the provisioning time, then routable after the gap."""
        record.begin(STARTING, settles_to, now, self.config.provision_seconds)
        record.routable_at = self._routable_after(now + self.config.provision_seconds)

    def update(self, endpoint_id: str, patch: EndpointPatch, project: str | None = None) -> dict[str, Any]:
        """Apply the fields the PATCH set onto the endpoint's model; the lifecycle follows what changed."""
        with self._lock:
            now = self._now()
            record = self._record(endpoint_id, project, live=True)
            record.settle(now)
            before = record.spec
            after = StoredEndpoint.model_validate({**before.model_dump(), **patch.model_dump(exclude_unset=True)})
            changed = {name for name in StoredEndpoint.model_fields if getattr(after, name) != getattr(before, name)}
            if "routing_key" in changed:
                self._claim(after.routing_key, after.model_name, owner=record.id)
            if changed:
                self._roll_out(record, before, after, changed, now)
                record.spec, record.updated_at = after, now
                self._save()
            return self._json(record, now)

    def _roll_out(self, record: EndpointRecord, before: StoredEndpoint, after: StoredEndpoint, changed: set[str],
                  now: float) -> None:
        """The transition a change starts: a start or stop for `enabled`, else `updating` for a deployment change."""
        if "enabled" in changed:
            if after.enabled:
                self._start(record, now)
            else:
                record.begin(STOPPING, STOPPED, now, self.config.stop_duration)
                record.routable_at = None
        elif changed - QUIET_FIELDS and record.status(now) in SERVING:
            # New replicas start beside the serving ones; while starting or stopped there is nothing to roll out.
            record.begin(UPDATING, RUNNING, now, self.config.update_duration)
            new_replicas = (after.scaling.min_replicas > before.scaling.min_replicas
                            or bool(changed - QUIET_FIELDS - {"scaling"}))
            warm = self._routable_after(now + self.config.update_duration) if new_replicas else None
            if warm is not None:
                # With a gap configured, new replicas restart the serving set (the pessimistic reading of
                # "new replicas need a warm-up period"): 404 until warm.
                record.routable_at = max(warm, record.routable_at or warm)

    def delete(self, endpoint_id: str, project: str | None = None) -> dict[str, Any]:
        """Start the deletion; repeating it while it runs is harmless (DELETE is idempotent)."""
        with self._lock:
            now = self._now()
            record = self._record(endpoint_id, project)
            if record.deleting_until is None:
                record.settle(now)
                record.transition, record.updated_at = None, now
                record.deleting_until = now + self.config.delete_duration
                self._save()
            return self._json(record, now)

    def operate(self, endpoint_id: str, change: Callable[[EndpointRecord, float], None]) -> dict[str, Any]:
        """An operator's `change` (`EndpointRecord.fail`, `stick`, `pin_to`, `recover`) to a live endpoint."""
        with self._lock:
            now = self._now()
            record = self._record(endpoint_id, live=True)
            change(record, now)
            self._save()
            return self._json(record, now)

    def seed(self, request: CreateRequest, *, endpoint_id: str, routing_key: str, status: str,
             project: str = DEFAULT_PROJECT, created_at: float | None = None,
             updated_at: float | None = None) -> dict[str, Any]:
        """Put an endpoint in place exactly as given (id, routing key, times), to replay a recorded state.

        A settled status stays as given; a transitional one starts now and lasts as this emulator's timing says.
        """
        with self._lock:
            now = self._now()
            if endpoint_id in self._records:
                raise ApiError(409, "conflict", f"endpoint {endpoint_id} already exists", field="id")
            self._claim(routing_key, request.spec.model_name)
            created = now if created_at is None else created_at

            def start(record: EndpointRecord) -> None:
                record.settled = status
                if status == STARTING:
                    record.settled = STOPPED
                    self._start(record, now)
                elif status in (UPDATING, STOPPING):
                    record.settled = RUNNING
                    record.begin(status, RUNNING if status == UPDATING else STOPPED, now,
                                 self.config.update_duration if status == UPDATING else self.config.stop_duration)
                elif status == DELETING:
                    record.settled = RUNNING if record.spec.enabled else STOPPED
                    record.deleting_until = now + self.config.delete_duration

            record = self._add(request, endpoint_id, routing_key, project, created,
                               created if updated_at is None else updated_at, start)
            return self._json(record, now)

    def queue_next_creates(self, outcome: CreateOutcome | None, count: int) -> list[str]:
        """The next `count` creates end in `outcome` (None clears the queue); the queue as it now stands."""
        with self._lock:
            if outcome is None:
                self._next_creates.clear()
            else:
                self._next_creates.extend([outcome] * count)
            return list(self._next_creates)

    def pending_creates(self) -> list[str]:
        with self._lock:
            return list(self._next_creates)

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self.clock.advance(seconds)
            self._save()

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._next_creates.clear()
            self._save()

    def _save(self) -> None:
        if self.state_file is not None:
            self.state_file.save({"clock_offset": self.clock.offset,
                                  "endpoints": [r.saved() for r in self._records.values()]})
