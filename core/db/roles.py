"""PostgreSQL roles: which role each statement runs as, and every statement that creates,
grants or drops one. The role SQL lives here and nowhere else (docs/operations.md#database-roles).

The app logs in as a non-superuser role that owns nothing (DATABASE_URL) and switches, inside
each transaction and with `SET LOCAL ROLE` sent in the same message as the search_path
(core/db/backends/tenant_pooled), to:

- the tenant's own role on a tenant schema: privileges on that schema's tables and
  sequences only, none in any other tenant's schema or on a public table;
- the session's own role (`SET LOCAL role TO DEFAULT`: the app role) on the public schema: the shared
  tables (tenants, domains, audit records, sign-in failures, jobs), no tenant schema;
- the owner role (DB_OWNER_ROLE) inside `owner_role()`: migrations, provisioning, deletion,
  partition maintenance. The app role may SET ROLE to the owner (it is a NOINHERIT member),
  so this protects against application bugs (a schema-qualified name, a wrong search_path),
  not against SQL injection, which could send `RESET ROLE` itself.

Tenant roles are named `<database>_t_<schema>`: roles are cluster-wide and several
databases (dev, tests, benchmarks) may hold a tenant of the same slug.
"""

import hashlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg2 import sql

logger = logging.getLogger(__name__)

ROLE_NAME_MAX_BYTES = 63
# Tenant role names are embedded in DO blocks and compared with LIKE; keep them plain.
_SAFE_ROLE = re.compile(r"^[A-Za-z0-9_-]+$")

# A role every connection of this process runs as, whatever its schema (migration commands,
# test database set-up); a per-thread override (owner_role()) comes first.
_process_role: str | None = None
_thread = threading.local()


def tenant_roles_enabled() -> bool:
    """Per-tenant roles on tenant schemas (DB_TENANT_ROLES; off only to measure their cost)."""
    return bool(getattr(settings, "DB_TENANT_ROLES", False)) and bool(owner_role_name())


def owner_role_name() -> str:
    """The owner role to switch to, or "" when the app logs in as the owner itself."""
    return str(getattr(settings, "DB_OWNER_ROLE", "") or "")


def app_role_name(using: str = DEFAULT_DB_ALIAS) -> str:
    return str(getattr(settings, "DB_APP_ROLE", "") or connections[using].settings_dict["USER"])


def tenant_role_prefix(database: str) -> str:
    return f"{database}_t_"


def tenant_role_name(*, database: str, schema_name: str) -> str:
    """The role of `schema_name` in `database` (deterministic; hashed if too long)."""
    name = f"{tenant_role_prefix(database)}{schema_name}"
    if len(name.encode()) > ROLE_NAME_MAX_BYTES:
        digest = hashlib.sha256(f"{database}/{schema_name}".encode()).hexdigest()
        name = f"{tenant_role_prefix(database)[:30]}{digest}"[:ROLE_NAME_MAX_BYTES]
    if not _SAFE_ROLE.match(name):
        raise ValueError(f"cannot derive a safe role name from {database!r}/{schema_name!r}")
    return name


# --- which role a connection runs as -----------------------------------------------------


def role_override() -> str | None:
    """The role this thread's connections run as regardless of schema, if any."""
    return getattr(_thread, "role", None) or _process_role


@contextmanager
def owner_role() -> Iterator[None]:
    """Run this thread's statements (every alias, every schema) as the owner role.

    Use around migrations, provisioning, deletion and partition DDL; within a transaction
    the switch back happens on the next statement, so it never outlives the block.
    """
    with _role_as(owner_role_name() or None):
        yield


@contextmanager
def _role_as(name: str | None) -> Iterator[None]:
    previous = getattr(_thread, "role", None)
    _thread.role = name or previous
    _restate_all()
    try:
        yield
    finally:
        _thread.role = previous
        _restate_all()


def process_role_set(name: str | None) -> None:
    """Every connection of this process runs as `name` (None: back to per-schema roles)."""
    global _process_role
    _process_role = name
    _restate_all()


@contextmanager
def owner_process() -> Iterator[None]:
    """The whole process runs as the owner role (migration commands, test database set-up),
    worker threads and forked children included."""
    previous = _process_role
    process_role_set(owner_role_name() or None)
    try:
        yield
    finally:
        process_role_set(previous)


