"""Invitations over real SMTP: invite, mail, choose a password, signed in with the invited
role; resend replaces the link; a revoked, used or expired link is refused; owners whose
address is not verified cannot invite."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Invitation, User
from audit.models import AuditRecord
from tests.support.factories import make_person, unique

PASSWORD = "chosen-by-the-invitee-42"


def _invite(client, email, capture, role="member"):
    with capture(execute=True):
        return client.post(
            "/accounts/members/invite/", {"email": email, "full_name": "Ivy Invited", "role": role}
        )


def _path(link: str) -> str:
    return link.split("acme.localhost", 1)[1]


def _invitation_link(mailbox, email, count=1) -> str:
    mails = mailbox.wait_for(email, count=count)
    [link] = [url for url in mails[-1].links if "/accounts/invitation/" in url]
    return link


@pytest.mark.parametrize("role", ["member", "owner"])
def test_invitation_by_mail_to_signed_in_with_the_role(
    acme, role, mailbox, django_capture_on_commit_callbacks
):
    email = f"{unique('ivy')}@acme.example"
    owner = acme.login()
    response = _invite(owner, email.upper(), django_capture_on_commit_callbacks, role=role)
    assert response.status_code == 201 and f"Invitation sent to {email}" in response.content.decode()
    [mail] = mailbox.wait_for(email)
    assert mail.subject == "You are invited to Acme Corporation on Taskhive"
    assert f"as {role}" in mail.body
    link = _invitation_link(mailbox, email)
    assert email in owner.get("/accounts/members/").content.decode()  # listed as waiting

    invitee = acme.client()
    page = invitee.get(_path(link))
    assert page.status_code == 200 and email in page.content.decode()
    mismatch = invitee.post(_path(link), {"password1": PASSWORD, "password2": PASSWORD + "x"})
    assert mismatch.status_code == 400
    weak = invitee.post(_path(link), {"password1": "password", "password2": "password"})
    assert weak.status_code == 400 and "This password is too common." in weak.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = invitee.post(
            _path(link), {"full_name": "Ivy I.", "password1": PASSWORD, "password2": PASSWORD}
        )
    assert done.status_code == 302 and done["Location"] == "/"
    assert invitee.get("/").status_code == 200
    with schema_context("acme"):
        person = User.objects.get(email=email)
    assert (person.role, person.is_staff, person.full_name) == (role, role == "owner", "Ivy I.")
    assert person.email_verified_at is not None
    [record] = AuditRecord.objects.filter(action="user.added", tenant_schema="acme", target_id=str(person.pk))
    assert (record.actor_email, record.changes["via"]) == (acme.owner_email, "invitation")
    # The password is the invitee's: they sign in with it; the link is spent.
    fresh = acme.client()
    assert fresh.post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code == 302
    again = acme.client().get(_path(link))
    assert again.status_code == 400 and b"not valid any more" in again.content


def test_a_revoked_invitation_link_is_refused(acme, mailbox, django_capture_on_commit_callbacks):
    email = f"{unique('rev')}@acme.example"
    owner = acme.login()
    _invite(owner, email, django_capture_on_commit_callbacks)
    link = _invitation_link(mailbox, email)
    with schema_context("acme"):
        invitation = Invitation.objects.get(email=email)
    assert owner.post(f"/accounts/invitations/{invitation.pk}/revoke/").status_code == 302
    response = acme.client().post(_path(link), {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 400 and b"not valid any more" in response.content
    with schema_context("acme"):
        assert not User.objects.filter(email=email).exists()


def test_resend_mails_a_new_link_and_the_old_one_stops_working(
    acme, mailbox, django_capture_on_commit_callbacks
):
    email = f"{unique('again')}@acme.example"
    owner = acme.login()
    _invite(owner, email, django_capture_on_commit_callbacks)
    first = _invitation_link(mailbox, email)
    with schema_context("acme"):
        invitation = Invitation.objects.get(email=email)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post(f"/accounts/invitations/{invitation.pk}/resend/").status_code == 302
    second = _invitation_link(mailbox, email, count=2)
    assert first != second
    assert acme.client().get(_path(first)).status_code == 400
    assert acme.client().get(_path(second)).status_code == 200


def test_an_expired_invitation_is_refused(acme, mailbox, django_capture_on_commit_callbacks):
    email = f"{unique('late')}@acme.example"
    _invite(acme.login(), email, django_capture_on_commit_callbacks)
    link = _invitation_link(mailbox, email)
    with schema_context("acme"):
        Invitation.objects.filter(email=email).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert acme.client().get(_path(link)).status_code == 400


def test_a_forged_or_foreign_invitation_link_is_refused(
    acme, globex, mailbox, django_capture_on_commit_callbacks
):
    email = f"{unique('forge')}@acme.example"
    _invite(acme.login(), email, django_capture_on_commit_callbacks)
    link = _invitation_link(mailbox, email)
    assert acme.client().get(_path(link)[:-3] + "xyz/").status_code == 400
    assert globex.client().get(_path(link)).status_code == 400


def test_an_unverified_owner_cannot_invite(acme, mailbox, django_capture_on_commit_callbacks):
    owner = make_person(acme, role="owner")
    client = acme.login(owner.email)
    page = client.get("/").content.decode()
    assert "Please confirm your email address" in page
    response = _invite(client, f"{unique('nope')}@acme.example", django_capture_on_commit_callbacks)
    assert response.status_code == 400 and "Confirm your own email address first" in response.content.decode()
    assert mailbox.mails() == []


def test_owner_sends_a_reset_mail_instead_of_choosing_a_password(
    acme, acme_member, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.login().post(f"/accounts/members/{acme_member.pk}/reset-password/", follow=True)
    assert f"Sent {acme_member.email} a link to choose a new password." in [
        str(m) for m in response.context["messages"]
    ]
    [mail] = mailbox.wait_for(acme_member.email)
    assert "An owner of your organisation asked for a password reset" in mail.body
    assert any("/accounts/password/reset/" in url for url in mail.links)
