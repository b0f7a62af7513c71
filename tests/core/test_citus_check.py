"""Citus readiness: `manage.py check` refuses foreign keys Citus schema-based sharding would refuse."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, models
from django.test import override_settings
from django.test.utils import isolate_apps

from accounts.models import User
from core.checks import (
    CHECK_PUBLIC_TO_TENANT,
    CHECK_TENANT_TO_PUBLIC,
    CHECK_UNKNOWN_REFERENCE_TABLE,
    citus_readiness_check,
    citus_readiness_errors,
)
from core.db.roles import owner_role
from tasks_app.models import Task
from tenants.models import Client, Domain

TENANT_LABELS = {"contenttypes", "auth", "sessions", "admin", "accounts", "tasks_app"}
SHARED_LABELS = {
    "core",
    "login_throttle",
    "django_tenants",
    "tenants",
    "contenttypes",
    "auth",
    "sessions",
    "accounts",
}


def _ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_the_project_as_configured_is_citus_ready():
    assert citus_readiness_check() == []
    call_command("check", verbosity=0)


@isolate_apps("tasks_app", "tenants")
def test_tenant_model_with_a_foreign_key_to_a_public_table_fails():
    class BadTask(models.Model):  # noqa: DJ008
        plan_owner = models.ForeignKey(Client, on_delete=models.CASCADE)
        watched_domains = models.ManyToManyField(Domain)
        # Relations inside the tenant schema, and to apps present in every schema, are fine.
        parent = models.ForeignKey(Task, null=True, on_delete=models.SET_NULL)
        assignee = models.ForeignKey(User, null=True, on_delete=models.SET_NULL)

        class Meta:
            app_label = "tasks_app"

    errors = citus_readiness_errors(
        models_to_check=[BadTask],
        tenant_app_labels=TENANT_LABELS,
        shared_app_labels=SHARED_LABELS,
        reference_tables=[],
    )
    assert _ids(errors) == [CHECK_TENANT_TO_PUBLIC, CHECK_TENANT_TO_PUBLIC]
    messages = " ".join(error.msg for error in errors)
    assert "tasks_app.BadTask.plan_owner -> tenants.Client" in messages
    assert "tasks_app.BadTask.watched_domains -> tenants.Domain" in messages
    assert 'Add "tenants.Client" to CITUS_REFERENCE_TABLES' in errors[0].hint

    # Declaring the public tables reference tables is the documented way out.
    assert not citus_readiness_errors(
        models_to_check=[BadTask],
        tenant_app_labels=TENANT_LABELS,
        shared_app_labels=SHARED_LABELS,
        reference_tables=["tenants.Client", "Tenants.domain"],
    )


@isolate_apps("tenants")
def test_public_model_with_a_foreign_key_into_a_tenant_table_fails():
    class TaskMirror(models.Model):  # noqa: DJ008
        task = models.OneToOneField(Task, on_delete=models.CASCADE)

        class Meta:
            app_label = "tenants"

    errors = citus_readiness_errors(
        models_to_check=[TaskMirror],
        tenant_app_labels=TENANT_LABELS,
        shared_app_labels=SHARED_LABELS,
        reference_tables=["tenants.TaskMirror"],
    )
    assert _ids(errors) == [CHECK_PUBLIC_TO_TENANT]


def test_manage_py_check_fails_when_a_tenant_app_points_into_a_public_only_app():
    # Make accounts public-only: tasks_app.Task.assignee/created_by then cross schemas.
    tenant_apps = [app for app in settings.TENANT_APPS if app != "accounts"]
    with override_settings(TENANT_APPS=tenant_apps), pytest.raises(SystemCheckError) as raised:
        call_command("check", verbosity=0)
    assert CHECK_TENANT_TO_PUBLIC in str(raised.value)
    assert "tasks_app.Task.assignee -> accounts.User" in str(raised.value)


@pytest.mark.parametrize("label", ["nope.Model", "tasks_app.Task", "not-a-label"])
def test_reference_tables_must_name_public_only_models(label):
    with override_settings(CITUS_REFERENCE_TABLES=[label]):
        assert _ids(citus_readiness_check()) == [CHECK_UNKNOWN_REFERENCE_TABLE]


CROSS_SCHEMA_FOREIGN_KEYS = """
    SELECT src_ns.nspname || '.' || src.relname || ' -> ' || dst_ns.nspname || '.' || dst.relname
    FROM pg_constraint con
    JOIN pg_class src ON src.oid = con.conrelid
    JOIN pg_namespace src_ns ON src_ns.oid = src.relnamespace
    JOIN pg_class dst ON dst.oid = con.confrelid
    JOIN pg_namespace dst_ns ON dst_ns.oid = dst.relnamespace
    WHERE con.contype = 'f' AND src_ns.nspname <> dst_ns.nspname
    ORDER BY 1
"""


@pytest.mark.django_db
def test_no_foreign_key_constraint_in_the_database_crosses_a_schema(tenants):
    """What Citus would see: the migrated acme and globex schemas only reference themselves."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint con JOIN pg_namespace ns"
            " ON ns.oid = con.connamespace WHERE con.contype = 'f' AND ns.nspname = 'acme'"
        )
        assert cursor.fetchone()[0] > 0  # the query below would see them
        cursor.execute(CROSS_SCHEMA_FOREIGN_KEYS)
        assert cursor.fetchall() == []


@pytest.mark.django_db
def test_the_catalog_query_sees_a_deliberately_bad_foreign_key(tenants):
    with owner_role(), connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "ALTER TABLE acme.tasks_app_task ADD CONSTRAINT citus_probe_fk"
            " FOREIGN KEY (id) REFERENCES public.tenants_client (id) NOT VALID"
        )
        cursor.execute(CROSS_SCHEMA_FOREIGN_KEYS)
        assert cursor.fetchall() == [("acme.tasks_app_task -> public.tenants_client",)]
