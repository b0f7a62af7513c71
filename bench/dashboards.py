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
in both zones; and the rows and size of each rollup table (the quarter-hour tables are the
storage cost of exact local days; rollup speed is measured while loading).
"""

import datetime as dt
import importlib
import os
import statistics
import time
import uuid

from django.conf import settings
from django.db import connections
from django.template.loader import render_to_string

from core.db import roles
from usage_stats.dashboards import selectors
from usage_stats.dashboards.dashboard import dashboard_build
from usage_stats.dashboards.forms import DashboardFilterForm
from usage_stats.dashboards.panels import CHART_TENANTS
from usage_stats.dashboards.periods import Period, period_resolve
from usage_stats.demo import synthetic
from usage_stats.rollups import histogram
from usage_stats.rollups import sql as rollup_sql
from usage_stats.rollups.rollup import rollup_run

# The schema's DDL is the migrations' own (frozen literal SQL), run in the bench schema.
_M1 = importlib.import_module("usage_stats.migrations.0001_events")
_M2 = importlib.import_module("usage_stats.migrations.0002_rollups")
_M3 = importlib.import_module("usage_stats.migrations.0003_tenant_id")
_M4 = importlib.import_module("usage_stats.migrations.0004_daily_rollups")
_M6 = importlib.import_module("usage_stats.migrations.0006_user_days")
_M7 = importlib.import_module("usage_stats.migrations.0007_six_hour_rollups")
CREATE_EVENTS = [_M1.CREATE_EVENTS, _M3.ADD_TENANT_ID, _M3.FINISH_EVENTS]
CREATE_ROLLUPS = [
    _M2.CREATE_ROLLUPS,
    _M3.RECREATE_ROLLUPS,
    _M4.CREATE_DAILY,
    *_M6.UPGRADE,
    _M7.CREATE_SIX_HOUR,
]
LAYOUT = "0007"  # rollups made under another layout are rebuilt from the kept events...
# ...except those of 0004, which the migrations after it fill from the rollups themselves.
UPGRADES = {"0004": [*_M6.UPGRADE, _M7.CREATE_SIX_HOUR, _M7.FILL_SIX_HOUR]}
# Rollup throughput: this many of the kept events are rolled up again in a transaction
# that is rolled back, into every table and into the hourly ones alone (the layout before
# exact local days), beside each other.
RATE_EVENTS = 500_000

SCHEMA = "bench_dashboards"
EVENTS = int(os.environ.get("BENCH_DASH_EVENTS", "10000000"))
DAYS = 91
TENANT_NAMESPACE = uuid.UUID("b3a7c1de-5f0e-4a55-9a3c-8d1e2f3a4b5c")
TENANTS = [uuid.uuid5(TENANT_NAMESPACE, f"bench-t{i:03d}") for i in range(100)]
BIG, SMALL = TENANTS[0], TENANTS[50]
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


ROLLUP_TABLES = (
    "usage_rollup_daily",
    "usage_rollup_hourly",
    "usage_rollup_quarter",
    "usage_rollup_tenant_daily",
    "usage_rollup_tenant_hourly",
    "usage_rollup_tenant_quarter",
    "usage_rollup_all_daily",
    "usage_rollup_all_hourly",
    "usage_rollup_all_quarter",
    "usage_rollup_sixhour",
    "usage_rollup_tenant_sixhour",
    "usage_rollup_all_sixhour",
    "usage_rollup_user_month",
)
# Tables of earlier layouts, dropped before a rebuild.
OLD_ROLLUP_TABLES: tuple[str, ...] = ()
_VACUUM_ROLLUPS = "VACUUM ANALYZE " + ", ".join(ROLLUP_TABLES)


def _stats():
    return connections[settings.STATS_DB_ALIAS]


def _execute(statement, params=None):
    with _stats().cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def _owner_execute(statement, params=None):
    """DDL and VACUUM as the owner role, as migrate_stats runs them (the app role owns
    nothing). A VACUUM under a role resets the session's search_path: it is set again."""
    with roles.owner_role():
        rows = _execute(statement, params)
    _execute(f"SET search_path TO {SCHEMA}, public")
    return rows


def _grants() -> None:
    """The bench schema gets the grants migrate_stats gives the public one (core/db/roles.py):
    the app role's rows (the rollups run as the app, as the job does), SELECT for the
    dashboards' reader role, which every measured read runs as."""
    app, reader = roles.app_role_name(settings.STATS_DB_ALIAS), roles.stats_reader_role_name()
    if not roles.owner_role_name():
        return
    grantees = ", ".join(f'"{r}"' for r in (app, reader) if r)
    _owner_execute(
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {grantees};"
        f' GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO "{app}";'
        f' GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO "{app}"'
        + (f' ; GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO "{reader}"' if reader else "")
    )


