"""A change of subdomain: the new host serves the same schema, the old one redirects for the
grace period and stays reserved, then answers 404 and is removed; the usage history and
audit records follow (keyed by the tenant's uuid)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

import usage_stats
from accounts.models import User
from audit.actors import actor_system
from audit.models import AuditRecord
from tasks_app.services import task_create
from tenants.models import Client, Domain
from tenants.services import tenant_provision, tenant_subdomain_change
from tenants.tasks import tenants_purge_grace_ended
from tests.support.tenants import PASSWORD
from tests.support.usage_events import with_stats_database


def _provision(slug: str) -> Client:
    tenant = tenant_provision(
        slug=slug, name=slug.title(), owner_email=f"o@{slug}.example", owner_password=PASSWORD
    ).tenant
    connection.set_schema_to_public()
    return tenant


@override_settings(TENANT_DELETION_GRACE_DAYS=30)
def test_old_links_redirect_to_the_new_subdomain_until_the_grace_period_ends(tenants, db):
    tenant = _provision("oldname")
    with schema_context(tenant.schema_name):
        task_create(actor=User.objects.get(), title="Survives the move")
    call_command("tenant_subdomain", "oldname", "newname")
    tenant = Client.objects.get(pk=tenant.pk)
    assert (tenant.slug, tenant.schema_name) == ("newname", "oldname")  # schema kept, no DDL
    assert Domain.objects.get(tenant=tenant, is_primary=True).domain == "newname.localhost"

    page = HttpClient(HTTP_HOST="newname.localhost").get("/accounts/login/")
    assert page.status_code == 200 and b"Sign in to Oldname" in page.content
    moved = HttpClient(HTTP_HOST="oldname.localhost:8000").get("/tasks/7/?x=1")
    assert moved.status_code == 302 and moved["Location"] == "http://newname.localhost:8000/tasks/7/?x=1"
    posted = HttpClient(HTTP_HOST="oldname.localhost").post("/accounts/login/", {})
    assert posted.status_code == 307  # a form sent to an old link is not turned into a GET
    client = HttpClient(HTTP_HOST="newname.localhost")
    with schema_context(tenant.schema_name):
        client.force_login(User.objects.get())
    assert b"Survives the move" in client.get("/").content

    # Reserved while it redirects: no sign-up, no other tenant's subdomain change.
    with pytest.raises(ValidationError, match="already taken"):
        _provision("oldname")
    with pytest.raises(ValidationError, match="already taken"):
        tenant_subdomain_change(actor=actor_system(), tenant=tenants["globex"].tenant, slug="oldname")

    record = AuditRecord.objects.get(action="tenant.subdomain_changed", tenant_uuid=tenant.uuid)
    assert record.changes["slug"] == ["oldname", "newname"] and record.actor_kind == "cli"

    # After the grace period the old host is a plain 404, and the job removes it.
    Domain.objects.filter(domain="oldname.localhost").update(redirect_until=timezone.now())
    assert HttpClient(HTTP_HOST="oldname.localhost").get("/").status_code == 404
    tenants_purge_grace_ended()
    assert not Domain.objects.filter(domain="oldname.localhost").exists()
    assert HttpClient(HTTP_HOST="newname.localhost").get("/accounts/login/").status_code == 200


@override_settings(TENANT_DELETION_GRACE_DAYS=30)
def test_a_tenant_can_take_its_old_subdomain_back(tenants, db):
    tenant = _provision("backagain")
    tenant_subdomain_change(actor=actor_system(), tenant=tenant, slug="elsewhere")
    tenant_subdomain_change(actor=actor_system(), tenant=tenant, slug="backagain")
    assert Domain.objects.get(tenant=tenant, is_primary=True).domain == "backagain.localhost"
    assert Domain.objects.get(domain="elsewhere.localhost").redirect_until is not None
    assert HttpClient(HTTP_HOST="backagain.localhost").get("/accounts/login/").status_code == 200
    assert HttpClient(HTTP_HOST="elsewhere.localhost").get("/").status_code == 302


def test_a_custom_primary_domain_stays_primary(acme):
    Domain.objects.create(domain="tasks.acme-corp.example", tenant=acme.tenant, is_primary=True)
    tenant_subdomain_change(actor=actor_system(), tenant=acme.tenant, slug="acme-two")
    primary = Domain.objects.get(tenant=acme.tenant, is_primary=True)
    assert primary.domain == "tasks.acme-corp.example"
    assert HttpClient(HTTP_HOST="acme-two.localhost").get("/accounts/login/").status_code == 200


@pytest.mark.parametrize(
    ("slug", "message"),
    [("globex", "already taken"), ("admin", "reserved"), ("Bad_Slug", "lowercase"), ("ab", "3 to 30")],
)
def test_refused_subdomains(acme, slug, message):
    with pytest.raises(ValidationError, match=message):
        tenant_subdomain_change(actor=actor_system(), tenant=acme.tenant, slug=slug)
    assert Client.objects.get(pk=acme.tenant.pk).slug == "acme"


def test_the_command_reports_refusals(acme):
    with pytest.raises(CommandError, match="slug: This subdomain is already taken"):
        call_command("tenant_subdomain", "acme", "globex")


@with_stats_database
def test_the_usage_history_follows_the_organisation(tenants, db):
    tenant = _provision("histold")
    for _ in range(3):
        usage_stats.record("task.created", tenant_id=tenant.uuid)
    assert usage_stats.flush(timeout_s=10)
    tenant_subdomain_change(actor=actor_system(), tenant=tenant, slug="histnew")
    tenant = Client.objects.get(pk=tenant.pk)
    client = HttpClient(HTTP_HOST="histnew.localhost")
    with schema_context(tenant.schema_name):
        client.force_login(User.objects.get())
    export = client.get("/usage/?export=raw&period=7d")
    assert export.status_code == 200
    rows = b"".join(export.streaming_content).decode().strip().splitlines()
    assert sum(",task.created," in row for row in rows) == 3
