from django.conf import settings
from django.db import models
from django.db.models import Q


class Task(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    TITLE_MAX_LENGTH = 200

    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="created_tasks",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # One index per list query served (tasks_app.selectors.task_list): an optional
        # status or assignee filter, sorted by created or due date with id as tie-break.
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="task_status_created_idx"),
            models.Index(fields=["status", "due_date", "id"], name="task_status_due_idx"),
            models.Index(fields=["assignee", "status", "-created_at"], name="task_assignee_status_idx"),
            models.Index(fields=["-created_at", "-id"], name="task_created_idx"),
            models.Index(fields=["due_date", "id"], name="task_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "done"]), name="task_status_valid"),
            models.CheckConstraint(condition=~Q(title=""), name="task_title_not_empty"),
            # completed_at is set exactly when the task is done.
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False)
                | Q(status="open", completed_at__isnull=True),
                name="task_completed_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE
