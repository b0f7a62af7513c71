import pytest
from django.test import Client as HttpClient


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
    # The page carries the product's own chrome (a way back to the public site), never a tenant's.
    for leak in (b"Acme", b"Globex", b"Sign in"):
        assert leak not in response.content


def test_base_domain_serves_public_site(tenants, db):
    response = HttpClient(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert b"Create your organisation" in response.content
