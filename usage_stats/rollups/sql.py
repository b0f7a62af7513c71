"""The statements the rollups run: aggregates per (tenant_id, UTC hour, event, route) and
per UTC quarter-hour, two narrower tables of each derived from the same delta (per tenant;
all tenants per event and route) so cross-tenant ranges read few rows, and per-user
activity bitmaps per quarter-hour for distinct users. Latency histograms use the fixed
buckets of rollups/histogram.py (bounds passed as %(bounds)s). The tables are migration
0003's; tests/usage_stats/test_schema.py checks that these statements fit them.
"""

from collections.abc import Callable

from psycopg2 import sql

from usage_stats.ingest.sql import EVENTS_SEQ, EVENTS_TABLE, EVENTS_TABLE_NAME

from .histogram import BUCKETS

ROLLUP_HOURLY = sql.Identifier("usage_rollup_hourly")
ROLLUP_QUARTER = sql.Identifier("usage_rollup_quarter")
ROLLUP_TENANT_HOURLY = sql.Identifier("usage_rollup_tenant_hourly")
ROLLUP_TENANT_QUARTER = sql.Identifier("usage_rollup_tenant_quarter")
ROLLUP_ALL_HOURLY = sql.Identifier("usage_rollup_all_hourly")
ROLLUP_ALL_QUARTER = sql.Identifier("usage_rollup_all_quarter")
ROLLUP_DAILY = sql.Identifier("usage_rollup_daily")
ROLLUP_SIXHOUR = sql.Identifier("usage_rollup_sixhour")
ROLLUP_TENANT_SIXHOUR = sql.Identifier("usage_rollup_tenant_sixhour")
ROLLUP_ALL_SIXHOUR = sql.Identifier("usage_rollup_all_sixhour")
ROLLUP_TENANT_DAILY = sql.Identifier("usage_rollup_tenant_daily")
ROLLUP_ALL_DAILY = sql.Identifier("usage_rollup_all_daily")
ROLLUP_USER_MONTH = sql.Identifier("usage_rollup_user_month")
ROLLUP_STATE = sql.Identifier("usage_rollup_state")
ROLLUP_DELTA = sql.Identifier("usage_rollup_delta")
ROLLUP_STATE_NAME = "events"
# The state row counting demo events (usage_stats/demo), shown as a note on the dashboards.
DEMO_STATE_NAME = "demo"
# Columns of the rollup tables, in table order (migration 0003; tests/usage_stats/test_schema.py).
# `bucket` starts a UTC hour (*_hourly) or a UTC quarter-hour (*_quarter).
_COUNTERS = ("events", "errors", "tokens", "latency_count", "latency_ms_sum", "latency_hist")
HOURLY_COLUMNS = ("tenant_id", "bucket", "event", "route", *_COUNTERS)
TENANT_HOURLY_COLUMNS = ("tenant_id", "bucket", "requests", *_COUNTERS)
ALL_HOURLY_COLUMNS = ("bucket", "event", "route", *_COUNTERS)
USER_MONTH_COLUMNS = (
    "tenant_id",
    "month",
    "user_id",
    "quarters",
    "days",
    "first_q",
    "last_q",
    "prev_last_q",
    "blocks_lo",
    "blocks_hi",
)
STATE_COLUMNS = ("name", "seq", "events", "updated_at")


def _columns(names: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


# Quarter-hours in the longest month: bit i of `quarters` is the i-th UTC quarter-hour.
ROLLUP_MONTH_QUARTERS = 2976
QUARTER_MINUTES = 15
# One event per HTTP request (usage_stats.ingest.middleware): `request` for pages, `api.call`
# for the JSON API. "Requests" count both, each request once.
REQUEST_EVENT = "request"
API_EVENT = "api.call"
REQUEST_EVENTS = (REQUEST_EVENT, API_EVENT)
IS_REQUEST = sql.SQL("event IN ({})").format(sql.SQL(", ").join(sql.Literal(e) for e in REQUEST_EVENTS))
# An error is a server failure (status >= 500) or an event that reports itself failed
# with a JSON true in properties.failed ({"failed": true}); client errors (4xx) are not.
_IS_ERROR = sql.SQL("""(status >= 500 OR properties @> '{"failed": true}'::jsonb)""")


def hist_sum(column: str) -> sql.Composable:
    """Element-wise SUM of int[] histograms; NULL when no row carried a latency."""
    col = sql.Identifier(column)
    parts = sql.SQL(", ").join(
        sql.SQL("coalesce(sum({col}[{i}]), 0)").format(col=col, i=sql.Literal(i))
        for i in range(1, BUCKETS + 1)
    )
    return sql.SQL("CASE WHEN sum(latency_count) > 0 THEN ARRAY[{parts}]::integer[] END").format(parts=parts)


def _hist_from_buckets() -> sql.Composable:
    """int[] of per-bucket counts from a row source exposing `b` (0-based bucket, NULL = no latency)."""
    parts = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE b = {i})").format(i=sql.Literal(i)) for i in range(BUCKETS)
    )
    return sql.SQL("CASE WHEN count(b) > 0 THEN ARRAY[{parts}]::integer[] END").format(parts=parts)


