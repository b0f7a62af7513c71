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


class JobProgress(models.Model):
    """A job a person waits for (a tenant export): who asked, how far it is, what it made.

    The requester is named by schema and user id, since users live in each schema; only
    that user, on that schema's site, may see the result."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    task_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=50)
    # The schema the job works on, and the one whose user asked (public for staff); and the
    # stable ids (Client.uuid) of both tenants (None for staff), which select the records, since a
    # purged tenant's schema name may be reused by a later organisation.
    target_schema = models.CharField(max_length=63)
    requester_schema = models.CharField(max_length=63)
    target_tenant_uuid = models.UUIDField(null=True, blank=True)
    requester_tenant_uuid = models.UUIDField(null=True, blank=True)
    requester_user_id = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    detail = models.CharField(max_length=200, blank=True, default="")
    result_path = models.CharField(max_length=500, blank=True, default="")
    result_bytes = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "core_job_progress"
        indexes = [models.Index(fields=["requester_schema", "requester_user_id", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.task_id} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
