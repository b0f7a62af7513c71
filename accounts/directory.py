"""The address -> organisation index in the public schema (accounts.platform.AccountIndexEntry),
behind "find my organisation" on the base domain.

One indexed lookup per request, whatever the number of tenants: no tenant schema is read.
Addresses are stored as HMAC-SHA256 digests keyed by SECRET_KEY, so the table alone does not
list anyone's address (after rotating SECRET_KEY, run `manage.py account_index_rebuild`).
The services that create, re-address, deactivate and reactivate people keep it; a deleted
tenant's rows go with its row (ForeignKey, CASCADE).
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.crypto import salted_hmac
from django_tenants.utils import get_tenant_model

from core.tenancy import current_schema_name

from .platform.models import AccountIndexEntry

_SALT = "taskhive.accounts.directory"


def email_digest(email: str) -> str:
    return salted_hmac(_SALT, (email or "").strip().lower(), algorithm="sha256").hexdigest()


def _tenant_id(schema_name: str | None) -> int | None:
    name = schema_name or current_schema_name()
    if name == settings.PUBLIC_SCHEMA_NAME:
        return None  # staff accounts are not an organisation
    tenant: Any = getattr(connection, "tenant", None)
    if getattr(tenant, "schema_name", None) == name and getattr(tenant, "pk", None):
        return int(tenant.pk)
    return get_tenant_model().objects.filter(schema_name=name).values_list("pk", flat=True).first()


def account_index_add(*, email: str, schema_name: str | None = None) -> None:
    """Record that `email` has an account in the tenant `schema_name` (default: the current one)."""
    tenant_id = _tenant_id(schema_name)
    if tenant_id is None:
        return
    AccountIndexEntry.objects.bulk_create(
        [AccountIndexEntry(email_digest=email_digest(email), tenant_id=tenant_id)], ignore_conflicts=True
    )


def account_index_remove(*, email: str, schema_name: str | None = None) -> None:
    tenant_id = _tenant_id(schema_name)
    if tenant_id is not None:
        AccountIndexEntry.objects.filter(email_digest=email_digest(email), tenant_id=tenant_id).delete()


@dataclass(frozen=True)
class OrganisationHit:
    name: str
    host: str


def account_index_organisations(*, email: str) -> list[OrganisationHit]:
    """Every organisation where `email` has an active account, by name, with its primary host."""
    tenants = (
        get_tenant_model()
        .objects.filter(
            pk__in=AccountIndexEntry.objects.filter(email_digest=email_digest(email)).values("tenant_id")
        )
        .exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .prefetch_related("domains")
        .order_by("name")
    )
    hits = []
    for tenant in tenants:
        primary = next((d.domain for d in tenant.domains.all() if d.is_primary), None)
        if primary:
            hits.append(OrganisationHit(name=tenant.name, host=primary))
    return hits


def account_index_rebuild() -> int:
    """Rebuild the whole index from every tenant schema's active people (a command, not a request)."""
    from django_tenants.utils import schema_context

    from .models import User

    rows: list[AccountIndexEntry] = []
    for tenant in get_tenant_model().objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME):
        with schema_context(tenant.schema_name):
            emails = list(User.objects.filter(is_active=True).values_list("email", flat=True))
        rows += [AccountIndexEntry(email_digest=email_digest(e), tenant_id=tenant.pk) for e in emails]
    AccountIndexEntry.objects.all().delete()
    AccountIndexEntry.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)
