"""Usage stats keyed by the tenant's uuid (`tenants_client.uuid`, never reused) instead of
its schema name (a routing label that a rename or a purge can reuse).

- `usage_event` gets `tenant_id uuid NOT NULL`, filled from the default database's
  `tenants_client` (schema_name -> uuid) in Python below, because the stats database may be
  another database. Events of a schema name no tenant has any more (deleted before this
  migration) get `uuid5(STATS_ORPHAN_NAMESPACE, schema_name)`: still counted, still
  purgeable by that id. The `tenant` column is dropped; the primary key becomes
  (tenant_id, occurred_at, event_id), which also serves per-tenant range reads and lets the
  table be distributed by tenant_id (a distributed table's keys must hold its column).
- The rollups are recreated keyed by tenant_id, with quarter-hour tables beside the hourly
  ones (exact local days in zones such as UTC+05:45, usage_stats/dashboards/periods.py)
  and per-user activity bitmaps per quarter-hour. They are derived data: the watermark is
  rewound and the `usage-rollup` job (or `stats_rollup`) adds every stored event again.
  Hours whose raw partitions retention has already dropped are not rebuilt.

Literal DDL, frozen here (see 0001).
"""

import uuid

from django.db import migrations

# uuid5 namespace for events of schema names without a tenant row (see the docstring).
STATS_ORPHAN_NAMESPACE = uuid.UUID("6f1d3c1e-2f43-4a43-9c0e-2b0b8c1a7e55")

ADD_TENANT_ID = """
    ALTER TABLE "usage_event" ADD COLUMN IF NOT EXISTS tenant_id uuid;
    """

FINISH_EVENTS = """
    ALTER TABLE "usage_event" ALTER COLUMN tenant_id SET NOT NULL;
    ALTER TABLE "usage_event" DROP CONSTRAINT IF EXISTS "usage_event_pkey";
    ALTER TABLE "usage_event" ADD CONSTRAINT "usage_event_pkey" PRIMARY KEY (tenant_id, occurred_at, event_id);
    DROP INDEX IF EXISTS "usage_event_tenant_occurred_idx";
    ALTER TABLE "usage_event" DROP COLUMN IF EXISTS tenant;
    """

