"""Six-hour rollups (UTC 00:00, 06:00, 12:00, 18:00) beside the quarter-hour, hourly and
daily ones, so a local day far from a UTC midnight is read as a UTC day plus or minus a
six-hour block and a few quarter-hours (usage_stats/dashboards/periods.py): an
Asia/Kathmandu day (18:15 UTC) needs one block and one quarter-hour per edge, not five
hours and three quarter-hours; no offset is more than three hours from a block edge.

Filled from the quarter-hour rollups already stored (each block is the sum of its 24
quarter-hours, histograms bucket by bucket), so nothing is rebuilt from raw events and
months whose raw partitions retention dropped keep their figures. On Citus the two
per-tenant tables are distributed by tenant_id and co-located with the events, like 0005
does for the others; the all-tenant one stays a local table.

Literal DDL, frozen here (see 0001).
"""

from django.db import migrations

CREATE_SIX_HOUR = """
    CREATE TABLE "usage_rollup_sixhour" (LIKE "usage_rollup_hourly" INCLUDING ALL) WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_tenant_sixhour" (LIKE "usage_rollup_tenant_hourly" INCLUDING ALL)
        WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_all_sixhour" (LIKE "usage_rollup_all_hourly" INCLUDING ALL) WITH (fillfactor = 85);
    """

FILL_SIX_HOUR = """
    INSERT INTO "usage_rollup_sixhour" (tenant_id, bucket, event, route, events, errors, tokens, latency_count,
        latency_ms_sum, latency_hist)
    SELECT tenant_id, date_bin('6 hours', bucket, TIMESTAMPTZ '2000-01-01 00:00+00') AS b, event, route,
           sum(events), sum(errors), sum(tokens), sum(latency_count), sum(latency_ms_sum),
           CASE WHEN sum(latency_count) > 0 THEN ARRAY[
               coalesce(sum(latency_hist[1]), 0), coalesce(sum(latency_hist[2]), 0), coalesce(sum(latency_hist[3]), 0),
               coalesce(sum(latency_hist[4]), 0), coalesce(sum(latency_hist[5]), 0), coalesce(sum(latency_hist[6]), 0),
               coalesce(sum(latency_hist[7]), 0), coalesce(sum(latency_hist[8]), 0), coalesce(sum(latency_hist[9]), 0),
               coalesce(sum(latency_hist[10]), 0), coalesce(sum(latency_hist[11]), 0), coalesce(sum(latency_hist[12]), 0),
               coalesce(sum(latency_hist[13]), 0), coalesce(sum(latency_hist[14]), 0), coalesce(sum(latency_hist[15]), 0),
               coalesce(sum(latency_hist[16]), 0), coalesce(sum(latency_hist[17]), 0), coalesce(sum(latency_hist[18]), 0),
               coalesce(sum(latency_hist[19]), 0), coalesce(sum(latency_hist[20]), 0), coalesce(sum(latency_hist[21]), 0),
               coalesce(sum(latency_hist[22]), 0), coalesce(sum(latency_hist[23]), 0), coalesce(sum(latency_hist[24]), 0),
               coalesce(sum(latency_hist[25]), 0), coalesce(sum(latency_hist[26]), 0), coalesce(sum(latency_hist[27]), 0),
               coalesce(sum(latency_hist[28]), 0)]::integer[] END
    FROM "usage_rollup_quarter" GROUP BY tenant_id, b, event, route;
    INSERT INTO "usage_rollup_tenant_sixhour" (tenant_id, bucket, requests, events, errors, tokens, latency_count,
        latency_ms_sum, latency_hist)
    SELECT tenant_id, date_bin('6 hours', bucket, TIMESTAMPTZ '2000-01-01 00:00+00') AS b, sum(requests),
           sum(events), sum(errors), sum(tokens), sum(latency_count), sum(latency_ms_sum),
           CASE WHEN sum(latency_count) > 0 THEN ARRAY[
               coalesce(sum(latency_hist[1]), 0), coalesce(sum(latency_hist[2]), 0), coalesce(sum(latency_hist[3]), 0),
               coalesce(sum(latency_hist[4]), 0), coalesce(sum(latency_hist[5]), 0), coalesce(sum(latency_hist[6]), 0),
               coalesce(sum(latency_hist[7]), 0), coalesce(sum(latency_hist[8]), 0), coalesce(sum(latency_hist[9]), 0),
               coalesce(sum(latency_hist[10]), 0), coalesce(sum(latency_hist[11]), 0), coalesce(sum(latency_hist[12]), 0),
               coalesce(sum(latency_hist[13]), 0), coalesce(sum(latency_hist[14]), 0), coalesce(sum(latency_hist[15]), 0),
               coalesce(sum(latency_hist[16]), 0), coalesce(sum(latency_hist[17]), 0), coalesce(sum(latency_hist[18]), 0),
               coalesce(sum(latency_hist[19]), 0), coalesce(sum(latency_hist[20]), 0), coalesce(sum(latency_hist[21]), 0),
               coalesce(sum(latency_hist[22]), 0), coalesce(sum(latency_hist[23]), 0), coalesce(sum(latency_hist[24]), 0),
               coalesce(sum(latency_hist[25]), 0), coalesce(sum(latency_hist[26]), 0), coalesce(sum(latency_hist[27]), 0),
               coalesce(sum(latency_hist[28]), 0)]::integer[] END
    FROM "usage_rollup_tenant_quarter" GROUP BY tenant_id, b;
    INSERT INTO "usage_rollup_all_sixhour" (bucket, event, route, events, errors, tokens, latency_count,
        latency_ms_sum, latency_hist)
    SELECT date_bin('6 hours', bucket, TIMESTAMPTZ '2000-01-01 00:00+00') AS b, event, route,
           sum(events), sum(errors), sum(tokens), sum(latency_count), sum(latency_ms_sum),
           CASE WHEN sum(latency_count) > 0 THEN ARRAY[
               coalesce(sum(latency_hist[1]), 0), coalesce(sum(latency_hist[2]), 0), coalesce(sum(latency_hist[3]), 0),
               coalesce(sum(latency_hist[4]), 0), coalesce(sum(latency_hist[5]), 0), coalesce(sum(latency_hist[6]), 0),
               coalesce(sum(latency_hist[7]), 0), coalesce(sum(latency_hist[8]), 0), coalesce(sum(latency_hist[9]), 0),
               coalesce(sum(latency_hist[10]), 0), coalesce(sum(latency_hist[11]), 0), coalesce(sum(latency_hist[12]), 0),
               coalesce(sum(latency_hist[13]), 0), coalesce(sum(latency_hist[14]), 0), coalesce(sum(latency_hist[15]), 0),
               coalesce(sum(latency_hist[16]), 0), coalesce(sum(latency_hist[17]), 0), coalesce(sum(latency_hist[18]), 0),
               coalesce(sum(latency_hist[19]), 0), coalesce(sum(latency_hist[20]), 0), coalesce(sum(latency_hist[21]), 0),
               coalesce(sum(latency_hist[22]), 0), coalesce(sum(latency_hist[23]), 0), coalesce(sum(latency_hist[24]), 0),
               coalesce(sum(latency_hist[25]), 0), coalesce(sum(latency_hist[26]), 0), coalesce(sum(latency_hist[27]), 0),
               coalesce(sum(latency_hist[28]), 0)]::integer[] END
    FROM "usage_rollup_all_quarter" GROUP BY b, event, route;
    """

