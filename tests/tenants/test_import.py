"""tenant_import: an export (json or sql) restored into a new tenant equals the original in
tasks, people and roles; a bad or foreign file is a clear CommandError and leaves nothing."""

import json
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from accounts.services import user_invite, user_role_change
from audit.models import AuditRecord
from tasks_app.models import Task
from tasks_app.services import task_create
from tenants.models import Client, Domain
from tenants.services import tenant_provision
from tests.support.tenants import PASSWORD, tenant_delete_now


def _source(slug: str) -> Client:
    """A tenant with an owner, two more people (one promoted to owner, one deactivated
    later) and tasks assigned among them."""
    result = tenant_provision(
        slug=slug, name="Source Org", owner_email=f"o@{slug}.example", owner_password=PASSWORD
    )
    with schema_context(slug):
        owner = User.objects.get(email=f"o@{slug}.example")
        ann = user_invite(actor=owner, email=f"ann@{slug}.example", password=PASSWORD, full_name="Ann")
        bob = user_invite(actor=owner, email=f"bob@{slug}.example", password=PASSWORD, full_name="Bob")
        user_role_change(actor=owner, user=ann, role=User.Role.OWNER)
        task_create(actor=owner, title="Write the plan", assignee=ann)
        task_create(actor=ann, title="Review the plan", assignee=bob, description="by Friday")
        task_create(actor=bob, title="Done already", status=Task.Status.DONE)
    connection.set_schema_to_public()
    return result.tenant


def _contents(schema: str) -> dict:
    with schema_context(schema):
        people = sorted(
            User.objects.values_list("email", "full_name", "role", "is_active", "is_staff", "password")
        )
        tasks = sorted(
            Task.objects.values_list(
                "id", "title", "description", "status", "assignee__email", "created_by__email", "created_at"
            )
        )
    return {"people": [(e.split("@")[0], *rest) for e, *rest in people], "tasks": tasks}


