"""Daily rollups (UTC days) beside the hourly and quarter-hour ones, so a 30-day chart reads
about one row per tenant and day instead of 24 (usage_stats/dashboards/sql.py adds and
subtracts the hours between each local midnight and the nearest UTC midnight).

Filled from the raw events like the others: the watermark is rewound and the next
`usage-rollup` run rebuilds every rollup table (see 0003 for what that means).

Literal DDL, frozen here (see 0001).
"""

from django.db import migrations

CREATE_DAILY = """
    CREATE TABLE "usage_rollup_daily" (LIKE "usage_rollup_hourly" INCLUDING ALL) WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_tenant_daily" (LIKE "usage_rollup_tenant_hourly" INCLUDING ALL)
        WITH (fillfactor = 85);
    CREATE TABLE "usage_rollup_all_daily" (LIKE "usage_rollup_all_hourly" INCLUDING ALL) WITH (fillfactor = 85);
    TRUNCATE "usage_rollup_hourly", "usage_rollup_quarter", "usage_rollup_tenant_hourly",
        "usage_rollup_tenant_quarter", "usage_rollup_all_hourly", "usage_rollup_all_quarter",
        "usage_rollup_user_month";
    UPDATE "usage_rollup_state" SET seq = 0, events = 0, updated_at = now() WHERE name = 'events';
    """

DROP_DAILY = """
    DROP TABLE IF EXISTS "usage_rollup_daily", "usage_rollup_tenant_daily", "usage_rollup_all_daily";
    """


class Migration(migrations.Migration):
    dependencies = [("usage_stats", "0003_tenant_id")]
    operations = [migrations.RunSQL(CREATE_DAILY, DROP_DAILY)]