# Empties the rollups and rewinds the watermark (`stats_rollup --rebuild`).
ROLLUP_RESET = sql.SQL(
    "TRUNCATE {tables}; UPDATE {state} SET seq = 0, events = 0, updated_at = now() WHERE name = {state_name}"
).format(
    tables=sql.SQL(", ").join(
        (
            ROLLUP_HOURLY,
            ROLLUP_QUARTER,
            ROLLUP_DAILY,
            ROLLUP_TENANT_HOURLY,
            ROLLUP_TENANT_QUARTER,
            ROLLUP_TENANT_DAILY,
            ROLLUP_ALL_HOURLY,
            ROLLUP_ALL_QUARTER,
            ROLLUP_ALL_DAILY,
            ROLLUP_SIXHOUR,
            ROLLUP_TENANT_SIXHOUR,
            ROLLUP_ALL_SIXHOUR,
            ROLLUP_USER_MONTH,
        )
    ),
    state=ROLLUP_STATE,
    state_name=sql.Literal(ROLLUP_STATE_NAME),
)

# The highest seq handed out so far (0 before the first nextval).
ROLLUP_SEQ_HANDED_OUT = sql.SQL("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {seq}").format(
    seq=EVENTS_SEQ
)

# Transactions of other sessions that may be writing events right now: holders of a
# write lock on the events table or one of its partitions (INSERT/COPY take
# RowExclusiveLock before they draw their first seq and keep it until they end).
ROLLUP_WRITERS_IN_FLIGHT = sql.SQL(
    """
    SELECT DISTINCT l.virtualtransaction
    FROM pg_locks l
    WHERE l.locktype = 'relation'
      AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.pid IS DISTINCT FROM pg_backend_pid()
      AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
      AND l.relation IN (
          SELECT to_regclass({events_name})::oid
          UNION ALL
          SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass({events_name})
      )
    """
).format(events_name=sql.Literal(EVENTS_TABLE_NAME))

# How many of the given virtual transactions are still running (each holds its own vxid lock).
ROLLUP_VXIDS_RUNNING = sql.SQL(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY(%(vxids)s::text[])"
)

# One rollup at a time: the state row is the lock, and holds the watermark.
ROLLUP_STATE_ENSURE = sql.SQL(
    "INSERT INTO {state} (name, seq) VALUES (%(name)s, 0) ON CONFLICT DO NOTHING"
).format(state=ROLLUP_STATE)
ROLLUP_STATE_LOCK = sql.SQL("SELECT seq FROM {state} WHERE name = %(name)s FOR UPDATE").format(
    state=ROLLUP_STATE
)
# The same for a run that would rather not wait (the scheduled job leaves a busy run alone).
ROLLUP_STATE_LOCK_SKIP = sql.SQL(
    "SELECT seq FROM {state} WHERE name = %(name)s FOR UPDATE SKIP LOCKED"
).format(state=ROLLUP_STATE)
ROLLUP_STATE_ADVANCE = sql.SQL(
    "UPDATE {state} SET seq = %(seq)s, events = events + %(events)s, updated_at = now() WHERE name = %(name)s"
).format(state=ROLLUP_STATE)
ROLLUP_STATE_READ = sql.SQL("SELECT seq, events, updated_at FROM {state} WHERE name = %(name)s").format(
    state=ROLLUP_STATE
)

# Events with lo < seq <= hi, aggregated per (tenant_id, UTC quarter-hour, event, route).
# Params: lo, hi, bounds.
ROLLUP_DELTA_CREATE = sql.SQL(
    """
    DROP TABLE IF EXISTS pg_temp.{delta};
    CREATE TEMP TABLE {delta} AS
    SELECT tenant_id, bucket, event, route,
           count(*) AS events,
           count(*) FILTER (WHERE is_error) AS errors,
           coalesce(sum(tokens), 0) AS tokens,
           count(b) AS latency_count,
           coalesce(sum(latency_ms), 0) AS latency_ms_sum,
           {hist} AS latency_hist
    FROM (
        SELECT tenant_id, date_bin('15 minutes', occurred_at, TIMESTAMPTZ '2000-01-01 00:00+00') AS bucket,
               event, coalesce(route, '') AS route,
               coalesce({is_error}, false) AS is_error, tokens, latency_ms,
               CASE WHEN latency_ms IS NOT NULL
                    THEN width_bucket(latency_ms::float8, %(bounds)s::float8[]) END AS b
        FROM {events}
        WHERE seq > %(lo)s AND seq <= %(hi)s
    ) e
    GROUP BY tenant_id, bucket, event, route
    """
).format(delta=ROLLUP_DELTA, hist=_hist_from_buckets(), is_error=_IS_ERROR, events=EVENTS_TABLE)