def _restate_all() -> None:
    for conn in connections.all(initialized_only=True):
        restate = getattr(conn, "prefix_restate", None)
        if restate is not None:
            restate()


# --- the SQL: created, granted, dropped ----------------------------------------------------


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def tenant_role_sql(
    *,
    schema_name: str,
    role: str,
    owner: str,
    app: str,
    tables: Sequence[str] = (),
    sequences: Sequence[str] = (),
) -> sql.Composed:
    """Create the tenant's role if missing (roles are cluster-wide: a dropped test database
    leaves its roles), let the app switch to it, and grant it its schema's objects: the
    `tables` and `sequences` named (quoted names; a just-made copy's), or else all there are
    (`ON ALL ... IN SCHEMA` reads all of pg_class: tens of ms at 1,000 tenants).
    New tables the owner creates there later are granted by default privileges."""
    if not _SAFE_ROLE.match(role):
        raise ValueError(f"unsafe role name {role!r}")
    statements = [
        sql.SQL("DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"),
        sql.SQL("GRANT {role} TO {app}"),
        sql.SQL("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        _grant_sql("SELECT, INSERT, UPDATE, DELETE", "TABLE", "TABLES", tables),
        _grant_sql("USAGE, SELECT, UPDATE", "SEQUENCE", "SEQUENCES", sequences),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
            " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
            " GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}"
        ),
    ]
    names = {"role": _ident(role), "app": _ident(app), "owner": _ident(owner), "schema": _ident(schema_name)}
    return sql.SQL("; ").join(s.format(**names) for s in statements)


def _grant_sql(privileges: str, kind: str, kinds: str, names: Sequence[str]) -> sql.SQL:
    if not names:
        return sql.SQL(f"GRANT {privileges} ON ALL {kinds} IN SCHEMA {{schema}} TO {{role}}")
    # Quoted names from the catalog (quote_ident), each qualified by the schema; braces are
    # doubled for the format() that fills in {schema} and {role}.
    objects = ", ".join("{schema}." + name.replace("{", "{{").replace("}", "}}") for name in names)
    return sql.SQL(f"GRANT {privileges} ON {kind} {objects} TO {{role}}")


def tenant_role_regrant_sql(*, schema_name: str, role: str) -> sql.Composed:
    """Grants for tables a migration created in the schema (run after migrate_schemas, in
    case migrations ran as another role than the owner)."""
    names = {"role": _ident(role), "schema": _ident(schema_name)}
    return sql.SQL("; ").join(
        s.format(**names)
        for s in (
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"),
            sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"),
        )
    )


def tenant_role_drop_sql(*, role: str) -> sql.Composed:
    """Run after the schema is dropped (which takes the role's grants with it)."""
    return sql.SQL("DROP ROLE IF EXISTS {role}").format(role=_ident(role))


def public_grants_sql(*, owner: str, app: str) -> sql.Composed:
    """The app role's privileges on the public schema's tables (rows only, no DDL)."""
    names = {"app": _ident(app), "owner": _ident(owner)}
    return sql.SQL("; ").join(
        s.format(**names)
        for s in (
            sql.SQL("GRANT USAGE ON SCHEMA public TO {app}"),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}"),
            sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}"),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
                " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
            ),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
                " GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {app}"
            ),
        )
    )


def stats_grants_sql(*, owner: str, app: str, writer: str, reader: str, events_table: str) -> sql.Composed:
    """The stats database: the app's rows (rollups, purges), the flusher's role may only
    insert events, the dashboards' role may only read. New partitions and tables the owner
    creates inherit these through default privileges."""
    names = {
        "app": _ident(app),
        "owner": _ident(owner),
        "writer": _ident(writer),
        "reader": _ident(reader),
        "events": _ident(events_table),
    }
    return sql.SQL("; ").join(
        s.format(**names)
        for s in (
            sql.SQL("GRANT USAGE ON SCHEMA public TO {app}, {writer}, {reader}"),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}"),
            sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}"),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}"),
            sql.SQL("GRANT INSERT ON {events} TO {writer}"),
            sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {writer}"),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
                " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
            ),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
                " GRANT SELECT ON TABLES TO {reader}"
            ),
        )
    )


# --- the operations --------------------------------------------------------------------------


