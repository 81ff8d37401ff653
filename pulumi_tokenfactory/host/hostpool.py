"""Give the provider host one more worker thread for every call that is waiting on the API.

The dynamic-provider host (`python -m pulumi.dynamic`) serves gRPC calls on a
`ThreadPoolExecutor(max_workers=4)`, while the engine keeps up to 4 x cores calls in flight
(`--parallel`). A create that waits 10-15 minutes for readiness holds one thread the whole time,
so without help 20 endpoints become ready in five sequential waves. The waits are idle polling,
not work: while a call waits, we raise the pool's limit by one and start a thread for the calls
queued behind it, and lower the limit when the wait ends.

No public API can do this, so it edits the executor's private fields (`_max_workers`,
`_adjust_thread_count`), and it does so safely or not at all:

* only on the SDK and CPython versions it was tested on (`TESTED_SDK`, `TESTED_PYTHON`), checked
  once per process;
* under the executor's own `_shutdown_lock`, the lock `ThreadPoolExecutor.submit` holds while it
  reads `_max_workers` and starts threads, so the two never race; never after `shutdown`;
* when it cannot act (untested version, no executor runs this thread, a field missing), it logs
  ONE warning to stderr, which the engine shows, and the host runs as the SDK made it: slower for
  a large fleet, never wrong. `TOKENFACTORY_HOST_WIDENING=0` turns it off without a warning.

A call queued behind busy workers is not cancelled by the SDK's
`grpc.server_max_unrequested_time_in_server` (30 minutes): the gRPC server has already
requested it and only waits for a thread (tests/unit/test_hostpool.py shows it), so what this
buys is time, not correctness. See sdk-docs/architecture.md, "Lending threads while waiting".
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import metadata

from ..settings import HOST_WIDENING, Settings

#: Never let waits grow the host beyond this many extra threads.
MAX_EXTRA_THREADS = 256
#: pulumi SDK (major, minor) versions whose dynamic host this was tested with, inclusive.
TESTED_SDK: tuple[tuple[int, int], tuple[int, int]] = ((3, 272), (3, 272))
#: CPython (major, minor) versions whose ThreadPoolExecutor this was tested with.
TESTED_PYTHON: frozenset[tuple[int, int]] = frozenset({(3, 11)})
#: The executor's private members this relies on.
REQUIRED_FIELDS = ("_max_workers", "_adjust_thread_count", "_shutdown_lock", "_threads", "_shutdown")

_lock = threading.Lock()  # guards this module's own bookkeeping only; the pool is edited under its lock
_extra = 0
_pool: ThreadPoolExecutor | None = None
_verdict: str | None = None  # None: not decided yet; "": can act; else why not


def _version_problem(sdk_version: str, python: tuple[int, int]) -> str | None:
    """Why these versions are not ones this was tested on, or None."""
    try:
        sdk = tuple(int(part) for part in sdk_version.split(".")[:2])
    except ValueError:
        return f"pulumi SDK {sdk_version} is not a version it can read"
    low, high = TESTED_SDK
    if not low <= sdk <= high:
        return (f"pulumi SDK {sdk_version} is untested; tested: {low[0]}.{low[1]} to {high[0]}.{high[1]}")
    if python not in TESTED_PYTHON:
        tested = ", ".join(f"{major}.{minor}" for major, minor in sorted(TESTED_PYTHON))
        return f"Python {python[0]}.{python[1]} is untested; tested: {tested}"
    return None


#: `ThreadPoolExecutor` adds a new worker to `_threads` only after starting it, so the call that made it start
#: may look before it is there: the search is tried again for this long.
_FIND_POOL_SECONDS = 0.2


def _find_pool(thread: threading.Thread) -> ThreadPoolExecutor | None:
    """The executor that runs `thread`: no public API names it, so the heap is searched, once."""
    deadline = time.monotonic() + _FIND_POOL_SECONDS
    while True:
        for obj in gc.get_objects():
            if isinstance(obj, ThreadPoolExecutor) and thread in getattr(obj, "_threads", ()):
                return obj
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def _decide(thread: threading.Thread) -> str:
    """Once per process: "" when lending can work in this host, else the reason it cannot."""
    global _pool
    try:
        sdk_version = metadata.version("pulumi")
    except metadata.PackageNotFoundError:
        sdk_version = "unknown"
    problem = _version_problem(sdk_version, (sys.version_info[0], sys.version_info[1]))
    if problem:
        return problem
    if thread is threading.main_thread():
        return "not running in a provider host's worker thread"
    pool = _find_pool(thread)
    if pool is None:
        return "no thread pool runs this call"
    missing = [name for name in REQUIRED_FIELDS if not hasattr(pool, name)]
    if missing:
        return f"the thread pool lacks {', '.join(missing)}"
    _pool = pool
    return ""


def _usable_pool() -> ThreadPoolExecutor | None:
    """The host's pool if lending can act here; decided (and warned about) once per process."""
    global _verdict
    with _lock:
        if _verdict is None:
            _verdict = _decide(threading.current_thread())
            if _verdict:
                print(f"pulumi-tokenfactory: provider-host thread lending is off ({_verdict}); calls beyond "
                      f"the host's 4 threads wait their turn, so a large fleet becomes ready in waves (set "
                      f"TOKENFACTORY_HOST_WIDENING=0 to silence this)", file=sys.stderr, flush=True)
        if _verdict or _pool is None or threading.current_thread() not in _pool._threads:
            return None
        return _pool


def _widen(pool: ThreadPoolExecutor, by: int) -> bool:
    """Change the pool's limit under its own lock, as submit() reads it; start a thread when raising.
    False, and no change, when raising it while the pool shuts down: no thread may be started then."""
    with pool._shutdown_lock:
        if by > 0 and pool._shutdown:
            return False
        pool._max_workers += by
        if by > 0:
            pool._adjust_thread_count()  # picks up a call queued behind this one
        return True


@contextmanager
def lend_thread_while_waiting(enabled: bool | None = None) -> Iterator[None]:
    """Around a long wait: the host may start one more thread while this one only polls.

    `enabled` is the `TOKENFACTORY_HOST_WIDENING` setting; None reads it (settings.HOST_WIDENING).
    The waiter resolves it when the provider's session is built, so a bad value fails before any
    POST rather than in the middle of a wait.
    """
    global _extra
    if enabled is None:
        enabled = Settings().get(HOST_WIDENING)
    pool = _usable_pool() if enabled else None
    lent = False
    if pool is not None:
        with _lock:
            lent = _extra < MAX_EXTRA_THREADS
            if lent:
                _extra += 1
        if lent and not _widen(pool, +1):
            with _lock:
                _extra -= 1
            lent = False
    try:
        yield
    finally:
        if lent and pool is not None:
            _widen(pool, -1)
            with _lock:
                _extra -= 1


def _reset_for_tests() -> None:
    """Forget the per-process decision (tests decide again under other conditions)."""
    global _extra, _pool, _verdict
    with _lock:
        _extra, _pool, _verdict = 0, None, None
