"""django-tenants' backend with the role and search_path stated in every transaction.

django-tenants issues a session-level `SET search_path` when a cursor is opened. Behind
PgBouncer in transaction mode a session is not ours: between two transactions the server
connection can be handed to another client, so the next statement may run with another
tenant's search_path (django-tenants issues #545, #732, #1112). And a search_path alone is
only the application's word: a schema-qualified name, or a search_path left on the wrong
tenant, reads another tenant's tables.

This backend never changes the session. Inside every transaction, in the same message as
the first statement (core/db/backends/statement_prefix.py), it states

    SET LOCAL ROLE "<database>_t_<schema>"; SET LOCAL search_path = "<schema>", public;

on a tenant schema, so PostgreSQL itself refuses any table outside the tenant's schema
(core/db/roles.py), and `SET LOCAL role TO DEFAULT; SET LOCAL search_path = public;` (the
app role) on the public schema. Inside `core.db.roles.owner_role()` the role is the owner's.
With DB_TENANT_ROLES off only the search_path is stated (the benchmarks' baseline).

Both cost no extra round trip, in autocommit and in transactions alike, directly or behind
PgBouncer.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django_tenants.postgresql_backend import base as tenants_base
from django_tenants.utils import get_public_schema_name, quote_schema_name

from core.db import roles
from core.db.backends.statement_prefix import PrefixedStatementsMixin

# Re-exported names Django looks for in a backend's `base` module.
DatabaseError = tenants_base.DatabaseError
IntegrityError = tenants_base.IntegrityError


class DatabaseWrapper(PrefixedStatementsMixin, tenants_base.DatabaseWrapper):
    """django-tenants' wrapper with `SET LOCAL ROLE` and `SET LOCAL search_path` per transaction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._prefix_cache: tuple[tuple[Any, ...], str] | None = None
        self._tenant_role_names: dict[tuple[str, str], str] = {}
        super().__init__(*args, **kwargs)
        self._tenant_roles = roles.tenant_roles_enabled()

    # --- django-tenants hook: never touch the session --------------------------------------

    def _handle_search_path(self, cursor=None) -> None:
        """Replaced by the statement prefix; a session-level SET would leak."""

    # --- the statement prefix ---------------------------------------------------------------

    def _statement_role(self) -> str | None:
        """The role the current schema's statements run as; None for the app role itself."""
        override = roles.role_override()
        if override:
            return override
        schema = self.schema_name
        if not self._tenant_roles or schema == get_public_schema_name():
            return None
        key = (str(self.settings_dict["NAME"]), schema)
        name = self._tenant_role_names.get(key)
        if name is None:
            name = roles.tenant_role_name(database=key[0], schema_name=schema)
            self._tenant_role_names[key] = name
        return name

    def _statement_prefix(self) -> tuple[tuple[Any, ...], str]:
        if not self.schema_name:
            raise ImproperlyConfigured(
                "Database schema not set. Did you forget to call set_schema() or set_tenant()?"
            )
        role = self._statement_role()
        key = (self.schema_name, self.include_public_schema, role)
        cached = self._prefix_cache
        if cached is None or cached[0] != key:
            # _get_cursor_search_paths validates every name, so quoting is enough.
            paths = ", ".join(quote_schema_name(s) for s in self._get_cursor_search_paths())
            if role:
                role_sql = roles.set_local_role_sql(role)
            elif self._tenant_roles or roles.owner_role_name():
                # The session's own role (the app's), also after a switch earlier in the transaction.
                role_sql = "SET LOCAL role TO DEFAULT; "
            else:
                role_sql = ""  # the app is the owner: no role is ever switched
            cached = (key, f"{role_sql}SET LOCAL search_path = {paths}; ")
            self._prefix_cache = cached
        return cached