def _database(using: str) -> str:
    return str(connections[using].settings_dict["NAME"])


def tenant_role_of(schema_name: str, using: str = DEFAULT_DB_ALIAS) -> str:
    return tenant_role_name(database=_database(using), schema_name=schema_name)


def tenant_role_create(*, schema_name: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create and grant the tenant's role, in the caller's transaction (as the owner)."""
    if not tenant_roles_enabled():
        return
    statement = tenant_role_sql(
        schema_name=schema_name,
        role=tenant_role_of(schema_name, using),
        owner=owner_role_name(),
        app=app_role_name(using),
    )
    with owner_role(), connections[using].cursor() as cursor:
        cursor.execute(statement)


def tenant_role_drop(*, schema_name: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop the tenant's role; call after its schema is dropped, in the same transaction."""
    if not tenant_roles_enabled():
        return
    with owner_role(), connections[using].cursor() as cursor:
        cursor.execute(tenant_role_drop_sql(role=tenant_role_of(schema_name, using)))


def tenant_roles_ensure(*, schema_names: Iterable[str], using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the missing roles of these schemas (tenants made before roles existed) and
    re-grant every one's tables; returns the schemas whose role was created."""
    if not tenant_roles_enabled():
        return []
    schemas = list(schema_names)
    if not schemas:
        return []
    by_role = {tenant_role_of(name, using): name for name in schemas}
    with owner_role(), connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT r FROM unnest(%s::text[]) AS r"
            " WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)"
            " OR NOT pg_has_role(%s, r, 'MEMBER')",
            [list(by_role), app_role_name(using)],
        )
        missing = [by_role[row[0]] for row in cursor.fetchall()]
        for name in missing:
            cursor.execute(
                tenant_role_sql(
                    schema_name=name,
                    role=tenant_role_of(name, using),
                    owner=owner_role_name(),
                    app=app_role_name(using),
                )
            )
    return missing


def tenant_grants_refresh(*, schema_names: Iterable[str], using: str = DEFAULT_DB_ALIAS) -> None:
    """Grant each schema's role every table and sequence it holds now (after migrations)."""
    if not tenant_roles_enabled():
        return
    with owner_role(), connections[using].cursor() as cursor:
        for name in schema_names:
            cursor.execute(tenant_role_regrant_sql(schema_name=name, role=tenant_role_of(name, using)))


def public_grants_ensure(*, using: str = DEFAULT_DB_ALIAS) -> None:
    if not owner_role_name():
        return
    with owner_role(), connections[using].cursor() as cursor:
        cursor.execute(public_grants_sql(owner=owner_role_name(), app=app_role_name(using)))


def stats_grants_ensure(*, using: str, events_table: str) -> None:
    if not owner_role_name():
        return
    statement = stats_grants_sql(
        owner=owner_role_name(),
        app=app_role_name(using),
        writer=str(settings.DB_STATS_WRITER_ROLE),
        reader=str(settings.DB_STATS_READER_ROLE),
        events_table=events_table,
    )
    with owner_role(), connections[using].cursor() as cursor:
        cursor.execute(statement)


def database_tenant_roles_drop(*, database: str, cursor: Any) -> list[str]:
    """Drop every tenant role of `database` (after that database was dropped: test runs).
    A role still holding privileges somewhere is left alone."""
    cursor.execute(
        "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) ORDER BY rolname",
        [tenant_role_prefix(database)],
    )
    dropped = []
    for (name,) in cursor.fetchall():
        try:
            cursor.execute(tenant_role_drop_sql(role=name))
        except Exception as exc:  # still in use by a database that exists
            logger.info("kept role %s: %s", name, exc)
            continue
        dropped.append(name)
    return dropped


def stats_writer_role_name() -> str:
    return str(getattr(settings, "DB_STATS_WRITER_ROLE", "") or "")


def stats_reader_role_name() -> str:
    return str(getattr(settings, "DB_STATS_READER_ROLE", "") or "")


def set_local_role_sql(name: str) -> str:
    """`SET LOCAL ROLE <name>; ` for a statement prefix, or "" for no name."""
    if not name:
        return ""
    if not _SAFE_ROLE.match(name):
        raise ValueError(f"unsafe role name {name!r}")
    return f'SET LOCAL ROLE "{name}"; '
