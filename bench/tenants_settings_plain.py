"""bench/tenants.py: the same view with no tenancy at all: no tenant middleware, Django's plain
PostgreSQL backend, and the bench tenant's schema and role fixed by the connection's
search_path and role (the app role may not read a tenant's tables itself)."""

import os

from saas.settings.dev import *  # noqa: F403
from saas.settings.dev import CACHES, DATABASES, DEFAULT_DB_ALIAS, MIDDLEWARE

_SCHEMA = os.environ["BENCH_PLAIN_SCHEMA"]  # a plain identifier (letters only), set by the bench
DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] = "django.db.backends.postgresql"
DATABASES[DEFAULT_DB_ALIAS]["OPTIONS"] = {
    **DATABASES[DEFAULT_DB_ALIAS].get("OPTIONS", {}),
    "options": f"-c search_path={_SCHEMA},public -c role={os.environ['BENCH_TENANT_ROLE']}",
}
MIDDLEWARE = [m for m in MIDDLEWARE if m != "tenants.middleware.TenantMiddleware"]
# django-tenants' cache key function reads the tenant backend's schema_name.
CACHES = {alias: {k: v for k, v in conf.items() if "KEY_FUNCTION" not in k} for alias, conf in CACHES.items()}
