"""Scheduled jobs over every tenant schema (saas/settings/jobs.py CELERY_BEAT_SCHEDULE)."""

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django_tenants.utils import schema_context

from core.jobs import job_enqueue_on_commit
from tenants.models import Client

logger = logging.getLogger(__name__)


def schema_batches(*, batch_size: int) -> list[list[str]]:
    """Every schema with sessions (public first, then each tenant), in batches."""
    names = [settings.PUBLIC_SCHEMA_NAME]
    names += list(
        Client.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    size = max(batch_size, 1)
    return [names[i : i + size] for i in range(0, len(names), size)]


@shared_task(name="tenants.sessions_purge_fanout")
def sessions_purge_fanout() -> int:
    """Queue one `sessions_purge_batch` per JOBS_SESSION_PURGE_BATCH schemas, their start
    times spread evenly over JOBS_SESSION_PURGE_SPREAD_S, so 1,000 schemas are never
    purged at once. Returns how many batches were queued."""
    batches = schema_batches(batch_size=settings.JOBS_SESSION_PURGE_BATCH)
    step_s = settings.JOBS_SESSION_PURGE_SPREAD_S / max(len(batches), 1)
    for index, batch in enumerate(batches):
        job_enqueue_on_commit(sessions_purge_batch, batch, countdown_s=index * step_s or None)
    return len(batches)


@shared_task(name="tenants.sessions_purge_batch")
def sessions_purge_batch(schema_names: list[str]) -> int:
    """Delete expired sessions in each named schema (idempotent). A schema deleted since
    the fan-out is skipped. Returns how many sessions were deleted."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    existing = set(Client.objects.filter(schema_name__in=schema_names).values_list("schema_name", flat=True))
    deleted = 0
    for name in schema_names:
        if name != settings.PUBLIC_SCHEMA_NAME and name not in existing:
            continue
        with schema_context(name):
            count, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        deleted += count
    return deleted


@shared_task(name="tenants.tenants_purge_grace_ended")
def tenants_purge_grace_ended() -> int:
    """Purge the tenants deleted more than TENANT_DELETION_GRACE_DAYS ago (schema, domains,
    usage data, export files) and remove old hosts whose redirect period has ended.
    Idempotent: a purged tenant is gone, a failed one is tried again next run. Returns how
    many tenants were purged."""
    from audit.actors import actor_system
    from tenants.services import domains_redirect_expired_remove, tenants_purge_due

    purged = tenants_purge_due(actor=actor_system())
    redirects = domains_redirect_expired_remove()
    logger.info(
        "tenants_purge_grace_ended: purged %d tenant(s), removed %d old host(s)", len(purged), redirects
    )
    return len(purged)


@shared_task(name="tenants.spare_schemas_refill")
def spare_schemas_refill_job() -> int:
    """Keep TENANT_SPARE_SCHEMAS spare schemas ready (tenants/services/spares.py), dropping
    those of an older template. Idempotent: concurrent runs leave one to do the work.
    Returns how many spares it made."""
    from tenants.services import spare_schemas_refill

    return len(spare_schemas_refill().made)


@shared_task(bind=True, name="tenants.tenant_export_job")
def tenant_export_job(self: Any, progress_id: int, fmt: str) -> str:
    """Write one requested tenant export (tenants/exports.py); idempotent per job id."""
    from tenants.exports import tenant_export_run

    progress = tenant_export_run(progress_id=progress_id, task_id=self.request.id, fmt=fmt)
    return progress.state if progress is not None else "missing"