ROLLUP_DELTA_DROP = sql.SQL("DROP TABLE IF EXISTS pg_temp.{delta}").format(delta=ROLLUP_DELTA)

_ADD_COUNTERS = sql.SQL(
    """events = r.events + excluded.events,
       errors = r.errors + excluded.errors,
       tokens = r.tokens + excluded.tokens,
       latency_count = r.latency_count + excluded.latency_count,
       latency_ms_sum = r.latency_ms_sum + excluded.latency_ms_sum,
       latency_hist = usage_hist_add(r.latency_hist, excluded.latency_hist)"""
)
_GRAIN_BUCKET = {
    "quarter": sql.SQL("bucket"),
    "hour": sql.SQL("date_trunc('hour', bucket, 'UTC')"),
    "sixhour": sql.SQL("date_bin('6 hours', bucket, TIMESTAMPTZ '2000-01-01 00:00+00')"),
    "day": sql.SQL("date_trunc('day', bucket, 'UTC')"),
}
_SUM_COUNTERS = sql.SQL(
    "sum(events), sum(errors), sum(tokens), sum(latency_count), sum(latency_ms_sum), {hist}"
).format(hist=hist_sum("latency_hist"))


def _upserts(
    table_by_grain: dict[str, sql.Identifier],
    build: Callable[[sql.Identifier, sql.Composable], sql.Composed],
) -> tuple[sql.Composed, ...]:
    """One upsert per grain: the quarter-hour table from the delta as it is, the hourly one
    from the delta's quarter-hours summed per UTC hour."""
    return tuple(build(table, _GRAIN_BUCKET[grain]) for grain, table in table_by_grain.items())


# Additive upserts from the delta: each event is added exactly once because the watermark
# moves in the same transaction (rollups/rollup.py explains when a seq range is safe to add).
ROLLUP_HOURLY_UPSERTS = _upserts(
    {"quarter": ROLLUP_QUARTER, "hour": ROLLUP_HOURLY, "sixhour": ROLLUP_SIXHOUR, "day": ROLLUP_DAILY},
    lambda table, bucket: sql.SQL(
        """
        INSERT INTO {table} AS r ({columns})
        SELECT tenant_id, {bucket} AS b, event, route, {sums}
        FROM {delta} GROUP BY tenant_id, b, event, route ORDER BY tenant_id, b, event, route
        ON CONFLICT (tenant_id, bucket, event, route) DO UPDATE SET {add}
        """
    ).format(
        table=table,
        columns=_columns(HOURLY_COLUMNS),
        bucket=bucket,
        sums=_SUM_COUNTERS,
        delta=ROLLUP_DELTA,
        add=_ADD_COUNTERS,
    ),
)

ROLLUP_TENANT_UPSERTS = _upserts(
    {
        "quarter": ROLLUP_TENANT_QUARTER,
        "hour": ROLLUP_TENANT_HOURLY,
        "sixhour": ROLLUP_TENANT_SIXHOUR,
        "day": ROLLUP_TENANT_DAILY,
    },
    lambda table, bucket: sql.SQL(
        """
        INSERT INTO {table} AS r ({columns})
        SELECT tenant_id, {bucket} AS b, coalesce(sum(events) FILTER (WHERE {is_request}), 0), {sums}
        FROM {delta} GROUP BY tenant_id, b ORDER BY tenant_id, b
        ON CONFLICT (tenant_id, bucket) DO UPDATE SET requests = r.requests + excluded.requests, {add}
        """
    ).format(
        table=table,
        columns=_columns(TENANT_HOURLY_COLUMNS),
        bucket=bucket,
        is_request=IS_REQUEST,
        sums=_SUM_COUNTERS,
        delta=ROLLUP_DELTA,
        add=_ADD_COUNTERS,
    ),
)

