"""Writes for tasks. Every change to a Task goes through here.

Bad input raises django.core.exceptions.ValidationError with a dict keyed by
field name, which the web forms and the API show next to the field.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import usage_stats
from accounts.models import User

from .models import Task

DESCRIPTION_MAX_LENGTH = 20_000
UPDATABLE_FIELDS = frozenset({"title", "description", "status", "due_date", "assignee"})


def _text_problem(value: str) -> str | None:
    # PostgreSQL rejects NUL in text, and lone surrogates cannot be encoded: both
    # would otherwise surface as a 500 from the database driver.
    if "\x00" in value:
        return "Null characters are not allowed."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Use valid Unicode text."
    return None


def _validate(task: Task, *, check_assignee: bool) -> None:
    errors: dict[str, list[str]] = {}
    task.title = (task.title or "").strip()
    task.description = (task.description or "").strip()
    if not task.title:
        errors["title"] = ["Give the task a title."]
    elif len(task.title) > Task.TITLE_MAX_LENGTH:
        errors["title"] = [f"Use at most {Task.TITLE_MAX_LENGTH} characters ({len(task.title)} given)."]
    elif problem := _text_problem(task.title):
        errors["title"] = [problem]
    if len(task.description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [f"Use at most {DESCRIPTION_MAX_LENGTH} characters."]
    elif problem := _text_problem(task.description):
        errors["description"] = [problem]
    if task.status not in Task.Status.values:
        errors["status"] = ["Choose open or done."]
    if check_assignee and task.assignee is not None and not task.assignee.is_active:
        errors["assignee"] = ["This person has been deactivated; choose someone else."]
    if errors:
        raise ValidationError(errors)


def _event_on_commit(event: str, *, actor: User, task_id: int | None) -> None:
    """Record a usage event once the change is committed; a rollback records nothing."""
    tenant_id = usage_stats.current_tenant_id()
    user_id = getattr(actor, "pk", None)
    transaction.on_commit(
        lambda: usage_stats.record(
            event, tenant_id=tenant_id, user_id=user_id, properties={"task_id": task_id}
        )
    )


def task_save(*, actor: User, task: Task, assignee_changed: bool = True) -> Task:
    """Validate and save `task` as it stands, keeping completed_at in step with status.

    A deactivated person can keep the tasks they had but cannot be given new ones.
    Records no usage event: call it through task_create or task_update, which do.
    """
    _validate(task, check_assignee=assignee_changed)
    if task.status == Task.Status.DONE and task.completed_at is None:
        task.completed_at = timezone.now()
    elif task.status == Task.Status.OPEN:
        task.completed_at = None
    if task.pk is None and task.created_by_id is None:
        task.created_by = actor
    task.save()
    return task


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    description: str = "",
    due_date: dt.date | None = None,
    assignee: User | None = None,
    status: str = Task.Status.OPEN,
) -> Task:
    task = Task(
        title=title,
        description=description,
        due_date=due_date,
        assignee=assignee,
        status=status,
        created_by=actor,
    )
    task_save(actor=actor, task=task)
    _event_on_commit("task.created", actor=actor, task_id=task.pk)
    return task


@transaction.atomic
def task_update(*, actor: User, task: Task, **changes: Any) -> Task:
    """Apply `changes` (any of title, description, status, due_date, assignee)."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    assignee_changed = "assignee" in changes and getattr(changes["assignee"], "pk", None) != task.assignee_id
    was_status = task.status
    for name, value in changes.items():
        setattr(task, name, value)
    task_save(actor=actor, task=task, assignee_changed=assignee_changed)
    _event_on_commit("task.updated", actor=actor, task_id=task.pk)
    if task.status != was_status:
        event = "task.completed" if task.status == Task.Status.DONE else "task.reopened"
        _event_on_commit(event, actor=actor, task_id=task.pk)
    return task


@transaction.atomic
def task_complete(*, actor: User, task: Task) -> Task:
    if task.status != Task.Status.DONE:
        task.status = Task.Status.DONE
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at", "updated_at"])
        _event_on_commit("task.completed", actor=actor, task_id=task.pk)
    return task


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    if task.status != Task.Status.OPEN:
        task.status = Task.Status.OPEN
        task.completed_at = None
        task.save(update_fields=["status", "completed_at", "updated_at"])
        _event_on_commit("task.reopened", actor=actor, task_id=task.pk)
    return task


@transaction.atomic
def task_delete(*, actor: User, task: Task) -> None:
    task_id = task.pk
    task.delete()
    _event_on_commit("task.deleted", actor=actor, task_id=task_id)


@transaction.atomic
def task_bulk_delete(*, actor: User, tasks: Iterable[Task]) -> int:
    """Delete several tasks in one transaction, one `task.deleted` event each; returns how many."""
    task_ids = [task.pk for task in tasks]
    Task.objects.filter(pk__in=task_ids).delete()
    for task_id in task_ids:
        _event_on_commit("task.deleted", actor=actor, task_id=task_id)
    return len(task_ids)
