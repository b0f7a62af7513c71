"""Partition maintenance and tenant-row deletion on the stats database: named statements,
identifiers composed with `sql.Identifier`, values as parameters. The tables themselves
are the migrations' (usage_stats/migrations)."""

from psycopg2 import sql

from usage_stats.ingest.sql import EVENTS_TABLE, EVENTS_TABLE_NAME

DEFAULT_PARTITION_NAME = "usage_event_default"
DEFAULT_PARTITION = sql.Identifier(DEFAULT_PARTITION_NAME)
# Monthly partitions are named usage_event_pYYYYMM (UTC months).
PARTITION_PREFIX = "usage_event_p"

# Serialises partition maintenance between concurrent runs (commands, migrate_stats).
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

EVENTS_TABLE_EXISTS = sql.SQL("SELECT to_regclass({name}) IS NOT NULL").format(
    name=sql.Literal(EVENTS_TABLE_NAME)
)

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


def partition_create_from_default(name: str) -> tuple[sql.Composed, ...]:
    """Create a month's partition and move that month's rows out of DEFAULT into it.

    A plain CREATE … PARTITION OF is refused while DEFAULT holds rows of the new range, so
    the rows go to a temp table first. One statement per query and no DELETE … RETURNING:
    Citus (docs/scale-out.md) needs both for its distributed events table, where the new
    partition is then distributed (empty) as it is created. DEFAULT is locked against
    writes from the first statement, so no row of the month can slip in between.
    Params: start, end. Run the statements in order inside one transaction.
    """
    moving = sql.Identifier("usage_event_moving")
    in_range = sql.SQL("occurred_at >= %(start)s AND occurred_at < %(end)s")
    return (
        sql.SQL("LOCK TABLE {default_partition} IN EXCLUSIVE MODE").format(
            default_partition=DEFAULT_PARTITION
        ),
        sql.SQL(
            "CREATE TEMP TABLE {moving} ON COMMIT DROP AS SELECT * FROM {default_partition} WHERE {r}"
        ).format(moving=moving, default_partition=DEFAULT_PARTITION, r=in_range),
        sql.SQL("DELETE FROM {default_partition} WHERE {r}").format(
            default_partition=DEFAULT_PARTITION, r=in_range
        ),
        partition_create(name),
        sql.SQL("INSERT INTO {partition} SELECT * FROM {moving}").format(
            partition=sql.Identifier(name), moving=moving
        ),
        sql.SQL("DROP TABLE {moving}").format(moving=moving),
    )


def partition_drop(name: str) -> sql.Composed:
    return sql.SQL("DROP TABLE IF EXISTS {partition}").format(partition=sql.Identifier(name))


# --- Tenant deletion -------------------------------------------------------------------

# Tables holding per-tenant rows: every table with a `tenant_id` column. Partitions are reached
# through their parent; views and foreign tables are left alone.
TABLES_WITH_TENANT_COLUMN = sql.SQL(
    """
    SELECT c.table_schema, c.table_name FROM information_schema.columns c
    JOIN pg_catalog.pg_class r ON r.relname = c.table_name
     AND r.relnamespace = c.table_schema::regnamespace
    WHERE c.column_name = 'tenant_id' AND r.relkind IN ('r', 'p') AND NOT r.relispartition
      AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
    """
)


def delete_tenant_rows(*, schema: str, table: str) -> sql.Composed:
    return sql.SQL("DELETE FROM {} WHERE tenant_id = %(tenant_id)s").format(sql.Identifier(schema, table))
