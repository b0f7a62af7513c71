"""Every SQL statement the stats pipeline runs, named, composed with psycopg2.sql.

Nothing outside this module writes SQL for the stats database. Values always travel as
query parameters or COPY data; identifiers are composed with `sql.Identifier`.
"""

from psycopg2 import sql

EVENTS_TABLE = sql.Identifier("usage_event")
EVENTS_SEQ = sql.Identifier("usage_event_seq")
DEFAULT_PARTITION_NAME = "usage_event_default"
DEFAULT_PARTITION = sql.Identifier(DEFAULT_PARTITION_NAME)
STAGING_TABLE = sql.Identifier("usage_event_staging")
# Monthly partitions are named usage_event_pYYYYMM (UTC months).
PARTITION_PREFIX = "usage_event_p"

# Every column the collector writes, in COPY order. `seq` is left to its default.
# tenant, event, route and method are adjacent: the collector serialises that run once per
# distinct combination (a handful per process) and reuses it.
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "tenant",
    "event",
    "route",
    "method",
    "user_id",
    "status",
    "latency_ms",
    "tokens",
    "properties",
)
_COLUMNS = sql.SQL(", ").join(sql.Identifier(name) for name in EVENT_COLUMNS)

# Field limits shared by the table definition and the collector's validation.
MAX_TENANT_LEN = 63
MAX_EVENT_LEN = 64
MAX_ROUTE_LEN = 128
MAX_METHOD_LEN = 10
MAX_PROPERTIES_BYTES = 4096

CREATE_EVENTS_TABLE = sql.SQL(
    """
    CREATE SEQUENCE IF NOT EXISTS {seq} CACHE 1000;
    CREATE TABLE IF NOT EXISTS {table} (
        -- Ingest order, for resumable rollups that also catch late events.
        seq         bigint      NOT NULL DEFAULT nextval('usage_event_seq'),
        event_id    uuid        NOT NULL,
        occurred_at timestamptz NOT NULL,
        tenant      varchar(63) NOT NULL,
        user_id     bigint,
        event       varchar(64) NOT NULL,
        route       varchar(128),
        method      varchar(10),
        status      smallint,
        latency_ms  real,
        tokens      integer,
        properties  jsonb,
        PRIMARY KEY (occurred_at, event_id)
    ) PARTITION BY RANGE (occurred_at);
    CREATE TABLE IF NOT EXISTS {default_partition} PARTITION OF {table} DEFAULT;
    CREATE INDEX IF NOT EXISTS {tenant_index} ON {table} (tenant, occurred_at);
    -- Time-range scans (rollups of one hour) read few pages; 32 KB per monthly partition.
    CREATE INDEX IF NOT EXISTS {brin_index} ON {table} USING brin (occurred_at);
    """
).format(
    table=EVENTS_TABLE,
    seq=EVENTS_SEQ,
    default_partition=DEFAULT_PARTITION,
    tenant_index=sql.Identifier("usage_event_tenant_occurred_idx"),
    brin_index=sql.Identifier("usage_event_occurred_brin"),
)

DROP_EVENTS_TABLE = sql.SQL("DROP TABLE IF EXISTS {table} CASCADE; DROP SEQUENCE IF EXISTS {seq}").format(
    table=EVENTS_TABLE, seq=EVENTS_SEQ
)

# --- Collector -----------------------------------------------------------------

# The flusher's own session: no JIT on tiny statements, and a bound on any one statement.
FLUSHER_SESSION_SETUP = sql.SQL(
    "SELECT set_config('jit', 'off', false), set_config('statement_timeout', %(statement_timeout)s, false),"
    " set_config('application_name', %(application_name)s, false)"
)

# The fast path: one COPY per batch (text format, rows serialised by the collector).
COPY_EVENTS = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(table=EVENTS_TABLE, columns=_COLUMNS)

# The slow path after a retry whose first attempt may have committed: stage the batch, then
# insert only the event_ids not already stored. Run inside one transaction.
CREATE_STAGING_TABLE = sql.SQL(
    "CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS"
    " AS SELECT {columns} FROM {table} WITH NO DATA"
).format(staging=STAGING_TABLE, columns=_COLUMNS, table=EVENTS_TABLE)
COPY_STAGING = sql.SQL("COPY {staging} ({columns}) FROM STDIN").format(
    staging=STAGING_TABLE, columns=_COLUMNS
)
INSERT_FROM_STAGING = sql.SQL(
    "INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING"
).format(table=EVENTS_TABLE, columns=_COLUMNS, staging=STAGING_TABLE)

