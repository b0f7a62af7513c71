"""The stats database as the migrations build it from empty (the test database is
migrated by pytest-django) against what the runtime statements expect: every table and
column they name exists with the expected type, and every statement plans cleanly.

The migrations hold their own literal DDL; the runtime SQL modules hold none."""

import ast
import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections, transaction
from psycopg2 import sql

from usage_stats.dashboards import sql as dash_sql
from usage_stats.demo import sql as demo_sql
from usage_stats.ingest import sql as ingest_sql
from usage_stats.rollups import sql as rollup_sql
from usage_stats.rollups.histogram import BOUNDS_MS
from usage_stats.storage import sql as storage_sql
from usage_stats.storage.partitions import month_start, partition_name, partitions_list

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

USAGE_STATS = Path(__file__).resolve().parents[2] / "usage_stats"

# (column, data type as PostgreSQL reports it, character_maximum_length or None)
EVENT_TYPES = {
    "seq": "bigint",
    "event_id": "uuid",
    "occurred_at": "timestamp with time zone",
    "user_id": "bigint",
    "event": "character varying(64)",
    "route": "character varying(128)",
    "method": "character varying(10)",
    "status": "smallint",
    "latency_ms": "real",
    "tokens": "integer",
    "properties": "jsonb",
    "tenant_id": "uuid",  # added by migration 0003, so last
}
_COUNTER_TYPES = {
    "events": "bigint",
    "errors": "bigint",
    "tokens": "bigint",
    "latency_count": "bigint",
    "latency_ms_sum": "double precision",
    "latency_hist": "integer[]",
}
_HOURLY = {
    "tenant_id": "uuid",
    "bucket": "timestamp with time zone",
    "event": "character varying(64)",
    "route": "character varying(128)",
    **_COUNTER_TYPES,
}
_TENANT = {"tenant_id": "uuid", "bucket": "timestamp with time zone", "requests": "bigint", **_COUNTER_TYPES}
_ALL = {
    "bucket": "timestamp with time zone",
    "event": "character varying(64)",
    "route": "character varying(128)",
    **_COUNTER_TYPES,
}
ROLLUP_TYPES = {
    "usage_rollup_hourly": (rollup_sql.HOURLY_COLUMNS, _HOURLY),
    "usage_rollup_daily": (rollup_sql.HOURLY_COLUMNS, _HOURLY),
    "usage_rollup_tenant_daily": (rollup_sql.TENANT_HOURLY_COLUMNS, _TENANT),
    "usage_rollup_all_daily": (rollup_sql.ALL_HOURLY_COLUMNS, _ALL),
    "usage_rollup_quarter": (rollup_sql.HOURLY_COLUMNS, _HOURLY),
    "usage_rollup_tenant_hourly": (rollup_sql.TENANT_HOURLY_COLUMNS, _TENANT),
    "usage_rollup_tenant_quarter": (rollup_sql.TENANT_HOURLY_COLUMNS, _TENANT),
    "usage_rollup_all_hourly": (rollup_sql.ALL_HOURLY_COLUMNS, _ALL),
    "usage_rollup_all_quarter": (rollup_sql.ALL_HOURLY_COLUMNS, _ALL),
    "usage_rollup_sixhour": (rollup_sql.HOURLY_COLUMNS, _HOURLY),
    "usage_rollup_tenant_sixhour": (rollup_sql.TENANT_HOURLY_COLUMNS, _TENANT),
    "usage_rollup_all_sixhour": (rollup_sql.ALL_HOURLY_COLUMNS, _ALL),
    "usage_rollup_user_month": (
        rollup_sql.USER_MONTH_COLUMNS,
        {"tenant_id": "uuid", "month": "date", "user_id": "bigint",
         "quarters": f"bit({rollup_sql.ROLLUP_MONTH_QUARTERS})", "days": "integer", "first_q": "smallint",
         "last_q": "smallint", "prev_last_q": "smallint",
         "blocks_lo": "bigint", "blocks_hi": "bigint"},
    ),
    "usage_rollup_state": (
        rollup_sql.STATE_COLUMNS,
        {"name": "text", "seq": "bigint", "events": "bigint", "updated_at": "timestamp with time zone"},
    ),
}  # fmt: skip

