"""The stats database on the cluster (migration usage_stats 0005): usage_event distributed by
tenant_id with the per-tenant rollups co-located, monthly partitions distributed with it,
COPY ingest through the coordinator reaching the workers, a tenant's figures read from one
shard. (tests/usage_stats runs against the same cluster in `make test-citus`: rollups,
dashboards and partition upkeep are checked there.)"""

import datetime as dt
import uuid

import pytest
from django.db import connections

from tests.support.citus import Node, worker_connection
from usage_stats.ingest.encoding import LineEncoder, queued_event
from usage_stats.ingest.writer import BatchWriter
from usage_stats.storage.partitions import month_start, partition_name, partitions_list

pytestmark = [pytest.mark.citus, pytest.mark.django_db(databases=["default", "stats"])]

PER_TENANT = ("usage_rollup_hourly", "usage_rollup_quarter", "usage_rollup_tenant_hourly",
              "usage_rollup_tenant_quarter", "usage_rollup_user_month", "usage_rollup_daily",
              "usage_rollup_tenant_daily", "usage_rollup_sixhour",
              "usage_rollup_tenant_sixhour")  # fmt: skip
LOCAL = (
    "usage_rollup_all_hourly",
    "usage_rollup_all_quarter",
    "usage_rollup_all_daily",
    "usage_rollup_all_sixhour",
    "usage_rollup_state",
)


def _stats_rows(query: str, params: list | None = None) -> list[tuple]:
    with connections["stats"].cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall()


def test_events_and_rollups_are_distributed_by_tenant_and_co_located():
    rows = {
        name: (column, colocation)
        for name, column, colocation in _stats_rows(
            "SELECT logicalrelid::text, column_to_column_name(logicalrelid, partkey), colocationid"
            " FROM pg_dist_partition WHERE partmethod = 'h'"
        )
    }
    events_column, events_group = rows["usage_event"]
    assert events_column == "tenant_id"
    for table in PER_TENANT:
        assert rows[table] == ("tenant_id", events_group), table
    # Monthly partitions (and DEFAULT) are distributed with their parent.
    for partition in [*partitions_list(conn=connections["stats"]), "usage_event_default"]:
        assert rows[partition] == ("tenant_id", events_group), partition
    # The all-tenant rollups and the rollup watermark stay plain coordinator tables.
    distributed_or_reference = {
        row[0] for row in _stats_rows("SELECT logicalrelid::text FROM pg_dist_partition")
    }
    assert not set(LOCAL) & distributed_or_reference


def test_copy_through_the_coordinator_lands_on_the_tenants_shards_and_reads_are_single_shard():
    tenants = [uuid.uuid4() for _ in range(8)]
    encoder = LineEncoder()
    lines = [
        encoder.line(queued_event("citus.copy", tenant_id=tenant, tokens=i))
        for tenant in tenants
        for i in range(5)
    ]
    result = BatchWriter(alias="stats").write(lines)
    assert result.written == 40

    # Each tenant's events are on exactly one worker, and the 8 tenants use both workers.
    nodes = set()
    for tenant in tenants:
        (placement,) = _stats_rows(
            "SELECT nodename, nodeport FROM citus_shards"
            " WHERE shardid = get_shard_id_for_distribution_column('usage_event', %s)",
            [str(tenant)],
        )
        node = Node(*placement)
        nodes.add(node)
        # The rows are in that worker's shard of this month's partition.
        month = partition_name(month_start(dt.datetime.now(dt.UTC).date()))
        ((shard,),) = _stats_rows(
            "SELECT shard_name(%s::regclass, get_shard_id_for_distribution_column(%s::regclass, %s))",
            [month, month, str(tenant)],
        )
        with worker_connection(node, "stats") as conn, conn.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {shard} WHERE tenant_id = %s", [str(tenant)])
            assert cursor.fetchone() == (5,)
        assert _stats_rows(
            "SELECT count(*) FROM usage_event WHERE tenant_id = %s AND event = 'citus.copy'", [str(tenant)]
        ) == [(5,)]
    assert len(nodes) == 2, nodes

    # A tenant's query is routed to its one shard (Citus's router planner).
    plan = "\n".join(
        row[0]
        for row in _stats_rows(
            "EXPLAIN SELECT bucket, requests FROM usage_rollup_tenant_hourly WHERE tenant_id = %s",
            [str(tenants[0])],
        )
    )
    assert "Task Count: 1" in plan, plan
    with connections["stats"].cursor() as cursor:
        cursor.execute("DELETE FROM usage_event WHERE event = 'citus.copy'")
