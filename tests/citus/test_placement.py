"""Schema-based sharding as set up by scripts/citus.sh: public and the template stay local on the
coordinator, every provisioned tenant schema is a distributed schema on one worker, and new
tenants are spread over both workers."""

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from tenants import clone_sql, template
from tenants.models import Client
from tenants.services import spare_schemas_drop_all, spare_schemas_refill, tenant_provision
from tests.support.citus import (
    coordinator_rows,
    shard_tables_on,
    tenant_node,
    tenants_by_node,
    user_emails_on,
)
from tests.support.tenants import PASSWORD, tenant_delete_now

pytestmark = pytest.mark.citus


def _distributed_schemas() -> set[str]:
    return {row[0] for row in coordinator_rows("SELECT schema_name::text FROM citus_schemas")}


def test_public_and_the_template_stay_local_tenants_are_distributed(tenants, db):
    distributed = _distributed_schemas()
    assert {"acme", "globex"} <= distributed
    assert settings.TENANT_TEMPLATE_SCHEMA not in distributed and "public" not in distributed
    # No public or template table is in Citus's metadata: they are plain coordinator tables.
    assert (
        coordinator_rows(
            """
        SELECT p.logicalrelid::text FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
        WHERE c.relnamespace IN ('public'::regnamespace, %s::regnamespace)
        """,
            [settings.TENANT_TEMPLATE_SCHEMA],
        )
        == []
    )


@pytest.fixture(scope="module")
def spread(tenants, django_db_blocker) -> list[str]:
    """Four tenants provisioned (committed) on the cluster."""
    run = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        slugs = [
            tenant_provision(
                slug=f"place{run}{i}",
                name=f"Place {i}",
                owner_email=f"o@place{run}{i}.example",
                owner_password=PASSWORD,
            ).tenant.schema_name
            for i in range(4)
        ]
        connection.set_schema_to_public()
    return slugs


def test_provisioned_tenants_are_distributed_schemas_on_both_workers(spread, db):
    assert set(spread) <= _distributed_schemas()
    # citus_shards: every table of a tenant is one shard, all on the same worker.
    placements = coordinator_rows(
        """
        SELECT s.schema_name::text, count(*), array_agg(DISTINCT sh.nodeport)
        FROM citus_schemas s JOIN citus_shards sh ON sh.colocation_id = s.colocation_id
        WHERE s.schema_name::text = ANY(%s) GROUP BY 1
        """,
        [spread],
    )
    tables = coordinator_rows(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %s", [settings.TENANT_TEMPLATE_SCHEMA]
    )[0][0]
    shapes = {schema: (count, len(ports)) for schema, count, ports in placements}
    assert shapes == dict.fromkeys(spread, (tables, 1))
    ports = {ports[0] for _schema, _count, ports in placements}
    assert len(ports) == 2, f"the new tenants are all on one worker: {placements}"
    # And the worker really holds them (shard tables on disk there, none on the other worker).
    for node, schemas in tenants_by_node().items():
        for schema in set(spread) & set(schemas):
            assert len(shard_tables_on(node, schema)) == tables
        others = [other for other in tenants_by_node() if other != node]
        for schema in set(spread) & set(schemas):
            assert shard_tables_on(others[0], schema) == []


def test_the_tenants_data_is_on_its_worker(spread, db):
    schema = spread[0]
    node = tenant_node(tenant=Client.objects.get(schema_name=schema))
    assert user_emails_on(node, schema) == [f"o@{schema}.example"]


def test_a_copy_on_citus_matches_a_migrated_schema(tenants, db):
    """The Citus form of the copy script gives what running the migrations gives, both as
    distributed schemas. (Citus makes the identity sequences of distributed tables bigint;
    their limits stay those of the integer columns.)"""
    template.schema_create_from_template(schema_name="cluscopy")
    template._schema_create_by_migrating("clusmigr")
    copied = clone_sql.schema_fingerprint(schema_name="cluscopy")
    migrated = clone_sql.schema_fingerprint(schema_name="clusmigr")
    for key in ("columns", "constraints", "indexes", "row_counts"):
        assert copied[key] == migrated[key], key
    limits = [
        (row[0], row[2], row[3])
        for row in coordinator_rows(
            "SELECT sequencename, schemaname, max_value, increment_by FROM pg_sequences"
            " WHERE schemaname IN ('cluscopy', 'clusmigr') ORDER BY 1, 2"
        )
    ]
    assert limits[0::2] == limits[1::2]
    assert {"cluscopy", "clusmigr"} <= _distributed_schemas()


def test_a_spare_is_a_distributed_schema_and_a_sign_up_on_it_works(tenants, django_db_blocker):
    """Spare schemas (tenants/services/spares.py) are made distributed, ahead; a sign-up takes
    one and its owner's row lands in the spare's shard on the worker (all committed, so the
    worker sees it)."""
    slug = f"spare{uuid.uuid4().hex[:6]}"
    with django_db_blocker.unblock(), override_settings(TENANT_SPARE_SCHEMAS=1):
        try:
            (spare,) = spare_schemas_refill().made
            assert spare in _distributed_schemas()
            tenant = tenant_provision(
                slug=slug, name="Spare", owner_email=f"o@{slug}.example", owner_password=PASSWORD
            ).tenant
            connection.set_schema_to_public()
            assert tenant.schema_name == spare
            assert user_emails_on(tenant_node(tenant=tenant), spare) == [f"o@{slug}.example"]
        finally:
            connection.set_schema_to_public()
            made = Client.objects.filter(slug=slug).first()
            if made is not None:
                tenant_delete_now(made)
            spare_schemas_drop_all()
