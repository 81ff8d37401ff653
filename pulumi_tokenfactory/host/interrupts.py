"""An interrupted provider host finishes the calls that spend money instead of cutting them off.

Pulumi's dynamic-provider host (`pulumi/dynamic/__main__.py`, `main`) waits in its main thread and,
on `KeyboardInterrupt` (SIGINT), calls `server.stop(0)`: every call in flight is cancelled at once.
A create whose POST has landed then fails at the engine, and the endpoint it bought exists, bills,
and is neither in the state nor named anywhere. SIGINT reaches the host when a terminal or a CI
runner signals the whole process tree; the engine itself stops its plugins with SIGINT only once
nothing is in flight, so that path is left as the SDK made it, but for one thing: a create, update or
delete that arrives after that `stop` is refused before any request.

In the host only, `finish_calls_when_interrupted` wraps the `stop` of the host's gRPC server, found
among live objects by its public type (`grpc.Server`). When `stop` is called while a create, update
or delete is in flight (`spending`):

1. `interrupted()` becomes true. Waits stop at their next poll (`errors.WaitInterrupted`), and the
   controller records what exists as it is now, with a line naming the endpoint; a create, update or
   delete that has not started yet is refused before any request, so nothing new is bought.
2. Further SIGINTs are ignored, with a line while calls are still in flight (`stop` runs in the
   main thread, where a handler may be set).
3. `stop` waits for those calls to answer (at most `FINISH_SECONDS`), then stops the server with a
   grace period, so that their answers reach the engine, which records them in the state.

The SDK's main thread sleeps in an untimed wait, and CPython runs a signal's handler only in the main
thread, once that thread wakes. The kernel may hand a process's SIGINT to any of its threads: then the
interrupt is recorded and never acted on, and a create waits on as if nothing had happened (seen in
about one run in six of `tests/cli/test_cli_interrupted.py` on a loaded machine). So the host's main
thread is woken every `WAKE_SECONDS` (`wake_the_main_thread_regularly`) to act on what was recorded.

Only public interfaces are used (`gc.get_objects`, `grpc.Server.stop`, `signal.signal`,
`faulthandler.register`, `signal.pthread_kill`). Should a later SDK stop the host differently, the
wrapper is simply not called and the host behaves as before; `tests/cli/test_cli_interrupted.py`
sends the SIGINT through the real CLI and fails then. Whatever the host cannot survive (SIGKILL,
SIGTERM) is named by the next `pulumi preview` or `up`: the check finds the endpoint by its routing
key and says how to adopt it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final

from .. import errors

#: How long an interrupted host lets the calls in flight finish before stopping anyway.
FINISH_SECONDS: Final = 120.0
#: How long the stopping server keeps answering the calls that just finished.
ANSWER_GRACE_SECONDS: Final = 10.0
#: How often the host's main thread is woken to act on a SIGINT another thread received.
WAKE_SECONDS: Final = 0.5
#: The signal that wakes it: one whose default is to be ignored, so a stray one changes nothing.
WAKE_SIGNAL: Final = signal.SIGURG

_interrupted = threading.Event()
_idle = threading.Condition()
_in_flight = 0
#: Set when `stop` found nothing in flight: from then on no create, update or delete may start (one that got
#: past the check an instant later would be cut off uncounted, its POST possibly landed).
_closed = False
_installed = threading.Lock()
_installed_done = False


def interrupted() -> bool:
    """Whether the host has been told to stop while calls that spend money were in flight."""
    return _interrupted.is_set()


def pause(seconds: float) -> None:
    """`time.sleep` that ends early when the host is interrupted, so a wait notices within moments."""
    _interrupted.wait(max(0.0, seconds))


@contextmanager
def spending(operation: str) -> Iterator[None]:
    """Around a create, update or delete: counted while in flight; refused once the host is interrupted."""
    global _in_flight
    with _idle:  # the check and the count at once, so that `stop` either waits for this call or refuses it
        if interrupted():
            raise errors.EndpointOperationError(
                f"the provider host was interrupted (SIGINT) before this {operation} started; nothing was changed. "
                f"Run `pulumi up` again")
        if _closed:
            raise errors.EndpointOperationError(
                f"the provider host was stopping before this {operation} started; nothing was changed. "
                f"Run `pulumi up` again")
        _in_flight += 1
    try:
        yield
    finally:
        with _idle:
            _in_flight -= 1
            _idle.notify_all()


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # the engine that read our stderr may be gone
        print(f"tokenfactory: {line}", file=sys.stderr, flush=True)


def _stop_finishing_first(original: Callable[[Any], threading.Event]) -> Callable[[Any], threading.Event]:
    def stop(grace: Any) -> threading.Event:
        global _closed
        with _idle:
            busy = _in_flight
            _closed = not busy
        if not busy:
            return original(grace)
        _interrupted.set()
        signal.signal(signal.SIGINT, _ignore_while_finishing)  # stop() runs in the main thread (see module doc)
        _say(f"interrupted: letting {busy} call(s) in flight record what they made in the state before this "
             f"provider host stops (at most {FINISH_SECONDS:g}s); further interrupts are ignored until then")
        with _idle:
            _idle.wait_for(lambda: _in_flight == 0, timeout=FINISH_SECONDS)
        stopped = original(ANSWER_GRACE_SECONDS)
        stopped.wait(ANSWER_GRACE_SECONDS)
        return stopped

    return stop


def _ignore_while_finishing(signum: int, frame: FrameType | None) -> None:
    with _idle:
        busy = _in_flight
    if busy:
        _say(f"still finishing {busy} call(s) in flight; they end at their next status poll")


def finish_calls_when_interrupted() -> None:
    """Once per host process: wrap the gRPC server's `stop` (see the module doc); warn once if it is not found."""
    global _installed_done
    with _installed:
        if _installed_done:
            return
        _installed_done = True
        import grpc

        servers = [obj for obj in gc.get_objects() if isinstance(obj, grpc.Server)]
        if len(servers) != 1:
            _say(f"found {len(servers)} gRPC servers in this provider host, expected 1: an interrupt (SIGINT) "
                 f"to this process cuts off the calls in flight; the next `pulumi up` names any endpoint left")
            return
        server = servers[0]
        server.stop = _stop_finishing_first(server.stop)
        wake_the_main_thread_regularly()


