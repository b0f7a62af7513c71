"""bench/pooler_demo.py: stock django-tenants (its backend, session-level `SET search_path`),
logged in as the owner role (the demo passes the owner's credentials), with no role switching."""

from saas.settings.dev import *  # noqa: F403
from saas.settings.dev import DATABASES, DEFAULT_DB_ALIAS

DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] = "django_tenants.postgresql_backend"
DB_OWNER_ROLE = ""
DB_TENANT_ROLES = False
