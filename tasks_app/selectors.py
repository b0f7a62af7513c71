"""Reads for tasks."""

from django.db.models import QuerySet

from .models import Task


def task_list() -> QuerySet[Task]:
    return Task.objects.select_related("assignee", "created_by")
