"""Dashboards at 10M events: every dashboard query read from the rollups, beside the same
aggregate computed from the raw partitioned events table, in the same run.

Data: 10,000,000 synthetic events over 3 months across 100 tenants (one with ~10 %),
written by PostgreSQL itself (INSERT … SELECT generate_series) into a schema of its own
(`bench_dashboards`) in the dev stats database, so real dev data is never touched. The
schema is kept between runs and reused when it holds the right number of rows; set
BENCH_DASH_RELOAD=1 to rebuild it, BENCH_DASH_EVENTS=N for a smaller trial.

Figures: median and p95 of WARM_RUNS warm runs per dashboard query (JIT off, as the
dashboards run them), for 24 h, 7 d and 30 d; the raw baseline is the median of RAW_RUNS
runs of the equivalent query over usage_event (JIT off too, so the ratio is fair).
"""

import datetime as dt
import importlib
import os
import statistics
import time

from django.conf import settings
from django.db import connections

from usage_stats.dashboards import selectors
from usage_stats.dashboards.dashboard import dashboard_build
from usage_stats.dashboards.periods import Period, period_resolve
from usage_stats.demo import synthetic
from usage_stats.rollups.rollup import rollup_run

# The schema's DDL is the migrations' own (frozen literal SQL), run in the bench schema.
CREATE_EVENTS = importlib.import_module("usage_stats.migrations.0001_events").CREATE_EVENTS
CREATE_ROLLUPS = importlib.import_module("usage_stats.migrations.0002_rollups").CREATE_ROLLUPS

SCHEMA = "bench_dashboards"
EVENTS = int(os.environ.get("BENCH_DASH_EVENTS", "10000000"))
DAYS = 91
TENANTS = [f"bench-t{i:03d}" for i in range(100)]
BIG, SMALL = TENANTS[0], TENANTS[50]
WARM_RUNS = 15
RAW_RUNS = int(os.environ.get("BENCH_DASH_RAW_RUNS", "3"))
TARGET_MS = 50.0

# Raw-table equivalents of each dashboard query (bench only: the app never reads these).
_RAW_WHERE = "occurred_at >= %(start)s AND occurred_at < %(end)s"
_RAW_ERR = """(status >= 500 OR properties @> '{"failed": true}'::jsonb)"""
_ERRORS = f"count(*) FILTER (WHERE {_RAW_ERR})"
_REQUESTS = "count(*) FILTER (WHERE event = 'request')"
_BUCKET = "width_bucket(occurred_at, %(edges)s::timestamptz[]) AS b"
_P50 = "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)"
_P95 = "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)"
_FROM = "FROM usage_event WHERE {scope}" + _RAW_WHERE
RAW = {
    "totals": f"SELECT {_REQUESTS}, count(*), {_ERRORS}, sum(tokens), {_P50}, {_P95} {_FROM}",
    "series": f"SELECT {_BUCKET}, {_REQUESTS}, count(*), {_ERRORS} {_FROM} GROUP BY b",
    "series_by_tenant": f"SELECT tenant, {_BUCKET}, count(*) {_FROM}"
    " AND event = 'request' GROUP BY tenant, b",
    "top_tenants": f"SELECT tenant, count(*), {_ERRORS}, sum(tokens), avg(latency_ms) {_FROM}"
    " GROUP BY tenant ORDER BY 2 DESC LIMIT 20",
    "events_by_type": f"SELECT event, count(*), {_ERRORS}, sum(tokens) {_FROM} GROUP BY event",
    "latency_by_route": f"SELECT route, count(*), avg(latency_ms), {_P50}, {_P95} {_FROM}"
    " AND latency_ms IS NOT NULL GROUP BY route",
    "active_users": f"SELECT count(*) FROM (SELECT DISTINCT tenant, user_id {_FROM}"
    " AND user_id IS NOT NULL) u",
    "active_users_series": f"SELECT {_BUCKET}, count(DISTINCT user_id) {_FROM}"
    " AND user_id IS NOT NULL GROUP BY b",
}


_VACUUM_ROLLUPS = (
    "VACUUM ANALYZE usage_rollup_hourly, usage_rollup_tenant_hourly, usage_rollup_all_hourly,"
    " usage_rollup_user_month"
)


def _stats():
    return connections[settings.STATS_DB_ALIAS]


def _execute(statement, params=None):
    with _stats().cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def _dataset_end() -> dt.datetime | None:
    """The end of the loaded dataset, if the schema holds exactly EVENTS events."""
    rows = _execute(
        "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
        [f"{SCHEMA}.bench_meta", f"{SCHEMA}.usage_rollup_state"],
    )
    if not rows[0][0]:
        return None
    rows = _execute(f"SELECT events, ends_at, rolled_up FROM {SCHEMA}.bench_meta")
    if not rows or rows[0][0] != EVENTS or not rows[0][2]:
        return None
    return rows[0][1]


