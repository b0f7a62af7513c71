"""The stats database's backend: Django's PostgreSQL backend that runs statements as the
owner role inside `core.db.roles.owner_role()` (migrate_stats, partition maintenance),
stated per transaction like the tenant backend (core/db/backends/statement_prefix.py), so
it holds behind PgBouncer too. Outside it statements run as the app role, with nothing
prepended. The flusher and the dashboards state their own roles (usage_stats)."""

from typing import Any

from django.db.backends.postgresql import base as postgresql_base

from core.db import roles
from core.db.backends.statement_prefix import PrefixedStatementsMixin


class DatabaseWrapper(PrefixedStatementsMixin, postgresql_base.DatabaseWrapper):
    # Exports read events through a server-side cursor, as the app role (no prefix).
    client_side_cursors_only = False

    def _statement_prefix(self) -> tuple[tuple[Any, ...], str]:
        role = roles.role_override()
        if role:
            return (role,), roles.set_local_role_sql(role)
        if self._local_prefix_key is not None and not self.autocommit:
            # The owner's block ended inside this transaction: back to the app role.
            return (None,), "SET LOCAL role TO DEFAULT; "
        return (None,), ""
