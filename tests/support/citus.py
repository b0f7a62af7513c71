"""The Citus cluster of `make test-citus` (scripts/citus.sh): which node holds what, asked of
the coordinator's metadata and of the workers themselves."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from django.db import connections

from tenants.services.placement import Node, citus_enabled, citus_workers, tenant_node, tenants_by_node
from tests.support.database import rows
from tests.support.tiers import needs_tier

__all__ = ["Node", "citus_enabled", "citus_workers", "tenant_node", "tenants_by_node"]


@needs_tier("citus")
def citus_required() -> None:
    """Skip unless the test database is a Citus database (only `make test-citus` makes one)."""
    import pytest

    if not citus_enabled():
        pytest.skip("not a Citus database: `make test-citus` runs this against scripts/citus.sh's cluster")


@needs_tier("citus")
@contextmanager
def worker_connection(node: Node, alias: str = "default") -> Iterator:
    """A direct connection to a worker's copy of the alias's test database, as its own role."""
    params = connections[alias].settings_dict
    conn = psycopg2.connect(
        host=node.host,
        port=node.port,
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        # Citus hides shard tables from clients other than its own; these tests look for them.
        cursor.execute("SET citus.override_table_visibility TO off")
    try:
        yield conn
    finally:
        conn.close()


coordinator_rows = rows  # the coordinator is the test's own connection


def _shard_tables(cursor, schema: str, table: str = "") -> list[str]:
    """The shard tables (`<table>_<shardid>`) of `schema` the worker behind `cursor` holds;
    only `table`'s when given."""
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r'"
        " AND relname ~ %s ORDER BY 1",
        [schema, f"^{table}_[0-9]+$" if table else "_[0-9]+$"],
    )
    return [row[0] for row in cursor.fetchall()]


def shard_tables_on(node: Node, schema: str) -> list[str]:
    """The shard tables (`<table>_<shardid>`) a worker really holds for a schema."""
    with worker_connection(node) as conn, conn.cursor() as cursor:
        return _shard_tables(cursor, schema)


def user_emails_on(node: Node, schema: str) -> list[str]:
    """The emails in a tenant's user table, read from its shard on the worker itself."""
    with worker_connection(node) as conn, conn.cursor() as cursor:
        (shard,) = _shard_tables(cursor, schema, "accounts_user")
        cursor.execute(f'SELECT email FROM "{schema}".{shard} ORDER BY 1')
        return [row[0] for row in cursor.fetchall()]


def schema_rows(schema: str) -> dict[str, list[str]]:
    """Every row of every table of a schema, as text, sorted: to compare data before and after."""
    tables = [
        row[0]
        for row in coordinator_rows(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema]
        )
    ]
    quoted = '"' + schema.replace('"', '""') + '"'
    return {
        table: [row[0] for row in coordinator_rows(f"SELECT t::text FROM {quoted}.{table} t ORDER BY 1")]
        for table in tables
    }
