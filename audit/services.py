"""The one write of audit records. Call it inside the action's own transaction, so a
record exists exactly when the action committed."""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models

from core.tenancy import current_schema_name

from .actions import AuditAction
from .actors import Actor
from .models import AuditRecord

TARGET_LABEL_MAX_LENGTH = 200


def _current_tenant() -> tuple[models.Model | None, str]:
    """The tenant whose schema the connection is on, or (None, "") on the public schema."""
    schema = current_schema_name()
    if schema == settings.PUBLIC_SCHEMA_NAME:
        return None, ""
    tenant_model = apps.get_model(settings.TENANT_MODEL)
    # A request's tenant is a real instance (tenants.middleware); schema_context gives a stand-in.
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, tenant_model) and tenant.pk is not None:
        return tenant, schema
    return tenant_model._default_manager.filter(schema_name=schema).first(), schema


def audit_record(
    *,
    action: AuditAction,
    actor: Actor,
    tenant: models.Model | None = None,
    target: models.Model | None = None,
    target_label: str | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditRecord:
    """Write one audit record of `action` by `actor`.

    `tenant` defaults to the tenant of the current schema (none on the public schema).
    `target` is the object acted on; its type, id and label are copied, so the record
    outlives it. `changes` must be JSON-serialisable.
    """
    if tenant is None:
        tenant, schema = _current_tenant()
    else:
        schema = str(getattr(tenant, "schema_name", ""))
    target_type = target_id = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = "" if target.pk is None else str(target.pk)
        if target_label is None:
            target_label = str(target)
    return AuditRecord.objects.create(
        tenant_id=None if tenant is None else tenant.pk,
        tenant_uuid=None if tenant is None else getattr(tenant, "uuid", None),
        tenant_schema=schema,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_email=actor.email,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=(target_label or "")[:TARGET_LABEL_MAX_LENGTH],
        changes=changes or {},
    )
