"""The emulated account: its endpoints and how their status moves over time.

Status is never advanced by a background task. Each endpoint records the
transition it is in (say `starting`, settling to `running` at time T) and the
status is read off the clock whenever someone looks, so behaviour is exact
and testable with a manual clock, and a restarted emulator resumes every
transition where the wall clock says it should be.

Serving inference is one step later than `running` when the emulator has a
routable gap (`EmulatorConfig.routable_seconds`): after a start (create,
enable) or a rise of `min_replicas`, the routing key answers 404 until
`routable_at`, the way the real API may while new replicas warm up. That is
what lets a readiness gate be tested; with no gap the record never has a
`routable_at` and behaves as before.
"""

from __future__ import annotations

import math
import secrets
import string
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from ..api.models import EndpointPatch, EndpointSpec, LifecycleState, Scaling
from .clock import Clock
from .config import EmulatorConfig
from .errors import ApiError
from .persistence import StateFile

STARTING = LifecycleState.STARTING.value
RUNNING = LifecycleState.RUNNING.value
UPDATING = LifecycleState.UPDATING.value
STOPPING = LifecycleState.STOPPING.value
STOPPED = LifecycleState.STOPPED.value
ERROR = LifecycleState.ERROR.value
DELETING = LifecycleState.DELETING.value

#: Statuses in which the endpoint answers inference: a scaling change keeps the old replicas serving.
SERVING = frozenset({RUNNING, UPDATING})

CreateOutcome = Literal["error", "stuck"]

_ID_ALPHABET = string.ascii_lowercase + string.digits
_KEY_ALPHABET = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def isoformat(timestamp: float) -> str:
    """ISO-8601 in UTC with a `Z`, millisecond precision, as most JSON APIs write it."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Transition:
    """A status that lasts until `until`, then becomes `settles_to`."""

    status: str
    settles_to: str
    until: float


@dataclass
class EndpointRecord:
    id: str
    routing_key: str
    name: str
    description: str | None
    model_name: str
    flavor_name: str
    gpu_type: str
    gpu_count: int
    min_replicas: int
    max_replicas: int
    region: str
    enabled: bool
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

    @property
    def scaling(self) -> Scaling:
        return Scaling(min_replicas=self.min_replicas, max_replicas=self.max_replicas)

    def status(self, now: float) -> str:
        if self.deleting_until is not None:
            return DELETING
        t = self.transition
        if t is None:
            return self.settled
        return t.status if self.stuck or now < t.until else t.settles_to

    def routable(self, now: float) -> bool:
        """Whether inference on the routing key is answered now: a serving status, and warm."""
        return self.status(now) in SERVING and (self.routable_at is None or now >= self.routable_at)

    def settle(self, now: float) -> None:
        """Fold a finished transition into `settled`, dating the change when it happened."""
        t = self.transition
        if t is not None and not self.stuck and now >= t.until:
            self.settled, self.transition = t.settles_to, None
            self.updated_at = max(self.updated_at, t.until)

    def begin(self, status: str, settles_to: str, now: float, duration: float) -> None:
        self.transition = Transition(status, settles_to, now + duration)

    def to_json(self, now: float) -> dict[str, Any]:
        self.settle(now)
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "routing_key": self.routing_key,
            "model_name": self.model_name,
            "flavor_name": self.flavor_name,
            "gpu_type": self.gpu_type,
            "gpu_count": self.gpu_count,
            "scaling": {"min_replicas": self.min_replicas, "max_replicas": self.max_replicas},
            "region": self.region,
            "enabled": self.enabled,
            "status": self.status(now),
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }

    @classmethod
    def from_state(cls, data: Any, where: str = "endpoint") -> EndpointRecord:
        """A record saved by `Store._save`; ValueError names the first field that is missing or of the wrong type.

        Checked field by field because a hand-edited or foreign file would otherwise fail
        later and far away (a TypeError at start, a 500 on the first read of a bad time).
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
        transition = data.get("transition")
        if transition is not None:
            transition = _expect_object(transition, f"{where}.transition")
            if set(transition) != {"status", "settles_to", "until"}:
                raise ValueError(f"{where}.transition must have exactly status, settles_to and until")
            for key in ("status", "settles_to"):
                if transition[key] not in _STATUSES:
                    raise ValueError(f"{where}.transition.{key} must be one of {', '.join(sorted(_STATUSES))}, "
                                     f"got {transition[key]!r}")
            _expect(transition["until"], "time", f"{where}.transition.until")
            transition = Transition(**transition)
        return cls(**{**data, "transition": transition})


