"""The shared API host api.<BASE_DOMAIN>: the tenant comes from X-Tenant-ID, and the
isolation tests of an organisation's own host hold there too."""

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.services import api_token_create
from audit.actors import actor_system
from tasks_app.models import Task
from tasks_app.services import task_create
from tenants.services import tenant_provision, tenant_suspend

API_HOST = f"api.{settings.BASE_DOMAIN}"


def _token(info) -> str:
    with schema_context(info.tenant.schema_name):
        _, raw = api_token_create(user=info.owner(), name="api host")
    connection.set_schema_to_public()
    return raw


def _client(token: str | None = None, tenant_id: str | None = None) -> HttpClient:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if tenant_id is not None:
        headers["X-Tenant-ID"] = tenant_id
    return HttpClient(HTTP_HOST=API_HOST, headers=headers)


@pytest.fixture
def secrets(acme, globex) -> dict[str, Task]:
    planted = {}
    for info in (acme, globex):
        with schema_context(info.tenant.schema_name):
            planted[info.slug] = task_create(
                actor=info.owner(), title=f"{info.slug}-secret-{uuid.uuid4().hex}"
            )
    connection.set_schema_to_public()
    return planted


def _shows(response, task: Task) -> bool:
    return task.title.encode() in response.content


def test_a_token_with_its_tenant_id_works_like_on_the_subdomain(secrets, acme):
    client = _client(_token(acme), "acme")
    listing = client.get("/api/v1/tasks", {"status": "all", "per_page": 100})
    assert listing.status_code == 200
    assert _shows(listing, secrets["acme"]) and not _shows(listing, secrets["globex"])
    created = client.post("/api/v1/tasks", {"title": "via the api host"}, content_type="application/json")
    assert created.status_code == 201
    with schema_context("acme"):
        assert Task.objects.filter(pk=created.json()["id"], title="via the api host").exists()
    assert client.get("/api/v1/people").status_code == 200
    # The tenant header is case-insensitive in its name and tolerant of spacing in its value.
    other = HttpClient(
        HTTP_HOST=API_HOST,
        headers={"x-tenant-id": " ACME ", "Authorization": client.defaults["HTTP_AUTHORIZATION"]},
    )
    assert other.get("/api/v1/tasks").status_code == 200


def test_missing_tenant_id_is_400(acme):
    for value in (None, "", "   "):
        response = _client(_token(acme), value).get("/api/v1/tasks")
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Tenant ID missing")


@pytest.mark.parametrize(
    "tenant_id", ["nobody", "public", "tenant_template", "a" * 300, "../acme", "acme.localhost"]
)
def test_unknown_tenant_id_is_404(acme, tenant_id):
    response = _client(_token(acme), tenant_id).get("/api/v1/tasks")
    assert response.status_code == 404
    assert response.json() == {"detail": "No organisation has this tenant ID."}


def test_another_tenants_token_is_401(secrets, acme, globex):
    acme_token = _token(acme)
    for path in ("/api/v1/tasks", "/api/v1/people", *(f"/api/v1/tasks/{t.pk}" for t in secrets.values())):
        replay = _client(acme_token, "globex").get(path)
        assert replay.status_code == 401, path
        assert not _shows(replay, secrets["globex"]) and not _shows(replay, secrets["acme"])
    write = _client(acme_token, "globex").post(
        "/api/v1/tasks", {"title": "planted"}, content_type="application/json"
    )
    assert write.status_code == 401


def test_another_tenants_task_ids_are_404_through_the_api_host(secrets, globex):
    target = secrets["acme"]
    client = _client(_token(globex), "globex")
    for task_id in [max(1, target.pk - 1), target.pk, target.pk + 1]:
        got = client.get(f"/api/v1/tasks/{task_id}")
        assert got.status_code in (200, 404)
        assert not _shows(got, target)
        patched = client.patch(
            f"/api/v1/tasks/{task_id}", {"status": "done"}, content_type="application/json"
        )
        assert patched.status_code in (200, 404)
    with schema_context("acme"):
        assert Task.objects.get(pk=target.pk).status == "open"


def test_a_session_cookie_does_not_authenticate_on_the_api_host(acme):
    session_key = acme.login().cookies["sessionid"].value
    client = _client(None, "acme")
    client.cookies["sessionid"] = session_key
    assert client.get("/api/v1/tasks").status_code == 401


def test_only_the_api_is_served_and_always_as_json(acme):
    for path in ("/", "/admin/", "/accounts/login/", "/signup/"):
        response = _client(_token(acme), "acme").get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")


def test_a_suspended_tenant_is_423(tenants, db):
    slug = f"apih-{uuid.uuid4().hex[:6]}"
    result = tenant_provision(
        slug=slug, name="Suspended Ltd", owner_email=f"o@{slug}.example", owner_password=None
    )
    tenant_suspend(actor=actor_system(), tenant=result.tenant, reason="test")
    response = _client("th_whatever", slug).get("/api/v1/tasks")
    assert response.status_code == 423
    assert response.json() == {"detail": "This organisation is suspended."}


def test_api_is_a_reserved_subdomain(tenants, db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="reserved"):
        tenant_provision(slug="api", name="Api Ltd", owner_email="o@api.example", owner_password=None)


def test_the_openapi_schema_documents_the_tenant_header(acme):
    schema = acme.client().get("/api/v1/openapi.json").json()
    parameter = schema["components"]["parameters"]["TenantId"]
    assert parameter["name"] == "X-Tenant-ID" and parameter["in"] == "header"
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            assert {"$ref": "#/components/parameters/TenantId"} in operation["parameters"]
