"""Asking the catalog what a tenant's PostgreSQL role may do (core/db/roles.py)."""

from tests.support.database import rows

__all__ = ["role_exists", "rows", "sequences_without_usage", "tables_without_every_privilege"]


def role_exists(role: str) -> bool:
    return bool(rows("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]))


def tables_without_every_privilege(role: str, schema: str) -> list[str]:
    """The schema's tables `role` may not read, insert, update and delete."""
    return [
        row[0]
        for row in rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')"
            " AND NOT (has_table_privilege(%s, c.oid, 'SELECT') AND has_table_privilege(%s, c.oid, 'INSERT')"
            " AND has_table_privilege(%s, c.oid, 'UPDATE') AND has_table_privilege(%s, c.oid, 'DELETE'))",
            [schema, role, role, role, role],
        )
    ]


def sequences_without_usage(role: str, schema: str) -> list[str]:
    """The schema's sequences `role` may not use (the CASE keeps the check off other relations)."""
    return [
        row[0]
        for row in rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'S'"
            " AND CASE c.relkind WHEN 'S' THEN NOT has_sequence_privilege(%s, c.oid, 'USAGE') END",
            [schema, role],
        )
    ]