_STATUSES = frozenset({STARTING, RUNNING, UPDATING, STOPPING, STOPPED, ERROR, DELETING})
#: Each saved field: its kind (see `_expect`) and whether a saved record must have it.
_RECORD_FIELDS: dict[str, tuple[str, bool]] = {
    "id": ("string", True), "routing_key": ("string", True), "name": ("string", True),
    "description": ("string or null", True), "model_name": ("string", True), "flavor_name": ("string", True),
    "gpu_type": ("string", True), "gpu_count": ("integer", True), "min_replicas": ("integer", True),
    "max_replicas": ("integer", True), "region": ("string", True), "enabled": ("boolean", True),
    "created_at": ("time", True), "updated_at": ("time", True), "settled": ("string", False),
    "transition": ("object or null", False), "stuck": ("boolean", False), "deleting_until": ("time or null", False),
    "routable_at": ("time or null", False),
}


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object",
            type(None): "null"}.get(type(value), type(value).__name__)


def _expect(value: Any, kind: str, where: str) -> None:
    """ValueError unless `value` is of `kind`: string, integer, boolean, time (a finite number), object, "X or null"."""
    if value is None and kind.endswith(" or null"):
        return
    base = kind.removesuffix(" or null")
    ok = {
        "string": isinstance(value, str),
        "integer": type(value) is int,
        "boolean": isinstance(value, bool),
        "time": type(value) in (int, float) and math.isfinite(value) and abs(value) < 1e11,
        "object": isinstance(value, dict),
    }[base]
    if not ok:
        wanted = {"time": "a finite number of seconds", "integer": "an integer", "object": "an object"}.get(
            base, f"a {base}")
        raise ValueError(f"{where} must be {wanted}{' or null' if kind.endswith(' or null') else ''}, "
                         f"got {_json_type(value)} {value!r:.40}")


def _expect_object(value: Any, where: str) -> dict[str, Any]:
    _expect(value, "object", where)
    return dict(value)


