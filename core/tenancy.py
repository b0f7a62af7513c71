"""The schema the default connection is on, typed, and a way back to the public schema.

django-tenants' backend adds `schema_name` to the connection wrapper; Django's stubs do
not know it. Every app asks here instead of reaching for the attribute itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context


def current_schema_name() -> str:
    return str(getattr(connection, "schema_name", settings.PUBLIC_SCHEMA_NAME))


def on_public_schema() -> bool:
    return current_schema_name() == settings.PUBLIC_SCHEMA_NAME


@contextmanager
def public_schema() -> Iterator[None]:
    """Run the block on the public schema, as the app role: the shared tables (audit records,
    sign-in failures, jobs) a tenant's own PostgreSQL role cannot reach (core/db/roles.py).
    The tenant's schema and role come back on the next statement after the block; evaluate
    querysets inside it."""
    if on_public_schema():
        yield
        return
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        yield