def _dataset_end() -> tuple[dt.datetime | None, bool]:
    """The end of the loaded dataset if the schema holds exactly EVENTS events, and whether
    its rollups are of the current layout."""
    if not _execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [SCHEMA])[0][0]:
        return None, False
    _grants()  # a schema kept from a run before the app had its own role
    rows = _execute("SELECT to_regclass(%s) IS NOT NULL", [f"{SCHEMA}.bench_meta"])
    if not rows[0][0]:
        return None, False
    rows = _execute(f"SELECT events, ends_at, rolled_up, layout FROM {SCHEMA}.bench_meta")
    if not rows or rows[0][0] != EVENTS:
        return None, False
    return rows[0][1], bool(rows[0][2]) and rows[0][3] == LAYOUT


def _rollups_rebuild(report) -> None:
    """Make the rollup tables of this layout and roll every kept event up again."""
    _execute(f"SET search_path TO {SCHEMA}, public")
    _owner_execute(
        "DROP TABLE IF EXISTS "
        + ", ".join(f"{SCHEMA}.{t}" for t in (*ROLLUP_TABLES, *OLD_ROLLUP_TABLES, "usage_rollup_state"))
    )
    _owner_execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.usage_hist_add(integer[], integer[])")
    for statement in CREATE_ROLLUPS:
        _owner_execute(statement)
    _grants()
    _owner_execute("VACUUM ANALYZE usage_event")
    started = time.perf_counter()
    result = rollup_run(chunk_seqs=500_000, wait_s=30)  # as the app role, like the job
    rollup_s = time.perf_counter() - started
    report.add(
        "dashboards.rollup_events_per_s", result.events_added / rollup_s, "events/s", rollup_s=rollup_s
    )
    _owner_execute(_VACUUM_ROLLUPS)
    _execute("UPDATE bench_meta SET rolled_up = true, layout = %s", [LAYOUT])


def _load(report) -> dt.datetime:
    _owner_execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    _owner_execute(f"CREATE SCHEMA {SCHEMA}")
    for statement in CREATE_EVENTS:
        _owner_execute(statement)
    _owner_execute(
        "CREATE TABLE bench_meta (events bigint, ends_at timestamptz, rolled_up boolean, layout text)"
    )
    _grants()
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
    _execute("INSERT INTO bench_meta VALUES (%s, %s, false, %s)", [EVENTS, end, LAYOUT])
    _rollups_rebuild(report)
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
    try:
        _grants()
        _owner_execute(_VACUUM_ROLLUPS)
        _rollup_rate(report)
        _table_sizes(report)
        _bench_queries(report, end)
    finally:
        _execute("SET search_path TO DEFAULT")


def _layout() -> str:
    return _execute(f"SELECT layout FROM {SCHEMA}.bench_meta")[0][0]


def _rollup_rate(report) -> None:
    """Events per second rolled up into every table, beside the hourly tables and the user
    bitmaps alone (about what the rollup did before quarter-hours, six-hour blocks and
    days), for the last RATE_EVENTS kept events added again in a transaction that is
    rolled back."""
    from django.db import transaction

    hi = _execute("SELECT max(seq) FROM usage_event")[0][0]
    params = {"lo": hi - RATE_EVENTS, "hi": hi, "bounds": list(histogram.BOUNDS_MS)}
    # [1] of each: the hourly grain (quarter, hour, six-hour, day).
    hourly = [ups[1] for ups in (rollup_sql.ROLLUP_HOURLY_UPSERTS, rollup_sql.ROLLUP_TENANT_UPSERTS,
                                 rollup_sql.ROLLUP_ALL_UPSERTS)]  # fmt: skip
    for name, upserts, users in (
        ("hourly_only", hourly, False),
        ("all_tables", rollup_sql.ROLLUP_UPSERTS, True),
    ):
        with transaction.atomic(using=settings.STATS_DB_ALIAS), _stats().cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(rollup_sql.ROLLUP_SESSION_SETUP)
            cursor.execute(rollup_sql.ROLLUP_DELTA_CREATE, params)
            for upsert in upserts:
                cursor.execute(upsert)
            cursor.execute(rollup_sql.ROLLUP_USERS_UPSERT, params)
            if users:
                cursor.execute(rollup_sql.ROLLUP_USERS_PREV_UPDATE, params)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True, using=settings.STATS_DB_ALIAS)
        report.add(f"dashboards.rollup_events_per_s.{name}", RATE_EVENTS / elapsed, "events/s")


def _table_sizes(report) -> None:
    """What exact local days cost in storage: the quarter-hour tables beside the hourly ones."""
    for table in ROLLUP_TABLES:
        rows, size = _execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")[0]
        report.add(f"dashboards.{table}.rows", rows, "rows", mb=round(size / 2**20, 1))
        report.add(f"dashboards.{table}.mb", size / 2**20, "MB")


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
