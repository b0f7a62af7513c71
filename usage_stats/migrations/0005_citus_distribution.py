"""On a Citus stats database: the events table distributed by tenant_id, the per-tenant
rollups co-located with it (Citus's real-time analytics pattern: a tenant's events and
rollups sit on one worker, a rollup of a range of events runs shard by shard, a tenant's
dashboard is a single-shard query). On plain PostgreSQL this migration does nothing.

- `usage_event` is partitioned by month: Citus distributes every partition with it, and
  partitions created later (usage_stats/storage) are distributed as they are created.
- The per-tenant daily rollups (0004) are co-located too. The all-tenant rollups
  (`usage_rollup_all_*`, no tenant_id) and `usage_rollup_state`
  stay local tables on the coordinator; the rollup's delta is a temp table there too.
- `usage_hist_add` (0002) is used by the rollups' upserts on the workers: it is made a
  distributed function first, so every node has it.

Literal statements, frozen here (see 0001).
"""

from django.db import migrations

DISTRIBUTE = (
    "SELECT create_distributed_function('usage_hist_add(integer[], integer[])')",
    "SELECT create_distributed_table('usage_event', 'tenant_id')",
    "SELECT create_distributed_table('usage_rollup_hourly', 'tenant_id', colocate_with => 'usage_event')",
    "SELECT create_distributed_table('usage_rollup_quarter', 'tenant_id', colocate_with => 'usage_event')",
    "SELECT create_distributed_table('usage_rollup_tenant_hourly', 'tenant_id', colocate_with => 'usage_event')",
    "SELECT create_distributed_table('usage_rollup_tenant_quarter', 'tenant_id', colocate_with => 'usage_event')",
    "SELECT create_distributed_table('usage_rollup_user_month', 'tenant_id', colocate_with => 'usage_event')",
    "SELECT create_distributed_table('usage_rollup_daily', 'tenant_id', colocate_with => 'usage_event')",
    "SELECT create_distributed_table('usage_rollup_tenant_daily', 'tenant_id', colocate_with => 'usage_event')",
)
UNDISTRIBUTE = (
    "SELECT undistribute_table('usage_rollup_tenant_daily')",
    "SELECT undistribute_table('usage_rollup_daily')",
    "SELECT undistribute_table('usage_rollup_user_month')",
    "SELECT undistribute_table('usage_rollup_tenant_quarter')",
    "SELECT undistribute_table('usage_rollup_tenant_hourly')",
    "SELECT undistribute_table('usage_rollup_quarter')",
    "SELECT undistribute_table('usage_rollup_hourly')",
    "SELECT undistribute_table('usage_event')",
)


def _on_citus(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus')")
        return bool(cursor.fetchone()[0])


def distribute(apps, schema_editor) -> None:
    if _on_citus(schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for statement in DISTRIBUTE:
                cursor.execute(statement)


def undistribute(apps, schema_editor) -> None:
    if _on_citus(schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for statement in UNDISTRIBUTE:
                cursor.execute(statement)


class Migration(migrations.Migration):
    # create_distributed_table copies existing rows; outside a transaction block it may use
    # parallel connections per worker.
    atomic = False
    dependencies = [("usage_stats", "0004_daily_rollups")]
    operations = [migrations.RunPython(distribute, undistribute)]