ROLLUP_ALL_UPSERTS = _upserts(
    {
        "quarter": ROLLUP_ALL_QUARTER,
        "hour": ROLLUP_ALL_HOURLY,
        "sixhour": ROLLUP_ALL_SIXHOUR,
        "day": ROLLUP_ALL_DAILY,
    },
    lambda table, bucket: sql.SQL(
        """
        INSERT INTO {table} AS r ({columns})
        SELECT {bucket} AS b, event, route, {sums}
        FROM {delta} GROUP BY b, event, route ORDER BY b, event, route
        ON CONFLICT (bucket, event, route) DO UPDATE SET {add}
        """
    ).format(
        table=table,
        columns=_columns(ALL_HOURLY_COLUMNS),
        bucket=bucket,
        sums=_SUM_COUNTERS,
        delta=ROLLUP_DELTA,
        add=_ADD_COUNTERS,
    ),
)

ROLLUP_UPSERTS = (*ROLLUP_HOURLY_UPSERTS, *ROLLUP_TENANT_UPSERTS, *ROLLUP_ALL_UPSERTS)

ROLLUP_DELTA_EVENTS = sql.SQL("SELECT coalesce(sum(events), 0) FROM {delta}").format(delta=ROLLUP_DELTA)

# Setting a bit is idempotent, so re-adding a user-quarter never changes a count. `days`
# (migration 0006) has bit d set for the UTC day d + 1 of the month (96 quarter-hours a day);
# first_q and last_q are the first and last bits set in `quarters`; blocks_lo and blocks_hi
# the six-hour blocks (24 quarter-hours) with an event, 62 to a bigint.
ROLLUP_USERS_UPSERT = sql.SQL(
    """
    INSERT INTO {user_month} AS r
        (tenant_id, month, user_id, quarters, days, first_q, last_q, blocks_lo, blocks_hi)
    SELECT tenant_id, month, user_id, bit_or(set_bit(B'0'::bit(2976), quarter_index, 1)),
           bit_or(1 << (quarter_index / 96)), min(quarter_index), max(quarter_index),
           bit_or(CASE WHEN quarter_index / 24 < 62 THEN 1::bigint << (quarter_index / 24) ELSE 0 END),
           bit_or(CASE WHEN quarter_index / 24 >= 62 THEN 1::bigint << (quarter_index / 24 - 62) ELSE 0 END)
    FROM (
        SELECT DISTINCT
               tenant_id,
               (date_trunc('month', occurred_at, 'UTC') AT TIME ZONE 'UTC')::date AS month,
               user_id,
               (floor(extract(epoch FROM occurred_at - date_trunc('month', occurred_at, 'UTC')) / 900))::int
                   AS quarter_index
        FROM {events}
        WHERE seq > %(lo)s AND seq <= %(hi)s AND user_id IS NOT NULL
    ) d
    GROUP BY tenant_id, month, user_id
    ORDER BY tenant_id, month, user_id
    ON CONFLICT (tenant_id, month, user_id)
        DO UPDATE SET quarters = r.quarters | excluded.quarters, days = r.days | excluded.days,
                      first_q = least(r.first_q, excluded.first_q),
                      last_q = greatest(r.last_q, excluded.last_q),
                      blocks_lo = r.blocks_lo | excluded.blocks_lo,
                      blocks_hi = r.blocks_hi | excluded.blocks_hi
    """
).format(user_month=ROLLUP_USER_MONTH, events=EVENTS_TABLE)


# After the upsert: every touched user's row of the month after a touched month, and the
# touched rows themselves, get the last quarter-hour of their month before (`prev_last_q`,
# migration 0006; -1 without one). Params: lo, hi.
ROLLUP_USERS_PREV_UPDATE = sql.SQL(
    """
    WITH touched AS (
        SELECT DISTINCT tenant_id, user_id,
               (date_trunc('month', occurred_at, 'UTC') AT TIME ZONE 'UTC')::date AS month
        FROM {events}
        WHERE seq > %(lo)s AND seq <= %(hi)s AND user_id IS NOT NULL
    ), targets AS (
        SELECT tenant_id, user_id, month FROM touched
        UNION
        SELECT tenant_id, user_id, (month + interval '1 month')::date FROM touched
    )
    UPDATE {user_month} n SET prev_last_q = coalesce(p.last_q, -1)
    FROM targets t
    LEFT JOIN {user_month} p ON p.tenant_id = t.tenant_id AND p.user_id = t.user_id
         AND p.month = (t.month - interval '1 month')::date
    WHERE n.tenant_id = t.tenant_id AND n.user_id = t.user_id AND n.month = t.month
      AND n.prev_last_q IS DISTINCT FROM coalesce(p.last_q, -1)
    """
).format(user_month=ROLLUP_USER_MONTH, events=EVENTS_TABLE)


# Rollup chunks are short aggregates: JIT would only add its compile time, and hashing
# a chunk's distinct users must not spill to disk.
ROLLUP_SESSION_SETUP = sql.SQL("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")
