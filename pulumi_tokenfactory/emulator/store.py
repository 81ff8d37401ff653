"""The emulated account: its endpoints and how their deployments move over time.

An endpoint record holds the API's own model of it (`StoredEndpoint`, the create request's
`EndpointSpec` plus what every endpoint has: a routing key and `enabled`), as moto's backends
hold theirs, next to what only the emulator knows: id, project and lifecycle. A field newly
declared in fields.py therefore flows through create, PATCH, the answers and the state file
with no edit here.

Status is never advanced by a background task. Each endpoint records the transition it is in
(say `starting`, settling to `running` at time T) and the status is read off the clock whenever
someone looks, so behaviour is exact and testable with a manual clock, and a restarted emulator
resumes every transition where the wall clock says it should be.

Serving inference is one step later than `running` when the emulator has a routable gap
(`EmulatorConfig.routable_seconds`): after a start (create, enable) or a change that starts new
replicas, the routing key answers 404 until `routable_at`, the way the real API may while new
replicas warm up.
"""

from __future__ import annotations

import json
import math
import secrets
import string
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import ValidationError

from ..api.models import EndpointPatch, EndpointSpec, LifecycleState, Readiness, Scaling
from ..fields import ROUTING_KEY_PREFIX, flatten_errors
from .clock import Clock
from .config import EmulatorConfig
from .errors import ApiError, FieldProblem
from .persistence import StateFile

STARTING = LifecycleState.STARTING.value
RUNNING = LifecycleState.RUNNING.value
UPDATING = LifecycleState.UPDATING.value
STOPPING = LifecycleState.STOPPING.value
STOPPED = LifecycleState.STOPPED.value
ERROR = LifecycleState.ERROR.value
WARNING = LifecycleState.WARNING.value
DELETING = LifecycleState.DELETING.value
READY = Readiness.READY.value
PARTIALLY_READY = Readiness.PARTIALLY_READY.value
NOT_READY = Readiness.NOT_READY.value



class DeploymentStatus(str, Enum):
    """The published `deployment.status` (the lifecycle; `warning`: an issue that may still serve)."""

    STARTING = STARTING
    RUNNING = RUNNING
    UPDATING = UPDATING
    STOPPING = STOPPING
    STOPPED = STOPPED
    ERROR = ERROR
    WARNING = WARNING


class DeploymentReadiness(str, Enum):
    """The published `deployment.readiness`: whether to send traffic, apart from the lifecycle."""

    READY = READY
    PARTIALLY_READY = PARTIALLY_READY
    NOT_READY = NOT_READY


DEPLOYMENT_STATUSES = tuple(s.value for s in DeploymentStatus)
READINESS_VALUES = tuple(r.value for r in DeploymentReadiness)
#: Statuses in which the endpoint answers inference: a change that starts replicas keeps the old ones serving.
SERVING = frozenset({RUNNING, UPDATING})
#: Fields whose change leaves the deployment alone; a change of any other (scaling, gpu_type, gpu_count,
#: custom weights, and whatever is declared next) rolls out new replicas: `updating`.
QUIET_FIELDS = frozenset({"name", "description", "routing_key", "enabled"})
#: The project of a call that names none (no `ai_project_id`).
DEFAULT_PROJECT = "default"

CreateOutcome = Literal["error", "stuck"]
Deployment = tuple[str, str]

_ID_ALPHABET = string.ascii_lowercase + string.digits
_KEY_ALPHABET = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def isoformat(timestamp: float) -> str:
    """ISO-8601 in UTC with a `Z`, millisecond precision, as most JSON APIs write it."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StoredEndpoint(EndpointSpec):
    """An endpoint's API fields as they stand: the create request's, plus the two every endpoint has.

    `routing_key` is always set (the API makes one when the create names none); `enabled` is not in the
    create request (an endpoint starts enabled) but PATCH changes it.
    """

    routing_key: str
    enabled: bool = True


@dataclass(frozen=True)
class CreateRequest:
    """A checked create body: the API's model, and `enabled` (only legacy bodies may say false)."""

    spec: EndpointSpec
    enabled: bool = True


