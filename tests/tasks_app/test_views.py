import datetime as dt
import re

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tasks_app.models import Task
from tests.support.factories import make_person, make_task, unique


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def titles_on(response) -> list[str]:
    return [t.title for t in response.context["page"].tasks]


def test_anonymous_people_are_sent_to_sign_in(acme):
    client = acme.client()
    for url in ["/", "/tasks/new/", "/tasks/1/", "/tasks/1/delete/", "/accounts/settings/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
    response = client.post("/tasks/1/complete/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_list_shows_tenant_name_and_open_tasks(acme):
    open_task = make_task(acme, title=unique("open"))
    done_task = make_task(acme, title=unique("done"))
    with schema_context("acme"):
        done_task.status = "done"
        done_task.completed_at = done_task.created_at
        done_task.save()
    response = acme.login().get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Corporation" in body
    assert open_task.title in body and done_task.title not in body
    assert '<meta name="viewport"' in body


def test_create_task_with_flash_message(acme, acme_member):
    client = acme.login()
    title = unique("Buy")
    response = client.post(
        "/tasks/new/",
        {"title": title, "description": "two", "due_date": "2031-05-06", "assignee": acme_member.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response) == [f"Created “{title}”."]
    with schema_context("acme"):
        task = Task.objects.get(title=title)
        assert task.due_date == dt.date(2031, 5, 6) and task.assignee_id == acme_member.pk
        assert task.created_by.email == acme.owner_email


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "   "}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "Ensure this value has at most 200 characters (it has 201)."),
        ({"title": "ok", "due_date": "31/31/2020"}, "due_date", "Enter a valid date."),
        ({"title": "ok", "assignee": "999999999"}, "assignee", "Select a valid choice."),
        ({"title": "ok", "assignee": "99999999999999999999999"}, "assignee", "Select a valid choice."),
        ({"title": "nul\x00"}, "title", "Null characters are not allowed."),
    ],
)
def test_create_form_errors_appear_next_to_their_field(acme, data, field, message):
    before = _count("acme")
    response = acme.login().post("/tasks/new/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(e.startswith(message) for e in errors[field]), errors
    # Rendered inside the field's own block, with the input marked.
    html = response.content.decode()
    block = re.search(rf'<div class="field has-error">\s*<label for="id_{field}">.*?</div>', html, re.S)
    assert block and message.split(" (")[0] in block.group(0).replace("&#x27;", "'")
    assert _count("acme") == before


def test_create_rejects_deactivated_assignee(acme):
    person = make_person(acme, is_active=False)
    response = acme.login().post("/tasks/new/", {"title": "x", "assignee": person.pk})
    assert response.status_code == 400
    assert "assignee" in response.context["form"].errors


def _count(schema: str) -> int:
    with schema_context(schema):
        return Task.objects.count()


def test_edit_task_and_return_to_filtered_list(acme, acme_member):
    task = make_task(acme, title=unique("edit"))
    client = acme.login()
    page = client.get(f"/tasks/{task.pk}/edit/?next=/%3Fstatus%3Dall")
    assert page.status_code == 200 and task.title in page.content.decode()
    response = client.post(
        f"/tasks/{task.pk}/edit/",
        {
            "title": "Renamed",
            "description": "",
            "status": "done",
            "due_date": "",
            "assignee": acme_member.pk,
            "next": "/?status=all",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/?status=all"
    with schema_context("acme"):
        task.refresh_from_db()
    assert (task.title, task.status, task.assignee_id) == ("Renamed", "done", acme_member.pk)
    assert task.completed_at is not None
    assert messages_of(client.get("/")) == ["Saved “Renamed”."]


def test_edit_errors_and_foreign_redirects_are_refused(acme):
    task = make_task(acme, title=unique("edit"))
    client = acme.login()
    response = client.post(f"/tasks/{task.pk}/edit/", {"title": "", "status": "nope"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"title", "status"}
    # An off-site or javascript: `next` falls back to the list.
    for evil in ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]:
        response = client.post(f"/tasks/{task.pk}/complete/", {"next": evil})
        assert response["Location"] == "/", evil
        page = client.get(f"/tasks/{task.pk}/", {"next": evil})
        assert evil not in page.content.decode()


def test_complete_reopen_and_delete_with_confirmation(acme):
    task = make_task(acme, title=unique("life"))
    client = acme.login()

    response = client.post(f"/tasks/{task.pk}/complete/", follow=True)
    assert messages_of(response) == [f"Completed “{task.title}”."]
    response = client.post(f"/tasks/{task.pk}/reopen/", follow=True)
    assert messages_of(response) == [f"Reopened “{task.title}”."]
    with schema_context("acme"):
        task.refresh_from_db()
    assert task.status == "open" and task.completed_at is None

    confirm = client.get(f"/tasks/{task.pk}/delete/")
    assert confirm.status_code == 200
    assert "Delete this task?" in confirm.content.decode() and task.title in confirm.content.decode()
    assert _exists("acme", task.pk)  # GET never deletes
    response = client.post(f"/tasks/{task.pk}/delete/", follow=True)
    assert messages_of(response) == [f"Deleted “{task.title}”."]
    assert not _exists("acme", task.pk)
    assert client.get(f"/tasks/{task.pk}/").status_code == 404


def _exists(schema: str, pk: int) -> bool:
    with schema_context(schema):
        return Task.objects.filter(pk=pk).exists()


def test_actions_need_post(acme):
    task = make_task(acme)
    client = acme.login()
    assert client.get(f"/tasks/{task.pk}/complete/").status_code == 405
    assert client.get(f"/tasks/{task.pk}/reopen/").status_code == 405
    assert client.put(f"/tasks/{task.pk}/delete/").status_code == 405


def test_filters_search_sort_and_paginate(acme, acme_member):
    mark = unique("flt")
    owner = acme.owner()
    mine = make_task(acme, title=f"{mark} mine", assignee=owner, due_date=dt.date(2030, 3, 1))
    theirs = make_task(acme, title=f"{mark} theirs", assignee=acme_member, due_date=dt.date(2030, 1, 1))
    nobody = make_task(acme, title=f"{mark} nobody", description="needle in here")
    client = acme.login()

    def titles(**params):
        response = client.get("/", {"q": mark, **params})
        assert response.status_code == 200, response.context["form"].errors
        return titles_on(response)

    assert titles() == [nobody.title, theirs.title, mine.title]
    assert titles(assignee="me") == [mine.title]
    assert titles(assignee=str(acme_member.pk)) == [theirs.title]
    assert titles(assignee="none") == [nobody.title]
    assert titles(sort="due") == [theirs.title, mine.title, nobody.title]
    assert titles(q=f"{mark} NEEDLE") == [nobody.title]
    assert titles(per_page="10", sort="created") == [mine.title, theirs.title, nobody.title]

    with schema_context("acme"):
        Task.objects.filter(pk=mine.pk).update(status="done", completed_at=mine.created_at)
    assert titles(status="done") == [mine.title]
    assert titles(status="all", sort="created") == [mine.title, theirs.title, nobody.title]

    many = [make_task(acme, title=f"{mark} page {i:02d}") for i in range(12)]
    first = client.get("/", {"q": f"{mark} page", "per_page": "10", "sort": "created"})
    assert titles_on(first) == [t.title for t in many[:10]]
    assert 'rel="next"' in first.content.decode()
    second = client.get("/", {"q": f"{mark} page", "per_page": "10", "sort": "created", "page": "2"})
    assert titles_on(second) == [t.title for t in many[10:]]
    # Past the end shows the last page rather than an error.
    far = client.get("/", {"q": f"{mark} page", "per_page": "10", "sort": "created", "page": "99"})
    assert titles_on(far) == [t.title for t in many[10:]]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "archived"},
        {"assignee": "somebody"},
        {"assignee": "1; DROP TABLE x"},
        {"sort": "password"},
        {"per_page": "100000"},
        {"page": "zero"},
        {"page": "0"},
        {"q": "x" * 201},
        {"q": "nul\x00"},
    ],
)
def test_bad_filters_get_400_with_a_message(acme, params):
    response = acme.login().get("/", params)
    assert response.status_code == 400
    assert response.context["page"] is None
    assert response.context["form"].errors
    assert 'class="error"' in response.content.decode()


def test_titles_are_escaped(acme):
    task = make_task(acme, title="<script>alert('x')</script>", description="<img src=x onerror=alert(1)>")
    client = acme.login()
    for url in ["/?status=all", f"/tasks/{task.pk}/", f"/tasks/{task.pk}/delete/"]:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html, url


def test_csrf_is_enforced(acme):
    task = make_task(acme)
    client = HttpClient(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    with schema_context("acme"):
        client.force_login(acme.owner())
    assert client.post("/tasks/new/", {"title": "forged"}).status_code == 403
    assert client.post(f"/tasks/{task.pk}/delete/").status_code == 403
    assert _exists("acme", task.pk)
    # With the token from the form, the same request works.
    page = client.get("/tasks/new/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    ok = client.post("/tasks/new/", {"title": unique("real"), "csrfmiddlewaretoken": token})
    assert ok.status_code == 302


def test_out_of_range_ids_are_404_not_500(acme):
    client = acme.login()
    assert client.get("/tasks/99999999999999999999999/").status_code == 404
    assert client.post("/tasks/9223372036854775808/complete/").status_code == 404
