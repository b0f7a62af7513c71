import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tasks_app.models import Task
from tasks_app.services import task_create


def test_tenant_host_is_served_from_its_schema(acme, globex):
    response = acme.client().get("/accounts/login/")
    assert response.status_code == 200
    assert b"Sign in to Acme Corporation" in response.content
    assert b"Globex" not in response.content


@pytest.mark.parametrize("host", ["nope.localhost", "evil.example.com", "acme.localhost.evil.com"])
def test_unknown_host_gets_plain_404(tenants, db, host):
    response = HttpClient(HTTP_HOST=host).get("/")
    assert response.status_code == 404
    assert b"There is no organisation at this address" in response.content
    for leak in (b"Acme", b"Globex", b"Taskhive", b"Sign in"):
        assert leak not in response.content


def test_base_domain_serves_public_site(tenants, db):
    response = HttpClient(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert b"Create your organisation" in response.content


def test_task_in_acme_is_invisible_from_globex(acme, globex):
    with schema_context("acme"):
        task_create(actor=acme.owner(), title="Acme secret plan")
        assert Task.objects.filter(title="Acme secret plan").count() == 1
    with schema_context("globex"):
        assert not Task.objects.filter(title="Acme secret plan").exists()

    assert b"Acme secret plan" in acme.login().get("/").content
    globex_page = globex.login().get("/")
    assert globex_page.status_code == 200
    assert b"Acme secret plan" not in globex_page.content


def test_acme_session_cookie_does_not_authenticate_on_globex(acme, globex):
    acme_client = acme.login()
    assert acme_client.get("/").status_code == 200
    session_cookie = acme_client.cookies["sessionid"].value

    replay = globex.client()
    replay.cookies["sessionid"] = session_cookie
    response = replay.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