NOW = dt.datetime(2026, 3, 31, 10, tzinfo=dt.UTC)
PARAMS = {
    "start": NOW - dt.timedelta(days=1),
    "end": NOW,
    "edges": [NOW - dt.timedelta(days=1), NOW - dt.timedelta(hours=12)],
    "tenant_id": "00000000-0000-0000-0000-000000000001",
    "tenants": ["00000000-0000-0000-0000-000000000001"],
    "split_hours": [NOW - dt.timedelta(hours=5)],
    "split_quarters": [NOW - dt.timedelta(hours=5), NOW - dt.timedelta(hours=5, minutes=-15)],
    "day_edges": [NOW - dt.timedelta(days=1)],
    "day_lo": NOW - dt.timedelta(days=1),
    "day_hi": NOW,
    **{
        f"fix_{grain}s{suffix}": values
        for grain in ("sixhour", "hour", "quarter")
        for suffix, values in (("", [NOW - dt.timedelta(hours=5)]), ("_b", [1]), ("_s", [-1]))
    },
    "limit": 5,
    "months": [dt.date(2026, 3, 1)],
    "firsts": [0],
    "lens": [24],
    "buckets": [1],
    "splits": [False],
    "inner": [0],
    "edge": [1],
    "prev_firsts": [32767],
    "lo": 0,
    "hi": 0,
    "bounds": list(BOUNDS_MS),
    "name": rollup_sql.ROLLUP_STATE_NAME,
    "seq": 0,
    "events": 0,
    "vxids": [],
    "parent": ingest_sql.EVENTS_TABLE_NAME,
    "key": storage_sql.PARTITIONS_LOCK_KEY,
    "statement_timeout": "30s",
    "application_name": "test_schema",
}


def _columns(table: str) -> list[tuple[str, str]]:
    """(name, type) in table order, types spelled as in DDL (format_type)."""
    with connections["stats"].cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [table],
        )
        return cursor.fetchall()


def test_the_events_table_has_every_column_ingest_writes_with_its_type_and_limit():
    columns = _columns(ingest_sql.EVENTS_TABLE_NAME)
    assert dict(columns) == EVENT_TYPES
    # Ingest writes every column but seq, which is left to its default (the rollups' order).
    assert set(EVENT_TYPES) - set(ingest_sql.EVENT_COLUMNS) == {"seq"}
    limits = {
        "event": ingest_sql.MAX_EVENT_LEN,
        "route": ingest_sql.MAX_ROUTE_LEN,
        "method": ingest_sql.MAX_METHOD_LEN,
    }
    for name, limit in limits.items():
        assert dict(columns)[name] == f"character varying({limit})", name


@pytest.mark.parametrize("table", sorted(ROLLUP_TYPES))
def test_each_rollup_table_has_the_columns_the_rollups_write_in_order(table):
    names, types = ROLLUP_TYPES[table]
    columns = _columns(table)
    assert [name for name, _ in columns] == list(names)
    assert dict(columns) == types


def test_a_database_migrated_from_empty_has_this_and_the_next_months_partitions():
    names = set(partitions_list(conn=connections["stats"]))
    today = dt.datetime.now(dt.UTC).date()
    ahead = settings.USAGE_STATS_PARTITION_MONTHS_AHEAD
    assert {partition_name(month_start(today, add_months=k)) for k in range(ahead + 1)} <= names
    with connections["stats"].cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_inherits JOIN pg_class ON oid = inhrelid"
            " WHERE inhparent = to_regclass(%s) AND relname = %s",
            [ingest_sql.EVENTS_TABLE_NAME, storage_sql.DEFAULT_PARTITION_NAME],
        )
        assert cursor.fetchall() == [(storage_sql.DEFAULT_PARTITION_NAME,)]


def _statements(module, names: list[str]) -> list[tuple[str, sql.Composable]]:
    return [(f"{module.__name__}.{name}", getattr(module, name)) for name in names]


