"""Dashboards at 10M events: every dashboard query read from the rollups, beside the same
aggregate computed from the raw partitioned events table, in the same run.

Data: 10,000,000 synthetic events over 3 months across 100 tenants (one with ~10 %),
written by PostgreSQL itself (INSERT … SELECT generate_series) into a schema of its own
(`bench_dashboards`) in the dev stats database, so real dev data is never touched. The
schema is kept between runs and reused when it holds the right number of rows; set
BENCH_DASH_RELOAD=1 to rebuild it, BENCH_DASH_EVENTS=N for a smaller trial.

Figures: median and p95 of WARM_RUNS warm runs per dashboard query (JIT off, as the
dashboards run them), for 24 h, 7 d and 30 d in UTC and 30 d in Asia/Kathmandu (whose
local days split an hour, so the quarter-hour tables are read); the raw baseline is the
median of RAW_RUNS runs of the equivalent query over usage_event (JIT off too, so the
ratio is fair). Then whole pages (every query, built and rendered): staff and owner, 30 d,
in both zones; the rows and size of each rollup table (the quarter-hour and six-hour tables
are the storage cost of exact local days); and the rollup's throughput, into every table
beside the hourly ones alone (bench/dashboards_data.py: the schema is made as the owner
role, every measured read runs as the dashboards' stats reader role).
"""

import datetime as dt
import os
import statistics
import time
import uuid

from django.conf import settings
from django.db.backends.signals import connection_created
from django.template.loader import render_to_string

from bench.dashboards_data import (
    _VACUUM_ROLLUPS,
    BIG,
    EVENTS,
    LAYOUT,
    SCHEMA,
    SMALL,
    TENANTS,
    UPGRADES,
    _dataset_end,
    _execute,
    _grants,
    _layout,
    _load,
    _owner_execute,
    _rollup_rate,
    _rollups_rebuild,
    _stats,
    _table_sizes,
)
from core.db import roles
from usage_stats.dashboards import selectors
from usage_stats.dashboards.dashboard import dashboard_build
from usage_stats.dashboards.forms import DashboardFilterForm
from usage_stats.dashboards.panels import CHART_TENANTS
from usage_stats.dashboards.periods import Period, period_resolve
from usage_stats.dashboards.readers import readers_close

WARM_RUNS = 15
RAW_RUNS = int(os.environ.get("BENCH_DASH_RAW_RUNS", "3"))
TARGET_MS = 20.0  # every dashboard query, p95
STAFF_PAGE_TARGET_MS = 50.0  # the whole staff page, 30 days, median
OWNER_PAGE_TARGET_MS = 30.0  # the whole owner page (the biggest tenant), 30 days, median
# Zones for the whole pages: UTC reads no quarter-hour row; Kathmandu (UTC+05:45) splits an
# hour at every local midnight, so it measures what exact local days cost.
PAGE_ZONES = ("UTC", "Asia/Kathmandu")

# Raw-table equivalents of each dashboard query (bench only: the app never reads these).
_RAW_WHERE = "occurred_at >= %(start)s AND occurred_at < %(end)s"
_RAW_ERR = """(status >= 500 OR properties @> '{"failed": true}'::jsonb)"""
_ERRORS = f"count(*) FILTER (WHERE {_RAW_ERR})"
_REQUESTS = "count(*) FILTER (WHERE event IN ('request', 'api.call'))"
_BUCKET = "width_bucket(occurred_at, %(edges)s::timestamptz[]) AS b"
_P50 = "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)"
_P95 = "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)"
_FROM = "FROM usage_event WHERE {scope}" + _RAW_WHERE
RAW = {
    "totals": f"SELECT {_REQUESTS}, count(*), {_ERRORS}, sum(tokens), {_P50}, {_P95} {_FROM}",
    "series": f"SELECT {_BUCKET}, {_REQUESTS}, count(*), {_ERRORS} {_FROM} GROUP BY b",
    "series_by_tenant": f"SELECT tenant_id, {_BUCKET}, {_REQUESTS}, count(*), {_ERRORS}, sum(tokens),"
    f" avg(latency_ms) {_FROM} GROUP BY tenant_id, b",
    "event_routes": f"SELECT event, route, count(*), {_ERRORS}, avg(latency_ms), {_P50}, {_P95} {_FROM}"
    " GROUP BY event, route",
    "active_users": f"SELECT count(DISTINCT user_id) {_FROM} AND user_id IS NOT NULL",
    "active_users_by_tenant": f"SELECT tenant_id, count(DISTINCT user_id) {_FROM}"
    " AND user_id IS NOT NULL GROUP BY tenant_id",
    "active_users_series": f"SELECT {_BUCKET}, count(DISTINCT user_id) {_FROM}"
    " AND user_id IS NOT NULL GROUP BY b",
}


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