def _ms(value):
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _normalised(contents: dict) -> dict:
    """People by the part of their email before the @; times to the millisecond, which is
    what Django's JSON serialiser keeps."""
    return {
        "people": contents["people"],
        "tasks": [
            (
                *t[:4],
                (t[4] or "").split("@")[0],
                (t[5] or "").split("@")[0],
                t[6].replace(microsecond=t[6].microsecond // 1000 * 1000),
            )
            for t in contents["tasks"]
        ],
    }


@pytest.fixture(scope="module")
def sql_dump(tenants, django_db_blocker, tmp_path_factory) -> Iterator[tuple[Client, str]]:
    """pg_dump runs in another process: the source is committed, and purged afterwards."""
    path = tmp_path_factory.mktemp("dump") / "source.sql"
    with django_db_blocker.unblock():
        source = _source(f"impsrc-{uuid.uuid4().hex[:6]}")
        call_command("tenant_export", source.slug, "--format", "sql", "--output", str(path))
    yield source, path.read_text()
    with django_db_blocker.unblock():
        tenant_delete_now(Client.objects.get(pk=source.pk))


def _round_trip_check(source: Client, imported: Client, fmt: str) -> None:
    assert imported.uuid != source.uuid and imported.name == "Imported Org"
    assert _normalised(_contents(imported.schema_name)) == _normalised(_contents(source.schema_name))
    # New rows get ids after the imported ones (sequences moved on).
    with schema_context(imported.schema_name):
        owner = User.objects.get(email=f"o@{source.slug}.example")
        assert owner.role == User.Role.OWNER
        new_task = task_create(actor=owner, title="After the import")
        assert new_task.id > max(Task.objects.exclude(pk=new_task.pk).values_list("id", flat=True))
        ann = User.objects.get(email=f"ann@{source.slug}.example")
        assert ann.check_password(PASSWORD)
        assert not Session.objects.exists()
    connection.set_schema_to_public()
    # It routes, and its people's pages show its tasks.
    imported_client = HttpClient(HTTP_HOST=imported.domains.get().domain)
    with schema_context(imported.schema_name):
        imported_client.force_login(ann)
    page = imported_client.get("/")
    assert page.status_code == 200 and b"Review the plan" in page.content
    record = AuditRecord.objects.get(action="tenant.imported", tenant_uuid=imported.uuid)
    assert record.changes["format"] == fmt and record.actor_kind == "cli"


def test_json_export_then_import_gives_the_same_tasks_people_and_roles(tenants, db, tmp_path, capsys):
    source = _source("impsrcjson")
    path = tmp_path / "source.json"
    call_command("tenant_export", source.slug, "--output", str(path))
    call_command("tenant_import", str(path), "--slug", "impdstjson", "--name", "Imported Org")
    assert f"Imported {path} as impdstjson.localhost" in capsys.readouterr().out
    _round_trip_check(source, Client.objects.get(slug="impdstjson"), "json")


def test_sql_export_then_import_gives_the_same_tasks_people_and_roles(sql_dump, db, tmp_path, capsys):
    source, dump = sql_dump
    path = tmp_path / "source.sql"
    path.write_text(dump)
    call_command("tenant_import", str(path), "--slug", "impdst-sql", "--name", "Imported Org")
    assert f"Imported {path} as impdst-sql.localhost" in capsys.readouterr().out
    _round_trip_check(source, Client.objects.get(slug="impdst-sql"), "sql")


def _nothing_left(slug: str) -> None:
    assert not schema_exists(slug)
    assert not Client.objects.filter(slug=slug).exists()
    assert not Domain.objects.filter(domain=f"{slug}.localhost").exists()
    assert not AuditRecord.objects.filter(action="tenant.imported", tenant_schema=slug).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", "", "Not a JSON tenant export"),
        ("garbage.json", "{not json", "Not a JSON tenant export"),
        ("dict.json", '{"model": "tasks_app.task"}', "expected a list of Django fixture records"),
        (
            "public.json",
            json.dumps([{"model": "tenants.client", "pk": 1, "fields": {"name": "x"}}]),
            "Not a tenant export of this application: it holds tenants.client",
        ),
        (
            "sessions.json",
            json.dumps([{"model": "sessions.session", "pk": "k", "fields": {}}]),
            "it holds sessions.session",
        ),
        (
            "nopeople.json",
            json.dumps([{"model": "tasks_app.task", "pk": 1, "fields": {"title": "t", "status": "open"}}]),
            "it holds no people",
        ),
        (
            "badrow.json",
            json.dumps(
                [
                    {"model": "accounts.user", "pk": 1, "fields": {"email": "a@b.example", "password": "x"}},
                    {"model": "tasks_app.task", "pk": 1, "fields": {"title": "", "status": "nope"}},
                ]
            ),
            "could not be loaded, nothing was created",
        ),
        ("plain.sql", "SELECT 1;\n", "does not start as a pg_dump file does"),
        ("utf16.sql", None, "Cannot read"),
    ],
)
def test_bad_or_foreign_files_are_refused_and_leave_nothing(tenants, db, tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"\xff\xfe-\x00-\x00 \x00")
    else:
        path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("tenant_import", str(path), "--slug", "impbad")
    _nothing_left("impbad")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda dump: dump.replace("CREATE TABLE", "CREATE FUNCTION evil() AS 'x'; CREATE TABLE", 1),
            "never has",
        ),
        (lambda dump: dump + "\nCREATE SCHEMA other;\n", "creates 2 schemas"),
        (lambda dump: dump.replace("\\.\n", "", 1), "could not be loaded|cut short"),
        (lambda dump: dump[: len(dump) // 2].rsplit("\n", 1)[0] + "\nCREATE TABLE x (\n", "cut short"),
        (lambda dump: dump + "\n\\! rm -rf /\n", "psql meta-commands"),
    ],
)
def test_a_tampered_sql_dump_is_refused_and_leaves_nothing(sql_dump, db, tmp_path, change, message):
    _source_tenant, dump = sql_dump
    path = tmp_path / "tampered.sql"
    path.write_text(change(dump))
    with pytest.raises(CommandError, match=message):
        call_command("tenant_import", str(path), "--slug", "impsqlbad")
    _nothing_left("impsqlbad")


def test_a_dump_of_another_database_schema_is_refused(sql_dump, db, tmp_path):
    _source_tenant, dump = sql_dump
    # Same statements, but not the tables of a tenant of this code.
    foreign = dump.replace("tasks_app_task", "invoices_invoice")
    path = tmp_path / "foreign.sql"
    path.write_text(foreign)
    with pytest.raises(CommandError, match="tables do not match this version's tenant schema"):
        call_command("tenant_import", str(path), "--slug", "impsqlforeign")
    _nothing_left("impsqlforeign")


def test_import_refuses_a_taken_slug_and_a_missing_file(acme, tmp_path):
    path = tmp_path / "x.json"
    call_command("tenant_export", "acme", "--output", str(path))
    with pytest.raises(CommandError, match="--slug 'globex': This subdomain is already taken"):
        call_command("tenant_import", str(path), "--slug", "globex")
    with pytest.raises(CommandError, match="is not a file"):
        call_command("tenant_import", str(tmp_path / "nope.json"), "--slug", "fresh-one")
