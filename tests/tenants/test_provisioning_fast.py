"""Provisioning by copying the template schema: the copy is the migrated schema exactly, the
template follows new migrations, failures leave nothing, and bulk creation works."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tasks_app.models import Task
from tasks_app.services import task_create
from tenants import clone_sql, template
from tenants.migration_state import migrations_missing, schemas_applied_migrations
from tenants.models import Client, Domain
from tenants.services import tenant_provision
from tests.support.tenants import PASSWORD


def _provision(slug: str):
    return tenant_provision(
        slug=slug, name=slug.title(), owner_email=f"o@{slug}.example", owner_password=PASSWORD
    )


def _has_table(schema: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".{table}'])
        return cursor.fetchone()[0]


def test_copy_is_identical_to_a_migrated_schema(tenants, db):
    """Columns, defaults, identity sequences, constraint and index names, rows: all the same
    as a schema built by running every migration."""
    template.schema_create_from_template(schema_name="clonecheck")
    template._schema_create_by_migrating("migratedcheck")
    copied = clone_sql.schema_fingerprint(schema_name="clonecheck")
    migrated = clone_sql.schema_fingerprint(schema_name="migratedcheck")
    for part in ("columns", "constraints", "indexes", "sequences", "row_counts"):
        assert copied[part] == migrated[part], part
    assert dict(copied["row_counts"])["django_migrations"] > 10
    applied = schemas_applied_migrations(schema_names=["clonecheck"])["clonecheck"]
    assert migrations_missing(applied=applied) == []


def test_new_tenant_works_end_to_end(tenants, db):
    result = _provision("copyco")
    with schema_context("copyco"):
        owner = User.objects.get()
        task_create(actor=owner, title="First task in a copied schema")
    with schema_context(template.template_schema_name()):
        assert not Task.objects.exists() and not User.objects.exists()
    http = HttpClient(HTTP_HOST=result.domain.domain)
    response = http.post(
        "/accounts/login/", {"username": "o@copyco.example", "password": PASSWORD}, follow=True
    )
    assert response.context["user"].is_authenticated
    assert b"First task in a copied schema" in response.content


def test_tenant_created_after_a_new_migration_has_it(tenants, db):
    """Simulate a deploy that adds tasks_app's migrations: the template lacks them (and the
    table) until provisioning notices and migrates it."""
    name = template.template_schema_name()
    call_command(
        MigrateSchemasCommand(),
        "tasks_app",
        "zero",
        schema_name=name,
        executor="standard",
        interactive=False,
        verbosity=0,
    )
    assert not _has_table(name, "tasks_app_task")
    assert not template.template_is_current()

    _provision("aftermig")
    assert template.template_is_current()
    assert _has_table("aftermig", "tasks_app_task")
    assert (
        clone_sql.schema_fingerprint(schema_name="aftermig")["indexes"]
        == (clone_sql.schema_fingerprint(schema_name="acme")["indexes"])
    )
    with schema_context("aftermig"):
        task_create(actor=User.objects.get(), title="works")
        assert Task.objects.count() == 1


def test_template_with_unknown_objects_falls_back_to_migrations(tenants, db):
    name = template.template_schema_name()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE VIEW "{name}".open_tasks AS SELECT 1 AS one')
    template.clone_script_cache_clear()
    try:
        script = template.clone_script()
        assert script.sql is None and "open_tasks" in script.reason
        _provision("fallbackco")
        assert _has_table("fallbackco", "tasks_app_task")
        assert not _has_table("fallbackco", "open_tasks")  # migrations, not a copy
    finally:
        template.clone_script_cache_clear()


def test_failure_half_way_leaves_nothing(tenants, db):
    """The schema is copied, then the domain insert fails: schema, tenant row and owner go too,
    and the caller hears "already taken", not an IntegrityError."""
    acme = Client.objects.get(slug="acme")
    Domain.objects.create(domain="halfco.localhost", tenant=acme, is_primary=False)
    with pytest.raises(ValidationError, match="already taken"):
        _provision("halfco")
    connection.set_schema_to_public()
    assert not schema_exists("halfco")
    assert not Client.objects.filter(slug="halfco").exists()
    assert Domain.objects.get(domain="halfco.localhost").tenant == acme


def test_bulk_create_shows_progress_and_can_be_rerun(tenants, db, capsys):
    call_command("tenants_bulk_create", "--count", "3", "--prefix", "bulkt")
    out = capsys.readouterr().out
    assert "3/3 tenants" in out and "3 created, 0 already there, 0 failed" in out
    assert list(Client.objects.filter(slug__startswith="bulkt-").values_list("slug", flat=True)) == [
        "bulkt-0001",
        "bulkt-0002",
        "bulkt-0003",
    ]
    with schema_context("bulkt-0002"):
        assert not User.objects.get().has_usable_password()
    call_command("tenants_bulk_create", "--count", "4", "--prefix", "bulkt")
    assert "1 created, 3 already there" in capsys.readouterr().out


def test_bulk_create_rejects_bad_input(tenants, db):
    with pytest.raises(CommandError, match="--count must be at least 1"):
        call_command("tenants_bulk_create", "--count", "0")
    with pytest.raises(CommandError, match="makes invalid slugs"):
        call_command("tenants_bulk_create", "--count", "2", "--prefix", "Bad_")
    assert not Client.objects.filter(slug__startswith="bad").exists()


def test_provision_without_password_gives_unusable_one(tenants, db):
    tenant_provision(slug="nopass", name="No Pass", owner_email="o@np.example", owner_password=None)
    with schema_context("nopass"):
        assert not User.objects.get().has_usable_password()
    with pytest.raises(ValidationError):
        tenant_provision(slug="nopass2", name="X", owner_email="o@np.example", owner_password="123")