def wake_the_main_thread_regularly() -> None:
    """Send `WAKE_SIGNAL` to the main thread every `WAKE_SECONDS`, so a SIGINT is acted on wherever it landed.

    A signal sent to the main thread itself ends its wait, and on the way back to it CPython runs the
    handlers of the signals recorded meanwhile: the SDK's KeyboardInterrupt, then `stop`. For the wait to
    end, the signal needs a handler installed without SA_RESTART. `signal.signal` works only in the main
    thread; `faulthandler.register(chain=True)` installs one from any thread: it writes the main thread's
    stack to /dev/null, then hands the signal to its default, which ignores it."""
    try:
        faulthandler.register(WAKE_SIGNAL, file=open(os.devnull, "w"), all_threads=False, chain=True)  # noqa: SIM115
    except (AttributeError, OSError, RuntimeError, ValueError) as exc:  # no such signal, no faulthandler
        _say(f"cannot wake this provider host's main thread ({exc}): an interrupt (SIGINT) to this process may "
             f"go unnoticed; the next `pulumi up` names any endpoint left")
        return
    main = threading.main_thread().ident
    assert main is not None

    def wake() -> None:
        with contextlib.suppress(ProcessLookupError):  # the main thread has ended: so does the host
            while True:
                time.sleep(WAKE_SECONDS)
                signal.pthread_kill(main, WAKE_SIGNAL)

    threading.Thread(target=wake, daemon=True, name="wake-main-thread").start()