RECREATE_ROLLUPS = """
    DROP TABLE IF EXISTS "usage_rollup_hourly", "usage_rollup_tenant_hourly", "usage_rollup_all_hourly",
        "usage_rollup_user_month";
    -- Keyed (tenant_id, time, ...) so one tenant's rows sit together in the index and, since
    -- each run inserts in key order, mostly together on disk. fillfactor leaves room for
    -- the HOT updates that late events cause. `bucket` is the start of a UTC hour in the
    -- *_hourly tables and of a UTC quarter-hour in the *_quarter ones.
    CREATE TABLE "usage_rollup_hourly" (
        tenant_id      uuid         NOT NULL,
        bucket         timestamptz  NOT NULL,
        event          varchar(64)  NOT NULL,
        route          varchar(128) NOT NULL,  -- '' when the events had no route
        events         bigint       NOT NULL,
        errors         bigint       NOT NULL,
        tokens         bigint       NOT NULL,
        latency_count  bigint       NOT NULL,  -- events that carried a latency
        latency_ms_sum double precision NOT NULL,
        latency_hist   integer[],              -- NULL when latency_count = 0
        PRIMARY KEY (tenant_id, bucket, event, route)
    ) WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_quarter" (LIKE "usage_rollup_hourly" INCLUDING ALL) WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_tenant_hourly" (
        tenant_id      uuid         NOT NULL,
        bucket         timestamptz  NOT NULL,
        requests       bigint       NOT NULL,  -- user requests (`request` events)
        events         bigint       NOT NULL,
        errors         bigint       NOT NULL,
        tokens         bigint       NOT NULL,
        latency_count  bigint       NOT NULL,  -- events that carried a latency
        latency_ms_sum double precision NOT NULL,
        latency_hist   integer[],              -- NULL when latency_count = 0
        PRIMARY KEY (tenant_id, bucket)
    ) WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_tenant_quarter" (LIKE "usage_rollup_tenant_hourly" INCLUDING ALL)
        WITH (fillfactor = 85);
    -- Staff views read every tenant for a range of hours: an index-only scan of this one
    -- instead of a heap page per row.
    CREATE INDEX "usage_rollup_tenant_hourly_bucket_cover_idx" ON "usage_rollup_tenant_hourly" (bucket)
        INCLUDE (tenant_id, requests, events, errors, tokens, latency_count, latency_ms_sum);
    CREATE INDEX "usage_rollup_tenant_quarter_bucket_cover_idx" ON "usage_rollup_tenant_quarter" (bucket)
        INCLUDE (tenant_id, requests, events, errors, tokens, latency_count, latency_ms_sum);
    -- All tenants together: no tenant_id, so it stays a plain table beside distributed ones.
    CREATE TABLE "usage_rollup_all_hourly" (
        bucket         timestamptz  NOT NULL,
        event          varchar(64)  NOT NULL,
        route          varchar(128) NOT NULL,
        events         bigint       NOT NULL,
        errors         bigint       NOT NULL,
        tokens         bigint       NOT NULL,
        latency_count  bigint       NOT NULL,  -- events that carried a latency
        latency_ms_sum double precision NOT NULL,
        latency_hist   integer[],              -- NULL when latency_count = 0
        PRIMARY KEY (bucket, event, route)
    ) WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_all_quarter" (LIKE "usage_rollup_all_hourly" INCLUDING ALL) WITH (fillfactor = 85);
    -- Distinct users: one row per tenant, user and UTC month, bit i set if the user had an
    -- event in the i-th UTC quarter-hour of the month (2976 = 31 days x 96), so any range of
    -- quarter-hours (every local day of every zone in use) is answered exactly.
    CREATE TABLE "usage_rollup_user_month" (
        tenant_id uuid        NOT NULL,
        month     date        NOT NULL,
        user_id   bigint      NOT NULL,
        quarters  bit(2976)   NOT NULL,
        PRIMARY KEY (tenant_id, month, user_id)
    ) WITH (fillfactor = 85);
    CREATE INDEX "usage_rollup_user_month_month_idx" ON "usage_rollup_user_month" (month, tenant_id);
    UPDATE "usage_rollup_state" SET seq = 0, events = 0, updated_at = now() WHERE name = 'events';
    """

DROP_NEW_ROLLUPS = """
    DROP TABLE IF EXISTS "usage_rollup_hourly", "usage_rollup_quarter", "usage_rollup_tenant_hourly",
        "usage_rollup_tenant_quarter", "usage_rollup_all_hourly", "usage_rollup_all_quarter",
        "usage_rollup_user_month";
    """

# Fill tenant_id for one schema name at a time (params: uuid, schema).
_FILL = 'UPDATE "usage_event" SET tenant_id = %s WHERE tenant = %s AND tenant_id IS NULL'


def tenant_ids_fill(apps, schema_editor) -> None:
    """Map every stored schema name to its tenant's uuid, read from the default database."""
    from django.db import connections

    stats = schema_editor.connection
    with stats.cursor() as cursor:
        cursor.execute('SELECT DISTINCT tenant FROM "usage_event" WHERE tenant_id IS NULL')
        names = [row[0] for row in cursor.fetchall()]
    if not names:
        return
    mapping: dict[str, uuid.UUID] = {}
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.tenants_client') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(
                "SELECT schema_name, uuid FROM public.tenants_client WHERE schema_name = ANY(%s)", [names]
            )
            mapping = dict(cursor.fetchall())
    with stats.cursor() as cursor:
        for name in names:
            tenant_id = mapping.get(name) or uuid.uuid5(STATS_ORPHAN_NAMESPACE, name)
            cursor.execute(_FILL, [str(tenant_id), name])


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("usage_stats", "0002_rollups")]
    operations = [
        migrations.RunSQL(ADD_TENANT_ID, migrations.RunSQL.noop),
        migrations.RunPython(tenant_ids_fill, migrations.RunPython.noop),
        migrations.RunSQL(FINISH_EVENTS, migrations.RunSQL.noop),
        migrations.RunSQL(RECREATE_ROLLUPS, DROP_NEW_ROLLUPS),
    ]
