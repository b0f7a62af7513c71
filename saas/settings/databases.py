"""Databases: the tenant database (`default`, schemas per tenant) and the stats database."""

import re

from django.core.exceptions import ImproperlyConfigured

from .environment import env

# Database aliases are named constants so code never spells them twice.
DEFAULT_DB_ALIAS = "default"
STATS_DB_ALIAS = "stats"

DATABASES = {
    DEFAULT_DB_ALIAS: env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/saas"),
}
# States the tenant's role and search_path in every transaction (docs/tenancy.md).
DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] = "core.db.backends.tenant_pooled"
DATABASES[DEFAULT_DB_ALIAS]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES[DEFAULT_DB_ALIAS]["CONN_HEALTH_CHECKS"] = True
DATABASES[DEFAULT_DB_ALIAS].setdefault("OPTIONS", {})["connect_timeout"] = 5


def _default_stats_url() -> str:
    """The stats DB defaults to `<name>_stats` on the same cluster as the main DB."""
    main = DATABASES[DEFAULT_DB_ALIAS]
    user = main.get("USER") or ""
    password = main.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = main.get("HOST") or ""
    port = f":{main['PORT']}" if main.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{main['NAME']}_stats"


DATABASES[STATS_DB_ALIAS] = env.db("STATS_DATABASE_URL", default=_default_stats_url())
DATABASES[STATS_DB_ALIAS]["ENGINE"] = "core.db.backends.stats"
# Kept open like the main database's: a dashboard page's reads would otherwise each open
# one (usage_stats/dashboards/readers.py).
DATABASES[STATS_DB_ALIAS]["CONN_MAX_AGE"] = DATABASES[DEFAULT_DB_ALIAS]["CONN_MAX_AGE"]
DATABASES[STATS_DB_ALIAS]["CONN_HEALTH_CHECKS"] = True
DATABASES[STATS_DB_ALIAS].setdefault("OPTIONS", {})["connect_timeout"] = 5
# A test run can name its throwaway databases, so several runs can share a cluster.
_test_db = env.str("TEST_DB_NAME", default="")
if _test_db:
    DATABASES[DEFAULT_DB_ALIAS]["TEST"] = {"NAME": _test_db}
    DATABASES[STATS_DB_ALIAS]["TEST"] = {"NAME": f"{_test_db}_stats"}

# PostgreSQL roles (core/db/roles.py, docs/operations.md#database-roles). The app logs in as
# DATABASE_URL's user, no superuser and owner of nothing; it switches to DB_OWNER_ROLE for
# migrations, provisioning and partition maintenance, and to each tenant's own role on that
# tenant's schema. Empty DB_OWNER_ROLE: DATABASE_URL's user is the owner (no switching).
DB_OWNER_ROLE = env.str("DB_OWNER_ROLE", default="")
# The role tenant roles are granted to (the one DATABASE_URL logs in as, unless a pooler maps it).
DB_APP_ROLE = env.str("DB_APP_ROLE", default=DATABASES[DEFAULT_DB_ALIAS].get("USER") or "")
# A role per tenant on every tenant transaction; off only to measure what it costs (make bench).
DB_TENANT_ROLES = env.bool("DB_TENANT_ROLES", default=True)
# The usage-stats flusher inserts events as this role (INSERT only); the dashboards read as
# this one (SELECT only). Empty: the app role itself.
DB_STATS_WRITER_ROLE = env.str("DB_STATS_WRITER_ROLE", default="")
DB_STATS_READER_ROLE = env.str("DB_STATS_READER_ROLE", default="")
for _role_setting in ("DB_OWNER_ROLE", "DB_APP_ROLE", "DB_STATS_WRITER_ROLE", "DB_STATS_READER_ROLE"):
    if not re.fullmatch(r"[A-Za-z0-9_-]*", globals()[_role_setting]):
        raise ImproperlyConfigured(f"{_role_setting} must be a plain role name (letters, digits, _ and -).")

# Behind PgBouncer in transaction mode a session-level `SET search_path` leaks between
# clients; the backend states it with SET LOCAL in every transaction anyway (docs/tenancy.md).
DB_POOLER = env.str("DB_POOLER", default="").strip().lower()
if DB_POOLER == "pgbouncer-transaction":
    DATABASES[DEFAULT_DB_ALIAS]["ATOMIC_REQUESTS"] = True
    for _alias in (DEFAULT_DB_ALIAS, STATS_DB_ALIAS):
        DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DB_POOLER:
    raise ImproperlyConfigured(f"DB_POOLER must be empty or 'pgbouncer-transaction', not {DB_POOLER!r}.")

# Send each transaction's role and search_path in a round trip of its own instead of in
# front of its first statement: needed on Citus, which forwards a DDL statement's whole text
# to the workers (scripts/test-citus.sh turns it on; docs/scale-out.md).
DB_PREFIX_SEPARATE = env.bool("DB_PREFIX_SEPARATE", default=False)

# Public-schema models that tenant models may reference, because they would become Citus
# reference tables (core/checks.py, docs/scale-out.md). Labels like "tenants.Plan".
CITUS_REFERENCE_TABLES: list[str] = []

# StatsRouter first: django-tenants' TenantSyncRouter answers False for every alias but
# the tenant one.
DATABASE_ROUTERS = [
    "saas.db_routers.StatsRouter",
    "django_tenants.routers.TenantSyncRouter",
]
