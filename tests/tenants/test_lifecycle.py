"""Suspend, reactivate, export and delete, from commands and from the staff admin, and
domain management."""

import builtins
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client as HttpClient
from django_tenants.utils import schema_context, schema_exists

import usage_stats
from accounts.models import User
from audit.actors import actor_system
from tasks_app.models import Task
from tasks_app.services import task_create
from tenants.models import Client, Domain
from tenants.selectors import tenant_get
from tenants.services import domain_add, domain_remove, tenant_delete, tenant_provision
from tests.support.tenants import PASSWORD, run_export_job
from tests.support.usage_events import with_stats_database


def _provision(slug: str) -> Client:
    result = tenant_provision(
        slug=slug, name=slug.title(), owner_email=f"o@{slug}.example", owner_password=PASSWORD
    )
    connection.set_schema_to_public()
    return result.tenant


# --- suspend / reactivate -----------------------------------------------------------------


def test_suspend_and_reactivate_from_commands(acme, capsys):
    with schema_context("acme"):
        task_create(actor=acme.owner(), title="Kept while suspended")
    call_command("tenant_suspend", "acme", "--reason", "unpaid invoice")
    assert "Suspended acme" in capsys.readouterr().out
    assert Client.objects.get(slug="acme").suspended_reason == "unpaid invoice"

    response = acme.login().get("/")
    assert response.status_code == 423
    assert b"This organisation is suspended" in response.content and b"Its data is kept" in response.content
    with schema_context("acme"):
        assert Task.objects.filter(title="Kept while suspended").exists()

    call_command("tenant_reactivate", "acme")
    page = acme.login().get("/")
    assert page.status_code == 200 and b"Kept while suspended" in page.content


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("tenant_suspend", ["public"], "No tenant with slug 'public'"),
        ("tenant_suspend", ["nosuch"], "No tenant with slug 'nosuch'"),
        ("tenant_reactivate", ["nosuch"], "No tenant with slug 'nosuch'"),
        ("tenant_export", ["nosuch"], "No tenant with slug 'nosuch'"),
        ("tenant_delete", ["nosuch", "--confirm", "nosuch"], "No tenant with slug 'nosuch'"),
        ("tenant_domain", ["acme", "add"], "add needs a host name"),
    ],
)
def test_commands_reject_bad_input(tenants, db, command, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(command, *args)


# --- export ---------------------------------------------------------------------------------


def test_export_json_holds_the_tenants_data_only(acme, tmp_path, capsys):
    with schema_context("acme"):
        task_create(actor=acme.owner(), title="Exported task")
    acme.login()  # leaves a session row, which must not be exported
    out = tmp_path / "acme.json"
    call_command("tenant_export", "acme", "--output", str(out))
    assert f"Exported acme to {out}" in capsys.readouterr().out
    records = json.loads(out.read_text())
    models = {r["model"] for r in records}
    assert "tasks_app.task" in models and "accounts.user" in models
    assert not models & {"sessions.session", "contenttypes.contenttype", "auth.permission"}
    titles = {r["fields"].get("title") for r in records if r["model"] == "tasks_app.task"}
    emails = {r["fields"].get("email") for r in records if r["model"] == "accounts.user"}
    assert "Exported task" in titles and "owner@acme.example" in emails
    assert "owner@globex.example" not in emails

    with pytest.raises(CommandError, match="already exists"):
        call_command("tenant_export", "acme", "--output", str(out))


def test_export_sql_is_a_dump_of_the_schema(acme, tmp_path):
    out = tmp_path / "acme.sql"
    call_command("tenant_export", "acme", "--format", "sql", "--output", str(out))
    dump = out.read_text()
    assert "CREATE TABLE acme.tasks_app_task" in dump
    assert "globex." not in dump and "public.tenants_client" not in dump


def test_export_rejects_missing_folder(acme, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("tenant_export", "acme", "--output", str(tmp_path / "no" / "such" / "x.json"))


# --- delete ---------------------------------------------------------------------------------


@with_stats_database
def test_delete_needs_the_slug_typed(tenants, db, monkeypatch, capsys):
    tenant = _provision("doomed")
    Domain.objects.create(domain="tasks.doomed-corp.example", tenant=tenant, is_primary=False)

    with pytest.raises(CommandError, match="Refusing to delete without --confirm doomed"):
        call_command("tenant_delete", "doomed", "--noinput")
    with pytest.raises(CommandError, match="Type the slug 'doomed' to confirm"):
        call_command("tenant_delete", "doomed", "--confirm", "doomd")
    monkeypatch.setattr(builtins, "input", lambda prompt: "acme")
    with pytest.raises(CommandError, match="Type the slug 'doomed'"):
        call_command("tenant_delete", "doomed")
    assert schema_exists("doomed") and tenant_get(slug="doomed") is not None

    monkeypatch.setattr(builtins, "input", lambda prompt: "doomed")
    call_command("tenant_delete", "doomed")
    assert "Deleted doomed: its hosts answer the suspended page; purged after" in capsys.readouterr().out
    # Deleted, not gone: closed, data kept, slug reserved until the purge.
    assert schema_exists("doomed") and Client.objects.get(slug="doomed").is_deleted
    for host in ("doomed.localhost", "tasks.doomed-corp.example"):
        page = HttpClient(HTTP_HOST=host).get("/")
        assert page.status_code == 423 and b"This organisation is suspended" in page.content
    with pytest.raises(ValidationError, match="already taken"):
        _provision("doomed")

    with pytest.raises(CommandError, match="Refusing to purge without --confirm doomed"):
        call_command("tenant_purge", "doomed")
    call_command("tenant_purge", "doomed", "--confirm", "doomed")
    assert "Purged doomed: schema dropped, usage data deleted." in capsys.readouterr().out
    assert not schema_exists("doomed")
    assert not Client.objects.filter(slug="doomed").exists()
    assert not Domain.objects.filter(domain__in=["doomed.localhost", "tasks.doomed-corp.example"]).exists()
    assert HttpClient(HTTP_HOST="doomed.localhost").get("/").status_code == 404


def test_public_site_cannot_be_deleted_or_suspended(tenants, db):
    public = Client.objects.get(schema_name="public")
    with pytest.raises(ValidationError, match="public site cannot be deleted"):
        tenant_delete(actor=actor_system(), tenant=public, confirm_slug="public")
    assert schema_exists("public")


def test_delete_keeps_usage_stats_and_the_purge_deletes_them(committed_tenants, django_db_blocker):
    kept, purged = committed_tenants("keepstats"), committed_tenants("purgestats")

    def events(tenant: Client) -> int:
        with connections["stats"].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM usage_event WHERE tenant_id = %s", [tenant.uuid])
            return cursor.fetchone()[0]

    with django_db_blocker.unblock():
        for tenant in (kept, purged):
            for _ in range(3):
                usage_stats.record("task.created", tenant_id=tenant.uuid)
        assert usage_stats.flush(timeout_s=10)
        assert events(kept) >= 3 and events(purged) >= 3

        call_command("tenant_delete", kept.slug, "--confirm", kept.slug)
        call_command("tenant_delete", purged.slug, "--confirm", purged.slug)
        call_command("tenant_purge", purged.slug, "--confirm", purged.slug)
        assert schema_exists(kept.schema_name) and not schema_exists(purged.schema_name)
        assert events(kept) >= 3
        assert events(purged) == 0


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture
def staff(tenants, db) -> HttpClient:
    user = User.objects.create_superuser(f"staff-{id(tenants)}@example.com", PASSWORD)
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _action(staff: HttpClient, action: str, tenant: Client, **extra):
    return staff.post(
        "/admin/tenants/client/", {"action": action, "_selected_action": [tenant.pk], **extra}, follow=False
    )


def test_admin_suspends_and_reactivates(staff, acme):
    assert _action(staff, "suspend_tenants", acme.tenant).status_code == 302
    assert Client.objects.get(slug="acme").is_suspended
    assert acme.client().get("/accounts/login/").status_code == 423
    assert _action(staff, "reactivate_tenants", acme.tenant).status_code == 302
    assert acme.client().get("/accounts/login/").status_code == 200


def test_admin_export_is_a_job_whose_file_only_the_asker_downloads(staff, acme):
    response = _action(staff, "export_tenant", acme.tenant)
    assert response.status_code == 302 and response["Location"] == "/staff/exports/acme/"
    progress = run_export_job("acme")
    assert progress.state == "done"
    page = staff.get("/staff/exports/acme/").content.decode()
    download = f"/staff/exports/download/{progress.task_id}/"
    assert download in page
    response = staff.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="acme-')
    records = json.loads(b"".join(response.streaming_content))
    assert any(
        r["model"] == "accounts.user" and r["fields"]["email"] == "owner@acme.example" for r in records
    )


def test_admin_deletes_only_after_the_slug_is_typed(staff, tenants, db):
    tenant = _provision("admindoomed")
    page = _action(staff, "delete_tenant", tenant)
    assert page.status_code == 200
    assert b"Type the tenant&#x27;s slug to confirm" in page.content and b"admindoomed" in page.content

    wrong = _action(staff, "delete_tenant", tenant, confirm_slug="admin-doomed")
    assert wrong.status_code == 400 and b"Type the slug" in wrong.content
    assert schema_exists("admindoomed")

    done = _action(staff, "delete_tenant", tenant, confirm_slug="admindoomed")
    assert done.status_code == 302
    assert schema_exists("admindoomed") and Client.objects.get(slug="admindoomed").is_deleted
    assert HttpClient(HTTP_HOST="admindoomed.localhost").get("/accounts/login/").status_code == 423

    assert _action(staff, "restore_tenants", tenant).status_code == 302
    assert not Client.objects.get(slug="admindoomed").is_deleted
    assert HttpClient(HTTP_HOST="admindoomed.localhost").get("/accounts/login/").status_code == 200


def test_admin_offers_no_plain_delete(staff, acme):
    changelist = staff.get("/admin/tenants/client/")
    assert changelist.status_code == 200
    assert b'value="delete_selected"' not in changelist.content
    assert b'value="delete_tenant"' in changelist.content
    assert staff.get(f"/admin/tenants/client/{acme.tenant.pk}/delete/").status_code == 403


# --- domains --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("globex.localhost", "reserved"),
        ("other.localhost", "reserved"),
        ("localhost", "reserved"),
        ("acme.localhost", "already in use"),
        ("bad host", "is not a host name"),
        ("https://acme-corp.example", "is not a host name"),
        ("acme-corp.example:8000", "is not a host name"),
        ("10.0.0.1", "is not a host name"),
        ("-acme.example", "is not a host name"),
    ],
)
def test_domain_add_rejects_bad_hosts(acme, host, message):
    with pytest.raises(ValidationError, match=message):
        domain_add(actor=actor_system(), tenant=acme.tenant, domain=host)


def test_domain_command_manages_custom_domains(acme, capsys):
    call_command("tenant_domain", "acme", "add", "Tasks.Acme-Corp.example.")
    page = HttpClient(HTTP_HOST="tasks.acme-corp.example").get("/accounts/login/")
    assert page.status_code == 200 and b"Sign in to Acme Corporation" in page.content

    call_command("tenant_domain", "acme", "primary", "tasks.acme-corp.example")
    call_command("tenant_domain", "acme", "list")
    out = capsys.readouterr().out
    assert "tasks.acme-corp.example  (primary)" in out and "\nacme.localhost\n" in out
    with pytest.raises(CommandError, match="is the primary domain"):
        call_command("tenant_domain", "acme", "remove", "tasks.acme-corp.example")
    call_command("tenant_domain", "acme", "remove", "acme.localhost")
    assert HttpClient(HTTP_HOST="acme.localhost").get("/accounts/login/").status_code == 404
    with pytest.raises(ValidationError, match="primary"):
        domain_remove(actor=actor_system(), domain=Domain.objects.get(domain="tasks.acme-corp.example"))
