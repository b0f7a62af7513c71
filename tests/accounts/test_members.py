import pytest
from django_tenants.utils import schema_context

from accounts.models import Invitation, User
from tests.support.factories import make_person, unique
from tests.support.tenants import PASSWORD


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"email": "owner@acme.example"},
            "email",
            "Someone with this email is already in this organisation.",
        ),
        (
            {"email": "OWNER@acme.example"},
            "email",
            "Someone with this email is already in this organisation.",
        ),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"role": "admin"}, "role", "Select a valid choice."),
    ],
)
def test_invite_errors_next_to_fields(acme, data, field, message):
    payload = {"email": f"{unique('x')}@acme.example", "role": "member", **data}
    with schema_context("acme"):
        before = Invitation.objects.count()
    response = acme.login().post("/accounts/members/invite/", payload)
    assert response.status_code == 400
    assert any(e.startswith(message) for e in response.context["form"].errors[field])
    assert 'class="error"' in response.content.decode()
    with schema_context("acme"):
        assert Invitation.objects.count() == before


def test_the_invite_form_has_no_password(acme):
    page = acme.login().get("/accounts/members/invite/").content.decode()
    assert 'type="password"' not in page and "choose their own password" in page


def test_members_cannot_manage_people(acme, acme_member):
    client = acme.login(acme_member.email)
    victim = make_person(acme)
    assert client.get("/accounts/members/").status_code == 403
    assert client.get("/accounts/members/invite/").status_code == 403
    response = client.post("/accounts/members/invite/", {"email": "x@acme.example", "role": "owner"})
    assert response.status_code == 403
    assert client.post(f"/accounts/members/{victim.pk}/reset-password/").status_code == 403
    assert client.post(f"/accounts/members/{victim.pk}/deactivate/").status_code == 403
    with schema_context("acme"):
        assert not User.objects.filter(email="x@acme.example").exists()
        assert not Invitation.objects.filter(email="x@acme.example").exists()
        assert User.objects.get(pk=victim.pk).is_active


def test_owner_deactivates_and_reactivates(acme):
    person = make_person(acme)
    client = acme.login()
    listing = client.get("/accounts/members/")
    assert listing.status_code == 200 and person.email in listing.content.decode()

    response = client.post(f"/accounts/members/{person.pk}/deactivate/", follow=True)
    assert f"Deactivated {person.email}. They can no longer sign in." in [
        str(m) for m in response.context["messages"]
    ]
    assert (
        acme.client().post("/accounts/login/", {"username": person.email, "password": PASSWORD}).status_code
        == 400
    )

    response = client.post(f"/accounts/members/{person.pk}/activate/", follow=True)
    assert f"Reactivated {person.email}." in [str(m) for m in response.context["messages"]]
    assert (
        acme.client().post("/accounts/login/", {"username": person.email, "password": PASSWORD}).status_code
        == 302
    )


def test_owner_cannot_deactivate_themselves(acme):
    owner = acme.owner()
    response = acme.login().post(f"/accounts/members/{owner.pk}/deactivate/", follow=True)
    assert "You cannot deactivate yourself." in [str(m) for m in response.context["messages"]]
    with schema_context("acme"):
        assert User.objects.get(pk=owner.pk).is_active


def test_unknown_and_foreign_people_are_404(acme, globex):
    stranger = make_person(globex, email=f"{unique('stranger')}@globex.example")
    client = acme.login()
    with schema_context("acme"):
        assert not User.objects.filter(pk=stranger.pk, email=stranger.email).exists()
    for url in ["/accounts/members/99999999/deactivate/", "/accounts/members/99999999999999999999/activate/"]:
        assert client.post(url).status_code == 404
    assert client.get(f"/accounts/members/{stranger.pk}/deactivate/").status_code == 405
