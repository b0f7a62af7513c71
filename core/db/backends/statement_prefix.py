"""Session state stated inside every transaction, so it never outlives the transaction.

`SET LOCAL` lasts until COMMIT/ROLLBACK. A backend that keeps its role and search_path that
way never leaves them on the session, which matters behind PgBouncer in transaction mode:
between two transactions the server connection may be handed to another client.

`PrefixedStatementsMixin` sends a backend's `SET LOCAL ...;` prefix with the statement it
precedes, as one simple-protocol message (no extra round trip):

- inside a transaction (atomic blocks, ATOMIC_REQUESTS) the first statement after BEGIN
  carries it, and it is re-stated when it changes mid-transaction (another tenant, a role
  switch) or a savepoint rollback may have undone it;
- in autocommit every statement is its own transaction, so every statement carries it:
  `SET LOCAL ...; <statement>` is one message that PostgreSQL runs as one implicit
  transaction and PgBouncer routes to one server connection.

Statements sent through the raw driver connection (`connection.connection.cursor()`)
bypass Django's cursor wrapper and are not covered; server-side cursors are disabled
because they outlive the statement that opened them.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql.psycopg_any import is_psycopg3

if is_psycopg3:  # pragma: no cover - the project pins psycopg2
    raise ImproperlyConfigured(
        "core.db.backends rely on psycopg2's simple-protocol multi-statement queries; "
        "they have not been verified with psycopg 3."
    )

from psycopg2 import sql as pgsql

# Statements PostgreSQL refuses inside a transaction block, which a multi-statement message
# is. They get a session-level SET first instead (undone right after): correct on a direct
# connection (migrations, test database creation), not guaranteed behind the pooler, where
# they should not be sent.
_NO_TRANSACTION_BLOCK = re.compile(
    r"\s*(?:(?:CREATE|DROP)\s+(?:DATABASE|TABLESPACE)|ALTER\s+SYSTEM|VACUUM"
    r"|(?:CREATE|DROP|REINDEX)\b[^;]*\bCONCURRENTLY\b)",
    re.IGNORECASE,
)
_SESSION_UNDO = "RESET ROLE; RESET search_path"


class PrefixedStatementsMixin:
    """Mix into a PostgreSQL DatabaseWrapper; implement `_statement_prefix()`."""

    # A named cursor's DECLARE cannot carry a prefix; False where the prefix is rare and a
    # server-side cursor matters (the stats backend).
    client_side_cursors_only = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Prefix key stated in the current transaction, or None if not yet stated.
        self._local_prefix_key: tuple[Any, ...] | None = None
        self._prefix_bypass = False
        super().__init__(*args, **kwargs)
        # A named cursor lives across transactions, i.e. across pooled server connections,
        # and its DECLARE cannot carry a prefix.
        if self.client_side_cursors_only:
            self.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
        # First in the list, so it is the innermost wrapper: wrappers added later (tests,
        # instrumentation) still see the statement as the caller wrote it.
        self.execute_wrappers.insert(0, self._prefix_execute_wrapper)

    def _statement_prefix(self) -> tuple[tuple[Any, ...], str]:
        """(key, "SET LOCAL ...; ") for the connection's current state; "" states nothing.
        Equal keys must mean equal prefixes."""
        raise NotImplementedError

    # --- transaction boundaries: SET LOCAL ends with the transaction ----------------------

    def _commit(self) -> None:
        self._local_prefix_key = None
        return super()._commit()  # type: ignore[misc]

    def _rollback(self) -> None:
        self._local_prefix_key = None
        return super()._rollback()  # type: ignore[misc]

    # Savepoint statements carry no prefix: they resolve no names, and in a transaction that
    # an error has aborted, a prefixed SET LOCAL would make ROLLBACK TO SAVEPOINT fail.
    def _savepoint(self, sid: str) -> None:
        with self._prefix_bypassed():
            super()._savepoint(sid)  # type: ignore[misc]

    def _savepoint_commit(self, sid: str) -> None:
        with self._prefix_bypassed():
            super()._savepoint_commit(sid)  # type: ignore[misc]

    def _savepoint_rollback(self, sid: str) -> None:
        try:
            with self._prefix_bypassed():
                super()._savepoint_rollback(sid)  # type: ignore[misc]
        finally:
            # ROLLBACK TO SAVEPOINT undoes a SET LOCAL issued after the savepoint.
            self._local_prefix_key = None

    @contextmanager
    def _prefix_bypassed(self) -> Iterator[None]:
        self._prefix_bypass = True
        try:
            yield
        finally:
            self._prefix_bypass = False

    def _set_autocommit(self, autocommit: bool) -> None:
        self._local_prefix_key = None
        return super()._set_autocommit(autocommit)  # type: ignore[misc]

    def _close(self) -> None:
        self._local_prefix_key = None
        return super()._close()  # type: ignore[misc]

    def prefix_restate(self) -> None:
        """Forget what this transaction stated: the next statement states it again."""
        self._local_prefix_key = None

    # --- the statement prefix ---------------------------------------------------------------

    def _prefix_execute_wrapper(self, execute, sql, params, many, context):
        if self._prefix_bypass:
            return execute(sql, params, many, context)
        key, prefix = self._statement_prefix()
        in_transaction = not self.autocommit  # type: ignore[attr-defined]
        if not prefix or (in_transaction and self._local_prefix_key == key):
            return execute(sql, params, many, context)
        # On Citus the prefix goes in its own round trip: Citus forwards a DDL statement's whole
        # query text to the workers, which refuse several commands in one (DB_PREFIX_SEPARATE).
        separate = bool(getattr(settings, "DB_PREFIX_SEPARATE", False))
        if not in_transaction and (separate or (isinstance(sql, str) and _NO_TRANSACTION_BLOCK.match(sql))):
            # A cursor of its own, so the statement's results stay readable on the caller's.
            with context["cursor"].cursor.connection.cursor() as raw:
                raw.execute(prefix.replace("SET LOCAL", "SET"))
                try:
                    return execute(sql, params, many, context)
                finally:
                    raw.execute(_SESSION_UNDO)
        if separate:
            with context["cursor"].cursor.connection.cursor() as raw:
                raw.execute(prefix)
            result = execute(sql, params, many, context)
            self._local_prefix_key = key
            return result
        if params is not None:
            # The driver interpolates parameters into the whole string.
            prefix = prefix.replace("%", "%%")
        if isinstance(sql, str):
            sql = prefix + sql
        elif isinstance(sql, pgsql.Composable):
            sql = pgsql.SQL(prefix) + sql
        else:  # pragma: no cover - bytes; not produced by Django or this project
            raise TypeError(f"Unsupported SQL type for a prefixing backend: {type(sql).__name__}")
        result = execute(sql, params, many, context)
        if in_transaction:
            self._local_prefix_key = key
        return result