def _load(report) -> dt.datetime:
    _execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    _execute(f"CREATE SCHEMA {SCHEMA}")
    _execute(f"SET search_path TO {SCHEMA}, public")
    _execute(CREATE_EVENTS)
    _execute("CREATE TABLE bench_meta (events bigint, ends_at timestamptz, rolled_up boolean)")
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 10 or done == total:
            last[0] = time.perf_counter()
            print(
                f"    loading {done:,}/{total:,} events ({time.perf_counter() - started:.0f} s)", flush=True
            )

    synthetic.events_generate(
        events=EVENTS,
        days=DAYS,
        tenants=TENANTS,
        big_share=0.1,
        end=end,
        chunk_rows=500_000,
        progress=progress,
    )
    load_s = time.perf_counter() - started
    report.add("dashboards.load_events_per_s", EVENTS / load_s, "events/s", load_s=load_s)
    _execute("INSERT INTO bench_meta VALUES (%s, %s, false)", [EVENTS, end])
    _execute(CREATE_ROLLUPS)
    _execute("VACUUM ANALYZE usage_event")
    started = time.perf_counter()
    result = rollup_run(chunk_seqs=500_000, wait_s=30)
    rollup_s = time.perf_counter() - started
    report.add(
        "dashboards.rollup_events_per_s", result.events_added / rollup_s, "events/s", rollup_s=rollup_s
    )
    _execute(_VACUUM_ROLLUPS)
    _execute("UPDATE bench_meta SET rolled_up = true")
    return end


def _timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def _raw_ms(name: str, period: Period, tenant: str | None) -> float:
    scope = "tenant = %(tenant)s AND " if tenant else ""
    statement = RAW[name].replace("{scope}", scope)
    params = {"start": period.start, "end": period.end, "edges": list(period.edges), "tenant": tenant}

    def run():
        with _stats().cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(statement, params)
            cursor.fetchall()

    from django.db import transaction

    def in_transaction():
        with transaction.atomic(using=settings.STATS_DB_ALIAS):
            run()

    in_transaction()  # warm
    return statistics.median(_timed(in_transaction, RAW_RUNS))


def run(report) -> None:
    stats = _stats()
    stats.ensure_connection()
    end = _dataset_end() if os.environ.get("BENCH_DASH_RELOAD") != "1" else None
    if end is None:
        print(f"  loading {EVENTS:,} events into schema {SCHEMA} (kept for the next run)", flush=True)
        end = _load(report)
    else:
        print(f"  reusing {EVENTS:,} events in schema {SCHEMA} (BENCH_DASH_RELOAD=1 reloads)", flush=True)
    _execute(f"SET search_path TO {SCHEMA}, public")
    try:
        _execute(CREATE_ROLLUPS)  # indexes added since the data was loaded
        _execute(_VACUUM_ROLLUPS)
        rows = _execute("SELECT count(*) FROM usage_rollup_hourly")
        report.add("dashboards.rollup_hourly_rows", rows[0][0], "rows")
        _bench_queries(report, end)
    finally:
        _execute("SET search_path TO DEFAULT")


def _bench_queries(report, end: dt.datetime) -> None:
    periods = {key: period_resolve(key=key, tz_name="UTC", now=end) for key in ("24h", "7d", "30d")}
    queries = {
        # name: (call(period, tenant), raw baseline name, scopes)
        "totals": (lambda p, t: selectors.usage_totals(period=p, tenant=t), "totals", (None, BIG, SMALL)),
        "series": (lambda p, t: selectors.usage_series(period=p, tenant=t), "series", (None, BIG, SMALL)),
        "series_by_tenant": (
            lambda p, t: selectors.usage_series_by_tenant(period=p),
            "series_by_tenant",
            (None,),
        ),
        "top_tenants": (lambda p, t: selectors.usage_top_tenants(period=p), "top_tenants", (None,)),
        "events_by_type": (
            lambda p, t: selectors.usage_events_by_type(period=p, tenant=t),
            "events_by_type",
            (None, BIG, SMALL),
        ),
        "latency_by_route": (
            lambda p, t: selectors.usage_latency_by_route(period=p, tenant=t),
            "latency_by_route",
            (None, BIG, SMALL),
        ),
        "active_users": (
            lambda p, t: selectors.usage_active_users(period=p, tenant=t),
            "active_users",
            (None, BIG, SMALL),
        ),
        "active_users_by_tenant": (
            lambda p, t: selectors.usage_active_users_by_tenant(period=p, tenants=TENANTS[:20]),
            None,
            (None,),
        ),
        "active_users_series": (
            lambda p, t: selectors.usage_active_users_series(period=p, tenant=t),
            "active_users_series",
            (BIG, SMALL),
        ),
    }
    missed = []
    for name, (call, raw_name, scopes) in queries.items():
        for tenant in scopes:
            scope = "all" if tenant is None else ("big" if tenant == BIG else "small")
            for key, period in periods.items():
                call(period, tenant)  # warm
                times = _timed(lambda p=period, t=tenant: call(p, t), WARM_RUNS)  # noqa: B023
                p95 = _p95(times)
                baseline = None
                if raw_name and key == "30d":
                    baseline = _raw_ms(raw_name, period, tenant)
                label = f"dashboards.{scope}.{name}.{key}"
                report.add(
                    f"{label}.median",
                    statistics.median(times),
                    "ms",
                    baseline=baseline,
                    baseline_name="raw partitions" if baseline is not None else None,
                )
                report.add(f"{label}.p95", p95, "ms", target=f"<= {TARGET_MS:g} ms", ok=p95 <= TARGET_MS)
                if p95 > TARGET_MS:
                    missed.append(label)
    # A whole page: every query of the staff and the tenant dashboard.
    for scope, tenant in (("all", None), ("big", BIG)):
        period = periods["30d"]
        times = _timed(lambda t=tenant, p=period: dashboard_build(period=p, tenant=t), 5)
        report.add(f"dashboards.{scope}.page_30d.median", statistics.median(times), "ms")
    if missed:
        print(f"  over {TARGET_MS:g} ms p95: {', '.join(missed)}", flush=True)