# One event per statement: the naive baseline of `make bench`, never used by the collector.
INSERT_EVENT = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values})").format(
    table=EVENTS_TABLE,
    columns=_COLUMNS,
    values=sql.SQL(", ").join(sql.Placeholder() * len(EVENT_COLUMNS)),
)

# --- Partitions -------------------------------------------------------------------

# Serialises partition maintenance between the command and every process's flusher.
PARTITIONS_LOCK = sql.SQL("SELECT pg_advisory_xact_lock(%(key)s)")
PARTITIONS_LOCK_KEY = 0x5553_4147_4550  # "USAGEP"

PARTITION_NAMES = sql.SQL(
    """
    SELECT child.relname
    FROM pg_inherits
    JOIN pg_class child ON child.oid = pg_inherits.inhrelid
    WHERE pg_inherits.inhparent = to_regclass(%(parent)s)
    ORDER BY child.relname
    """
)

EVENTS_TABLE_EXISTS = sql.SQL("SELECT to_regclass('usage_event') IS NOT NULL")

# UTC months that have rows waiting in the DEFAULT partition.
DEFAULT_PARTITION_MONTHS = sql.SQL(
    "SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') FROM {default_partition}"
).format(default_partition=DEFAULT_PARTITION)

DEFAULT_PARTITION_NOT_EMPTY = sql.SQL("SELECT EXISTS (SELECT 1 FROM {default_partition})").format(
    default_partition=DEFAULT_PARTITION
)
DEFAULT_PARTITION_HAS_ROWS = sql.SQL(
    "SELECT EXISTS (SELECT 1 FROM {default_partition}"
    " WHERE occurred_at >= %(start)s AND occurred_at < %(end)s)"
).format(default_partition=DEFAULT_PARTITION)


def partition_create(name: str) -> sql.Composed:
    """CREATE a monthly partition; params: start, end (UTC month bounds)."""
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {partition} PARTITION OF {table} FOR VALUES FROM (%(start)s) TO (%(end)s)"
    ).format(partition=sql.Identifier(name), table=EVENTS_TABLE)


def partition_create_from_default(name: str) -> sql.Composed:
    """Create a month's table, move that month's rows out of DEFAULT into it, attach it.

    A plain CREATE … PARTITION OF is refused while DEFAULT holds rows of the new range.
    Params: start, end. Run inside one transaction.
    """
    return sql.SQL(
        """
        CREATE TABLE {partition} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
        WITH moved AS (
            DELETE FROM {default_partition}
            WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
            RETURNING *
        )
        INSERT INTO {partition} SELECT * FROM moved;
        ALTER TABLE {table} ATTACH PARTITION {partition} FOR VALUES FROM (%(start)s) TO (%(end)s);
        """
    ).format(partition=sql.Identifier(name), table=EVENTS_TABLE, default_partition=DEFAULT_PARTITION)


def partition_drop(name: str) -> sql.Composed:
    return sql.SQL("DROP TABLE IF EXISTS {partition}").format(partition=sql.Identifier(name))


# --- Tenant deletion -------------------------------------------------------------------

# Tables holding per-tenant rows: every table with a `tenant` column. Partitions are reached
# through their parent; views and foreign tables are left alone.
TABLES_WITH_TENANT_COLUMN = sql.SQL(
    """
    SELECT c.table_schema, c.table_name FROM information_schema.columns c
    JOIN pg_catalog.pg_class r ON r.relname = c.table_name
     AND r.relnamespace = c.table_schema::regnamespace
    WHERE c.column_name = 'tenant' AND r.relkind IN ('r', 'p') AND NOT r.relispartition
      AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
    """
)


def delete_tenant_rows(*, schema: str, table: str) -> sql.Composed:
    return sql.SQL("DELETE FROM {} WHERE tenant = %(tenant)s").format(sql.Identifier(schema, table))


# --- Rollups ---------------------------------------------------------------------
# Owned by the rollups/dashboards work (usage_stats/rollup.py, selectors.py). Hourly
# aggregates per (tenant, hour, event, route), two narrower hourly tables derived from the
# same delta (per tenant; all tenants per event and route) so cross-tenant ranges read few
# rows, and per-user activity bitmaps for distinct users. Latency histograms use the fixed
# buckets of usage_stats/histogram.py (bounds passed as %(bounds)s).

ROLLUP_HOURLY = sql.Identifier("usage_rollup_hourly")
ROLLUP_TENANT_HOURLY = sql.Identifier("usage_rollup_tenant_hourly")
ROLLUP_ALL_HOURLY = sql.Identifier("usage_rollup_all_hourly")
ROLLUP_USER_MONTH = sql.Identifier("usage_rollup_user_month")
ROLLUP_STATE = sql.Identifier("usage_rollup_state")
ROLLUP_DELTA = sql.Identifier("usage_rollup_delta")
ROLLUP_STATE_NAME = "events"
# Hours in the longest month: bit i of `hours` is the i-th UTC hour of the month.
ROLLUP_MONTH_HOURS = 744
# The event usage_stats.middleware records once per HTTP request: "requests" count these.
REQUEST_EVENT = "request"
_HIST_BUCKETS = 28  # usage_stats.histogram.BUCKETS (kept literal: this module imports nothing of ours)

# An error is a server failure (status >= 500) or an event that reports itself failed
# with a JSON true in properties.failed ({"failed": true}); client errors (4xx) are not.
_IS_ERROR = sql.SQL("""(status >= 500 OR properties @> '{"failed": true}'::jsonb)""")


def _hist_sum(column: str) -> sql.Composable:
    """Element-wise SUM of int[] histograms; NULL when no row carried a latency."""
    col = sql.Identifier(column)
    parts = sql.SQL(", ").join(
        sql.SQL("coalesce(sum({col}[{i}]), 0)").format(col=col, i=sql.Literal(i))
        for i in range(1, _HIST_BUCKETS + 1)
    )
    return sql.SQL("CASE WHEN sum(latency_count) > 0 THEN ARRAY[{parts}]::integer[] END").format(parts=parts)


def _hist_from_buckets() -> sql.Composable:
    """int[] of per-bucket counts from a row source exposing `b` (0-based bucket, NULL = no latency)."""
    parts = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE b = {i})").format(i=sql.Literal(i)) for i in range(_HIST_BUCKETS)
    )
    return sql.SQL("CASE WHEN count(b) > 0 THEN ARRAY[{parts}]::integer[] END").format(parts=parts)


CREATE_ROLLUP_TABLES = sql.SQL(
    """
    -- Keyed (tenant, hour, ...) so one tenant's rows sit together in the index and, since
    -- each run inserts in key order, mostly together on disk. fillfactor leaves room for
    -- the HOT updates that late events cause.
    CREATE TABLE IF NOT EXISTS {hourly} (
        tenant         varchar(63)  NOT NULL,
        hour           timestamptz  NOT NULL,
        event          varchar(64)  NOT NULL,
        route          varchar(128) NOT NULL,  -- '' when the events had no route
        events         bigint       NOT NULL,
        errors         bigint       NOT NULL,
        tokens         bigint       NOT NULL,
        latency_count  bigint       NOT NULL,  -- events that carried a latency
        latency_ms_sum double precision NOT NULL,
        latency_hist   integer[],              -- NULL when latency_count = 0
        PRIMARY KEY (tenant, hour, event, route)
    ) WITH (fillfactor = 85);
    CREATE TABLE IF NOT EXISTS {tenant_hourly} (
        tenant         varchar(63)  NOT NULL,
        hour           timestamptz  NOT NULL,
        events         bigint       NOT NULL,
        requests       bigint       NOT NULL,
        errors         bigint       NOT NULL,
        tokens         bigint       NOT NULL,
        latency_count  bigint       NOT NULL,
        latency_ms_sum double precision NOT NULL,
        latency_hist   integer[],
        PRIMARY KEY (tenant, hour)
    ) WITH (fillfactor = 85);
    -- Staff views read every tenant for a range of hours: an index-only scan of this one
    -- instead of a heap page per row (rows are stored in tenant order).
    CREATE INDEX IF NOT EXISTS {tenant_hourly_hour_idx} ON {tenant_hourly} (hour)
        INCLUDE (tenant, requests, events, errors, tokens, latency_count, latency_ms_sum);
    CREATE TABLE IF NOT EXISTS {all_hourly} (
        hour           timestamptz  NOT NULL,
        event          varchar(64)  NOT NULL,
        route          varchar(128) NOT NULL,
        events         bigint       NOT NULL,
        errors         bigint       NOT NULL,
        tokens         bigint       NOT NULL,
        latency_count  bigint       NOT NULL,
        latency_ms_sum double precision NOT NULL,
        latency_hist   integer[],
        PRIMARY KEY (hour, event, route)
    ) WITH (fillfactor = 85);
    -- Distinct users: one row per user and UTC month, bit i set if active in hour i.
    -- Rows per month = active users, so any range (and any time zone with whole-hour
    -- offsets) is answered exactly by OR-ing masks, without a row per user per day.
    CREATE TABLE IF NOT EXISTS {user_month} (
        month   date        NOT NULL,
        tenant  varchar(63) NOT NULL,
        user_id bigint      NOT NULL,
        hours   bit(744)    NOT NULL,
        PRIMARY KEY (month, tenant, user_id)
    ) WITH (fillfactor = 85);
    CREATE TABLE IF NOT EXISTS {state} (
        name       text        PRIMARY KEY,
        seq        bigint      NOT NULL,  -- every event with seq <= this is rolled up
        events     bigint      NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO {state} (name, seq) VALUES ({state_name}, 0) ON CONFLICT DO NOTHING;
    CREATE OR REPLACE FUNCTION usage_hist_add(a integer[], b integer[]) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
               ELSE (SELECT array_agg(x + y ORDER BY i) FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i)) END
    $$;
    -- The rollup reads `seq > watermark`; in each partition rows are appended in seq order,
    -- so a BRIN index (a few KB) skips everything already rolled up.
    CREATE INDEX IF NOT EXISTS {seq_brin} ON {events} USING brin (seq) WITH (autosummarize = on);
    -- A cached sequence hands each session a block of values that it may use much later,
    -- so a small seq could then commit long after larger ones; uncached, a value read from
    -- the sequence bounds every value already handed out (see usage_stats/rollup.py).
    ALTER SEQUENCE {events_seq} CACHE 1;
    """
).format(
    hourly=ROLLUP_HOURLY,
    tenant_hourly=ROLLUP_TENANT_HOURLY,
    tenant_hourly_hour_idx=sql.Identifier("usage_rollup_tenant_hourly_hour_cover_idx"),
    all_hourly=ROLLUP_ALL_HOURLY,
    user_month=ROLLUP_USER_MONTH,
    state=ROLLUP_STATE,
    state_name=sql.Literal(ROLLUP_STATE_NAME),
    seq_brin=sql.Identifier("usage_event_seq_brin"),
    events=EVENTS_TABLE,
    events_seq=EVENTS_SEQ,
)

DROP_ROLLUP_TABLES = sql.SQL(
    """
    DROP TABLE IF EXISTS {hourly}, {tenant_hourly}, {all_hourly}, {user_month}, {state};
    DROP FUNCTION IF EXISTS usage_hist_add(integer[], integer[]);
    DROP INDEX IF EXISTS {seq_brin};
    ALTER SEQUENCE {events_seq} CACHE 1000;
    """
).format(
    hourly=ROLLUP_HOURLY,
    tenant_hourly=ROLLUP_TENANT_HOURLY,
    all_hourly=ROLLUP_ALL_HOURLY,
    user_month=ROLLUP_USER_MONTH,
    state=ROLLUP_STATE,
    seq_brin=sql.Identifier("usage_event_seq_brin"),
    events_seq=EVENTS_SEQ,
)

# Empties the rollups and rewinds the watermark (`stats_rollup --rebuild`).
ROLLUP_RESET = sql.SQL(
    "TRUNCATE {hourly}, {tenant_hourly}, {all_hourly}, {user_month};"
    " UPDATE {state} SET seq = 0, events = 0, updated_at = now() WHERE name = {state_name}"
).format(
    hourly=ROLLUP_HOURLY,
    tenant_hourly=ROLLUP_TENANT_HOURLY,
    all_hourly=ROLLUP_ALL_HOURLY,
    user_month=ROLLUP_USER_MONTH,
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
          SELECT to_regclass('usage_event')::oid
          UNION ALL
          SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass('usage_event')
      )
    """
)

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
# The same for a run that would rather not wait (the refresh on a dashboard read).
ROLLUP_STATE_LOCK_SKIP = sql.SQL(
    "SELECT seq FROM {state} WHERE name = %(name)s FOR UPDATE SKIP LOCKED"
).format(state=ROLLUP_STATE)
ROLLUP_STATE_ADVANCE = sql.SQL(
    "UPDATE {state} SET seq = %(seq)s, events = events + %(events)s, updated_at = now() WHERE name = %(name)s"
).format(state=ROLLUP_STATE)
ROLLUP_STATE_READ = sql.SQL("SELECT seq, events, updated_at FROM {state} WHERE name = %(name)s").format(
    state=ROLLUP_STATE
)

# Events with lo < seq <= hi, aggregated per (tenant, hour, event, route). Params: lo, hi, bounds.
ROLLUP_DELTA_CREATE = sql.SQL(
    """
    DROP TABLE IF EXISTS pg_temp.{delta};
    CREATE TEMP TABLE {delta} AS
    SELECT tenant, hour, event, route,
           count(*) AS events,
           count(*) FILTER (WHERE is_error) AS errors,
           coalesce(sum(tokens), 0) AS tokens,
           count(b) AS latency_count,
           coalesce(sum(latency_ms), 0) AS latency_ms_sum,
           {hist} AS latency_hist
    FROM (
        SELECT tenant, date_trunc('hour', occurred_at, 'UTC') AS hour, event, coalesce(route, '') AS route,
               coalesce({is_error}, false) AS is_error, tokens, latency_ms,
               CASE WHEN latency_ms IS NOT NULL
                    THEN width_bucket(latency_ms::float8, %(bounds)s::float8[]) END AS b
        FROM {events}
        WHERE seq > %(lo)s AND seq <= %(hi)s
    ) e
    GROUP BY tenant, hour, event, route
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

# Additive upserts: each event is added exactly once because the watermark moves in the
# same transaction (usage_stats/rollup.py explains when a seq range is safe to add).
ROLLUP_HOURLY_UPSERT = sql.SQL(
    """
    INSERT INTO {hourly} AS r
    SELECT tenant, hour, event, route, events, errors, tokens, latency_count, latency_ms_sum, latency_hist
    FROM {delta} ORDER BY tenant, hour, event, route
    ON CONFLICT (tenant, hour, event, route) DO UPDATE SET {add}
    """
).format(hourly=ROLLUP_HOURLY, delta=ROLLUP_DELTA, add=_ADD_COUNTERS)

ROLLUP_TENANT_HOURLY_UPSERT = sql.SQL(
    """
    INSERT INTO {tenant_hourly} AS r
    SELECT tenant, hour, sum(events), coalesce(sum(events) FILTER (WHERE event = {request}), 0),
           sum(errors), sum(tokens), sum(latency_count), sum(latency_ms_sum), {hist}
    FROM {delta} GROUP BY tenant, hour ORDER BY tenant, hour
    ON CONFLICT (tenant, hour) DO UPDATE SET requests = r.requests + excluded.requests, {add}
    """
).format(
    tenant_hourly=ROLLUP_TENANT_HOURLY,
    delta=ROLLUP_DELTA,
    request=sql.Literal(REQUEST_EVENT),
    hist=_hist_sum("latency_hist"),
    add=_ADD_COUNTERS,
)

ROLLUP_ALL_HOURLY_UPSERT = sql.SQL(
    """
    INSERT INTO {all_hourly} AS r
    SELECT hour, event, route, sum(events), sum(errors), sum(tokens),
           sum(latency_count), sum(latency_ms_sum), {hist}
    FROM {delta} GROUP BY hour, event, route ORDER BY hour, event, route
    ON CONFLICT (hour, event, route) DO UPDATE SET {add}
    """
).format(all_hourly=ROLLUP_ALL_HOURLY, delta=ROLLUP_DELTA, hist=_hist_sum("latency_hist"), add=_ADD_COUNTERS)

ROLLUP_DELTA_EVENTS = sql.SQL("SELECT coalesce(sum(events), 0) FROM {delta}").format(delta=ROLLUP_DELTA)

