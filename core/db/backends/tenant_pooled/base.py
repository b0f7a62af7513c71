"""Transaction-scoped search_path for django-tenants behind a transaction pooler.

django-tenants issues a session-level `SET search_path` when a cursor is opened. Behind
PgBouncer in transaction mode a session is not ours: between two transactions the server
connection can be handed to another client, so the next statement may run with another
tenant's search_path (django-tenants issues #545, #732, #1112).

This backend never changes the session. Instead the tenant's search_path is stated inside
every transaction with `SET LOCAL`, which PostgreSQL discards at COMMIT/ROLLBACK:

- inside a transaction (atomic blocks, ATOMIC_REQUESTS) the first statement Django sends
  after BEGIN carries it, and it is re-stated when the tenant changes mid-transaction or a
  savepoint rollback may have undone it;
- in autocommit every statement is its own transaction under PgBouncer, so every statement
  carries it: `SET LOCAL search_path = ...; <statement>` is one simple-protocol message that
  PostgreSQL runs as one implicit transaction and PgBouncer routes to one server connection.

Both cost no extra round trip. Statements sent through the raw driver connection
(`connection.connection.cursor()`) bypass Django's cursor wrapper and are not covered;
server-side cursors are disabled because they outlive the statement that opened them.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django_tenants.postgresql_backend import base as tenants_base
from django_tenants.utils import quote_schema_name

if is_psycopg3:  # pragma: no cover - the project pins psycopg2
    raise ImproperlyConfigured(
        "core.db.backends.tenant_pooled relies on psycopg2's simple-protocol multi-statement "
        "queries; it has not been verified with psycopg 3."
    )

from psycopg2 import sql as pgsql

# Statements PostgreSQL refuses inside a transaction block, which a multi-statement message
# is. They get a session-level SET first instead: correct on a direct connection (migrations,
# test database creation), not guaranteed behind the pooler, where they should not be sent.
_NO_TRANSACTION_BLOCK = re.compile(
    r"\s*(?:(?:CREATE|DROP)\s+(?:DATABASE|TABLESPACE)|ALTER\s+SYSTEM|VACUUM"
    r"|(?:CREATE|DROP|REINDEX)\b[^;]*\bCONCURRENTLY\b)",
    re.IGNORECASE,
)

# Re-exported names Django looks for in a backend's `base` module.
DatabaseError = tenants_base.DatabaseError
IntegrityError = tenants_base.IntegrityError


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    """django-tenants' wrapper with `SET LOCAL search_path` instead of a session-level SET."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # search_path key stated in the current transaction, or None if not yet stated.
        self._local_search_path_key: tuple[str, ...] | None = None
        self._search_path_prefix_cache: tuple[tuple[str, ...], str] | None = None
        self._search_path_bypass = False
        super().__init__(*args, **kwargs)
        # A named cursor lives across transactions, i.e. across pooled server connections.
        self.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
        # First in the list, so it is the innermost wrapper: wrappers added later (tests,
        # instrumentation) still see the statement as the caller wrote it.
        self.execute_wrappers.insert(0, self._search_path_execute_wrapper)

    # --- django-tenants hook: never touch the session --------------------------------------

    def _handle_search_path(self, cursor=None) -> None:
        """Replaced by `_search_path_execute_wrapper`; a session-level SET would leak."""

    # --- transaction boundaries: SET LOCAL ends with the transaction ----------------------

    def _commit(self) -> None:
        self._local_search_path_key = None
        return super()._commit()

    def _rollback(self) -> None:
        self._local_search_path_key = None
        return super()._rollback()

    # Savepoint statements carry no search_path: they resolve no names, and in a transaction
    # that an error has aborted, a prefixed SET LOCAL would make ROLLBACK TO SAVEPOINT fail.
    def _savepoint(self, sid: str) -> None:
        with self._search_path_bypassed():
            super()._savepoint(sid)

    def _savepoint_commit(self, sid: str) -> None:
        with self._search_path_bypassed():
            super()._savepoint_commit(sid)

    def _savepoint_rollback(self, sid: str) -> None:
        try:
            with self._search_path_bypassed():
                super()._savepoint_rollback(sid)
        finally:
            # ROLLBACK TO SAVEPOINT undoes a SET LOCAL issued after the savepoint.
            self._local_search_path_key = None

    @contextmanager
    def _search_path_bypassed(self) -> Iterator[None]:
        self._search_path_bypass = True
        try:
            yield
        finally:
            self._search_path_bypass = False

    def _set_autocommit(self, autocommit: bool) -> None:
        self._local_search_path_key = None
        return super()._set_autocommit(autocommit)

    def _close(self) -> None:
        self._local_search_path_key = None
        return super()._close()

    # --- the statement prefix ---------------------------------------------------------------

    def _search_path_prefix(self) -> tuple[tuple[str, ...], str]:
        """(key, `SET LOCAL search_path = ...;`) for the connection's current tenant."""
        if not self.schema_name:
            raise ImproperlyConfigured(
                "Database schema not set. Did you forget to call set_schema() or set_tenant()?"
            )
        key = (self.schema_name, str(self.include_public_schema))
        cached = self._search_path_prefix_cache
        if cached is None or cached[0] != key:
            # _get_cursor_search_paths validates every name, so quoting is enough.
            paths = ", ".join(quote_schema_name(s) for s in self._get_cursor_search_paths())
            cached = (key, f"SET LOCAL search_path = {paths}; ")
            self._search_path_prefix_cache = cached
        return cached

    def _search_path_execute_wrapper(self, execute, sql, params, many, context):
        if self._search_path_bypass:
            return execute(sql, params, many, context)
        key, prefix = self._search_path_prefix()
        in_transaction = not self.autocommit
        if in_transaction and self._local_search_path_key == key:
            return execute(sql, params, many, context)
        if not in_transaction and isinstance(sql, str) and _NO_TRANSACTION_BLOCK.match(sql):
            context["cursor"].cursor.execute(prefix.replace("SET LOCAL", "SET", 1))
            return execute(sql, params, many, context)
        if params is not None:
            # The driver interpolates parameters into the whole string.
            prefix = prefix.replace("%", "%%")
        if isinstance(sql, str):
            sql = prefix + sql
        elif isinstance(sql, pgsql.Composable):
            sql = pgsql.SQL(prefix) + sql
        else:  # pragma: no cover - bytes; not produced by Django or this project
            raise TypeError(f"Unsupported SQL type for the pooled backend: {type(sql).__name__}")
        result = execute(sql, params, many, context)
        if in_transaction:
            self._local_search_path_key = key
        return result
