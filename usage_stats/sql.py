"""Every SQL statement the stats pipeline runs, named, composed with psycopg2.sql.

Nothing outside this module writes SQL for the stats database.
"""

from psycopg2 import sql

EVENTS_TABLE = sql.Identifier("usage_event")

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
    """
).format(
    table=EVENTS_TABLE,
    seq=sql.Identifier("usage_event_seq"),
    default_partition=sql.Identifier("usage_event_default"),
    tenant_index=sql.Identifier("usage_event_tenant_occurred_idx"),
)

DROP_EVENTS_TABLE = sql.SQL("DROP TABLE IF EXISTS {table} CASCADE; DROP SEQUENCE IF EXISTS {seq}").format(
    table=EVENTS_TABLE, seq=sql.Identifier("usage_event_seq")
)