EXPLAINED = [
    *_statements(ingest_sql, ["FLUSHER_SESSION_SETUP", "INSERT_FROM_STAGING"]),
    *_statements(
        storage_sql,
        [
            "PARTITIONS_LOCK",
            "PARTITION_NAMES",
            "EVENTS_TABLE_EXISTS",
            "DEFAULT_PARTITION_MONTHS",
            "DEFAULT_PARTITION_NOT_EMPTY",
            "DEFAULT_PARTITION_HAS_ROWS",
            "TABLES_WITH_TENANT_COLUMN",
        ],
    ),
    ("storage.delete_tenant_rows", storage_sql.delete_tenant_rows(schema="public", table="usage_event")),
    *_statements(
        rollup_sql,
        [
            "ROLLUP_SEQ_HANDED_OUT",
            "ROLLUP_WRITERS_IN_FLIGHT",
            "ROLLUP_VXIDS_RUNNING",
            "ROLLUP_STATE_ENSURE",
            "ROLLUP_STATE_LOCK",
            "ROLLUP_STATE_LOCK_SKIP",
            "ROLLUP_STATE_ADVANCE",
            "ROLLUP_STATE_READ",
            "ROLLUP_DELTA_EVENTS",
            "ROLLUP_USERS_UPSERT",
            "ROLLUP_USERS_PREV_UPDATE",
        ],
    ),
    *[(f"rollups.ROLLUP_UPSERTS[{i}]", statement) for i, statement in enumerate(rollup_sql.ROLLUP_UPSERTS)],
    *[
        (f"dashboards.{name}[{grain}]" if isinstance(statement, dict) else f"dashboards.{name}", one)
        for name in dir(dash_sql)
        if name.startswith("DASH_") and "SESSION" not in name
        for statement in [getattr(dash_sql, name)]
        for grain, one in (statement.items() if isinstance(statement, dict) else [(None, statement)])
    ],
    *_statements(dash_sql, ["EXPORT_EVENTS"]),
    (
        "dashboards.dash_active_users_series",
        dash_sql.dash_active_users_series(
            [
                [(dt.date(2026, 3, 1), 0, 96, 1, 0, 15, 0)],
                [(dt.date(2026, 3, 1), 2970, 6, 0, 1, 0, 0), (dt.date(2026, 4, 1), 0, 24, 0, 1, 1, 0)],
            ]
        ),
    ),
    *_statements(demo_sql, ["INSERT_EVENT", "EVENTS_EXIST", "DEMO_COUNT_ADD"]),
]


def _plan_failures(statements: list[tuple[str, sql.Composable]]) -> list[str]:
    """EXPLAIN each statement (which resolves every table, column, function and parameter
    type without running it); the COPYs and multi-statement scripts run, inside a
    rolled-back transaction (the temp tables they make are what the upserts read)."""
    failures = []
    with transaction.atomic(using="stats"), connections["stats"].cursor() as cursor:
        cursor.execute(ingest_sql.CREATE_STAGING_TABLE)
        for statement in (ingest_sql.COPY_EVENTS, ingest_sql.COPY_STAGING):
            cursor.cursor.copy_expert(statement, io.BytesIO(b""))
        cursor.execute(dash_sql.DASH_SESSION_SETUP)
        cursor.execute(rollup_sql.ROLLUP_SESSION_SETUP)
        cursor.execute(rollup_sql.ROLLUP_DELTA_CREATE, PARAMS)
        for name, statement in statements:
            cursor.execute("SAVEPOINT explain_one")
            try:
                params = [None] * len(ingest_sql.EVENT_COLUMNS) if name.endswith("INSERT_EVENT") else PARAMS
                cursor.execute(sql.SQL("EXPLAIN {}").format(statement), params)
            except Exception as exc:
                failures.append(f"{name}: {exc}")
            cursor.execute("ROLLBACK TO SAVEPOINT explain_one")
        cursor.execute(rollup_sql.ROLLUP_DELTA_DROP)
        transaction.set_rollback(True, using="stats")
    return failures


def test_every_runtime_statement_plans_against_the_migrated_schema():
    assert len(EXPLAINED) > 30
    assert _plan_failures(EXPLAINED) == []


def test_a_statement_naming_a_missing_column_is_reported():
    """The check above can fail."""
    bad = sql.SQL("SELECT no_such_column FROM {}").format(ingest_sql.EVENTS_TABLE)
    failures = _plan_failures([("bad", bad)])
    assert len(failures) == 1
    assert "no_such_column" in failures[0]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def test_no_migration_imports_runtime_code():
    migrations = sorted((USAGE_STATS / "migrations").glob("0*.py"))
    assert len(migrations) >= 2
    for path in migrations:
        assert _imports(path) <= {"django.db", "uuid"}, path.name  # the standard library's uuid only


def test_no_runtime_module_holds_the_frozen_ddl():
    """Table, sequence, index and function DDL lives in the migrations; at runtime only
    storage makes tables (monthly partitions) and ingest a temp staging table."""
    frozen = ("CREATE SEQUENCE", "ALTER SEQUENCE", "PARTITION BY RANGE", "CREATE INDEX", "CREATE OR REPLACE")
    runtime = [path for path in USAGE_STATS.rglob("*.py") if "migrations" not in path.parts]
    assert len(runtime) > 20
    for path in runtime:
        text = " ".join(path.read_text().upper().split())
        assert not [ddl for ddl in frozen if ddl in text], path
        if "CREATE TABLE" in text:
            assert path.relative_to(USAGE_STATS).as_posix() == "storage/sql.py", path