@dataclass
class Transition:
    """A status that lasts until `until`, then becomes `settles_to`."""

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
    def scaling(self) -> Scaling:
        return self.spec.scaling

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
        if self.pinned is not None and self.deleting_until is None:
            return self.pinned
        status = self.status(now)
        if status == DELETING:
            return STOPPING, NOT_READY
        return status, READY if status in SERVING else NOT_READY

    def ready_replicas(self, readiness: str) -> int:
        low = self.scaling.min_replicas
        return {READY: low, PARTIALLY_READY: max(1, low // 2)}.get(readiness, 0)

    def routable(self, now: float) -> bool:
        """Whether inference on the routing key is answered now: a serving deployment, and warm."""
        if self.pinned is not None and self.deleting_until is None:
            return self.pinned[1] != NOT_READY
        return self.status(now) in SERVING and (self.routable_at is None or now >= self.routable_at)

    def settle(self, now: float) -> None:
        """Fold a finished transition into `settled`, dating the change when it happened."""
        t = self.transition
        if t is not None and not self.stuck and now >= t.until:
            self.settled, self.transition = t.settles_to, None
            self.updated_at = max(self.updated_at, t.until)

    def begin(self, status: str, settles_to: str, now: float, duration: float) -> None:
        self.transition = Transition(status, settles_to, now + duration)

    def to_json(self, now: float, *, legacy: bool) -> dict[str, Any]:
        """The endpoint as the API answers it: published (deployment object) or legacy (flat status, updated_at)."""
        self.settle(now)
        fields = self.spec.model_dump(mode="json")
        if legacy:
            shown = self.pinned[0] if self.pinned is not None and self.deleting_until is None else self.status(now)
            return {"id": self.id, **fields, "status": shown, "created_at": isoformat(self.created_at),
                    "updated_at": isoformat(self.updated_at)}
        status, readiness = self.deployment(now)
        return {"id": self.id, **fields,
                "deployment": {"status": status, "readiness": readiness,
                               "ready_replicas": self.ready_replicas(readiness)},
                "created_at": isoformat(self.created_at)}

    def saved(self) -> dict[str, Any]:
        """What the state file keeps of the record (`from_state` reads it back)."""
        return {"id": self.id, "project": self.project, "spec": self.spec.model_dump(mode="json"),
                "created_at": self.created_at, "updated_at": self.updated_at, "settled": self.settled,
                "transition": None if self.transition is None else vars(self.transition).copy(),
                "stuck": self.stuck, "deleting_until": self.deleting_until, "routable_at": self.routable_at,
                "pinned": None if self.pinned is None else list(self.pinned)}

    @classmethod
    def from_state(cls, data: Any, where: str = "endpoint") -> EndpointRecord:
        """A record saved by `saved`; ValueError names the first field that is missing or of the wrong type.

        Checked field by field because a hand-edited or foreign file would otherwise fail later and far
        away (a TypeError at start, a 500 on the first read of a bad time). The API fields are checked by
        the API's own model, strictly (a string is not a number).
        """
        data = _expect_object(data, where)
        unknown = sorted(set(data) - set(_RECORD_FIELDS))
        if unknown:
            raise ValueError(f"{where} has unknown field {unknown[0]!r}")
        for key, (kind, required) in _RECORD_FIELDS.items():
            if key in data:
                _expect(data[key], kind, f"{where}.{key}")
            elif required:
                raise ValueError(f"{where}.{key} is missing")
        if "settled" in data and data["settled"] not in _STATUSES:
            raise ValueError(f"{where}.settled must be one of {', '.join(sorted(_STATUSES))}, got {data['settled']!r}")
        return cls(**{**data, "spec": _stored_spec(data["spec"], f"{where}.spec"),
                      "transition": _transition(data.get("transition"), f"{where}.transition"),
                      "pinned": _pinned(data.get("pinned"), f"{where}.pinned")})


_STATUSES = frozenset({*DEPLOYMENT_STATUSES, DELETING})
#: Each saved field: its kind (see `_expect`) and whether a saved record must have it.
_RECORD_FIELDS: dict[str, tuple[str, bool]] = {
    "id": ("string", True), "project": ("string", True), "spec": ("object", True),
    "created_at": ("time", True), "updated_at": ("time", True), "settled": ("string", False),
    "transition": ("object or null", False), "stuck": ("boolean", False), "deleting_until": ("time or null", False),
    "routable_at": ("time or null", False), "pinned": ("array or null", False),
}


def _stored_spec(value: dict[str, Any], where: str) -> StoredEndpoint:
    try:
        return StoredEndpoint.model_validate_json(json.dumps(value), strict=True)
    except ValidationError as exc:
        raise ValueError(f"{where}.{flatten_errors(exc.errors())[0].message}") from None


def _transition(value: Any, where: str) -> Transition | None:
    if value is None:
        return None
    if set(value) != {"status", "settles_to", "until"}:
        raise ValueError(f"{where} must have exactly status, settles_to and until")
    for key in ("status", "settles_to"):
        if value[key] not in _STATUSES:
            raise ValueError(f"{where}.{key} must be one of {', '.join(sorted(_STATUSES))}, got {value[key]!r}")
    _expect(value["until"], "time", f"{where}.until")
    return Transition(**value)


def _pinned(value: Any, where: str) -> Deployment | None:
    if value is None:
        return None
    if len(value) != 2 or value[0] not in DEPLOYMENT_STATUSES or value[1] not in READINESS_VALUES:
        raise ValueError(f"{where} must be [status, readiness] of the published values, got {value!r:.60}")
    return str(value[0]), str(value[1])


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
    """ValueError unless `value` is of `kind`: string, integer, boolean, time (a finite number), object, array,
    or "X or null"."""
    if value is None and kind.endswith(" or null"):
        return
    base = kind.removesuffix(" or null")
    ok = {
        "string": isinstance(value, str),
        "integer": type(value) is int,
        "boolean": isinstance(value, bool),
        "time": type(value) in (int, float) and math.isfinite(value) and abs(value) < 1e11,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }[base]
    if not ok:
        wanted = {"time": "a finite number of seconds", "integer": "an integer", "object": "an object",
                  "array": "an array"}.get(base, f"a {base}")
        raise ValueError(f"{where} must be {wanted}{' or null' if kind.endswith(' or null') else ''}, "
                         f"got {_json_type(value)} {value!r:.40}")


def _expect_object(value: Any, where: str) -> dict[str, Any]:
    _expect(value, "object", where)
    return dict(value)


def routing_key_taken(routing_key: str) -> ApiError:
    """The 409 for a routing key another endpoint holds: it names the field, so a client can say which."""
    message = f"routing_key {routing_key!r} is already taken by another endpoint"
    return ApiError(409, "conflict", message, field="routing_key",
                    problems=[FieldProblem("routing_key", message, "conflict", input=routing_key)])


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
        if self.state_file is None:
            return
        saved = self.state_file.load()
        if saved is None:
            return
        try:
            offset, records = self._parse_state(upgrade_state(saved))
        except ValueError as exc:
            raise self.state_file.invalid(f"is not usable: {exc}") from None
        behind = offset - self.clock.offset
        if behind > 0:
            self.clock.advance(behind)
        self._records.update((record.id, record) for record in records)

    @staticmethod
    def _parse_state(saved: dict[str, Any]) -> tuple[float, list[EndpointRecord]]:
        """The clock offset and the endpoints of a loaded state file, every field checked (ValueError names it)."""
        unknown = sorted(set(saved) - {"version", "clock_offset", "endpoints"})
        if unknown:
            raise ValueError(f"unknown top-level field {unknown[0]!r}")
        offset = saved.get("clock_offset", 0.0)
        _expect(offset, "time", "clock_offset")
        endpoints = saved.get("endpoints", [])
        if not isinstance(endpoints, list):
            raise ValueError(f"endpoints must be an array, got {_json_type(endpoints)}")
        records = [EndpointRecord.from_state(item, f"endpoints[{index}]") for index, item in enumerate(endpoints)]
        return float(offset), records

    # -- reads --------------------------------------------------------------------------------------

    def _now(self) -> float:
        """The current time, after dropping endpoints whose deletion has finished."""
        now = self.clock.now()
        gone = [i for i, r in self._records.items() if r.deleting_until is not None and now >= r.deleting_until]
        for endpoint_id in gone:
            del self._records[endpoint_id]
        return now

    def _json(self, record: EndpointRecord, now: float) -> dict[str, Any]:
        return record.to_json(now, legacy=self.config.legacy)

    def list_endpoints(self, project: str | None = None) -> list[dict[str, Any]]:
        """Oldest first; of one project, or (None) of all."""
        with self._lock:
            now = self._now()
            records = sorted(self._records.values(), key=lambda r: (r.created_at, r.id))
            return [self._json(r, now) for r in records if project is None or r.project == project]

    def operator_view(self, project: str | None = None) -> list[dict[str, Any]]:
        """`list_endpoints` plus what only an operator sees: the flat lifecycle `status` (`deleting` while a
        deletion runs, underneath any pin) and the `project`; what tests and the admin routes read."""
        with self._lock:
            now = self._now()
            records = sorted(self._records.values(), key=lambda r: (r.created_at, r.id))
            return [{**self._json(r, now), "status": r.status(now), "project": r.project}
                    for r in records if project is None or r.project == project]

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

    def _record(self, endpoint_id: str, project: str | None = None) -> EndpointRecord:
        record = self._records.get(endpoint_id)
        if record is None or (project is not None and record.project != project):
            raise ApiError.not_found(f"endpoint {endpoint_id} not found")
        return record

    def _routable_after(self, until: float) -> float | None:
        """When a start that reaches `running` at `until` becomes routable (None: at once, no gap configured)."""
        gap = self.config.routable_seconds
        return until + gap if gap > 0 else None

    def _live_record(self, endpoint_id: str, project: str | None = None) -> EndpointRecord:
        """An endpoint that can still be changed: one being deleted is as good as gone."""
        record = self._record(endpoint_id, project)
        if record.deleting_until is not None:
            raise ApiError.not_found(f"endpoint {endpoint_id} is being deleted")
        return record

    def scaling_of(self, endpoint_id: str, project: str | None = None) -> Scaling:
        with self._lock:
            self._now()
            return self._live_record(endpoint_id, project).scaling

    def spec_of(self, endpoint_id: str, project: str | None = None) -> StoredEndpoint:
        """The endpoint's API fields as they stand (what a PATCH is checked against)."""
        with self._lock:
            self._now()
            return self._live_record(endpoint_id, project).spec

    def _claim(self, routing_key: str | None, model_name: str, owner: str | None = None) -> str:
        """`routing_key` when no other endpoint holds it (409 otherwise); a fresh one when None."""
        if routing_key is None:
            return f"{ROUTING_KEY_PREFIX}{model_name}-{_random(_KEY_ALPHABET, 12)}"
        holder = self._holder(routing_key)
        if holder is not None and holder.id != owner:
            raise routing_key_taken(routing_key)
        return routing_key

    # -- API changes --------------------------------------------------------------------------------

    def create(self, request: CreateRequest, project: str = DEFAULT_PROJECT) -> dict[str, Any]:
        with self._lock:
            now = self._now()
            spec = request.spec
            routing_key = self._claim(spec.routing_key, spec.model_name)
            stored = StoredEndpoint.model_validate({**spec.model_dump(), "routing_key": routing_key,
                                                    "enabled": request.enabled})
            record = EndpointRecord(id="ep-" + _random(_ID_ALPHABET, 16), project=project, spec=stored,
                                    created_at=now, updated_at=now, settled=STOPPED)
            if request.enabled:
                outcome = self._next_creates.popleft() if self._next_creates else None
                self._start(record, now, settles_to=ERROR if outcome == "error" else RUNNING)
                record.stuck = outcome == "stuck"
            self._records[record.id] = record
            self._save()
            return self._json(record, now)

    def _start(self, record: EndpointRecord, now: float, settles_to: str = RUNNING) -> None:
        """Replicas start from none: `starting` for the provisioning time, then routable after the gap."""
        record.begin(STARTING, settles_to, now, self.config.provision_seconds)
        record.routable_at = self._routable_after(now + self.config.provision_seconds)

    def update(self, endpoint_id: str, patch: EndpointPatch, project: str | None = None) -> dict[str, Any]:
        """Apply the fields the PATCH set onto the endpoint's model; the lifecycle follows what changed."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id, project)
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
        status = record.status(now)
        if "enabled" in changed:
            if after.enabled:
                self._start(record, now)
            else:
                record.begin(STOPPING, STOPPED, now, self.config.stop_duration)
                record.routable_at = None
        elif changed - QUIET_FIELDS and status in SERVING:
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

    # -- operator controls (admin routes) ---------------------------------------------------------

    def fail(self, endpoint_id: str) -> dict[str, Any]:
        """The deployment breaks: `error` at once, whatever it was doing."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.transition, record.settled, record.stuck, record.updated_at = None, ERROR, False, now
            self._save()
            return self._json(record, now)

    def stick(self, endpoint_id: str) -> dict[str, Any]:
        """Transitions stop completing: the current one freezes; a running endpoint restarts, forever."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.settle(now)
            if record.transition is None and record.spec.enabled:
                record.begin(STARTING, RUNNING, now, 0.0)
                record.updated_at = now
            record.stuck = True
            self._save()
            return self._json(record, now)

    def pin(self, endpoint_id: str, deployment: Deployment) -> dict[str, Any]:
        """Show this (status, readiness) whatever the lifecycle does underneath, until `recover`."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.pinned, record.updated_at = deployment, now
            self._save()
            return self._json(record, now)

    def recover(self, endpoint_id: str) -> dict[str, Any]:
        """Undo `fail`, `stick` and `pin`: settled at once in the state `enabled` asks for."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.transition, record.stuck, record.pinned, record.updated_at = None, False, None, now
            record.settled = RUNNING if record.spec.enabled else STOPPED
            record.routable_at = None
            self._save()
            return self._json(record, now)

    def seed(self, request: CreateRequest, *, endpoint_id: str, routing_key: str, status: str,
             project: str = DEFAULT_PROJECT, created_at: float | None = None,
             updated_at: float | None = None) -> dict[str, Any]:
        """Put an endpoint in place exactly as given, with the id, routing key and times no caller may pick.

        This is how a recorded Pulumi state is replayed against a fresh emulator: the state
        names an id and a routing key, and only an endpoint with exactly those can answer for
        it. A settled status (`running`, `stopped`, `error`) stays as given; a transitional one
        (`starting`, `updating`, `stopping`, `deleting`) starts now and lasts as long as this
        emulator's timing says. Timestamps default to now; `updated_at` defaults to `created_at`.
        """
        with self._lock:
            now = self._now()
            if endpoint_id in self._records:
                raise ApiError(409, "conflict", f"endpoint {endpoint_id} already exists", field="id")
            self._claim(routing_key, request.spec.model_name)
            created = now if created_at is None else created_at
            stored = StoredEndpoint.model_validate({**request.spec.model_dump(), "routing_key": routing_key,
                                                    "enabled": request.enabled})
            record = EndpointRecord(id=endpoint_id, project=project, spec=stored, created_at=created,
                                    updated_at=created if updated_at is None else updated_at, settled=status)
            self._seed_transition(record, status, now)
            self._records[record.id] = record
            self._save()
            return self._json(record, now)

    def _seed_transition(self, record: EndpointRecord, status: str, now: float) -> None:
        if status == STARTING:
            record.settled = STOPPED
            self._start(record, now)
        elif status == UPDATING:
            record.settled = RUNNING
            record.begin(UPDATING, RUNNING, now, self.config.update_duration)
        elif status == STOPPING:
            record.settled = RUNNING
            record.begin(STOPPING, STOPPED, now, self.config.stop_duration)
        elif status == DELETING:
            record.settled = RUNNING if record.spec.enabled else STOPPED
            record.deleting_until = now + self.config.delete_duration

    def queue_next_creates(self, outcome: CreateOutcome | None, count: int) -> list[str]:
        """The next `count` creates end in `outcome` (None clears the queue)."""
        with self._lock:
            if outcome is None:
                self._next_creates.clear()
            else:
                self._next_creates.extend([outcome] * count)
            return list(self._next_creates)

    def pending_creates(self) -> list[str]:
        with self._lock:
            return list(self._next_creates)

    def advance_clock(self, seconds: float) -> float:
        with self._lock:
            self.clock.advance(seconds)
            self._save()
            return self.clock.now()

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._next_creates.clear()
            self._save()

    def _save(self) -> None:
        if self.state_file is not None:
            self.state_file.save({
                "clock_offset": self.clock.offset,
                "endpoints": [r.saved() for r in self._records.values()],
            })