@dataclass
class Store:
    """Every endpoint of the emulated account; all reads and writes go through here."""

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
            offset, records = self._parse_state(saved)
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

    def list_endpoints(self) -> list[dict[str, Any]]:
        with self._lock:
            now = self._now()
            return [r.to_json(now) for r in sorted(self._records.values(), key=lambda r: (r.created_at, r.id))]

    def get(self, endpoint_id: str) -> dict[str, Any]:
        with self._lock:
            now = self._now()
            return self._record(endpoint_id).to_json(now)

    def serving(self, routing_key: str) -> tuple[dict[str, Any] | None, str | None]:
        """The endpoint with this routing key if it answers inference, else None and why not (None: no such key)."""
        with self._lock:
            now = self._now()
            record = next((r for r in self._records.values() if r.routing_key == routing_key), None)
            if record is None:
                return None, None
            if record.routable(now):
                return record.to_json(now), None
            status = record.status(now)
            if status in SERVING:
                return None, f"the endpoint is {status}, but its replicas are still warming up; it answers shortly"
            return None, f"the endpoint is {status}; it answers once running"

    def _record(self, endpoint_id: str) -> EndpointRecord:
        record = self._records.get(endpoint_id)
        if record is None:
            raise ApiError.not_found(f"endpoint {endpoint_id} not found")
        return record

    def _routable_after(self, until: float) -> float | None:
        """When a start that reaches `running` at `until` becomes routable (None: at once, no gap configured)."""
        gap = self.config.routable_seconds
        return until + gap if gap > 0 else None

    def _live_record(self, endpoint_id: str) -> EndpointRecord:
        """An endpoint that can still be changed: one being deleted is as good as gone."""
        record = self._record(endpoint_id)
        if record.deleting_until is not None:
            raise ApiError.not_found(f"endpoint {endpoint_id} is being deleted")
        return record

    def scaling_of(self, endpoint_id: str) -> Scaling:
        with self._lock:
            self._now()
            return self._live_record(endpoint_id).scaling

    # -- API changes --------------------------------------------------------------------------------

    def create(self, spec: EndpointSpec) -> dict[str, Any]:
        with self._lock:
            now = self._now()
            record = EndpointRecord(
                id="ep-" + _random(_ID_ALPHABET, 16),
                routing_key=f"dedicated/{spec.model_name}-{_random(_KEY_ALPHABET, 12)}",
                name=spec.name, description=spec.description, model_name=spec.model_name,
                flavor_name=spec.flavor_name, gpu_type=spec.gpu_type, gpu_count=spec.gpu_count,
                min_replicas=spec.scaling.min_replicas, max_replicas=spec.scaling.max_replicas,
                region=spec.region, enabled=spec.enabled, created_at=now, updated_at=now,
                settled=STOPPED,
            )
            if spec.enabled:
                outcome = self._next_creates.popleft() if self._next_creates else None
                record.begin(STARTING, ERROR if outcome == "error" else RUNNING, now, self.config.provision_seconds)
                record.stuck = outcome == "stuck"
                record.routable_at = self._routable_after(now + self.config.provision_seconds)
            self._records[record.id] = record
            self._save()
            return record.to_json(now)

    def update(self, endpoint_id: str, patch: EndpointPatch) -> dict[str, Any]:
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.settle(now)
            status = record.status(now)
            given = patch.model_fields_set
            changed = False
            if "name" in given and patch.name is not None and patch.name != record.name:
                record.name, changed = patch.name, True
            if "description" in given and patch.description != record.description:
                record.description, changed = patch.description, True
            rescaled = patch.scaling is not None and patch.scaling != record.scaling
            more_replicas = patch.scaling is not None and patch.scaling.min_replicas > record.min_replicas
            if patch.scaling is not None and rescaled:
                record.min_replicas, record.max_replicas = patch.scaling.min_replicas, patch.scaling.max_replicas
                changed = True
            if patch.enabled is not None and patch.enabled != record.enabled:
                record.enabled, changed = patch.enabled, True
                if patch.enabled:
                    record.begin(STARTING, RUNNING, now, self.config.provision_seconds)
                    record.routable_at = self._routable_after(now + self.config.provision_seconds)
                else:
                    record.begin(STOPPING, STOPPED, now, self.config.stop_duration)
                    record.routable_at = None
            elif rescaled and status in (RUNNING, UPDATING):
                # New replicas start beside the serving ones; while starting or stopped there is nothing to scale.
                record.begin(UPDATING, RUNNING, now, self.config.update_duration)
                warm = self._routable_after(now + self.config.update_duration) if more_replicas else None
                if warm is not None:
                    # With a gap configured, a min_replicas rise restarts the serving set (the pessimistic
                    # reading of "new replicas need a warm-up period"): 404 until warm.
                    record.routable_at = max(warm, record.routable_at or warm)
            if changed:
                record.updated_at = now
                self._save()
            return record.to_json(now)

    def delete(self, endpoint_id: str) -> dict[str, Any]:
        """Start the deletion; repeating it while it runs is harmless (DELETE is idempotent)."""
        with self._lock:
            now = self._now()
            record = self._record(endpoint_id)
            if record.deleting_until is None:
                record.settle(now)
                record.transition, record.updated_at = None, now
                record.deleting_until = now + self.config.delete_duration
                self._save()
            return record.to_json(now)

    # -- operator controls (admin routes) ---------------------------------------------------------

    def fail(self, endpoint_id: str) -> dict[str, Any]:
        """The deployment breaks: `error` at once, whatever it was doing."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.transition, record.settled, record.stuck, record.updated_at = None, ERROR, False, now
            self._save()
            return record.to_json(now)

    def stick(self, endpoint_id: str) -> dict[str, Any]:
        """Transitions stop completing: the current one freezes; a running endpoint restarts, forever."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.settle(now)
            if record.transition is None and record.enabled:
                record.begin(STARTING, RUNNING, now, 0.0)
                record.updated_at = now
            record.stuck = True
            self._save()
            return record.to_json(now)

    def recover(self, endpoint_id: str) -> dict[str, Any]:
        """Undo `fail` and `stick`: settled at once in the state `enabled` asks for."""
        with self._lock:
            now = self._now()
            record = self._live_record(endpoint_id)
            record.transition, record.stuck, record.updated_at = None, False, now
            record.settled = RUNNING if record.enabled else STOPPED
            record.routable_at = None
            self._save()
            return record.to_json(now)

    def seed(self, spec: EndpointSpec, *, endpoint_id: str, routing_key: str, status: str,
             created_at: float | None = None, updated_at: float | None = None) -> dict[str, Any]:
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
            if any(r.routing_key == routing_key for r in self._records.values()):
                raise ApiError(409, "conflict", f"routing key {routing_key!r} is already taken", field="routing_key")
            created = now if created_at is None else created_at
            record = EndpointRecord(
                id=endpoint_id, routing_key=routing_key,
                name=spec.name, description=spec.description, model_name=spec.model_name,
                flavor_name=spec.flavor_name, gpu_type=spec.gpu_type, gpu_count=spec.gpu_count,
                min_replicas=spec.scaling.min_replicas, max_replicas=spec.scaling.max_replicas,
                region=spec.region, enabled=spec.enabled, created_at=created,
                updated_at=created if updated_at is None else updated_at,
                settled=status,
            )
            if status == STARTING:
                record.settled = STOPPED
                record.begin(STARTING, RUNNING, now, self.config.provision_seconds)
                record.routable_at = self._routable_after(now + self.config.provision_seconds)
            elif status == UPDATING:
                record.settled = RUNNING
                record.begin(UPDATING, RUNNING, now, self.config.update_duration)
            elif status == STOPPING:
                record.settled = RUNNING
                record.begin(STOPPING, STOPPED, now, self.config.stop_duration)
            elif status == DELETING:
                record.settled = RUNNING if spec.enabled else STOPPED
                record.deleting_until = now + self.config.delete_duration
            self._records[record.id] = record
            self._save()
            return record.to_json(now)

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
                "endpoints": [asdict(r) for r in self._records.values()],
            })
