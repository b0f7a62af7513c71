"""Login throttling: 429 with a clear message after repeated failures, per tenant."""

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import Client as HttpClient
from django.test import RequestFactory, override_settings
from django.utils import timezone

from accounts.throttle.models import LoginFailure
from accounts.throttle.services import client_ip
from core.tenancy import public_schema


def _fail(client: HttpClient, email: str, path: str = "/accounts/login/", **extra):
    return client.post(path, {"username": email, "password": "wrong-guess"}, **extra)


@override_settings(LOGIN_THROTTLE_FAILURES=3)
def test_repeated_failures_lock_that_person_out_with_429(acme, globex):
    client = acme.client()
    for _ in range(3):
        assert _fail(client, acme.owner_email).status_code in (200, 400)  # the form, with its error
    locked = client.post("/accounts/login/", {"username": acme.owner_email, "password": acme.password})
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content
    assert 0 < int(locked["Retry-After"]) <= 900

    # Another person on the same tenant, and the same email on another tenant, are unaffected.
    assert _fail(client, "someone.else@acme.example").status_code in (200, 400)
    other_tenant = globex.client().post(
        "/accounts/login/", {"username": acme.owner_email, "password": "wrong-guess"}
    )
    assert other_tenant.status_code in (200, 400)


@override_settings(LOGIN_THROTTLE_FAILURES=2)
def test_the_lock_ends_when_the_failures_leave_the_window(acme):
    client = acme.client()
    for _ in range(2):
        _fail(client, acme.owner_email)
    assert _fail(client, acme.owner_email).status_code == 429
    LoginFailure.objects.update(failed_at=timezone.now() - timedelta(seconds=901))
    ok = client.post("/accounts/login/", {"username": acme.owner_email, "password": acme.password})
    assert ok.status_code == 302
    # A successful sign-in forgets this person's failures from this address.
    assert not LoginFailure.objects.filter(scope="acme", email=acme.owner_email).exists()


@override_settings(LOGIN_THROTTLE_FAILURES=100, LOGIN_THROTTLE_IP_FAILURES=4)
def test_password_spraying_from_one_address_is_throttled_across_emails(acme):
    client = acme.client()
    for i in range(4):
        assert _fail(client, f"victim{i}@acme.example").status_code in (200, 400)
    assert _fail(client, "victim99@acme.example").status_code == 429


@override_settings(LOGIN_THROTTLE_FAILURES=2)
def test_authenticate_refuses_a_correct_password_while_throttled(acme):
    """API token endpoints call authenticate(); the backend refuses without checking."""
    client = acme.client()
    for _ in range(2):
        _fail(client, acme.owner_email)
    request = RequestFactory().post("/api/v1/auth/token", HTTP_HOST=acme.host)
    request.tenant = acme.tenant
    from django_tenants.utils import schema_context

    with schema_context("acme"):
        assert authenticate(request, username=acme.owner_email, password=acme.password) is None
        with public_schema():  # the table a tenant's database role cannot reach
            LoginFailure.objects.all().delete()
        assert authenticate(request, username=acme.owner_email, password=acme.password) is not None


@override_settings(LOGIN_THROTTLE_FAILURES=2)
def test_staff_admin_login_on_the_base_domain_is_throttled(tenants, db):
    client = HttpClient(HTTP_HOST="localhost")
    for _ in range(2):
        assert _fail(client, "staff@example.com", path="/admin/login/").status_code in (200, 400)
    assert _fail(client, "staff@example.com", path="/admin/login/").status_code == 429


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.5", "1.2.3.4", "10.0.0.5"),  # not behind a proxy: X-Forwarded-For is ignored
        (1, "10.0.0.5", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client cannot choose by prepending
        (1, "10.0.0.5", "", "10.0.0.5"),
        (0, "not-an-ip", "", "unknown"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(proxies, remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected
