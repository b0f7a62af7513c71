"""The statements the ingest path runs against the stats database, and the shape of the
events table it writes (created by migration 0001; tests/usage_stats/test_schema.py
checks that the two agree).

Values always travel as COPY data or query parameters; identifiers are composed with
`sql.Identifier`.
"""

from psycopg2 import sql

EVENTS_TABLE_NAME = "usage_event"
EVENTS_TABLE = sql.Identifier(EVENTS_TABLE_NAME)
EVENTS_SEQ = sql.Identifier("usage_event_seq")
STAGING_TABLE = sql.Identifier("usage_event_staging")

# Every column the collector writes, in COPY order. `seq` is left to its default.
# tenant_id, event, route and method are adjacent: the encoder serialises that run once per
# distinct combination (a handful per process) and reuses it.
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "tenant_id",
    "event",
    "route",
    "method",
    "user_id",
    "status",
    "latency_ms",
    "tokens",
    "properties",
)
COLUMNS = sql.SQL(", ").join(sql.Identifier(name) for name in EVENT_COLUMNS)

# Field limits: the varchar lengths of migration 0001, enforced before COPY.
MAX_EVENT_LEN = 64
MAX_ROUTE_LEN = 128
MAX_METHOD_LEN = 10
MAX_PROPERTIES_BYTES = 4096

# The flusher's own session: no JIT on tiny statements, and a bound on any one statement.
FLUSHER_SESSION_SETUP = sql.SQL(
    "SELECT set_config('jit', 'off', false), set_config('statement_timeout', %(statement_timeout)s, false),"
    " set_config('application_name', %(application_name)s, false)"
)

# The fast path: one COPY per batch (text format, rows serialised by the encoder).
COPY_EVENTS = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(table=EVENTS_TABLE, columns=COLUMNS)

# The slow path after a retry whose first attempt may have committed: stage the batch, then
# insert only the event_ids not already stored. Run inside one transaction.
# The column types are spelled out (as in migration 0001): the flusher's role may insert
# events but not read them, so it cannot copy the table's shape with a SELECT.
STAGING_COLUMN_TYPES = {
    "event_id": "uuid",
    "occurred_at": "timestamptz",
    "tenant_id": "uuid",
    "event": "varchar(64)",
    "route": "varchar(128)",
    "method": "varchar(10)",
    "user_id": "bigint",
    "status": "smallint",
    "latency_ms": "real",
    "tokens": "integer",
    "properties": "jsonb",
}
CREATE_STAGING_TABLE = sql.SQL(
    "CREATE TEMP TABLE IF NOT EXISTS {staging} ({columns}) ON COMMIT DELETE ROWS"
).format(
    staging=STAGING_TABLE,
    columns=sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(STAGING_COLUMN_TYPES[name]))
        for name in EVENT_COLUMNS
    ),
)
COPY_STAGING = sql.SQL("COPY {staging} ({columns}) FROM STDIN").format(staging=STAGING_TABLE, columns=COLUMNS)
# RETURNING: the count of rows really inserted. (On Citus, an INSERT ... SELECT from a local
# table reports the rows it read as its row count; the rows it returns are the inserted ones.)
INSERT_FROM_STAGING = sql.SQL(
    "INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING RETURNING 1"
).format(table=EVENTS_TABLE, columns=COLUMNS, staging=STAGING_TABLE)
