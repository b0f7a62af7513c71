"""Every lifecycle action leaves an AuditRecord naming its actor: from the staff admin
(staff), from the commands (cli), from the services' own transaction (nothing on failure)."""

import getpass

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django_tenants.utils import schema_context, schema_exists

from audit.actions import AuditAction
from audit.actors import Actor, actor_system
from audit.models import AuditRecord
from audit.services import audit_record
from tenants.models import Client, Domain
from tenants.services import domain_add, tenant_delete, tenant_provision, tenant_suspend
from tenants.tasks import tenants_purge_grace_ended
from tests.conftest import PASSWORD
from tests.support.factories import unique
from tests.support.tenants import run_export_job
from tests.support.usage_events import with_stats_database


def _provision(prefix: str) -> Client:
    slug = unique(prefix).replace("-", "")[:20]
    result = tenant_provision(
        slug=slug, name=slug.title(), owner_email=f"o@{slug}.example", owner_password=PASSWORD
    )
    connection.set_schema_to_public()
    return result.tenant


def _action(staff, action: str, tenant: Client, **extra):
    return staff.post("/admin/tenants/client/", {"action": action, "_selected_action": [tenant.pk], **extra})


def _latest(action: str, tenant_schema: str) -> AuditRecord:
    return AuditRecord.objects.filter(action=action, tenant_schema=tenant_schema).latest("id")


def _is_cli(record: AuditRecord) -> bool:
    return record.actor_kind == "cli" and record.actor_id is None and record.actor_email == getpass.getuser()


# --- staff admin ------------------------------------------------------------------------------


def test_staff_suspend_and_reactivate_are_recorded_with_the_staff_member(staff, staff_user, acme):
    assert _action(staff, "suspend_tenants", acme.tenant).status_code == 302
    suspended = _latest("tenant.suspended", "acme")
    assert (suspended.actor_kind, suspended.actor_id, suspended.actor_email) == (
        "staff",
        staff_user.pk,
        staff_user.email,
    )
    assert suspended.tenant_id == acme.tenant.pk and suspended.target_type == "tenants.client"
    assert suspended.changes["suspended_at"][0] is None and suspended.changes["suspended_at"][1]

    assert _action(staff, "reactivate_tenants", acme.tenant).status_code == 302
    reactivated = _latest("tenant.reactivated", "acme")
    assert reactivated.actor_email == staff_user.email and reactivated.changes["suspended_at"][1] is None
    # Reactivating an active tenant is no action and leaves no record.
    _action(staff, "reactivate_tenants", acme.tenant)
    assert AuditRecord.objects.filter(action="tenant.reactivated", tenant_schema="acme").count() == 1


def test_staff_export_is_recorded(staff, staff_user, acme):
    response = _action(staff, "export_tenant", acme.tenant)
    assert response.status_code == 302
    assert not AuditRecord.objects.filter(action="tenant.exported", tenant_schema="acme").exists()
    assert run_export_job("acme").state == "done"  # the record comes with the finished file
    record = _latest("tenant.exported", "acme")
    assert record.actor_email == staff_user.email and record.changes["format"] == "json"


@with_stats_database
def test_staff_delete_restore_and_purge_are_recorded_and_outlive_the_tenant(staff, staff_user, tenants):
    tenant = _provision("auditdoomed")
    assert _action(staff, "delete_tenant", tenant, confirm_slug="wrong").status_code == 400
    assert not AuditRecord.objects.filter(action="tenant.deleted", tenant_schema=tenant.slug).exists()

    assert _action(staff, "delete_tenant", tenant, confirm_slug=tenant.slug).status_code == 302
    record = _latest("tenant.deleted", tenant.slug)
    assert record.actor_kind == "staff" and record.actor_email == staff_user.email
    assert record.tenant_uuid == tenant.uuid and "purge_due_at" in record.changes
    assert _action(staff, "restore_tenants", tenant).status_code == 302
    restored = _latest("tenant.restored", tenant.slug)
    assert restored.actor_email == staff_user.email and restored.tenant_uuid == tenant.uuid

    tenant = Client.objects.get(pk=tenant.pk)
    tenant_delete(actor=actor_system(), tenant=tenant, confirm_slug=tenant.slug)
    tenants_purge_grace_ended()  # the scheduled job; the tests' grace period is 0
    assert not schema_exists(tenant.schema_name) and not Client.objects.filter(pk=tenant.pk).exists()
    purged = _latest("tenant.purged", tenant.slug)
    assert purged.actor_kind == "system" and purged.target_id == str(tenant.pk)
    # Every record stays, keyed by the stable id, though the tenant row is gone.
    assert set(
        AuditRecord.objects.filter(tenant_uuid=tenant.uuid, tenant=None).values_list("action", flat=True)
    ) == {"tenant.created", "tenant.deleted", "tenant.restored", "tenant.purged"}


def test_staff_rename_is_recorded(staff, staff_user, acme):
    response = staff.post(
        f"/admin/tenants/client/{acme.tenant.pk}/change/",
        {"name": "Acme Renamed", "domains-TOTAL_FORMS": "0", "domains-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Client.objects.get(pk=acme.tenant.pk).name == "Acme Renamed"
    record = _latest("tenant.renamed", "acme")
    assert record.changes == {"name": ["Acme Corporation", "Acme Renamed"]} and record.actor_kind == "staff"


def _domain_formset(tenant: Client, rows: list[dict]) -> dict[str, str]:
    data = {
        "name": tenant.name,
        "domains-TOTAL_FORMS": str(len(rows)),
        "domains-INITIAL_FORMS": str(sum(1 for row in rows if row.get("id"))),
    }
    for i, row in enumerate(rows):
        data[f"domains-{i}-tenant"] = str(tenant.pk)
        data[f"domains-{i}-domain"] = row["domain"]
        if row.get("id"):
            data[f"domains-{i}-id"] = str(row["id"])
        if row.get("is_primary"):
            data[f"domains-{i}-is_primary"] = "on"
        if row.get("DELETE"):
            data[f"domains-{i}-DELETE"] = "on"
    return data


def test_staff_domain_changes_on_the_tenant_page_go_through_the_services(staff, staff_user, acme):
    url = f"/admin/tenants/client/{acme.tenant.pk}/change/"
    old = Domain.objects.get(domain="acme.localhost")
    custom = f"{unique('tasks')}.acme-corp.example"
    # Add a custom domain and make it primary in one save.
    response = staff.post(
        url,
        _domain_formset(
            acme.tenant,
            [{"id": old.pk, "domain": old.domain}, {"domain": custom.upper() + ".", "is_primary": True}],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    added = Domain.objects.get(domain=custom)
    assert added.is_primary and not Domain.objects.get(pk=old.pk).is_primary
    assert _latest("domain.added", "acme").changes == {"domain": custom, "is_primary": False}
    primary = _latest("domain.primary_changed", "acme")
    assert (
        primary.changes == {"primary": ["acme.localhost", custom]} and primary.actor_email == staff_user.email
    )

    # Move the primary back and remove the custom domain in one save.
    response = staff.post(
        url,
        _domain_formset(
            acme.tenant,
            [
                {"id": old.pk, "domain": old.domain, "is_primary": True},
                {"id": added.pk, "domain": custom, "DELETE": True},
            ],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Domain.objects.get(pk=old.pk).is_primary and not Domain.objects.filter(pk=added.pk).exists()
    removed = _latest("domain.removed", "acme")
    assert removed.changes == {"domain": custom} and removed.actor_kind == "staff"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"domain": "acme.localhost"}], "Exactly one domain must be primary."),
        (
            [{"domain": "acme.localhost", "is_primary": True, "DELETE": True}],
            "Exactly one domain must be primary.",
        ),
        ([{"domain": "renamed.acme-corp.example", "is_primary": True}], "remove this one instead"),
    ],
)
def test_staff_domain_form_refuses_what_no_service_does(staff, acme, rows, message):
    old = Domain.objects.get(domain="acme.localhost")
    rows = [{"id": old.pk, **rows[0]}]
    response = staff.post(
        f"/admin/tenants/client/{acme.tenant.pk}/change/", _domain_formset(acme.tenant, rows)
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert (
        Domain.objects.get(pk=old.pk).domain == "acme.localhost" and Domain.objects.get(pk=old.pk).is_primary
    )
    assert not AuditRecord.objects.filter(tenant_schema="acme", action__startswith="domain.").exists()


def test_the_domain_list_in_the_staff_admin_is_read_only(staff, acme):
    domain = Domain.objects.get(domain="acme.localhost")
    assert staff.get("/admin/tenants/domain/").status_code == 200
    assert staff.get("/admin/tenants/domain/add/").status_code == 403
    assert staff.post(f"/admin/tenants/domain/{domain.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Domain.objects.filter(pk=domain.pk).exists()


def test_staff_admin_lists_every_record_read_only_with_filters(staff, acme, globex):
    _action(staff, "suspend_tenants", acme.tenant)
    _action(staff, "suspend_tenants", globex.tenant)
    listing = staff.get("/admin/audit/auditrecord/", {"action": "tenant.suspended"})
    assert listing.status_code == 200
    assert {"acme", "globex"} <= {r.tenant_schema for r in listing.context["cl"].result_list}
    only_acme = staff.get("/admin/audit/auditrecord/", {"tenant_schema": "acme"})
    assert {r.tenant_schema for r in only_acme.context["cl"].result_list} == {"acme"}
    record = _latest("tenant.suspended", "acme")
    assert staff.get(f"/admin/audit/auditrecord/{record.pk}/change/").status_code == 200
    assert staff.post(f"/admin/audit/auditrecord/{record.pk}/change/", {"action": "x"}).status_code == 403
    assert staff.post(f"/admin/audit/auditrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff.get("/admin/audit/auditrecord/add/").status_code == 403
    assert AuditRecord.objects.get(pk=record.pk).action == "tenant.suspended"


# --- commands ---------------------------------------------------------------------------------


def test_suspend_and_reactivate_commands_record_the_cli(acme):
    call_command("tenant_suspend", "acme", "--reason", "unpaid invoice")
    suspended = _latest("tenant.suspended", "acme")
    assert _is_cli(suspended) and suspended.changes["suspended_reason"] == ["", "unpaid invoice"]
    call_command("tenant_reactivate", "acme")
    assert _is_cli(_latest("tenant.reactivated", "acme"))


def test_export_command_records_the_cli(acme, tmp_path):
    call_command("tenant_export", "acme", "--output", str(tmp_path / "acme.json"))
    record = _latest("tenant.exported", "acme")
    assert _is_cli(record) and record.changes == {"format": "json", "file": "acme.json"}


@with_stats_database
def test_delete_command_records_the_cli(tenants, db):
    tenant = _provision("clidoomed")
    with pytest.raises(CommandError):
        call_command("tenant_delete", tenant.slug, "--confirm", "nope")
    assert not AuditRecord.objects.filter(action="tenant.deleted", tenant_schema=tenant.slug).exists()
    call_command("tenant_delete", tenant.slug, "--confirm", tenant.slug)
    record = _latest("tenant.deleted", tenant.slug)
    assert _is_cli(record) and record.tenant_uuid == tenant.uuid
    call_command("tenant_purge", tenant.slug, "--confirm", tenant.slug)
    record = _latest("tenant.purged", tenant.slug)
    # The tenant row is gone; its records still name it by its stable id.
    assert _is_cli(record) and record.tenant_id is None and record.tenant_uuid == tenant.uuid


def test_domain_command_records_each_change(acme):
    custom = f"{unique('cli')}.acme-corp.example"
    call_command("tenant_domain", "acme", "add", custom)
    call_command("tenant_domain", "acme", "primary", custom + ".")
    call_command("tenant_domain", "acme", "primary", "acme.localhost")
    call_command("tenant_domain", "acme", "remove", custom)
    actions = list(
        AuditRecord.objects.filter(tenant_schema="acme", action__startswith="domain.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["domain.added", "domain.primary_changed", "domain.primary_changed", "domain.removed"]
    assert all(
        _is_cli(r) for r in AuditRecord.objects.filter(tenant_schema="acme", action__startswith="domain.")
    )


def test_provision_records_the_cli_from_the_command_and_the_owner_from_a_signup(tenants, db):
    slug = unique("cliborn").replace("-", "")[:20]
    call_command(
        "provision_tenant",
        slug,
        "--name",
        "Cli Born",
        "--owner-email",
        f"o@{slug}.example",
        "--owner-password",
        PASSWORD,
    )
    assert _is_cli(_latest("tenant.created", slug))
    signed_up = _provision("selfsignup")  # as the public sign-up does: no actor given
    created = _latest("tenant.created", signed_up.slug)
    assert (created.actor_kind, created.actor_email) == ("owner", f"o@{signed_up.slug}.example")


# --- the service ------------------------------------------------------------------------------


def test_a_record_is_rolled_back_with_its_action(acme):
    with pytest.raises(RuntimeError), transaction.atomic():
        tenant_suspend(actor=actor_system(), tenant=acme.tenant, reason="to be rolled back")
        assert _latest("tenant.suspended", "acme").changes["suspended_reason"] == ["", "to be rolled back"]
        raise RuntimeError("the caller's transaction fails later")
    assert not AuditRecord.objects.filter(action="tenant.suspended", tenant_schema="acme").exists()


def test_refused_actions_leave_no_record(acme):
    # Tests of committed tenants leave committed records of their clean-up: count from here.
    before = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with pytest.raises(ValidationError):
        domain_add(actor=actor_system(), tenant=acme.tenant, domain="globex.localhost")
    with pytest.raises(ValidationError):
        tenant_delete(
            actor=actor_system(), tenant=Client.objects.get(schema_name="public"), confirm_slug="public"
        )
    assert not AuditRecord.objects.filter(
        id__gt=before, action__in=["domain.added", "tenant.deleted"]
    ).exists()


def test_audit_record_in_a_tenant_schema_names_that_tenant(acme):
    with schema_context("acme"):
        record = audit_record(action=AuditAction.USER_ADDED, actor=Actor(kind="owner", id=1, email="a@b.c"))
    assert (record.tenant_id, record.tenant_schema) == (acme.tenant.pk, "acme")
    on_public = audit_record(action=AuditAction.TENANT_CREATED, actor=actor_system())
    assert (on_public.tenant_id, on_public.tenant_schema) == (None, "")
