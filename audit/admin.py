"""Audit records in the staff admin on the base domain: every tenant's, read-only.

The owner admin on tenant hosts shows an organisation its own records
(accounts/tenant_admin.py), since that admin site lives above this app.
"""

from django.contrib import admin
from django.http import HttpRequest

from core.tenancy import on_public_schema

from .models import AuditRecord

AUDIT_LIST_DISPLAY = [
    "created_at",
    "action",
    "actor_kind",
    "actor_email",
    "target_type",
    "target_label",
]
AUDIT_FIELDS = [
    "created_at",
    "action",
    "actor_kind",
    "actor_id",
    "actor_email",
    "target_type",
    "target_id",
    "target_label",
    "changes",
]


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    """Records are written by audit.services.audit_record only; no admin adds, edits or deletes one."""

    fields = AUDIT_FIELDS
    readonly_fields = AUDIT_FIELDS
    list_display = AUDIT_LIST_DISPLAY
    search_fields = ["actor_email", "target_label"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditRecord)
class StaffAuditRecordAdmin(ReadOnlyAuditAdmin):
    fields = ["tenant", "tenant_uuid", "tenant_schema", *AUDIT_FIELDS]
    readonly_fields = fields
    list_display = ["created_at", "tenant_schema", *AUDIT_LIST_DISPLAY[1:]]
    list_filter = ["action", "actor_kind", "tenant_schema"]
    search_fields = ["actor_email", "target_label", "tenant_schema", "=tenant_uuid"]

    def _on_public(self) -> bool:
        # The table is in the public schema, which a tenant's search_path also reaches.
        return on_public_schema()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._on_public() and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._on_public() and super().has_view_permission(request, obj)
