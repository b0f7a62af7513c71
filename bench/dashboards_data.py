"""The data of the dashboards benchmark (bench/dashboards.py): the schema `bench_dashboards`,
made with the migrations' own DDL as the owner role, loaded with synthetic events, rolled
up (or brought to the current rollup layout in place), and the rollup's throughput.
"""

import datetime as dt
import importlib
import os
import time
import uuid

from django.conf import settings
from django.db import connections

from core.db import roles
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


def _layout() -> str:
    return _execute(f"SELECT layout FROM {SCHEMA}.bench_meta")[0][0]


def _rollup_rate(report) -> None:
    """Events per second rolled up into every table, beside the hourly tables and the user
    bitmaps alone (about what the rollup did before quarter-hours, six-hour blocks and
    days) and the layout before six-hour blocks (0004), for the last RATE_EVENTS kept
    events added again in a transaction that is rolled back."""
    from django.db import transaction

    hi = _execute("SELECT max(seq) FROM usage_event")[0][0]
    params = {"lo": hi - RATE_EVENTS, "hi": hi, "bounds": list(histogram.BOUNDS_MS)}
    # [1] of each: the hourly grain (quarter, hour, six-hour, day).
    hourly = [ups[1] for ups in (rollup_sql.ROLLUP_HOURLY_UPSERTS, rollup_sql.ROLLUP_TENANT_UPSERTS,
                                 rollup_sql.ROLLUP_ALL_UPSERTS)]  # fmt: skip
    # Layout 0004: every grain but the six-hour one ([2]), and no prev_last_q update.
    no_six = [ups[i] for ups in (rollup_sql.ROLLUP_HOURLY_UPSERTS, rollup_sql.ROLLUP_TENANT_UPSERTS,
                                 rollup_sql.ROLLUP_ALL_UPSERTS) for i in (0, 1, 3)]  # fmt: skip
    for name, upserts, users in (
        ("hourly_only", hourly, False),
        ("layout_0004", no_six, False),
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
