"""The rebalancer spreads 100 tenants over both workers: provisioned while the second worker
takes no new shards (all land on the first), then `manage.py tenants_rebalance`."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from tenants.services import tenants_bulk_create
from tests.support.citus import citus_workers, tenants_by_node

pytestmark = [pytest.mark.citus, pytest.mark.timeout(900)]

COUNT = 100


def _should_have_shards(node, value: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT citus_set_node_property(%s, %s, 'shouldhaveshards', %s)", [node.host, node.port, value]
        )


def test_the_rebalancer_spreads_100_tenants_over_both_workers(tenants, django_db_blocker):
    with django_db_blocker.unblock():
        first, second = citus_workers()
        _should_have_shards(second, False)
        try:
            result = tenants_bulk_create(prefix="rebal", count=COUNT)
        finally:
            _should_have_shards(second, True)
        connection.set_schema_to_public()
        slugs = set(result.created + result.existing)
        assert len(slugs) == COUNT and not result.failed
        before = tenants_by_node()
        assert slugs <= set(before[first]) and not slugs & set(before[second])

        out = io.StringIO()
        call_command("tenants_rebalance", transfer_mode="block_writes", stdout=out)
        after = tenants_by_node()
        on_second = slugs & set(after[second])
        print(f"\n[rebalance] {out.getvalue().strip()}")
        assert len(on_second) >= COUNT // 3, out.getvalue()
        assert len(slugs & set(after[first])) >= COUNT // 3, out.getvalue()
        assert sum(len(v) for v in after.values()) == sum(len(v) for v in before.values())
        # Citus balances shard counts (a tenant schema is one co-location group of equal-sized
        # groups here, give or take the test-only tables): neither worker holds much more.
        counts = sorted(len(v) for v in after.values())
        assert counts[0] >= 0.7 * counts[1], {str(k): len(v) for k, v in after.items()}
