"""Give the provider host one more worker thread for every call that is waiting on the API.

The dynamic-provider host serves gRPC calls on a 4-thread pool. A create
that waits 10-15 minutes for readiness holds one thread the whole time, so a
program with 20 endpoints would become ready in five sequential waves. The
waits are idle polling, not work: while a call waits, we raise the pool's
limit by one and start a thread for the calls queued behind it, and lower
the limit when the wait ends. The host then behaves as if it had 4 threads
for short calls plus one per waiter, and a fleet becomes ready in about one
provisioning time. If the host's pool cannot be found (another SDK layout,
or no host at all, as under tests), this does nothing.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

log = logging.getLogger(__name__)

#: Never let waits grow the host beyond this many extra threads.
MAX_EXTRA_THREADS = 256
#: Set to 0 to turn the widening off (to measure what it buys, or should it ever misbehave).
WIDENING_ENV = "TOKENFACTORY_HOST_WIDENING"

_lock = threading.Lock()
_extra = 0
_known_pools: list[ThreadPoolExecutor] = []


def _pool_of_current_thread() -> ThreadPoolExecutor | None:
    """The executor that runs this thread; the heap is scanned only until the host's pool is known."""
    current = threading.current_thread()
    if current is threading.main_thread():
        return None
    for pool in _known_pools:
        if current in getattr(pool, "_threads", ()):
            return pool
    for obj in gc.get_objects():
        if isinstance(obj, ThreadPoolExecutor) and current in getattr(obj, "_threads", ()):
            _known_pools.append(obj)
            return obj
    return None


@contextmanager
def lend_thread_while_waiting() -> Iterator[None]:
    """Around a long wait: the host may start one more thread while this one only polls."""
    global _extra
    if os.environ.get(WIDENING_ENV, "1").strip() == "0":
        yield
        return
    pool = _pool_of_current_thread()
    if pool is None or not hasattr(pool, "_max_workers") or not hasattr(pool, "_adjust_thread_count"):
        yield
        return
    with _lock:
        lent = _extra < MAX_EXTRA_THREADS
        if lent:
            _extra += 1
            pool._max_workers += 1
            pool._adjust_thread_count()  # picks up a call already queued behind this one
    try:
        yield
    finally:
        if lent:
            with _lock:
                _extra -= 1
                pool._max_workers -= 1
