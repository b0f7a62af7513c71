"""Hourly rollups, distinct-user bitmaps and the rollup watermark (usage_stats/rollups).

Literal DDL, frozen here (see 0001).
"""

from django.db import migrations

CREATE_ROLLUPS = """
    -- Keyed (tenant, hour, ...) so one tenant's rows sit together in the index and, since
    -- each run inserts in key order, mostly together on disk. fillfactor leaves room for
    -- the HOT updates that late events cause.
    CREATE TABLE IF NOT EXISTS "usage_rollup_hourly" (
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
    CREATE TABLE IF NOT EXISTS "usage_rollup_tenant_hourly" (
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
    CREATE INDEX IF NOT EXISTS "usage_rollup_tenant_hourly_hour_cover_idx" ON "usage_rollup_tenant_hourly" (hour)
        INCLUDE (tenant, requests, events, errors, tokens, latency_count, latency_ms_sum);
    CREATE TABLE IF NOT EXISTS "usage_rollup_all_hourly" (
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
    CREATE TABLE IF NOT EXISTS "usage_rollup_user_month" (
        month   date        NOT NULL,
        tenant  varchar(63) NOT NULL,
        user_id bigint      NOT NULL,
        hours   bit(744)    NOT NULL,
        PRIMARY KEY (month, tenant, user_id)
    ) WITH (fillfactor = 85);
    CREATE TABLE IF NOT EXISTS "usage_rollup_state" (
        name       text        PRIMARY KEY,
        seq        bigint      NOT NULL,  -- every event with seq <= this is rolled up
        events     bigint      NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO "usage_rollup_state" (name, seq) VALUES ('events', 0) ON CONFLICT DO NOTHING;
    CREATE OR REPLACE FUNCTION usage_hist_add(a integer[], b integer[]) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
               ELSE (SELECT array_agg(x + y ORDER BY i) FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i)) END
    $$;
    -- The rollup reads `seq > watermark`; in each partition rows are appended in seq order,
    -- so a BRIN index (a few KB) skips everything already rolled up.
    CREATE INDEX IF NOT EXISTS "usage_event_seq_brin" ON "usage_event" USING brin (seq) WITH (autosummarize = on);
    -- A cached sequence hands each session a block of values that it may use much later,
    -- so a small seq could then commit long after larger ones; uncached, a value read from
    -- the sequence bounds every value already handed out (see usage_stats/rollups/rollup.py).
    ALTER SEQUENCE "usage_event_seq" CACHE 1;
    """

DROP_ROLLUPS = """
DROP TABLE IF EXISTS "usage_rollup_hourly", "usage_rollup_tenant_hourly", "usage_rollup_all_hourly", "usage_rollup_user_month", "usage_rollup_state";
DROP FUNCTION IF EXISTS usage_hist_add(integer[], integer[]);
DROP INDEX IF EXISTS "usage_event_seq_brin";
ALTER SEQUENCE "usage_event_seq" CACHE 1000;
"""


class Migration(migrations.Migration):
    dependencies = [("usage_stats", "0001_events")]
    operations = [migrations.RunSQL(CREATE_ROLLUPS, DROP_ROLLUPS)]
