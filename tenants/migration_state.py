"""Which schemas already hold every migration of the running code.

Every tenant schema records every migration of the project in its own django_migrations
(the router skips the operations of apps it does not hold, not the record), so a schema
is up to date when its records cover the whole migration graph. Reading that takes one
query per batch of schemas instead of loading Django's migration executor per schema,
which is what makes a no-op `migrate_schemas` over 1,000 tenants take seconds.
"""

import functools
import hashlib
from collections.abc import Iterable

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import quote_schema_name

from core.db.roles import owner_role

MigrationKey = tuple[str, str]

# Schemas read per UNION ALL query; keeps statements small and plans cheap.
BATCH_SIZE = 250


@functools.cache
def _migration_graph() -> tuple[frozenset[MigrationKey], dict[MigrationKey, tuple[MigrationKey, ...]]]:
    """Graph nodes of the code on disk, and what each squashed migration replaces.

    Cached for the life of the process: migration files only change with a deploy,
    which starts new processes.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = frozenset(loader.graph.nodes)
    replaces = {
        key: tuple(migration.replaces)
        for key, migration in loader.disk_migrations.items()
        if migration.replaces and key in nodes
    }
    return nodes, replaces


@functools.cache
def migrations_digest() -> str:
    """A digest of the code's migration graph (cached like the graph)."""
    nodes, _replaces = _migration_graph()
    return hashlib.sha256("\n".join(f"{app}.{name}" for app, name in sorted(nodes)).encode()).hexdigest()


def migrations_missing(*, applied: set[MigrationKey]) -> list[MigrationKey]:
    """Graph nodes not recorded in `applied` (a squashed node counts as applied when all it replaces is)."""
    nodes, replaces = _migration_graph()
    missing = []
    for key in nodes:
        if key in applied:
            continue
        replaced = replaces.get(key)
        if replaced and all(r in applied for r in replaced):
            continue
        missing.append(key)
    return sorted(missing)


def schemas_applied_migrations(*, schema_names: Iterable[str]) -> dict[str, set[MigrationKey]]:
    """{schema: {(app, name), ...}} read from each schema's django_migrations.

    A schema that does not exist or has no django_migrations table maps to an empty set.
    """
    names = list(dict.fromkeys(schema_names))
    applied: dict[str, set[MigrationKey]] = {name: set() for name in names}
    if not names:
        return applied
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = 'django_migrations' AND c.relkind = 'r' AND n.nspname = ANY(%s)
            """,
            [names],
        )
        with_table = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(with_table), BATCH_SIZE):
            batch = with_table[start : start + BATCH_SIZE]
            # Schema names are quoted identifiers; the literal goes in as a parameter.
            query = " UNION ALL ".join(
                f"SELECT %s, app, name FROM {quote_schema_name(name)}.django_migrations"  # noqa: S608
                for name in batch
            )
            # Every schema's table: the owner role's to read (core/db/roles.py).
            with owner_role():
                cursor.execute(query, batch)
            for schema, app, name in cursor.fetchall():
                applied[schema].add((app, name))
    return applied


def schemas_up_to_date(*, schema_names: Iterable[str]) -> set[str]:
    """The schemas among `schema_names` that hold every migration of the running code."""
    applied = schemas_applied_migrations(schema_names=schema_names)
    return {schema for schema, keys in applied.items() if keys and not migrations_missing(applied=keys)}
