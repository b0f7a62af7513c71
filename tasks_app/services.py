"""Writes for tasks. Every change to a Task goes through here."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .models import Task


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    description: str = "",
    due_date: dt.date | None = None,
    assignee: User | None = None,
) -> Task:
    task = Task(
        title=title,
        description=description,
        due_date=due_date,
        assignee=assignee,
        created_by=actor,
    )
    task.full_clean()
    task.save()
    return task


@transaction.atomic
def task_complete(*, actor: User, task: Task) -> Task:
    if task.status != Task.Status.DONE:
        task.status = Task.Status.DONE
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at", "updated_at"])
    return task


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    if task.status != Task.Status.OPEN:
        task.status = Task.Status.OPEN
        task.completed_at = None
        task.save(update_fields=["status", "completed_at", "updated_at"])
    return task


@transaction.atomic
def task_delete(*, actor: User, task: Task) -> None:
    task.delete()
