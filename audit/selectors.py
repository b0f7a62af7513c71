"""Reads of audit records."""

from django.db.models import QuerySet

from .models import AuditRecord


def audit_record_list(*, tenant_schema: str | None = None) -> QuerySet[AuditRecord]:
    """Newest first; only one tenant's when `tenant_schema` is given (kept after its deletion)."""
    records = AuditRecord.objects.all()
    if tenant_schema is not None:
        records = records.filter(tenant_schema=tenant_schema)
    return records.order_by("-created_at", "-id")
