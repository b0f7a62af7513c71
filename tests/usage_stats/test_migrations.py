"""Migration 0003 maps the schema names stored before it to tenant ids, reading the
default database's tenants (the stats database may be another server)."""

import importlib
import types
import uuid

import pytest
from django.db import connections

from tenants.models import Client

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

MIGRATION = importlib.import_module("usage_stats.migrations.0003_tenant_id")


def test_stored_schema_names_become_tenant_ids_and_unknown_ones_a_stable_orphan_id(tenants):
    stats = connections["stats"]
    with stats.cursor() as cursor:
        # A temporary table shadows the real one for this connection (pg_temp comes first
        # in the search path): the events as they were before 0003, inside the test's
        # transaction.
        cursor.execute('CREATE TEMP TABLE "usage_event" (tenant varchar(63), tenant_id uuid)')
        cursor.execute("INSERT INTO usage_event (tenant) VALUES ('acme'), ('acme'), ('globex'), ('gone-co')")
    MIGRATION.tenant_ids_fill(None, types.SimpleNamespace(connection=stats))
    with stats.cursor() as cursor:
        cursor.execute("SELECT tenant, tenant_id FROM usage_event ORDER BY tenant")
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE pg_temp.usage_event")
    ids = dict(Client.objects.filter(schema_name__in=["acme", "globex"]).values_list("schema_name", "uuid"))
    assert rows == [
        ("acme", ids["acme"]),
        ("acme", ids["acme"]),
        ("globex", ids["globex"]),
        ("gone-co", uuid.uuid5(MIGRATION.STATS_ORPHAN_NAMESPACE, "gone-co")),
    ]
