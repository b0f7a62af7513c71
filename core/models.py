"""Tables every schema's jobs share; they live in the public schema (core is a shared app).

A tenant's connection reaches them too: its search_path is `<tenant>, public`.
"""

from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    """A job whose effect has happened, keyed by the job's id (core/jobs.py `job_once`).

    The row is written in the same transaction as the effect, so a job that is killed
    and delivered again finds it and does nothing the second time."""

    key = models.CharField(max_length=200, primary_key=True)
    task_name = models.CharField(max_length=200)
    schema_name = models.CharField(max_length=63)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "core_job_run"

    def __str__(self) -> str:
        return f"{self.task_name} {self.key}"


class JobOutbox(models.Model):
    """A job that could not be handed to the broker when its transaction committed
    (Redis down). The relay in every worker sends it again, with the same task id, once
    the broker is back (core/jobs.py `jobs_outbox_relay`)."""

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    schema_name = models.CharField(max_length=63)
    eta = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "core_job_outbox"
        indexes = [
            models.Index(
                fields=["id"], name="core_job_outbox_pending", condition=models.Q(sent_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"