# Setting a bit is idempotent, so re-adding a user-hour never changes a count.
ROLLUP_USERS_UPSERT = sql.SQL(
    """
    INSERT INTO {user_month} AS r (month, tenant, user_id, hours)
    SELECT month, tenant, user_id, bit_or(set_bit(B'0'::bit(744), hour_index, 1))
    FROM (
        SELECT DISTINCT
               (date_trunc('month', occurred_at, 'UTC') AT TIME ZONE 'UTC')::date AS month,
               tenant, user_id,
               (extract(epoch FROM date_trunc('hour', occurred_at, 'UTC')
                                   - date_trunc('month', occurred_at, 'UTC')) / 3600)::int AS hour_index
        FROM {events}
        WHERE seq > %(lo)s AND seq <= %(hi)s AND user_id IS NOT NULL
    ) d
    GROUP BY month, tenant, user_id
    ORDER BY month, tenant, user_id
    ON CONFLICT (month, tenant, user_id) DO UPDATE SET hours = r.hours | excluded.hours
    """
).format(user_month=ROLLUP_USER_MONTH, events=EVENTS_TABLE)

# --- Dashboard reads (rollups only) ------------------------------------------------
# Params: start, end (UTC hour bounds, end exclusive); tenant where scoped; edges: the
# timestamptz lower bounds of the chart buckets (width_bucket numbers them from 1).

_SUMS = sql.SQL(
    "coalesce(sum(events), 0), coalesce(sum(errors), 0), coalesce(sum(tokens), 0),"
    " coalesce(sum(latency_count), 0), coalesce(sum(latency_ms_sum), 0)"
)


def _scoped(table: sql.Identifier, tenant: bool) -> sql.Composable:
    cond = sql.SQL("tenant = %(tenant)s AND ") if tenant else sql.SQL("")
    return sql.SQL("FROM {table} WHERE {cond}hour >= %(start)s AND hour < %(end)s").format(
        table=table, cond=cond
    )


# requests, events, errors, tokens, latency_count, latency_ms_sum, latency_hist
DASH_TOTALS_ALL = sql.SQL(
    "SELECT coalesce(sum(events) FILTER (WHERE event = {request}), 0), {sums}, {hist} {src}"
).format(
    request=sql.Literal(REQUEST_EVENT),
    sums=_SUMS,
    hist=_hist_sum("latency_hist"),
    src=_scoped(ROLLUP_ALL_HOURLY, False),
)
DASH_TOTALS_TENANT = sql.SQL("SELECT coalesce(sum(requests), 0), {sums}, {hist} {src}").format(
    sums=_SUMS, hist=_hist_sum("latency_hist"), src=_scoped(ROLLUP_TENANT_HOURLY, True)
)

# bucket, requests, events, errors
_BUCKET = sql.SQL("width_bucket(hour, %(edges)s::timestamptz[]) AS bucket")
DASH_SERIES_ALL = sql.SQL(
    "SELECT {bucket}, coalesce(sum(events) FILTER (WHERE event = {request}), 0), sum(events), sum(errors)"
    " {src} GROUP BY bucket ORDER BY bucket"
).format(bucket=_BUCKET, request=sql.Literal(REQUEST_EVENT), src=_scoped(ROLLUP_ALL_HOURLY, False))
DASH_SERIES_TENANT = sql.SQL(
    "SELECT {bucket}, sum(requests), sum(events), sum(errors) {src} GROUP BY bucket ORDER BY bucket"
).format(bucket=_BUCKET, src=_scoped(ROLLUP_TENANT_HOURLY, True))

# tenant, bucket, requests: the per-tenant chart on the staff dashboard.
DASH_SERIES_BY_TENANT = sql.SQL(
    "SELECT tenant, {bucket}, sum(requests) {src} GROUP BY tenant, bucket"
).format(bucket=_BUCKET, src=_scoped(ROLLUP_TENANT_HOURLY, False))

# tenant, requests, events, errors, tokens, latency_count, latency_ms_sum (no histogram:
# merging one per tenant-hour over every tenant would triple the cost of this query)
DASH_TOP_TENANTS = sql.SQL(
    "SELECT tenant, sum(requests), {sums} {src} GROUP BY tenant ORDER BY 3 DESC, tenant LIMIT %(limit)s"
).format(sums=_SUMS, src=_scoped(ROLLUP_TENANT_HOURLY, False))

