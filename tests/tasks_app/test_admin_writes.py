"""Tasks written in the owner admin go through tasks_app.services, so they record the same
usage events as the UI and the API: task.created, task.updated, task.deleted."""

from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.models import User
from tasks_app.models import Task
from tests.support.factories import make_task, unique
from tests.support.usage_events import task_ids_with_event, with_stats_database

pytestmark = with_stats_database


def _task_form(title: str, **fields: str) -> dict[str, str]:
    return {"title": title, "description": "", "status": "open", "due_date": "", "assignee": "", **fields}


def test_task_added_in_owner_admin_records_task_created(acme, django_capture_on_commit_callbacks):
    title = unique("admin-added")
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.login().post("/admin/tasks_app/task/add/", _task_form(title, status="done"))
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("acme"):
        task = Task.objects.get(title=title)
        assert task.created_by.email == acme.owner_email
    assert task.status == "done" and task.completed_at is not None
    assert task_ids_with_event("task.created", tenant="acme", task_ids=[task.pk]) == [task.pk]


def test_task_changed_in_owner_admin_records_task_updated_and_completed(
    acme, django_capture_on_commit_callbacks
):
    task = make_task(acme)
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.login().post(
            f"/admin/tasks_app/task/{task.pk}/change/", _task_form(task.title, status="done")
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert task_ids_with_event("task.updated", tenant="acme", task_ids=[task.pk]) == [task.pk]
    assert task_ids_with_event("task.completed", tenant="acme", task_ids=[task.pk]) == [task.pk]


def test_task_deleted_in_owner_admin_records_task_deleted(acme, django_capture_on_commit_callbacks):
    task = make_task(acme)
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.login().post(f"/admin/tasks_app/task/{task.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    with schema_context("acme"):
        assert not Task.objects.filter(pk=task.pk).exists()
    assert task_ids_with_event("task.deleted", tenant="acme", task_ids=[task.pk]) == [task.pk]


def test_bulk_delete_in_owner_admin_records_task_deleted_for_each(acme, django_capture_on_commit_callbacks):
    tasks = [make_task(acme) for _ in range(3)]
    kept = make_task(acme)
    ids = [task.pk for task in tasks]
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.login().post(
            "/admin/tasks_app/task/",
            {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
        )
    assert response.status_code == 302
    with schema_context("acme"):
        assert not Task.objects.filter(pk__in=ids).exists()
        assert Task.objects.filter(pk=kept.pk).exists()
    assert task_ids_with_event("task.deleted", tenant="acme", task_ids=[*ids, kept.pk]) == sorted(ids)


def test_a_refused_admin_save_records_nothing(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = acme.login().post("/admin/tasks_app/task/add/", _task_form("   "))
    assert response.status_code == 200  # the form again, with its error
    assert not callbacks


def test_staff_admin_has_no_task_admin(tenants, db):
    """Tasks live in tenant schemas only: the staff admin on the base domain offers no way to
    write one, so the owner admin is the only admin path, covered above."""
    staff = User.objects.create_superuser(f"{unique('staff')}@example.com", "x-long-staff-passphrase")
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/tasks_app/task/").status_code == 404
    assert client.post("/admin/tasks_app/task/add/", _task_form("x")).status_code == 404
