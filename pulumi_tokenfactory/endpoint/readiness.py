"""The readiness gate: after `running`, wait until the routing key really answers inference.

The API reports `running` before the routing key is routable ("during startup,
inference calls may return 404 Not Found"; "a scaling change may start new
replicas, which need a warm-up period"). A dependent that calls the endpoint
the moment `pulumi up` returns would then see 404. With `wait_for_inference`,
the step ends only after one real chat completion on the routing key has been
answered: a one-word prompt with `max_tokens: 1`, repeated at the waiter's
backoff (0.5 s doubling to 30 s) while it answers 404, bounded by what is left
of `ready_timeout`.

What it costs: each probe is one billed completion of 1 output token plus the
prompt's few input tokens (the emulator counts 4: "ping" and the message
overhead). Probing starts only once the endpoint is `running`, so what counts
is the warm-up after it: one probe when it is routable at once, and for a
warm-up of T seconds `1 + PollSchedule.polls_for(T)` probes: 6 for 10 s, 8 for
a minute, 26 for ten minutes (the pauses reach their 30 s ceiling after 31 s).

Answers other than 2xx and 404: 429, 5xx and network failures are passing and
retried at the next interval (a wait never fails on one); any other status
(401, 403, 400, ...) ends the wait at once with an error naming the endpoint
and the status, because waiting longer cannot change it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .. import errors
from ..api.client import TokenFactoryClient
from ..host.hostpool import lend_thread_while_waiting
from ..host.interrupts import interrupted, pause
from ..host.waiting import PROGRESS_EVERY_SECONDS, TRANSIENT_ERRORS, PollSchedule, Progress, format_elapsed
from .fields import FIELDS, SCALING_FIELD
from .properties import EndpointInputs

log = logging.getLogger(__name__)

#: The fields whose change restarts every replica (the declaration's `redeploys`, but for the two that
#: `starts_replicas` weighs itself: `enabled` and `scaling`).
_RESTARTING_FIELDS = tuple(f.name for f in FIELDS if f.redeploys and f.name not in ("enabled", SCALING_FIELD))


def starts_replicas(current: EndpointInputs, desired: EndpointInputs) -> bool:
    """Whether an update from `current` to `desired` starts replicas, so that the routing key may 404 again.

    Enabling a stopped endpoint, raising `min_replicas` of an enabled one, or a change that restarts
    every replica (new GPUs, `gpu_type` or `gpu_count`; new weights, `custom_weights_id`): new replicas
    must start and warm up. A lower minimum, a `max_replicas` change (autoscaling headroom, nothing
    starts now), a rename or a stop do not.
    """
    if not desired.enabled:
        return False
    restarted = any(getattr(desired, name) != getattr(current, name) for name in _RESTARTING_FIELDS)
    return not current.enabled or restarted or desired.scaling.min_replicas > current.scaling.min_replicas


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Budget:
    """What is left of `ready_timeout`: started before the wait for `running`, read when probing starts."""

    timeout: float
    started: float
    clock: Callable[[], float]

    def left(self) -> float:
        return max(0.0, self.timeout - (self.clock() - self.started))


@dataclass(frozen=True)
class Routable:
    """The outcome of a successful wait: how many probes it took and how long."""

    probes: int
    seconds: float


class ReadinessGate:
    """Probes an endpoint's routing key until it answers, fails for good, or the time is up."""

    def __init__(
        self,
        client: TokenFactoryClient,
        *,
        schedule: PollSchedule,
        progress: Progress,
        sleep: Callable[[float], None] = pause,
        clock: Callable[[], float] = time.monotonic,
        lend_threads: bool | None = None,
    ) -> None:
        self._client = client
        self._schedule = schedule
        self._progress = progress
        self._sleep = sleep
        self._clock = clock
        self._lend_threads = lend_threads

    def budget(self, timeout: float) -> Budget:
        """Start counting `ready_timeout` now (before the wait for `running`), for `until_routable`."""
        return Budget(timeout, self._clock(), self._clock)

    def until_routable(self, endpoint_id: str, routing_key: str | None, region: str | None, budget: Budget, *,
                       label: str) -> Routable:
        """Return once a probe is answered 2xx; raise EndpointOperationError otherwise.

        Probes go on for what is left of `budget` (the step's `ready_timeout`, counted from before
        the wait for `running`). At least one probe is made even when it is already spent: the
        endpoint is running, and one tiny request is the cheapest way to know whether it serves.
        """
        if not routing_key:
            raise errors.EndpointOperationError(
                f"{label}: endpoint {endpoint_id} is running, but the API reported no routing key, so its "
                f"inference cannot be probed; set wait_for_inference=False", endpoint_id=endpoint_id)
        with lend_thread_while_waiting(self._lend_threads):
            return self._until_routable(endpoint_id, routing_key, region, budget, label=label)

    def _until_routable(self, endpoint_id: str, routing_key: str, region: str | None, budget: Budget, *,
                        label: str) -> Routable:
        started = self._clock()
        timeout = budget.left()
        last_report: float | None = None
        last_answer = "no answer yet"
        for probes, interval in enumerate(self._schedule.intervals(), start=1):
            if interrupted():
                raise errors.WaitInterrupted(f"{label}: interrupted while waiting for endpoint {endpoint_id} to "
                                             f"answer inference", endpoint_id=endpoint_id)
            try:
                self._client.probe_inference(routing_key, region)
            except errors.NotFoundError:
                last_answer = "404"
            except TRANSIENT_ERRORS as exc:
                last_answer = f"HTTP {exc.status_code}" if exc.status_code else type(exc).__name__
                log.warning("%s: the inference probe of endpoint %s failed, will try again: %s", label, endpoint_id,
                            exc)
            except errors.TokenFactoryError as exc:
                status = f"HTTP {exc.status_code}" if exc.status_code else type(exc).__name__
                raise errors.EndpointOperationError(
                    f"{label}: endpoint {endpoint_id} is running, but its inference probe (one chat completion "
                    f"on routing key {routing_key!r}) was refused with {status}: {exc.message}. Waiting cannot "
                    f"change that answer; check the API key's access to inference, or set wait_for_inference=False",
                    endpoint_id=endpoint_id) from None
            else:
                seconds = self._clock() - started
                if last_report is not None:
                    self._progress(f"{label}: endpoint {endpoint_id} is routable ({format_elapsed(seconds)} elapsed, "
                                   f"{_count(probes, 'inference probe')})")
                return Routable(probes, seconds)
            now = self._clock()
            elapsed = now - started
            if last_report is None or now - last_report >= PROGRESS_EVERY_SECONDS:
                self._progress(f"{label}: endpoint {endpoint_id} is running but not yet routable ({last_answer}), "
                               f"{format_elapsed(elapsed)} elapsed")
                last_report = now
            if elapsed >= timeout:
                raise errors.EndpointOperationError(
                    f"{label}: endpoint {endpoint_id} is running, but its routing key {routing_key!r} did not "
                    f"answer inference within ready_timeout ({budget.timeout:g}s; last answer: {last_answer}, "
                    f"{_count(probes, 'probe')})",
                    endpoint_id=endpoint_id)
            self._sleep(min(interval, max(0.0, timeout - elapsed)))
        raise AssertionError("unreachable")