# event, events, errors, tokens, latency_count, latency_ms_sum
_BY_EVENT = "SELECT event, {sums} {src} GROUP BY event ORDER BY 2 DESC, event"
DASH_EVENTS_ALL = sql.SQL(_BY_EVENT).format(sums=_SUMS, src=_scoped(ROLLUP_ALL_HOURLY, False))
DASH_EVENTS_TENANT = sql.SQL(_BY_EVENT).format(sums=_SUMS, src=_scoped(ROLLUP_HOURLY, True))

# route, events, errors, tokens, latency_count, latency_ms_sum, latency_hist
_BY_ROUTE = "SELECT route, {sums}, {hist} {src} AND latency_count > 0 GROUP BY route ORDER BY 2 DESC, route"
DASH_ROUTES_ALL = sql.SQL(_BY_ROUTE).format(
    sums=_SUMS, hist=_hist_sum("latency_hist"), src=_scoped(ROLLUP_ALL_HOURLY, False)
)
DASH_ROUTES_TENANT = sql.SQL(_BY_ROUTE).format(
    sums=_SUMS, hist=_hist_sum("latency_hist"), src=_scoped(ROLLUP_HOURLY, True)
)

# Distinct users. Params: months (date[]) with firsts and lens (int[]): the span of each
# month's hours inside the range (hour index from 0, count). bit_count(substring(...)) is
# ~10x cheaper than AND-ing a 744-bit mask per row.
_ACTIVE = sql.SQL(
    "FROM {user_month} u"
    " JOIN unnest(%(months)s::date[], %(firsts)s::int[], %(lens)s::int[]) AS m(month, first_hour, hours_n)"
    " USING (month)"
    " WHERE u.month = ANY(%(months)s::date[])"
    " AND bit_count(substring(u.hours FROM m.first_hour + 1 FOR m.hours_n)) > 0"
).format(user_month=ROLLUP_USER_MONTH)
DASH_ACTIVE_USERS_ALL = sql.SQL(
    "SELECT count(*) FROM (SELECT DISTINCT u.tenant, u.user_id {active}) x"
).format(active=_ACTIVE)
DASH_ACTIVE_USERS_TENANT = sql.SQL(
    "SELECT count(DISTINCT u.user_id) {active} AND u.tenant = %(tenant)s"
).format(active=_ACTIVE)
DASH_ACTIVE_USERS_BY_TENANT = sql.SQL(
    "SELECT u.tenant, count(DISTINCT u.user_id) {active}"
    " AND u.tenant = ANY(%(tenants)s::text[]) GROUP BY u.tenant"
).format(active=_ACTIVE)
# Per chart bucket (params also buckets int[] and splits bool[]): a user has one row per
# month, so only a bucket that spans two months (`split`) needs a DISTINCT.
DASH_ACTIVE_USERS_SERIES = sql.SQL(
    """
    WITH active AS (
        SELECT m.bucket, m.split, u.user_id
        FROM {user_month} u
        JOIN unnest(%(buckets)s::int[], %(months)s::date[], %(firsts)s::int[], %(lens)s::int[],
                    %(splits)s::bool[]) AS m(bucket, month, first_hour, hours_n, split) USING (month)
        WHERE u.month = ANY(%(months)s::date[]) AND u.tenant = %(tenant)s
          AND bit_count(substring(u.hours FROM m.first_hour + 1 FOR m.hours_n)) > 0
    )
    SELECT bucket, count(*) FROM active WHERE NOT split GROUP BY bucket
    UNION ALL
    SELECT bucket, count(DISTINCT user_id) FROM active WHERE split GROUP BY bucket
    """
).format(user_month=ROLLUP_USER_MONTH)

# Raw events of one tenant and range, oldest first, for the streamed CSV export.
EXPORT_EVENTS = sql.SQL(
    "SELECT occurred_at, event_id, user_id, event, route, method, status, latency_ms, tokens, properties"
    " FROM {events} WHERE tenant = %(tenant)s AND occurred_at >= %(start)s AND occurred_at < %(end)s"
    " ORDER BY occurred_at, event_id"
).format(events=EVENTS_TABLE)

