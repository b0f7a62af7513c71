"""The schema the default connection is on, typed.

django-tenants' backend adds `schema_name` to the connection wrapper; Django's stubs do
not know it. Every app asks here instead of reaching for the attribute itself.
"""

from django.conf import settings
from django.db import connection


def current_schema_name() -> str:
    return str(getattr(connection, "schema_name", settings.PUBLIC_SCHEMA_NAME))


def on_public_schema() -> bool:
    return current_schema_name() == settings.PUBLIC_SCHEMA_NAME
