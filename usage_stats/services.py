"""Writes to the stats database other than the collector's ingest and the rollups."""

import uuid

from django.conf import settings
from django.db import connections, transaction

from usage_stats.storage import sql


def usage_stats_tenant_purge(*, tenant_id: uuid.UUID | str) -> int:
    """Delete a tenant's rows (by its `Client.uuid`) from every stats table that has a
    `tenant_id` column, in one transaction; returns the number of rows deleted."""
    tenant_id = uuid.UUID(str(tenant_id))
    deleted = 0
    with (
        transaction.atomic(using=settings.STATS_DB_ALIAS),
        connections[settings.STATS_DB_ALIAS].cursor() as cursor,
    ):
        cursor.execute(sql.TABLES_WITH_TENANT_COLUMN)
        for schema, table in cursor.fetchall():
            cursor.execute(sql.delete_tenant_rows(schema=schema, table=table), {"tenant_id": tenant_id})
            deleted += cursor.rowcount
    return deleted
