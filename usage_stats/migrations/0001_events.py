"""The events table: partitioned by month on occurred_at, with a DEFAULT partition so an
insert is never refused (usage_stats/storage makes the monthly partitions).

Literal DDL, frozen here: runtime code never creates these tables, and a later change is
a new migration. tests/usage_stats/test_schema.py checks that the runtime statements
(usage_stats/ingest/sql.py and the other stages') fit the table this creates.
"""

from django.db import migrations

CREATE_EVENTS = """
    CREATE SEQUENCE IF NOT EXISTS "usage_event_seq" CACHE 1000;
    CREATE TABLE IF NOT EXISTS "usage_event" (
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
    CREATE TABLE IF NOT EXISTS "usage_event_default" PARTITION OF "usage_event" DEFAULT;
    CREATE INDEX IF NOT EXISTS "usage_event_tenant_occurred_idx" ON "usage_event" (tenant, occurred_at);
    -- Time-range scans (rollups of one hour) read few pages; 32 KB per monthly partition.
    CREATE INDEX IF NOT EXISTS "usage_event_occurred_brin" ON "usage_event" USING brin (occurred_at);
    """

DROP_EVENTS = """
DROP TABLE IF EXISTS "usage_event" CASCADE; DROP SEQUENCE IF EXISTS "usage_event_seq"
"""


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunSQL(CREATE_EVENTS, DROP_EVENTS)]
