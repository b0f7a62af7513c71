"""The API's strictness: JSON types as the schema says, JSON errors everywhere, people to assign."""

import json

import pytest
from django.test import Client as HttpClient

from core.text import MESSAGE_BIDI, MESSAGE_INVISIBLE
from tests.support.factories import make_person, make_task, unique
from tests.tasks_app.test_api import Api, token_for


@pytest.fixture
def api(acme):
    return Api(acme, token_for(acme))


def _msgs(response) -> list[str]:
    return [item["msg"] for item in response.json()["detail"]]


@pytest.mark.parametrize("assignee_id", [True, False, "1", "1.0", 1.5, [1], {"id": 1}])
def test_ids_must_be_json_integers(api, acme, assignee_id):
    assert acme.owner().pk == 1  # so a lax parser would take each of these for the owner
    body = {"title": unique("strict"), "assignee_id": assignee_id}
    response = api.post("/tasks", body)
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "payload", "assignee_id"]
    assert detail[0]["msg"] == "Use a JSON integer (not a string, a fraction or true/false)."


def test_a_json_integer_written_1_0_is_the_integer_1(api, acme):
    """JSON Schema's `integer` includes 1.0, so a schema-valid request is accepted."""
    response = api.post("/tasks", {"title": unique("one"), "assignee_id": 1.0})
    assert response.status_code == 201, response.content
    assert response.json()["assignee"]["id"] == 1


@pytest.mark.parametrize("raw", ["1.0", "1e0", " 1", "+1", "0x1", "\uff11"])
def test_path_and_query_integers_are_plain_digits(api, acme, raw):
    task = make_task(acme)
    assert api.get(f"/tasks/{raw.replace('1', str(task.pk))}").status_code in (404, 422)
    response = api.get("/tasks", {"page": raw})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Use a whole number written with digits only."


@pytest.mark.parametrize(
    ("title", "message"),
    [("\u200b\u200b", MESSAGE_INVISIBLE), ("\u3164", MESSAGE_INVISIBLE), ("\u202egnp.exe", MESSAGE_BIDI)],
)
def test_titles_that_do_not_show_what_they_say_are_refused_in_words(api, title, message):
    response = api.post("/tasks", {"title": title})
    assert response.status_code == 422
    assert _msgs(response) == [message]
    patched = api.patch(
        f"/tasks/{api.post('/tasks', {'title': unique('ok')}).json()['id']}", {"title": title}
    )
    assert patched.status_code == 422 and _msgs(patched) == [message]


def test_error_messages_never_show_a_regular_expression(api):
    for body in ({"title": "   "}, {"title": "ok", "description": "\u202e"}, {"title": "nul\x00"}):
        response = api.post("/tasks", body)
        assert response.status_code == 422
        for message in _msgs(response):
            assert "pattern" not in message and "^" not in message, message
    assert _msgs(api.get("/tasks", {"assignee": "someone"})) == ["Use a person's id, “me” or “none”."]


def test_people_lists_ids_names_roles_and_activity(api, acme):
    member = make_person(acme, full_name="Pat Person")
    gone = make_person(acme, full_name="Gone Person", is_active=False)
    response = api.get("/people")
    assert response.status_code == 200
    people = {p["id"]: p for p in response.json()}
    assert people[member.pk] == {
        "id": member.pk,
        "name": "Pat Person",
        "email": member.email,
        "role": "member",
        "active": True,
    }
    assert people[gone.pk]["active"] is False
    owner = acme.owner()
    assert people[owner.pk]["role"] == "owner"
    assert Api(acme, None).get("/people").status_code == 401


def test_unknown_api_paths_and_methods_answer_json(api, acme):
    for response in (
        api.get("/nope"),
        api.http.get("/api/v2/tasks"),
        api.http.get("/api/"),
        acme.client().get("/api/v1/tasks/x/y"),
    ):
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "Not found."}
    put = api.http.put("/api/v1/tasks", json.dumps({}), content_type="application/json")
    assert put.status_code == 405
    assert put.json() == {"detail": "Method not allowed."}
    assert "GET" in put["Allow"] and "POST" in put["Allow"]


def test_errors_on_an_unknown_host_under_api_are_json(tenants, db):
    response = HttpClient(HTTP_HOST="nobody.localhost").get("/api/v1/tasks")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
