"""Waiting for an endpoint to reach a state, with adaptive polling and progress.

Provisioning takes 10 to 15 minutes, so polls start quick (a fast emulator
or a small change settles in a second) and back off to a ceiling, which
keeps a 900 s wait to a few dozen calls. Polls go through the shared
`EndpointDirectory`, so concurrent waiters cost one list call per interval.

Messages quote the API's own status word whenever it is not one of our
states (`describe_status`): "last status: unknown" tells a person nothing.
A poll in which the endpoint's own list item cannot be read is not taken for
"disappeared": it counts as a failed poll, and only several in a row fail
the wait, naming the item and why it could not be read.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .. import errors
from ..api.models import Endpoint, LifecycleState, Readiness, describe_status
from ..settings import HOST_WIDENING, POLL_MAX_INTERVAL, Settings
from .directory import EndpointDirectory, Listing
from .hostpool import lend_thread_while_waiting
from .interrupts import interrupted, pause

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 30.0
#: Polls in a row in which the endpoint's own list item cannot be read before a wait gives up.
UNREADABLE_POLLS_TOLERATED = 3

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PollSchedule:
    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PollSchedule:
        """The ceiling is `TOKENFACTORY_POLL_MAX_INTERVAL` (0.05 to 60 s; another value is refused)."""
        maximum = settings.get(POLL_MAX_INTERVAL)
        return cls(initial=min(cls.initial, maximum), maximum=maximum)

    def intervals(self) -> Iterator[float]:
        interval = self.initial
        while True:
            yield interval
            interval = min(self.maximum, interval * self.factor)

    def polls_for(self, seconds: float) -> int:
        """How many polls a wait of `seconds` costs (for docs and benchmarks)."""
        elapsed = 0.0
        for polls, interval in enumerate(self.intervals(), start=1):
            elapsed += interval
            if elapsed >= seconds:
                return polls
        raise AssertionError("unreachable")


#: Failures that pass by themselves: a wait tries again at its next interval instead of failing.
TRANSIENT_ERRORS = (errors.ServerError, errors.TransportError, errors.RateLimitError, errors.UnexpectedResponseError)


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


#: Statuses of a change still under way: even when the API calls it ready, the step waits for it to end.
_IN_PROGRESS = frozenset({LifecycleState.STARTING, LifecycleState.UPDATING, LifecycleState.STOPPING,
                          LifecycleState.STOPPED, LifecycleState.DELETING})


def goal_word(goal: LifecycleState) -> str:
    """How a wait names its goal: `ready` for a running endpoint (readiness decides), else the status."""
    return "ready" if goal is LifecycleState.RUNNING else goal.value


def reached(endpoint: Endpoint, goal: LifecycleState) -> bool:
    """Ready: readiness `ready` with no change under way (`error`/`warning` + ready serve, with an issue).
    Stopped: the status says so."""
    if goal is not LifecycleState.RUNNING:
        return endpoint.lifecycle is goal
    return endpoint.readiness_state is Readiness.READY and endpoint.lifecycle not in _IN_PROGRESS


def failed(endpoint: Endpoint) -> bool:
    """`error` without readiness `ready`: the deployment broke (error + ready still serves)."""
    return endpoint.lifecycle is LifecycleState.ERROR and endpoint.readiness_state is not Readiness.READY


def describe_deployment(endpoint: Endpoint) -> str:
    """`running`, or `running, readiness not_ready` when the readiness is not what the status implies."""
    shown = describe_status(endpoint.status)
    if endpoint.readiness is None:
        return shown
    readiness = endpoint.readiness_state
    implied = Readiness.READY if endpoint.lifecycle is LifecycleState.RUNNING else Readiness.NOT_READY
    if readiness is implied:
        return shown
    word = readiness.value if readiness is not Readiness.UNKNOWN else f"{endpoint.readiness!r} (not a readiness " \
        f"this provider recognises)"
    return f"{shown}, readiness {word}"


class Waiter:
    """Polls the directory until an endpoint reaches a goal, fails, vanishes or times out."""

    def __init__(
        self,
        directory: EndpointDirectory,
        *,
        schedule: PollSchedule | None = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = pause,
        clock: Callable[[], float] = time.monotonic,
        settings: Settings | None = None,
    ) -> None:
        where = settings or Settings()
        self._directory = directory
        self._schedule = schedule or PollSchedule.from_settings(where)
        self._lend_threads = where.get(HOST_WIDENING)  # resolved now: a bad value fails before any POST
        self._progress = progress or (lambda message: log.info(message))
        self._sleep = sleep
        self._clock = clock

    def until_state(self, endpoint_id: str, goal: LifecycleState, timeout: float, *, label: str) -> Endpoint:
        """Return the endpoint once its lifecycle is `goal`; raise EndpointOperationError otherwise
        (`WaitInterrupted`, with the endpoint as last read, when the host is interrupted)."""
        with lend_thread_while_waiting(self._lend_threads):
            return self._until_state(endpoint_id, goal, timeout, label=label)

    def _until_state(self, endpoint_id: str, goal: LifecycleState, timeout: float, *, label: str) -> Endpoint:
        failures = _PollFailures(self._progress)
        started = self._clock()
        last_seen: str | None = None  # the last status shown, as describe_status words it
        last_report = started
        unreadable_polls = 0
        last_read: Endpoint | None = None
        for interval in self._schedule.intervals():
            if interrupted():
                raise errors.WaitInterrupted(f"{label}: interrupted while waiting for endpoint {endpoint_id} to "
                                             f"become {goal_word(goal)}", endpoint_id=endpoint_id, last=last_read)
            elapsed = self._clock() - started
            if elapsed >= timeout:
                last = failures.why_unread() or (f"last status: {last_seen}" if last_seen is not None
                                                 else "its status was never read")
                raise errors.EndpointOperationError(
                    f"{label}: endpoint {endpoint_id} did not become {goal_word(goal)} within {timeout:g}s ({last})",
                    endpoint_id=endpoint_id)
            self._sleep(min(interval, max(0.0, timeout - elapsed)))
            snapshot = self._poll(interval, failures)
            if snapshot is None:
                continue
            endpoint = snapshot.get(endpoint_id)
            if endpoint is None:
                unreadable = snapshot.unreadable(endpoint_id)
                if unreadable is None:
                    raise errors.EndpointOperationError(
                        f"{label}: endpoint {endpoint_id} disappeared while waiting for it to become "
                        f"{goal_word(goal)} (deleted outside Pulumi?)", endpoint_id=endpoint_id)
                unreadable_polls += 1
                # Through the progress sink, so the line reaches the resource's row (`logging` in the host does not).
                self._progress(f"{label}: the list item {unreadable.label()} cannot be read ({unreadable.reason}); "
                               f"polling again")
                if unreadable_polls >= UNREADABLE_POLLS_TOLERATED:
                    raise errors.EndpointOperationError(
                        f"{label}: the API listed endpoint {endpoint_id} in a form this provider cannot read "
                        f"{unreadable_polls} times in a row ({unreadable.label()}: {unreadable.reason})",
                        endpoint_id=endpoint_id)
                continue
            unreadable_polls = 0
            last_read = endpoint
            shown = describe_deployment(endpoint)
            if reached(endpoint, goal):
                if endpoint.lifecycle is not LifecycleState.RUNNING and goal is LifecycleState.RUNNING:
                    self._progress(f"{label}: endpoint {endpoint_id} is {shown}: it serves traffic, but the API "
                                   f"reports a deployment issue (contact Token Factory support if it lasts)")
                elif last_seen is not None:  # it was waited for: say when it got there
                    self._progress(f"{label}: endpoint {endpoint_id} is {goal_word(goal)} "
                                   f"({format_elapsed(self._clock() - started)} elapsed)")
                return endpoint
            now = self._clock()
            if shown != last_seen or now - last_report >= PROGRESS_EVERY_SECONDS:
                self._progress(f"{label}: endpoint {endpoint_id} is {shown} "
                               f"({format_elapsed(now - started)} elapsed, waiting for {goal_word(goal)})")
                last_seen, last_report = shown, now
            if failed(endpoint):
                raise errors.EndpointOperationError(
                    f"{label}: endpoint {endpoint_id} reported status {shown} instead of becoming {goal_word(goal)}",
                    endpoint_id=endpoint_id)
        raise AssertionError("unreachable")

    def until_gone(self, endpoint_id: str, timeout: float, *, label: str) -> None:
        """Return once the endpoint no longer appears in the list."""
        with lend_thread_while_waiting(self._lend_threads):
            self._until_gone(endpoint_id, timeout, label=label)

    def _until_gone(self, endpoint_id: str, timeout: float, *, label: str) -> None:
        failures = _PollFailures(self._progress)
        started = self._clock()
        unreadable_polls = 0
        for interval in self._schedule.intervals():
            if interrupted():
                raise errors.WaitInterrupted(f"{label}: interrupted while waiting for endpoint {endpoint_id} to go",
                                             endpoint_id=endpoint_id)
            elapsed = self._clock() - started
            if elapsed >= timeout:
                unread = failures.why_unread()
                raise errors.EndpointOperationError(
                    f"{label}: endpoint {endpoint_id} was still listed {timeout:g}s after DELETE"
                    if unread is None else f"{label}: the removal of endpoint {endpoint_id} could not be confirmed "
                    f"within {timeout:g}s after DELETE ({unread})", endpoint_id=endpoint_id)
            self._sleep(min(interval, max(0.0, timeout - elapsed)))
            snapshot = self._poll(interval, failures)
            if snapshot is None or endpoint_id in snapshot:
                continue
            # Gone only from a list that could not be hiding it. Under its own id, an unreadable item is the endpoint
            # still listed; without a readable id, it may be the endpoint (as for a refresh): the removal is not
            # confirmed, and an item that stays so fails the wait after a few polls rather than at the timeout.
            unreadable = snapshot.unreadable(endpoint_id)
            if unreadable is None:
                return
            if unreadable.id == endpoint_id:
                unreadable_polls = 0
                continue
            unreadable_polls += 1
            self._progress(f"{label}: endpoint {endpoint_id} is no longer listed as such, but the list item "
                           f"{unreadable.label()} cannot be read ({unreadable.reason}) and may be it; polling again")
            if unreadable_polls >= UNREADABLE_POLLS_TOLERATED:
                raise errors.EndpointOperationError(
                    f"{label}: the removal of endpoint {endpoint_id} could not be confirmed: {unreadable_polls} "
                    f"lists in a row hold an item this provider cannot read that may be it ({unreadable.label()}: "
                    f"{unreadable.reason}). The API accepted the DELETE; check in the Token Factory console that "
                    f"the endpoint is gone, or run the delete again", endpoint_id=endpoint_id)
        raise AssertionError("unreachable")

    def _poll(self, interval: float, failures: _PollFailures) -> Listing | None:
        """One shared list; a passing API fault skips this poll instead of failing the wait."""
        try:
            listing = self._directory.snapshot(max_age=interval / 2)
        except TRANSIENT_ERRORS as exc:
            failures.failed(exc)
            return None
        failures.succeeded()
        return listing


class _PollFailures:
    """Failed status polls of one wait, said once rather than once per poll.

    The first failure is a line; repeats of the same error are counted and summed up in one line
    when a poll succeeds again or another error appears (`... failed 12 more times the same way`). A
    wait that times out while its polls fail says so (`why_unread`), not the last status it read
    before them. Each wait makes its own, so concurrent waits never mix their counts.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._last: str | None = None
        self._repeats = 0
        self._in_a_row = 0

    def failed(self, exc: errors.TokenFactoryError) -> None:
        text = str(exc)
        self._in_a_row += 1
        if _same_failure(text, self._last):
            self._repeats += 1
        else:
            self._summarise()
            self._progress(f"status poll failed, will try again: {text}")
        self._last = text

    def succeeded(self) -> None:
        self._summarise()
        self._last, self._in_a_row = None, 0

    def _summarise(self) -> None:
        if self._repeats:
            times = "time" if self._repeats == 1 else "times"
            self._progress(f"status poll failed {self._repeats} more {times} the same way")
        self._repeats = 0

    def why_unread(self) -> str | None:
        """Why the wait could not see the endpoint lately: its last polls failed; None if the last poll worked."""
        if not self._in_a_row:
            return None
        self._summarise()
        polls = "the last status poll" if self._in_a_row == 1 else f"the last {self._in_a_row} status polls"
        return f"{polls} failed: {self._last}"


_REQUEST_ID = re.compile(r" \[request id [^\]]*\]")


def _same_failure(text: str, last: str | None) -> bool:
    """The same error, whatever its request id."""
    return last is not None and _REQUEST_ID.sub("", text) == _REQUEST_ID.sub("", last)
