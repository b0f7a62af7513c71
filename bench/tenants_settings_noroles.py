"""bench/tenants.py: the same app without per-tenant roles: DB_TENANT_ROLES off and no role
switching at all, logged in as the owner (as the app did before per-tenant roles), so only
the search_path is stated per transaction. The cached run differs from this one only by the
`SET LOCAL ROLE` it sends with every transaction's first statement."""

import environ

from saas.settings.dev import *  # noqa: F403
from saas.settings.dev import DATABASES, DEFAULT_DB_ALIAS, env

DB_TENANT_ROLES = False
DB_OWNER_ROLE = ""
_owner = environ.Env.db_url_config(env.str("DATABASE_OWNER_URL"))
DATABASES[DEFAULT_DB_ALIAS]["USER"] = _owner["USER"]
DATABASES[DEFAULT_DB_ALIAS]["PASSWORD"] = _owner["PASSWORD"]
