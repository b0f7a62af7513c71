"""Error pages reveal nothing: no path, no tenant list, no exception text, no stack trace."""

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import get_resolver

from core import errors

SECRETS = (b"hunter2", b"Traceback", b"settings.py", b"test_secret_db", b"Globex", b"Connection refused")


@pytest.mark.parametrize("urlconf", ["saas.urls_public", "saas.urls_tenants"])
@pytest.mark.parametrize(
    ("status", "handler"),
    [
        (400, errors.bad_request),
        (403, errors.permission_denied),
        (404, errors.page_not_found),
        (500, errors.server_error),
    ],
)
def test_both_url_confs_use_the_plain_error_handlers(urlconf, status, handler):
    assert get_resolver(urlconf).resolve_error_handler(status) is handler


def test_404_on_a_tenant_host_does_not_echo_the_path(acme):
    response = acme.client().get("/<script>alert(1)</script>-secret-path/")
    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b"secret-path" not in response.content
    assert b"<script>" not in response.content
    assert b"Reference: " + response["X-Request-ID"].encode() in response.content


def test_404_on_the_public_site(tenants, db):
    response = HttpClient(HTTP_HOST="localhost").get("/no-such-thing/")
    assert response.status_code == 404
    assert b"no-such-thing" not in response.content


@override_settings(ROOT_URLCONF="tests.security.error_urls")
def test_500_page_reveals_nothing(acme):
    response = HttpClient(HTTP_HOST=acme.host, raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    for secret in SECRETS:
        assert secret not in response.content


@override_settings(ROOT_URLCONF="tests.security.error_urls")
def test_database_unavailable_is_a_clean_503(acme):
    response = HttpClient(HTTP_HOST=acme.host, raise_request_exception=False).get("/database-gone/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Temporarily unavailable" in response.content
    for secret in SECRETS:
        assert secret not in response.content


def test_too_many_form_fields_is_a_plain_400(tenants, db):
    fields = {f"f{i}": "x" for i in range(1500)}
    response = HttpClient(HTTP_HOST="localhost").post("/signup/", fields)
    assert response.status_code == 400
    assert b"Bad request" in response.content


def test_csrf_failure_is_a_plain_403_without_django_reasons(acme):
    client = HttpClient(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": acme.owner_email, "password": "x"})
    assert response.status_code == 403
    assert b"This form has expired" in response.content
    assert b"CSRF cookie not set" not in response.content
    assert b"Referer" not in response.content


# --- Every error page has the app's chrome and a way back, on both kinds of host ------------

CHROME = (b'class="topbar"', b"css/app.css", b"favicon.svg", b"Skip to content", b'href="/"')


def _assert_branded(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    for marker in CHROME:
        assert marker in response.content, (status, marker)
    assert b"hunter2" not in response.content
    assert b"Django" not in response.content


@override_settings(
    ROOT_URLCONF="tests.security.error_urls", PUBLIC_SCHEMA_URLCONF="tests.security.error_urls"
)
@pytest.mark.parametrize("host", ["acme.localhost", "localhost"])
@pytest.mark.parametrize("status", [400, 403, 404, 405, 410, 429, 500])
def test_every_error_status_is_a_branded_page(tenants, db, host, status):
    client = HttpClient(HTTP_HOST=host, raise_request_exception=False)
    response = client.get(f"/status/{status}/")
    _assert_branded(response, status)
    if status == 405:
        assert response["Allow"] == "POST"


@override_settings(
    ROOT_URLCONF="tests.security.error_urls", PUBLIC_SCHEMA_URLCONF="tests.security.error_urls"
)
@pytest.mark.parametrize("host", ["acme.localhost", "localhost"])
@pytest.mark.parametrize("status", [400, 403, 404, 405, 410, 429, 500])
def test_every_error_under_api_is_json(tenants, db, host, status):
    client = HttpClient(HTTP_HOST=host, raise_request_exception=False)
    response = client.get(f"/api/status/{status}/")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"detail"}
    assert b"hunter2" not in response.content


def test_csrf_failure_is_branded_on_both_hosts(acme):
    for host, path in ((acme.host, "/accounts/login/"), ("localhost", "/signup/")):
        response = HttpClient(HTTP_HOST=host, enforce_csrf_checks=True).post(path, {"x": "y"})
        _assert_branded(response, 403)
        assert b"This form has expired" in response.content


def test_unknown_host_and_suspended_pages_are_branded_and_lead_to_the_public_site(tenants, db):
    from audit.actors import actor_system
    from tenants.services import tenant_provision, tenant_suspend

    unknown = HttpClient(HTTP_HOST="nobody.localhost").get("/")
    _assert_branded(unknown, 404)
    assert b"http://localhost/" in unknown.content
    result = tenant_provision(
        slug="suspendo", name="Suspendo Ltd", owner_email="o@s.example", owner_password=None
    )
    tenant_suspend(actor=actor_system(), tenant=result.tenant, reason="test")
    suspended = HttpClient(HTTP_HOST="suspendo.localhost").get("/")
    _assert_branded(suspended, 423)
    assert b"Suspendo Ltd is suspended" in suspended.content


def test_a_405_from_a_real_view_is_branded(acme):
    response = acme.login().get("/tasks/1/complete/")
    _assert_branded(response, 405)
    assert response["Allow"] == "POST"
