"""People and tokens written in the owner admin go through accounts.services: the same
usage events and audit records as the UI, and no way around their rules."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.models import ApiToken, User
from accounts.services import api_token_create, api_token_revoke, user_role_change
from audit.models import AuditRecord
from tests.conftest import PASSWORD
from tests.support.factories import make_person, unique
from tests.support.usage_events import with_stats_database

pytestmark = with_stats_database

NEW_PASSWORD = "a-fine-long-passphrase-1"


def _records(action: str, *, target_id: int, tenant: str = "acme") -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=action, tenant_schema=tenant, target_id=str(target_id)))


def _person_form(person: User, **fields: str) -> dict[str, str]:
    form = {"email": person.email, "full_name": person.full_name, "role": person.role, "is_active": "on"}
    form.update(fields)
    return {name: value for name, value in form.items() if value is not None}


def test_role_change_in_owner_admin_goes_through_the_service(acme):
    person = make_person(acme)
    response = acme.login().post(
        f"/admin/accounts/user/{person.pk}/change/", _person_form(person, role="owner")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("acme"):
        person.refresh_from_db()
    assert person.role == "owner" and person.is_staff  # staff status (admin sign-in) follows the role
    [record] = _records("user.role_changed", target_id=person.pk)
    assert record.changes == {"role": ["member", "owner"]}
    assert (record.actor_kind, record.actor_email) == ("owner", acme.owner_email)


def test_deactivation_and_profile_change_in_owner_admin_are_audited(acme):
    person = make_person(acme, full_name="Old Name")
    new_email = f"{unique('renamed')}@acme.example"
    client = acme.login()
    response = client.post(
        f"/admin/accounts/user/{person.pk}/change/",
        _person_form(person, email=new_email.upper(), full_name="New Name", is_active=None),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("acme"):
        person.refresh_from_db()
    # A new address waits for its verification link (accounts/verification.py).
    assert not person.is_active and person.pending_email == new_email and person.full_name == "New Name"
    assert person.email != new_email
    [deactivated] = _records("user.deactivated", target_id=person.pk)
    assert deactivated.changes == {"is_active": [True, False]} and deactivated.actor_kind == "owner"
    [updated] = _records("user.updated", target_id=person.pk)
    assert updated.changes["full_name"] == ["Old Name", "New Name"]
    assert updated.changes["pending_email"][1] == new_email

    client.post(f"/admin/accounts/user/{person.pk}/change/", _person_form(person))
    assert len(_records("user.activated", target_id=person.pk)) == 1


def test_an_unchanged_save_writes_no_record(acme):
    person = make_person(acme)
    response = acme.login().post(f"/admin/accounts/user/{person.pk}/change/", _person_form(person))
    assert response.status_code == 302
    assert not AuditRecord.objects.filter(tenant_schema="acme", target_id=str(person.pk)).exists()


def test_owner_admin_cannot_delete_people(acme):
    person = make_person(acme)
    client = acme.login()
    assert client.post(f"/admin/accounts/user/{person.pk}/delete/", {"post": "yes"}).status_code == 403
    with schema_context("acme"):
        assert User.objects.filter(pk=person.pk).exists()


# --- API tokens: revoked for good -------------------------------------------------------------


def _token(acme, person: User) -> tuple[ApiToken, str]:
    with schema_context("acme"):
        return api_token_create(user=person, name=unique("script"))


def _api_status(acme, raw: str) -> int:
    return acme.client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_owner_revokes_a_token_in_the_admin_and_it_is_audited(acme):
    person = make_person(acme)
    token, raw = _token(acme, person)
    assert _api_status(acme, raw) == 200
    response = acme.login().post(
        "/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert _api_status(acme, raw) == 401
    [record] = _records("api_token.revoked", target_id=token.pk)
    assert (record.actor_kind, record.actor_email) == ("owner", acme.owner_email)
    assert record.changes == {"user_id": person.pk, "prefix": token.prefix}


def test_a_revoked_token_cannot_be_revived_in_the_owner_admin(acme):
    person = make_person(acme)
    token, raw = _token(acme, person)
    client = acme.login()
    client.post("/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    with schema_context("acme"):
        revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at
    assert revoked_at is not None

    change_url = f"/admin/accounts/apitoken/{token.pk}/change/"
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="revoked_at' not in page.content.decode()
    response = client.post(
        change_url, {"name": token.name, "revoked_at_0": "", "revoked_at_1": "", "revoked_at": ""}
    )
    assert response.status_code == 403
    with schema_context("acme"):
        assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at
    assert _api_status(acme, raw) == 401
    # Revoking again changes nothing and writes no second record.
    client.post("/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert len(_records("api_token.revoked", target_id=token.pk)) == 1


def test_the_staff_admin_offers_no_way_to_a_tenants_tokens(acme):
    person = make_person(acme)
    token, raw = _token(acme, person)
    with schema_context("acme"):
        api_token_revoke(actor=person, token=token)
    staff = User.objects.create_superuser(f"{unique('staff')}@example.com", PASSWORD)
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(staff)
    change_url = f"/admin/accounts/apitoken/{token.pk}/change/"
    assert client.get(change_url).status_code == 404
    assert client.post(change_url, {"revoked_at_0": "", "revoked_at_1": ""}).status_code == 404
    assert _api_status(acme, raw) == 401


def test_a_member_revoking_their_own_token_on_the_settings_page_is_audited(acme):
    person = make_person(acme)
    client = acme.login(person.email)
    created = client.post("/accounts/tokens/", {"name": "laptop"})
    raw = re.search(r'id="new-token">([^<]+)<', created.content.decode()).group(1)
    with schema_context("acme"):
        token = ApiToken.objects.get(prefix=raw[:10])
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    [record] = _records("api_token.revoked", target_id=token.pk)
    assert (record.actor_kind, record.actor_id, record.actor_email) == ("member", person.pk, person.email)


# --- The organisation's audit log in the owner admin ----------------------------------------


def test_owner_sees_their_organisations_audit_records_only(acme, globex):
    acme_person = make_person(acme, email=f"{unique('acme-audited')}@acme.example")
    globex_person = make_person(globex, email=f"{unique('globex-audited')}@globex.example")
    acme.login().post(
        f"/admin/accounts/user/{acme_person.pk}/change/", _person_form(acme_person, role="owner")
    )
    globex.login().post(
        f"/admin/accounts/user/{globex_person.pk}/change/", _person_form(globex_person, role="owner")
    )
    assert _records("user.role_changed", target_id=globex_person.pk, tenant="globex")

    page = acme.login().get("/admin/audit/auditrecord/")
    assert page.status_code == 200
    html = page.content.decode()
    assert acme_person.email in html and globex_person.email not in html
    [record] = _records("user.role_changed", target_id=globex_person.pk, tenant="globex")
    assert acme.login().get(f"/admin/audit/auditrecord/{record.pk}/change/").status_code == 404
    assert acme.login().get("/admin/audit/auditrecord/add/").status_code == 403


def test_member_gets_403_from_the_audit_log(acme, acme_member):
    assert acme.login(acme_member.email).get("/admin/audit/auditrecord/").status_code == 403


def test_the_revoke_service_goes_by_the_stored_row_not_the_instance(acme):

    person = make_person(acme)
    token, raw = _token(acme, person)
    with schema_context("acme"):
        api_token_revoke(actor=person, token=token)
        revoked_at = token.revoked_at
        token.revoked_at = None  # what a form that cleared the field would hand over
        api_token_revoke(actor=acme.owner(), token=token)
        assert token.revoked_at == revoked_at
        assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at
    assert _api_status(acme, raw) == 401
    assert len(_records("api_token.revoked", target_id=token.pk)) == 1


def test_role_service_refuses_an_owners_own_role_and_members(acme, acme_member):

    with schema_context("acme"):
        owner = acme.owner()
        with pytest.raises(ValidationError, match="your own role"):
            user_role_change(actor=owner, user=owner, role="member")
        with pytest.raises(PermissionDenied):
            user_role_change(actor=acme_member, user=owner, role="member")
        owner.refresh_from_db()
    assert owner.role == "owner"
    assert not AuditRecord.objects.filter(action="user.role_changed", target_id=str(owner.pk)).exists()


def test_the_owners_audit_log_names_staff_by_kind_only(acme):
    staff = User.objects.create_superuser(f"{unique('hidden-staff')}@example.com", PASSWORD)
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(staff)
    client.post("/admin/tenants/client/", {"action": "suspend_tenants", "_selected_action": [acme.tenant.pk]})
    call_command("tenant_reactivate", "acme")
    assert AuditRecord.objects.filter(
        action="tenant.suspended", tenant_schema="acme", actor_email=staff.email
    )
    html = acme.login().get("/admin/audit/auditrecord/").content.decode()
    assert "Tenant suspended" in html and "Tenant reactivated" in html
    assert '<td class="field-actor">Staff</td>' in html
    assert '<td class="field-actor">Command line</td>' in html
    assert staff.email not in html
