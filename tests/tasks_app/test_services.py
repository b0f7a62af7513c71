import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from tasks_app import selectors, services
from tasks_app.models import Task
from tests.support.factories import make_person, make_task, unique


@pytest.fixture
def in_acme(acme):
    with schema_context("acme"):
        yield acme


def test_create_strips_text_and_records_creator(in_acme):
    owner = in_acme.owner()
    task = services.task_create(actor=owner, title="  Ship it  ", description="  notes \n")
    assert (task.title, task.description, task.status) == ("Ship it", "notes", "open")
    assert task.created_by == owner and task.completed_at is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "   "}, "title", "Give the task a title."),
        ({"title": "x" * 201}, "title", "Use at most 200 characters (201 given)."),
        ({"title": "bad\x00byte"}, "title", "Null characters are not allowed."),
        ({"title": "lone \ud800 surrogate"}, "title", "Use valid Unicode text."),
        ({"title": "ok", "description": "d\x00"}, "description", "Null characters are not allowed."),
        ({"title": "ok", "description": "d" * 20_001}, "description", "Use at most 20000 characters."),
    ],
)
def test_create_rejects_bad_text_with_field_messages(in_acme, fields, field, message):
    before = Task.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.task_create(actor=in_acme.owner(), **fields)
    assert exc.value.message_dict[field] == [message]
    assert Task.objects.count() == before


def test_deactivated_person_keeps_tasks_but_gets_no_new_ones(acme):
    person = make_person(acme)
    task = make_task(acme, assignee=person)
    with schema_context("acme"):
        person.is_active = False
        person.save()
        task.refresh_from_db()
        # Editing something else keeps the deactivated assignee.
        services.task_update(actor=acme.owner(), task=task, title="renamed", assignee=task.assignee)
        assert task.assignee_id == person.pk
        with pytest.raises(ValidationError) as exc:
            services.task_create(actor=acme.owner(), title="new", assignee=person)
        assert "deactivated" in exc.value.message_dict["assignee"][0]


def test_complete_and_reopen_keep_completed_at_in_step(in_acme):
    owner = in_acme.owner()
    task = services.task_create(actor=owner, title=unique("t"))
    services.task_complete(actor=owner, task=task)
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None
    first_completion = task.completed_at
    services.task_complete(actor=owner, task=task)  # idempotent
    assert task.completed_at == first_completion
    services.task_reopen(actor=owner, task=task)
    task.refresh_from_db()
    assert task.status == "open" and task.completed_at is None
    services.task_update(actor=owner, task=task, status="done")
    assert task.completed_at is not None
    services.task_update(actor=owner, task=task, status="open")
    assert task.completed_at is None


def test_update_rejects_unknown_fields_and_bad_status(in_acme):
    owner = in_acme.owner()
    task = services.task_create(actor=owner, title=unique("t"))
    with pytest.raises(ValidationError) as exc:
        services.task_update(actor=owner, task=task, created_by=None)
    assert exc.value.message_dict == {"created_by": ["This field cannot be changed."]}
    with pytest.raises(ValidationError) as exc:
        services.task_update(actor=owner, task=task, status="archived")
    assert exc.value.message_dict == {"status": ["Choose open or done."]}


def test_database_refuses_done_task_without_completed_at(in_acme):
    """The check constraint backs up the service for writes that bypass it."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(title="raw", status="done")


def test_delete_removes_the_task(in_acme):
    owner = in_acme.owner()
    task = services.task_create(actor=owner, title=unique("t"))
    task_id = task.pk
    services.task_delete(actor=owner, task=task)
    assert selectors.task_get(task_id=task_id) is None


def test_selector_filters_search_and_sorts(acme):
    owner = acme.owner()
    mark = unique("sel")
    person = make_person(acme)
    a = make_task(acme, title=f"{mark} alpha", due_date=dt.date(2030, 1, 2), assignee=person)
    b = make_task(acme, title=f"{mark} beta", description="Contains GAMMA", due_date=dt.date(2030, 1, 1))
    c = make_task(acme, title=f"{mark} gamma", assignee=owner)
    with schema_context("acme"):
        services.task_complete(actor=owner, task=c)

        def ids(**kw):
            return [t.pk for t in selectors.task_list(viewer=owner, q=mark, **kw)]

        assert ids() == [c.pk, b.pk, a.pk]
        assert ids(sort="created") == [a.pk, b.pk, c.pk]
        assert ids(sort="due") == [b.pk, a.pk, c.pk]  # no due date sorts last
        assert ids(sort="-due") == [a.pk, b.pk, c.pk]
        assert ids(status="open") == [b.pk, a.pk]
        assert ids(status="done") == [c.pk]
        assert ids(assignee="me") == [c.pk]
        assert ids(assignee="none") == [b.pk]
        assert ids(assignee=person.pk) == [a.pk]
        assert ids(assignee=2**70) == []
        assert [t.pk for t in selectors.task_list(viewer=owner, q=f"{mark} gamma")] == [c.pk, b.pk]
        assert selectors.task_get(task_id=2**63) is None
        assert selectors.task_get(task_id=0) is None
