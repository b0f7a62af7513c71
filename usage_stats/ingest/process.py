"""This process's collector, and the module-level API the apps call (re-exported by the
`usage_stats` package): record(), flush(), snapshot(), shutdown().

One collector per process, configured from settings on first use. A forked child starts
with an empty one (os.register_at_fork; gunicorn's post_fork too, for a preloaded app);
a clean exit flushes through atexit, gunicorn's worker_exit through shutdown().
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from typing import Any

from .collector import SHUTDOWN_TIMEOUT_S, Collector
from .scope import current_request, default_tenant_id

logger = logging.getLogger(__name__)

# Connections inherited over fork(): kept referenced so they are never closed (and never
# send a Terminate message on the parent's socket) by the child.
_INHERITED_CONNECTIONS: list[Any] = []

_collector: Collector | None = None
_collector_lock = threading.Lock()


def collector() -> Collector:
    """The process's collector, configured from settings on first use."""
    global _collector
    if _collector is None:
        with _collector_lock:
            if _collector is None:
                from django.conf import settings

                _collector = Collector(
                    enabled=getattr(settings, "USAGE_STATS_ENABLED", True),
                    batch_size=getattr(settings, "USAGE_STATS_BATCH_SIZE", 5000),
                    flush_interval_s=getattr(settings, "USAGE_STATS_FLUSH_INTERVAL_S", 1.0),
                    queue_max=getattr(settings, "USAGE_STATS_QUEUE_MAX", 200_000),
                    alias=getattr(settings, "STATS_DB_ALIAS", "stats"),
                )
    return _collector


def record(
    event: str,
    *,
    tenant_id: Any = None,
    user_id: int | None = None,
    route: str | None = None,
    method: str | None = None,
    status: int | None = None,
    latency_ms: float | None = None,
    tokens: int | None = None,
    properties: dict[str, Any] | None = None,
) -> None:
    """Queue one usage event. Never raises into the caller.

    `tenant_id` (a tenant's `Client.uuid`, or its text) defaults to the current request's
    tenant, else to the tenant the default connection is set to (a Celery task run in a
    tenant), else to the nil uuid; `user_id` to the request's signed-in user when the
    request has already loaded it.
    """
    with contextlib.suppress(Exception):  # settings unavailable: nowhere to count it
        (_collector or collector()).record(
            event,
            tenant_id=tenant_id,
            user_id=user_id,
            route=route,
            method=method,
            status=status,
            latency_ms=latency_ms,
            tokens=tokens,
            properties=properties,
        )


def current_tenant_id() -> Any:
    """The uuid record() would default to outside a request: the tenant the default
    connection is set to, or the nil uuid. Capture it before deferring a record() to
    on_commit."""
    scope = current_request.get()
    return scope.tenant_id if scope is not None else default_tenant_id()


def flush(timeout_s: float = 10.0) -> bool:
    """Write every event queued so far, synchronously (tests). True when all settled."""
    return collector().flush(timeout_s)


def shutdown(timeout_s: float = SHUTDOWN_TIMEOUT_S) -> bool:
    """Flush and stop this process's flusher (atexit, gunicorn worker_exit)."""
    if _collector is None:
        return True
    try:
        return _collector.stop(timeout_s)
    except Exception:
        logger.exception("usage_stats shutdown failed")
        return False


def snapshot() -> dict[str, Any]:
    """Counters of this process: enabled, alive, pid, queued, queued_total, written_total,
    dropped_total {queue_full, db_error, invalid}, flush_latency_ms (last),
    flush_latency_p50_ms, last_error, last_flush_at (unix seconds)."""
    return collector().snapshot()


def reset_after_fork() -> None:
    """Forget the parent's queue, thread and connection (called in a forked child)."""
    if _collector is not None:
        inherited = _collector.after_fork_in_child()
        if inherited is not None:
            _INHERITED_CONNECTIONS.append(inherited)


os.register_at_fork(after_in_child=reset_after_fork)
atexit.register(shutdown)
