"""Prometheus metrics: HTTP requests, the usage-event collector and background jobs.

With several gunicorn workers each worker is a separate process, so metrics use
prometheus-client's multiprocess mode: `saas/gunicorn.conf.py` points
PROMETHEUS_MULTIPROC_DIR at an emptied directory before any worker starts, every
worker writes its samples there, and `/metrics` merges them. Without the variable
(tests, `runserver`) the in-process registry is used.

Job metrics (queue length, task failures by task name, worker heartbeat age, outbox)
are read from Redis and the database when /metrics is scraped, so every web process
reports the same site-wide figures; the per-process enqueue-failure counters live in
core/jobs.py.

Labels are bounded on purpose: the URL pattern's view name (not the path), the
site (public or tenant, never the tenant's name), the method family and the
status class. A per-tenant label would grow without bound with sign-ups.
"""

import os
import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from core import jobs, probes

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

http_requests_total = Counter(
    "http_requests_total",
    "HTTP responses by site, route, method and status class.",
    ["site", "route", "method", "status"],
)
http_request_duration_seconds = Histogram(
    "http_request_duration_seconds",
    "Time from the first middleware to the response, by site and route.",
    ["site", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
usage_events_queued_total = Counter(
    "usage_events_queued_total", "Usage events accepted by the collectors' queues."
)
usage_events_written_total = Counter(
    "usage_events_written_total", "Usage events written to the stats database."
)
usage_events_dropped_total = Counter(
    "usage_events_dropped_total", "Usage events dropped, by reason.", ["reason"]
)
usage_events_queue_depth = Gauge(
    "usage_events_queue_depth",
    "Usage events waiting in the collectors' queues.",
    multiprocess_mode="livesum",
)
usage_collector_alive = Gauge(
    "usage_collector_alive",
    "1 when a worker's collector thread runs (one series per live worker in multiprocess mode).",
    multiprocess_mode="liveall",
)
usage_collector_flush_latency_ms = Gauge(
    "usage_collector_flush_latency_ms",
    "Duration of the slowest worker's last flush.",
    multiprocess_mode="livemax",
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
COLLECTOR_SYNC_INTERVAL_S = 1.0


def request_observe(request: HttpRequest, response: HttpResponse, duration_s: float) -> None:
    """Count one finished request. Called by `core.middleware.RequestContextMiddleware`."""
    site, route = _site_and_route(request)
    method = request.method if request.method in _METHODS else "OTHER"
    status = f"{response.status_code // 100}xx"
    http_requests_total.labels(site, route, method, status).inc()
    http_request_duration_seconds.labels(site, route).observe(duration_s)
    collector_sync()


def _site_and_route(request: HttpRequest) -> tuple[str, str]:
    if getattr(request, "is_healthz", False):
        return "any", "healthz"
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return "none", "unknown_host"
    site = "public" if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME else "tenant"
    match = getattr(request, "resolver_match", None)
    if match is None:
        return site, "unmatched"
    return site, match.view_name or "unnamed"


# --- collector counters --------------------------------------------------------
# The collector keeps plain per-process totals; they become Prometheus counters by
# adding what changed since the last sync. A SIGKILL'd worker's last second of
# changes can be missed, never counted twice.
_sync_lock = threading.Lock()
_last_sync_at = 0.0
_last_totals: dict[str, float] = {}


def collector_sync(*, force: bool = False) -> None:
    """Mirror this process's collector totals into the Prometheus metrics (at most once a second)."""
    global _last_sync_at
    now = time.monotonic()
    if not force and now - _last_sync_at < COLLECTOR_SYNC_INTERVAL_S:
        return
    if not _sync_lock.acquire(blocking=False):
        return
    try:
        _last_sync_at = now
        snap = probes.collector_snapshot()
        if snap is None:
            return
        _inc_by_delta("queued", usage_events_queued_total, snap.get("queued_total"))
        _inc_by_delta("written", usage_events_written_total, snap.get("written_total"))
        for reason, value in (snap.get("dropped_total") or {}).items():
            _inc_by_delta(f"dropped:{reason}", usage_events_dropped_total.labels(str(reason)[:32]), value)
        usage_events_queue_depth.set(float(snap.get("queued") or 0))
        usage_collector_alive.set(1.0 if snap.get("alive") else 0.0)
        usage_collector_flush_latency_ms.set(float(snap.get("flush_latency_ms") or 0))
    finally:
        _sync_lock.release()


def _inc_by_delta(key: str, counter: Any, total: Any) -> None:
    if not isinstance(total, int | float):
        return
    delta = total - _last_totals.get(key, 0)
    _last_totals[key] = total
    if delta > 0:
        counter.inc(delta)


class JobsCollector:
    """Site-wide job figures, read at scrape time (Redis and the outbox table)."""

    def collect(self) -> Any:
        state = jobs.jobs_snapshot()
        up = GaugeMetricFamily("jobs_redis_up", "1 when Redis (the job broker) answers.")
        up.add_metric([], 1.0 if state["redis"] == "ok" else 0.0)
        yield up
        if state["queue_length"] is not None:
            queue = GaugeMetricFamily(
                "jobs_queue_length", "Jobs waiting in the broker queue.", labels=["queue"]
            )
            queue.add_metric([settings.CELERY_TASK_DEFAULT_QUEUE], float(state["queue_length"]))
            yield queue
        age = state.get("worker_heartbeat_age_s")
        if age is not None:
            beat = GaugeMetricFamily(
                "jobs_worker_heartbeat_age_seconds", "Seconds since the freshest worker heartbeat."
            )
            beat.add_metric([], float(age))
            yield beat
        failures = CounterMetricFamily(
            "jobs_task_failures", "Failed task runs by task name (every worker).", labels=["task"]
        )
        for task, count in sorted(state["failures"].items()):
            failures.add_metric([task], float(count))
        yield failures
        try:
            pending = float(jobs.jobs_outbox_pending())
        except Exception:
            return
        outbox = GaugeMetricFamily(
            "jobs_outbox_pending", "Jobs waiting in the outbox for the broker to come back."
        )
        outbox.add_metric([], pending)
        yield outbox


_jobs_registry = CollectorRegistry(auto_describe=False)
_jobs_registry.register(JobsCollector())


def metrics_render() -> tuple[bytes, str]:
    """The exposition text for every worker (multiprocess) or this process, then the jobs'."""
    collector_sync(force=True)
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_jobs_registry), CONTENT_TYPE_LATEST
