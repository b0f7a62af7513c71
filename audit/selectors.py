"""Reads of audit records."""

import uuid

from django.db.models import QuerySet

from .models import AuditRecord


def audit_record_list(*, tenant_uuid: uuid.UUID | None = None) -> QuerySet[AuditRecord]:
    """Newest first; only one tenant's when `tenant_uuid` (its stable id) is given.

    Kept after the tenant is purged, and never shown to a later tenant of the same subdomain.
    """
    records = AuditRecord.objects.all()
    if tenant_uuid is not None:
        records = records.filter(tenant_uuid=tenant_uuid)
    return records.order_by("-created_at", "-id")
