import json
import re

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.services import api_token_create
from tasks_app.api_errors import UNAUTHORIZED
from tasks_app.models import Task
from tests.support.factories import make_person, make_task, unique


def token_for(tenant, user=None) -> str:
    with schema_context(tenant.tenant.schema_name):
        _token, raw = api_token_create(user=user or tenant.owner(), name="tests")
    return raw


class Api:
    """An HTTP client for one tenant's API with a bearer token."""

    def __init__(self, tenant, token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = HttpClient(HTTP_HOST=tenant.host, headers=headers)

    def get(self, path, params=None):
        return self.http.get(f"/api/v1{path}", params or {})

    def post(self, path, body):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.http.post(f"/api/v1{path}", data, content_type="application/json")

    def patch(self, path, body):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.http.patch(f"/api/v1{path}", data, content_type="application/json")

    def delete(self, path):
        return self.http.delete(f"/api/v1{path}")


@pytest.fixture
def api(acme):
    return Api(acme, token_for(acme))


def test_create_retrieve_update_delete(api, acme, acme_member):
    title = unique("api")
    created = api.post(
        "/tasks",
        {
            "title": f"  {title}  ",
            "description": "d",
            "due_date": "2030-02-03",
            "assignee_id": acme_member.pk,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["title"] == title and body["status"] == "open" and body["due_date"] == "2030-02-03"
    assert body["assignee"] == {"id": acme_member.pk, "email": acme_member.email, "name": "Mia Member"}
    assert body["completed_at"] is None and body["created_by_id"] == acme.owner().pk
    task_id = body["id"]

    got = api.get(f"/tasks/{task_id}")
    assert got.status_code == 200 and got.json() == body

    patched = api.patch(f"/tasks/{task_id}", {"status": "done", "assignee_id": None})
    assert patched.status_code == 200
    assert patched.json()["status"] == "done" and patched.json()["completed_at"] is not None
    assert patched.json()["assignee"] is None
    assert patched.json()["title"] == title  # untouched fields stay

    assert api.patch(f"/tasks/{task_id}", {}).json()["status"] == "done"  # empty patch: no change
    reopened = api.patch(f"/tasks/{task_id}", {"status": "open", "due_date": None, "title": "T2"})
    assert reopened.json()["completed_at"] is None and reopened.json()["due_date"] is None

    deleted = api.delete(f"/tasks/{task_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get(f"/tasks/{task_id}").status_code == 404
    assert api.delete(f"/tasks/{task_id}").status_code == 404


def test_list_filters_sort_and_paginate_like_the_ui(api, acme, acme_member):
    mark = unique("apil")
    owner = acme.owner()
    a = make_task(acme, title=f"{mark} a", assignee=owner, due_date="2030-05-01")
    b = make_task(acme, title=f"{mark} b", assignee=acme_member, description="haystack needle")
    c = make_task(acme, title=f"{mark} c", due_date="2030-01-01")
    api.patch(f"/tasks/{c.pk}", {"status": "done"})

    def ids(**params):
        response = api.get("/tasks", {"q": mark, **params})
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["results"]]

    assert ids() == [c.pk, b.pk, a.pk]
    assert ids(status="open") == [b.pk, a.pk]
    assert ids(status="done") == [c.pk]
    assert ids(assignee="me") == [a.pk]
    assert ids(assignee=str(acme_member.pk)) == [b.pk]
    assert ids(assignee="none") == [c.pk]
    assert ids(q=f"{mark} needle") == [b.pk]
    assert ids(sort="due") == [c.pk, a.pk, b.pk]
    assert ids(sort="created") == [a.pk, b.pk, c.pk]

    page = api.get("/tasks", {"q": mark, "per_page": 2, "page": 2, "sort": "created"}).json()
    assert page["count"] == 3 and page["num_pages"] == 2 and page["page"] == 2 and page["per_page"] == 2
    assert [t["id"] for t in page["results"]] == [c.pk]
    past = api.get("/tasks", {"q": mark, "per_page": 2, "page": 5}).json()
    assert past["results"] == [] and past["count"] == 3


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "payload", "title"]),
        ({"title": ""}, ["body", "payload", "title"]),
        ({"title": "   "}, ["body", "payload", "title"]),
        ({"title": "x" * 201}, ["body", "payload", "title"]),
        ({"title": "nul\u0000"}, ["body", "payload", "title"]),
        ({"title": "ok", "description": "\u0000"}, ["body", "payload", "description"]),
        ({"title": "ok", "due_date": "2020-13-45"}, ["body", "payload", "due_date"]),
        ({"title": "ok", "assignee_id": 0}, ["body", "payload", "assignee_id"]),
        ({"title": "ok", "assignee_id": 2**64}, ["body", "payload", "assignee_id"]),
        ({"title": "ok", "assignee_id": 987654321}, ["body", "payload", "assignee_id"]),
        ({"title": "ok", "status": "done"}, ["body", "payload", "status"]),
        ({"title": 5}, ["body", "payload", "title"]),
    ],
)
def test_create_validation_errors_are_422_with_field_locations(api, body, loc):
    before = _count()
    response = api.post("/tasks", body)
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert loc in [item["loc"] for item in detail], detail
    assert all(item["msg"] for item in detail)
    assert _count() == before


