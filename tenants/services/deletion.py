"""Deletion with a grace period, as Zulip does it: delete, restore, purge.

- `tenant_delete` deactivates: the hosts answer the suspended page, every row is kept, and
  the slug and hosts stay reserved, so nobody else can sign up with them.
- `tenant_restore` (staff) undoes it at any time before the purge.
- `tenant_purge` drops the schema, the domains, the tenant row, its usage data and its
  export files. The scheduled job `tenants.tenants_purge_grace_ended` purges every tenant
  deleted more than TENANT_DELETION_GRACE_DAYS ago; staff can purge earlier with `force`.
  After the purge the subdomain can be signed up again; the new organisation has another
  uuid, and everything kept outside a schema (audit records, usage data, exports) is keyed
  by uuid, so it sees none of the old one's.
"""

import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import Actor
from audit.services import audit_record
from core.models import JobProgress
from usage_stats.services import usage_stats_tenant_purge

from ..models import Client, Domain

logger = logging.getLogger(__name__)


def _not_public(tenant: Client, action: str) -> None:
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise ValidationError(f"The public site cannot be {action}.", code="public")


def tenant_delete(*, actor: Actor, tenant: Client, confirm_slug: str) -> Client:
    """Delete the organisation: from the next request (within the routing bound in every
    process) its hosts answer the suspended page; its data is kept until the purge.

    `confirm_slug` must be the tenant's slug, typed by the person deleting it. Deleting a
    deleted tenant changes nothing (its purge date stays).
    """
    _not_public(tenant, "deleted")
    if (confirm_slug or "").strip() != tenant.slug:
        raise ValidationError(f"Type the slug {tenant.slug!r} to confirm the deletion.", code="confirm")
    if tenant.deleted_at is not None:
        return tenant
    tenant.deleted_at = timezone.now()
    with transaction.atomic():
        tenant.save(update_fields=["deleted_at"])
        audit_record(
            action=AuditAction.TENANT_DELETED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes={"name": tenant.name, "purge_due_at": _iso(tenant.purge_due_at)},
        )
    return tenant


def tenant_restore(*, actor: Actor, tenant: Client) -> Client:
    """Undo a deletion before the purge: the hosts open again (unless also suspended)."""
    _not_public(tenant, "restored")
    if tenant.deleted_at is None:
        raise ValidationError(f"{tenant.slug} is not deleted.", code="not_deleted")
    with transaction.atomic():
        # The purge locks the row too: a restore and a purge never both succeed.
        locked = Client.objects.select_for_update().filter(pk=tenant.pk).first()
        if locked is None:
            raise ValidationError(f"{tenant.slug} has already been purged.", code="purged")
        deleted_at = tenant.deleted_at
        tenant.deleted_at = None
        tenant.save(update_fields=["deleted_at"])
        audit_record(
            action=AuditAction.TENANT_RESTORED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes={"deleted_at": [_iso(deleted_at), None]},
        )
    return tenant


def tenant_purge(*, actor: Actor, tenant: Client, force: bool = False) -> None:
    """Drop a deleted tenant for good: its schema, domains and row in one transaction, its
    export files and usage data around it. Only once its grace period has ended, unless
    `force` (staff erasing an organisation early). The audit records stay, keyed by uuid.
    """
    _not_public(tenant, "purged")
    if tenant.deleted_at is None:
        raise ValidationError(f"Delete {tenant.slug} first; only a deleted tenant is purged.", code="active")
    due = tenant.purge_due_at
    if not force and due is not None and due > timezone.now():
        raise ValidationError(
            f"{tenant.slug} may be restored until {due:%Y-%m-%d %H:%M} UTC; it is purged then.", code="grace"
        )
    # Usage data first: a purge that fails below leaves a deleted tenant to purge again.
    _usage_purge(tenant)
    files: list[str] = []
    with transaction.atomic():
        connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' backend
        locked = Client.objects.select_for_update().filter(pk=tenant.pk, deleted_at__isnull=False).first()
        if locked is None:
            raise ValidationError(f"{tenant.slug} was restored or purged meanwhile.", code="changed")
        audit_record(
            action=AuditAction.TENANT_PURGED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes={"name": tenant.name, "schema": tenant.schema_name, "forced": bool(force and due)},
        )
        exports = JobProgress.objects.filter(
            Q(target_schema=tenant.schema_name) | Q(requester_schema=tenant.schema_name)
        )
        files = [path for path in exports.values_list("result_path", flat=True) if path]
        exports.delete()
        Domain.objects.filter(tenant=tenant).delete()
        tenant_schema_drop(tenant)
        transaction.on_commit(lambda: _files_remove(files))
    # Events recorded while the purge ran (a job finishing) go too.
    _usage_purge(tenant)


def tenant_schema_drop(tenant: Client) -> None:
    """DROP SCHEMA ... CASCADE, then the tenant row (inside the caller's transaction)."""
    tenant.delete(force_drop=True)


def tenants_purge_due(*, actor: Actor) -> list[str]:
    """Purge every tenant whose grace period has ended; returns their slugs. One failure is
    logged and left for the next run; the others still go."""
    cutoff = timezone.now() - _grace()
    purged = []
    for tenant in Client.objects.real().filter(deleted_at__isnull=False, deleted_at__lte=cutoff):
        try:
            tenant_purge(actor=actor, tenant=tenant)
        except Exception:
            logger.exception("purge of tenant %s failed; the next run tries again", tenant.slug)
        else:
            purged.append(tenant.slug)
    return purged


def _grace() -> dt.timedelta:
    return dt.timedelta(days=settings.TENANT_DELETION_GRACE_DAYS)


def _usage_purge(tenant: Client) -> None:
    usage_stats_tenant_purge(tenant_id=tenant.uuid)


def _files_remove(paths: list[str]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
