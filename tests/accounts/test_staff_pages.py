"""Signed-in staff on the base domain: the public pages and the admin's Log out answer, not 500."""

from django.test import Client as HttpClient

from accounts.models import User
from tests.support.factories import unique


def _staff_client() -> HttpClient:
    staff = User.objects.create_user(
        f"{unique('staff')}@example.com", "staff-passphrase-2024", is_staff=True, is_superuser=True
    )
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(staff)
    return client


def test_signed_in_staff_see_the_public_pages(tenants, db):
    client = _staff_client()
    for path in ("/", "/signup/", "/accounts/find/", "/accounts/password/reset/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"Sign out" in response.content


def test_the_staff_admins_log_out_works(tenants, db):
    client = _staff_client()
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout/")
    assert response.status_code in (200, 302)
    assert client.get("/admin/").status_code == 302  # signed out: back to the admin's sign-in
    response = _staff_client().post("/accounts/logout/")
    assert response.status_code == 302
