import re

from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.models import User
from tests.support.factories import make_person
from tests.support.tenants import PASSWORD


def test_sign_in_and_out_with_messages(acme):
    client = acme.client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"Sign in to Acme Corporation" in page.content
    response = client.post(
        "/accounts/login/", {"username": "Owner@ACME.example", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].email == acme.owner_email
    assert "Signed in as owner@acme.example." in [str(m) for m in response.context["messages"]]

    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "You have signed out." in [str(m) for m in response.context["messages"]]
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(acme):
    response = acme.client().post("/accounts/login/", {"username": acme.owner_email, "password": "nope"})
    assert response.status_code == 400
    assert b"Please enter a correct email address and password" in response.content
    assert not response.context["user"].is_authenticated


def test_login_redirects_only_to_local_next(acme):
    client = acme.client()
    response = client.post(
        "/accounts/login/?next=https://evil.example/",
        {"username": acme.owner_email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_same_email_in_two_tenants_is_two_accounts(acme, globex):
    email = "shared@example.com"
    make_person(acme, email=email, full_name="Acme Sam")
    with schema_context("globex"):
        User.objects.create_user(email, "globex-only-password-77")
    acme_client = acme.client()
    ok = acme_client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert ok.status_code == 302
    # acme's password does not open globex, and globex's does not open acme.
    assert (
        globex.client().post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code == 400
    )
    assert (
        acme.client().post("/accounts/login/", {"username": email, "password": "globex-only-password-77"})
    ).status_code == 400
    with schema_context("acme"):
        acme_id = User.objects.get(email=email).pk
    with schema_context("globex"):
        assert User.objects.get(email=email).full_name == ""
        assert User.objects.filter(pk=acme_id, full_name="Acme Sam").count() == 0


def test_password_change(acme):
    person = make_person(acme)
    client = acme.login(person.email)
    page = client.get("/accounts/password/")
    assert page.status_code == 200

    bad = client.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": "short", "new_password2": "other"},
    )
    assert bad.status_code == 400
    errors = bad.context["form"].errors
    assert "old_password" in errors and "new_password2" in errors

    new = "a-much-better-passphrase-42"
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/accounts/settings/"
    assert "Your password has been changed." in [str(m) for m in response.context["messages"]]
    assert client.get("/").status_code == 200  # still signed in
    fresh = acme.client()
    assert fresh.post("/accounts/login/", {"username": person.email, "password": PASSWORD}).status_code == 400
    assert fresh.post("/accounts/login/", {"username": person.email, "password": new}).status_code == 302


def test_deactivated_person_is_signed_out_and_cannot_sign_in(acme):
    person = make_person(acme)
    client = acme.login(person.email)
    assert client.get("/").status_code == 200
    with schema_context("acme"):
        User.objects.filter(pk=person.pk).update(is_active=False)
    assert client.get("/").status_code == 302
    response = acme.client().post("/accounts/login/", {"username": person.email, "password": PASSWORD})
    assert response.status_code == 400


def test_login_form_is_csrf_protected(acme):
    client = HttpClient(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": acme.owner_email, "password": PASSWORD})
    assert response.status_code == 403
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(
        "/accounts/login/",
        {"username": acme.owner_email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