# Dashboard reads are short aggregates: JIT would only add its compile time, and hashing
# the distinct users of a month must not spill to disk.
DASH_SESSION_SETUP = sql.SQL("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")

# --- Synthetic events (stats_generate, make bench) ----------------------------------
# "Is there any usage yet?": request events, real or synthetic. Domain events such as
# tenant.created (written while seeding the demo tenants) do not make a dashboard look alive.
EVENTS_EXIST = sql.SQL("SELECT EXISTS (SELECT 1 FROM {events} WHERE event = 'request')").format(
    events=EVENTS_TABLE
)

# Rows first..last of `total`, spread evenly over [start, end) and then, within each UTC
# day, pushed towards the afternoon; one tenant has `big_share` of the rows and the rest
# are skewed; users come from each tenant's pool; event kinds from a weighted catalogue
# of slots (arrays indexed alike); latencies are log-normal. seq, drawn in row order,
# follows time.
GENERATE_EVENTS = sql.SQL(
    """
    INSERT INTO {events} (event_id, occurred_at, tenant, user_id, event, route, method, status,
                          latency_ms, tokens, properties)
    SELECT gen_random_uuid(),
           CASE WHEN warped < %(end)s THEN warped ELSE t_lin END,
           (%(tenants)s::text[])[tenant_index],
           CASE WHEN r_anon < 0.06 THEN NULL
                ELSE 1 + floor(r_user * r_user * (%(pools)s::int[])[tenant_index])::bigint END,
           (%(kinds)s::text[])[slot],
           nullif((%(routes)s::text[])[slot], ''),
           nullif((%(methods)s::text[])[slot], ''),
           CASE WHEN (%(methods)s::text[])[slot] = '' THEN NULL
                WHEN r_status < (%(error_rates)s::float8[])[slot]
                     THEN (ARRAY[500, 502, 503])[1 + floor(r_lat2 * 3)::int]
                WHEN r_status > 0.97 THEN (ARRAY[400, 403, 404])[1 + floor(r_lat2 * 3)::int]
                ELSE 200 END,
           CASE WHEN (%(medians)s::float8[])[slot] > 0 THEN
                (%(medians)s::float8[])[slot] * exp((%(sigmas)s::float8[])[slot]
                    * sqrt(-2 * ln(1 - r_lat1)) * cos(2 * pi() * r_lat2)) END,
           CASE WHEN (%(token_max)s::int[])[slot] > 0
                THEN 20 + floor(r_tok * (%(token_max)s::int[])[slot])::int END,
           CASE WHEN (%(methods)s::text[])[slot] = '' AND r_status < (%(error_rates)s::float8[])[slot]
                THEN '{{"failed": true}}'::jsonb END
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
    CROSS JOIN LATERAL (
        SELECT ((g - 1) + random()) / %(total)s AS u, random() AS r_tenant, random() AS r_slot,
               random() AS r_user, random() AS r_anon, random() AS r_status,
               random() AS r_lat1, random() AS r_lat2, random() AS r_tok
    ) r
    CROSS JOIN LATERAL (
        SELECT %(start)s::timestamptz + make_interval(secs => u * %(span_s)s) AS t_lin,
               CASE WHEN r_tenant < %(big_share)s OR cardinality(%(tenants)s::text[]) = 1 THEN 1
                    ELSE 2 + floor(power((r_tenant - %(big_share)s) / (1 - %(big_share)s), 1.6)
                                   * (cardinality(%(tenants)s::text[]) - 1))::int END AS tenant_index,
               1 + floor(r_slot * cardinality(%(kinds)s::text[]))::int AS slot
    ) t
    CROSS JOIN LATERAL (SELECT date_trunc('day', t_lin, 'UTC') AS day_start) d
    CROSS JOIN LATERAL (SELECT extract(epoch FROM t_lin - day_start) / 86400 AS frac) f
    -- f(v) = v - A (sin 2pi(v - p) + sin 2pi p) / 2pi maps [0, 1] onto itself, densest near p.
    CROSS JOIN LATERAL (
        SELECT day_start + make_interval(
                   secs => 86400 * (frac - 0.6 * (sin(2 * pi() * (frac - 0.58)) + sin(2 * pi() * 0.58))
                                           / (2 * pi()))
               ) AS warped
    ) w
    """
).format(events=EVENTS_TABLE)
