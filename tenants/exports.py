"""Tenant exports as a background job: an owner (or staff) asks, a worker writes the file,
the page shows progress and then a download only the person who asked can use.

The file is written by `tenants.services.tenant_export` (the service `manage.py
tenant_export` calls) in the worker, never in the web process that took the request.
"""

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from audit.actors import Actor, actor_for_user, actor_system
from core.jobs import job_enqueue_on_commit
from core.models import JobOutbox, JobProgress
from core.tenancy import current_schema_name, on_public_schema
from tenants.models import Client
from tenants.services import EXPORT_FORMATS, tenant_export

EXPORT_KIND = "tenant_export"


def export_dir() -> Path:
    path = Path(settings.JOBS_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def tenant_export_request(*, tenant: Client, actor: Any, fmt: str = "json") -> JobProgress:
    """Record the request and queue the job on commit. The actor is a user of the current
    schema (the tenant's owner, or staff on the public site)."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"Unknown export format {fmt!r}.", code="invalid")
    from tenants.tasks import tenant_export_job

    with transaction.atomic():
        progress = JobProgress.objects.create(
            task_id=str(uuid.uuid4()),
            kind=EXPORT_KIND,
            target_schema=tenant.schema_name,
            target_tenant_uuid=tenant.uuid,
            requester_schema=current_schema_name(),
            requester_tenant_uuid=_requester_tenant_uuid(),
            requester_user_id=actor.pk,
            detail=fmt,
        )
        job_enqueue_on_commit(tenant_export_job, progress.pk, fmt, task_id=progress.task_id)
    return progress


def tenant_exports_of(*, actor: Any, tenant: Client, limit: int = 10) -> list[JobProgress]:
    """The actor's own exports of this tenant, newest first."""
    return list(
        JobProgress.objects.filter(
            kind=EXPORT_KIND,
            target_tenant_uuid=tenant.uuid,
            requester_schema=current_schema_name(),
            requester_tenant_uuid=_requester_tenant_uuid(),
            requester_user_id=actor.pk,
        ).order_by("-created_at")[:limit]
    )


def tenant_export_waits_for_broker(progress: JobProgress) -> bool:
    """True while the job is in the outbox because the job system was unavailable."""
    return JobOutbox.objects.filter(task_id=progress.task_id, sent_at__isnull=True).exists()


def tenant_export_run(*, progress_id: int, task_id: str, fmt: str) -> JobProgress | None:
    """The job: write the export once. A delivery after it is done does nothing; one after
    a crash writes the file again (to a temporary name, renamed when complete)."""
    progress = JobProgress.objects.filter(pk=progress_id, task_id=task_id).first()
    if progress is None or progress.state == JobProgress.State.DONE:
        return progress
    tenant = Client.objects.filter(uuid=progress.target_tenant_uuid).first()
    if tenant is None:  # purged since it was asked for
        progress.state, progress.error = JobProgress.State.FAILED, "The organisation no longer exists."
        progress.finished_at = timezone.now()
        progress.save(update_fields=["state", "error", "finished_at"])
        return progress
    progress.state, progress.started_at = JobProgress.State.RUNNING, timezone.now()
    progress.save(update_fields=["state", "started_at"])
    # Named by the stable id: a later tenant of the same subdomain never meets this file.
    final = export_dir() / f"{tenant.uuid}-{task_id}.{fmt}"
    partial = final.with_suffix(final.suffix + ".part")
    try:
        tenant_export(actor=_requester(progress), tenant=tenant, path=partial, fmt=fmt)
        partial.replace(final)
    except ValidationError as exc:
        partial.unlink(missing_ok=True)
        progress.state, progress.error = JobProgress.State.FAILED, "; ".join(exc.messages)[:1000]
        progress.finished_at = timezone.now()
        progress.save(update_fields=["state", "error", "finished_at"])
        return progress
    progress.state, progress.finished_at = JobProgress.State.DONE, timezone.now()
    progress.result_path, progress.result_bytes = str(final), final.stat().st_size
    progress.save(update_fields=["state", "finished_at", "result_path", "result_bytes"])
    return progress


def _requester_tenant_uuid() -> uuid.UUID | None:
    """The stable id of the tenant whose user is asking (None for staff on the public site)."""
    tenant = getattr(connection, "tenant", None)
    if on_public_schema() or tenant is None:
        return None
    found = getattr(tenant, "uuid", None)
    if found is None:  # a schema_context stand-in: look the tenant up by its schema
        found = (
            Client.objects.filter(schema_name=current_schema_name()).values_list("uuid", flat=True).first()
        )
    return found


def _requester(progress: JobProgress) -> Actor:
    """The person who asked, as the audit record names them (users live in their schema)."""
    with schema_context(progress.requester_schema):
        user = get_user_model().objects.filter(pk=progress.requester_user_id).first()
        return actor_for_user(user) if user is not None else actor_system()


def tenant_export_for_download(*, actor: Any, task_id: str) -> JobProgress | None:
    """The finished export `task_id` if `actor` (a user of the current schema) asked for it."""
    return JobProgress.objects.filter(
        kind=EXPORT_KIND,
        task_id=task_id,
        requester_schema=current_schema_name(),
        requester_tenant_uuid=_requester_tenant_uuid(),
        requester_user_id=actor.pk,
        state=JobProgress.State.DONE,
    ).first()