def _count() -> int:
    with schema_context("acme"):
        return Task.objects.count()


def test_deactivated_assignee_is_a_field_error(api, acme):
    person = make_person(acme, is_active=False)
    response = api.post("/tasks", {"title": "x", "assignee_id": person.pk})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "payload", "assignee_id"],
            "msg": "This person has been deactivated; choose someone else.",
            "type": "value_error",
        }
    ]


@pytest.mark.parametrize(
    "body", [{"title": None}, {"status": "archived"}, {"description": None}, {"nope": 1}, {"status": None}]
)
def test_patch_validation_errors(api, acme, body):
    task = make_task(acme)
    response = api.patch(f"/tasks/{task.pk}", body)
    assert response.status_code == 422, response.content
    with schema_context("acme"):
        task.refresh_from_db()
    assert task.status == "open"


def test_malformed_json_is_422_as_documented(api):
    response = api.post("/tasks", "{not json")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body"], "msg": "The request body is not valid JSON.", "type": "json_invalid"}]
    }


@pytest.mark.parametrize(
    "params",
    [
        {"status": "archived"},
        {"assignee": "someone"},
        {"sort": "title"},
        {"page": 0},
        {"page": "x"},
        {"per_page": 101},
        {"q": "x" * 201},
        {"q": "a\x00b"},
    ],
)
def test_bad_list_parameters_are_422(api, params):
    response = api.get("/tasks", params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize("task_id", ["0", "-1", "9223372036854775808", "abc"])
def test_impossible_ids_are_4xx_not_500(api, task_id):
    assert api.get(f"/tasks/{task_id}").status_code in (404, 422)
    assert api.patch(f"/tasks/{task_id}", {"title": "x"}).status_code in (404, 422)


def test_requests_without_valid_credentials_get_401(acme):
    task = make_task(acme)
    for client in [
        Api(acme, None),
        Api(acme, "th_not-a-real-token"),
        Api(acme, "garbage"),
        Api(acme, "x" * 5000),
    ]:
        for response in [
            client.get("/tasks"),
            client.get(f"/tasks/{task.pk}"),
            client.post("/tasks", {"title": "sneaky"}),
            client.patch(f"/tasks/{task.pk}", {"title": "sneaky"}),
            client.delete(f"/tasks/{task.pk}"),
        ]:
            assert response.status_code == 401
            assert response.json() == {"detail": UNAUTHORIZED}
    with schema_context("acme"):
        assert Task.objects.get(pk=task.pk).title == task.title
    basic = HttpClient(HTTP_HOST=acme.host, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.get("/api/v1/tasks").status_code == 401


def test_revoked_token_and_deactivated_user_are_refused(acme):
    person = make_person(acme)
    raw = token_for(acme, person)
    client = Api(acme, raw)
    assert client.get("/tasks").status_code == 200
    with schema_context("acme"):
        person.is_active = False
        person.save()
    assert client.get("/tasks").status_code == 401
    with schema_context("acme"):
        person.is_active = True
        person.save()
        token = person.api_tokens.get()
        assert token.last_used_at is not None
        token.revoked_at = token.last_used_at
        token.save()
    assert client.get("/tasks").status_code == 401


def test_session_auth_works_for_the_browser_with_csrf(acme):
    client = HttpClient(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    with schema_context("acme"):
        client.force_login(acme.owner())
    assert client.get("/api/v1/tasks").status_code == 200
    forged = client.post("/api/v1/tasks", json.dumps({"title": "forged"}), content_type="application/json")
    assert forged.status_code == 403
    page = client.get("/tasks/new/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    ok = client.post(
        "/api/v1/tasks",
        json.dumps({"title": unique("session")}),
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert ok.status_code == 201


def test_openapi_schema_is_served(acme):
    response = acme.client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {"/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/people"}
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/tasks"])
    assert {"get", "patch", "delete"} <= set(schema["paths"]["/api/v1/tasks/{task_id}"])
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_api_docs_are_served_without_a_cdn(acme):
    response = acme.client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
