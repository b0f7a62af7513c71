from django.conf import settings
from django.db import models

from .actions import ActorKind, AuditAction


class AuditRecord(models.Model):
    """One lifecycle action: who (actor), what (action, changes), to which tenant and target.

    Lives in the public schema. People live in their tenant's schema, so the actor is a
    copy (id, email, kind), not a foreign key. A tenant's records are selected by
    `tenant_uuid`, its stable id (never reused, kept after the purge); the foreign key
    becomes NULL when the tenant is purged, and `tenant_schema` keeps the name it had then,
    a label only: a purged subdomain may be signed up again.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    tenant = models.ForeignKey(
        settings.TENANT_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tenant_uuid = models.UUIDField(null=True, blank=True)
    # Empty for actions on the platform itself (none yet); the tenant's schema otherwise.
    tenant_schema = models.CharField(max_length=63, blank=True, default="")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_label = models.CharField(max_length=200, blank=True, default="")
    # What changed: {"field": [before, after]} where cheap, or plain facts ({"format": "json"}).
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant_schema", "-created_at"], name="audit_tenant_created_idx"),
            models.Index(fields=["tenant_uuid", "-created_at"], name="audit_tenant_uuid_created_idx"),
            models.Index(fields=["action", "-created_at"], name="audit_action_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or self.actor_kind}"
