import pytest
from django.db import connections

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

TENANT_TABLES = {"accounts_user", "tasks_app_task", "django_session", "tenants_client", "tenants_domain"}


def _tables(alias: str, schema: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        # pg_tables, not information_schema: the app role sees no tenant's tables there.
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_stats_database_is_separate_and_holds_no_tenant_tables(tenants):
    stats_db = connections["stats"].settings_dict["NAME"]
    assert stats_db != connections["default"].settings_dict["NAME"]
    stats_tables = _tables("stats", "public")
    assert "usage_event" in stats_tables
    assert not stats_tables & TENANT_TABLES
    with connections["stats"].cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname IN ('acme', 'globex')")
        assert cursor.fetchall() == []


@pytest.mark.parametrize("schema", ["public", "acme", "globex"])
def test_main_database_schemas_hold_no_stats_tables(tenants, schema):
    tables = _tables("default", schema)
    assert tables, f"schema {schema} should have tables"
    assert not {t for t in tables if t.startswith("usage_")}


def test_stats_migrations_are_recorded_on_the_stats_database(tenants):
    with connections["stats"].cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = 'usage_stats'")
        assert ("0001_events",) in cursor.fetchall()