DROP_SIX_HOUR = """
    DROP TABLE IF EXISTS "usage_rollup_sixhour", "usage_rollup_tenant_sixhour", "usage_rollup_all_sixhour";
    """

DISTRIBUTE = (
    "SELECT create_distributed_table('usage_rollup_sixhour', 'tenant_id', colocate_with => 'usage_event')",
    "SELECT create_distributed_table('usage_rollup_tenant_sixhour', 'tenant_id', colocate_with => 'usage_event')",
)


def _on_citus(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus')")
        return bool(cursor.fetchone()[0])


def distribute(apps, schema_editor) -> None:
    """Distributed while still empty; filled afterwards (an INSERT ... SELECT between
    co-located tables runs shard by shard)."""
    if _on_citus(schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for statement in DISTRIBUTE:
                cursor.execute(statement)


def _each(script: str) -> list[str]:
    """One statement per query: Citus forwards a DDL statement's query text to every shard,
    and a text of two statements is refused there."""
    return [s.strip() for s in script.split(";\n") if s.strip()]


class Migration(migrations.Migration):
    atomic = False  # like 0005: create_distributed_table outside a transaction block
    dependencies = [("usage_stats", "0006_user_days")]
    operations = [
        migrations.RunSQL(_each(CREATE_SIX_HOUR), _each(DROP_SIX_HOUR)),
        migrations.RunPython(distribute, migrations.RunPython.noop),
        migrations.RunSQL(_each(FILL_SIX_HOUR), migrations.RunSQL.noop),
    ]