def _raw_ms(name: str, period: Period, tenant: uuid.UUID | None) -> float:
    scope = "tenant_id = %(tenant_id)s AND " if tenant else ""
    statement = RAW[name].replace("{scope}", scope)
    params = {"start": period.start, "end": period.end, "edges": list(period.edges), "tenant_id": tenant}

    def run():
        with _stats().cursor() as cursor:
            # As the dashboards' role, like every read measured beside it.
            cursor.execute(roles.set_local_role_sql(roles.stats_reader_role_name()) + "SET LOCAL jit = off")
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
    end, current = _dataset_end() if os.environ.get("BENCH_DASH_RELOAD") != "1" else (None, False)
    if end is None:
        print(f"  loading {EVENTS:,} events into schema {SCHEMA} (kept for the next run)", flush=True)
        end = _load(report)
    elif not current and _layout() in UPGRADES:
        print(f"  migrating the kept rollups from layout {_layout()} to {LAYOUT}", flush=True)
        for statement in UPGRADES[_layout()]:
            _owner_execute(statement)
        _execute(f"UPDATE {SCHEMA}.bench_meta SET layout = %s", [LAYOUT])
    elif not current:
        print(f"  rolling up the {EVENTS:,} kept events again (rollup layout {LAYOUT})", flush=True)
        _rollups_rebuild(report)
    else:
        print(f"  reusing {EVENTS:,} events in schema {SCHEMA} (BENCH_DASH_RELOAD=1 reloads)", flush=True)
    _execute(f"SET search_path TO {SCHEMA}, public")
    # The pages' reads also run on the dashboards' reader threads' own connections.
    readers_close()
    connection_created.connect(_bench_search_path, dispatch_uid="bench-dashboards")
    try:
        _grants()
        _rollup_rate(report)  # first: its rolled-back updates leave pages to vacuum
        _owner_execute(_VACUUM_ROLLUPS)
        _table_sizes(report)
        _bench_queries(report, end)
    finally:
        connection_created.disconnect(dispatch_uid="bench-dashboards")
        readers_close()
        _execute("SET search_path TO DEFAULT")


def _bench_search_path(sender, connection, **kwargs) -> None:
    if connection.alias == settings.STATS_DB_ALIAS:
        with connection.connection.cursor() as cursor:
            cursor.execute(f"SET search_path TO {SCHEMA}, public")


def _scope_name(tenant: uuid.UUID | None) -> str:
    return "all" if tenant is None else ("big" if tenant == BIG else "small")


def _bench_queries(report, end: dt.datetime) -> None:
    periods = {key: period_resolve(key=key, tz_name="UTC", now=end) for key in ("24h", "7d", "30d")}
    periods["30d.kathmandu"] = period_resolve(key="30d", tz_name="Asia/Kathmandu", now=end)
    # name: (call(period, tenant), raw baseline name, scopes); every read of both pages.
    queries = {
        "series": (lambda p, t: selectors.usage_series(period=p, tenant_id=t), "series", (None, BIG, SMALL)),
        "series_by_tenant": (
            lambda p, t: selectors.usage_series_by_tenant(period=p, chart_tenants=CHART_TENANTS),
            "series_by_tenant",
            (None,),
        ),
        "event_routes": (
            lambda p, t: selectors.usage_event_routes(period=p, tenant_id=t),
            "event_routes",
            (None, BIG, SMALL),
        ),
        "active_users_by_tenant": (
            lambda p, t: selectors.usage_active_users_by_tenant(period=p),
            "active_users_by_tenant",
            (None,),
        ),
        "active_users": (
            lambda p, t: selectors.usage_active_users(period=p, tenant_id=t),
            "active_users",
            (BIG, SMALL),
        ),
        "active_users_series": (
            lambda p, t: selectors.usage_active_users_series(period=p, tenant_id=t),
            "active_users_series",
            (BIG, SMALL),
        ),
        "demo_events": (lambda p, t: selectors.usage_demo_events(), None, (None,)),
        "rollup_status": (lambda p, t: selectors.usage_rollup_status(), None, (None,)),
        "tenants_created": (lambda p, t: selectors.tenants_created(period=p), None, (None,)),
        "tenant_labels": (lambda p, t: selectors.tenant_labels(tenant_ids=TENANTS), None, (None,)),
    }
    missed = []
    for name, (call, raw_name, scopes) in queries.items():
        for tenant in scopes:
            for key, period in periods.items():
                call(period, tenant)  # warm
                times = _timed(lambda p=period, t=tenant: call(p, t), WARM_RUNS)  # noqa: B023
                p95 = _p95(times)
                baseline = None
                if raw_name and key == "30d":
                    baseline = _raw_ms(raw_name, period, tenant)
                label = f"dashboards.{_scope_name(tenant)}.{name}.{key}"
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
    # Whole pages: every query of the staff and the owner dashboard, and the HTML.
    for zone in PAGE_ZONES:
        period = period_resolve(key="30d", tz_name=zone, now=end)
        for scope, tenant, target in (
            ("all", None, STAFF_PAGE_TARGET_MS),
            ("big", BIG, OWNER_PAGE_TARGET_MS),
        ):
            page = _page_ms(period, tenant, zone)
            page(), page()  # warm
            times = _timed(page, 9)
            median = statistics.median(times)
            label = f"dashboards.{'staff' if tenant is None else 'owner'}_page_30d.{zone}.median"
            report.add(label, median, "ms", target=f"<= {target:g} ms", ok=median <= target, scope=scope)
            if median > target:
                missed.append(label)
    if missed:
        print(f"  over target: {', '.join(missed)}", flush=True)


def _page_ms(period: Period, tenant: uuid.UUID | None, zone: str):
    """Build and render one dashboard page (the shared template, as the views render it)."""
    form = DashboardFilterForm({"range": "30d", "tz": zone})
    assert form.is_valid(), form.errors

    def page() -> None:
        dashboard = dashboard_build(period=period, tenant_id=tenant, tenant_link=lambda slug: f"/t/{slug}/")
        render_to_string(
            "usage_stats/_dashboard.html",
            {"dashboard": dashboard, "form": form, "timezones": (), "query": form.query(), "tenant": None},
        )

    return page
