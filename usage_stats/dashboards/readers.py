"""A dashboard page's stats reads side by side.

A page's reads are independent short aggregates that mostly wait on PostgreSQL, so run one
after another the page waits for their sum; side by side, for the slowest (on a quiet
2-core machine the staff page's reads at 10M events took 50 ms in a row and about half
that together: docs/usage-stats.md).

Each read but the first runs in a small per-process pool of threads (STATS_DASHBOARD_READERS),
on the thread's own connection to the stats database (Django's connections belong to a
thread), kept open between pages for CONN_MAX_AGE like the request thread's. The first
runs in the caller's thread meanwhile. Inside a transaction on the stats database (tests,
jobs) every read runs in the caller's thread, one after another: only its connection sees
the rows it has not committed.
"""

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.db import connections

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_wrappers: list[Any] = []  # each reader thread's stats connection wrapper, to close them


def _pool_get(size: int) -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        # A forked process (a gunicorn worker of a preloaded app) starts its own pool: the
        # parent's threads do not exist in it.
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="dashboard-read")
            _pool_pid = os.getpid()
            _wrappers.clear()
        return _pool


def _in_reader(call: Callable[[], Any]) -> Any:
    wrapper = connections[settings.STATS_DB_ALIAS]
    with _lock:
        if wrapper not in _wrappers:
            _wrappers.append(wrapper)
    try:
        return call()
    finally:
        # As at the end of a request: a broken or too old connection is not kept.
        wrapper.close_if_unusable_or_obsolete()


def reads_together(calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each call's result by name; the calls run side by side, the first in this thread.
    An exception of any is raised once all have ended."""
    items = list(calls.items())
    size = int(getattr(settings, "STATS_DASHBOARD_READERS", 1))
    if size <= 1 or len(items) < 2 or connections[settings.STATS_DB_ALIAS].in_atomic_block:
        return {name: call() for name, call in items}
    pool = _pool_get(size)
    futures: dict[str, Future] = {name: pool.submit(_in_reader, call) for name, call in items[1:]}
    (first_name, first_call) = items[0]
    try:
        first = first_call()
    finally:
        wait(futures.values())
    return {first_name: first, **{name: future.result() for name, future in futures.items()}}


def readers_close() -> None:
    """Stop the pool and close its threads' connections (test teardown; a process that
    wants no idle connection left)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
        wrappers = list(_wrappers)
        _wrappers.clear()
    if pool is None:
        return
    pool.shutdown(wait=True)
    for wrapper in wrappers:
        # Its thread has ended: nothing else uses this connection any more.
        if wrapper.connection is not None:
            wrapper.connection.close()
            wrapper.connection = None
