"""A change of subdomain: staff give an organisation another `<slug>.<BASE_DOMAIN>`.

The schema keeps its name: schema names are decoupled from slugs (a schema is named after
the slug the tenant was created with and never renamed). So the change is rows only, no
DDL, which works the same on Citus with schema-based sharding (no distributed-schema
rename), and a process whose routing table is a moment old still routes the old host to
the right schema. The old host is kept as a domain with `redirect_until`: until then it
answers with a redirect to the primary domain, and it stays reserved; the scheduled job
`tenants.tenants_purge_grace_ended` removes it afterwards. Usage history and audit
records follow the organisation: they are keyed by its uuid, not its slug.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import Actor
from audit.services import audit_record

from ..models import Client, Domain
from .provisioning import tenant_host, tenant_slug_validate


def tenant_subdomain_change(*, actor: Actor, tenant: Client, slug: str) -> Client:
    """Move the tenant to `slug`.<BASE_DOMAIN>; the old subdomain redirects for the grace
    period (TENANT_DELETION_GRACE_DAYS). If the old subdomain was the primary domain the new
    one becomes primary; a custom primary domain stays primary.

    Moving back to a subdomain that still redirects to this tenant takes it back.
    """
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise ValidationError("The public site has no subdomain.", code="public")
    if tenant.deleted_at is not None:
        raise ValidationError(f"{tenant.slug} is deleted; restore it first.", code="deleted")
    new_slug = (slug or "").strip()
    if new_slug == tenant.slug:
        return tenant
    new_host = tenant_host(new_slug)
    try:
        tenant_slug_validate(new_slug)
    except ValidationError as exc:
        # Its own old subdomain (and the schema named after it) may be taken back.
        others = Client.objects.exclude(pk=tenant.pk).filter(Q(slug=new_slug) | Q(schema_name=new_slug))
        if exc.code != "taken" or others.exists():
            raise ValidationError({"slug": exc.messages}) from None
    if Domain.objects.filter(domain=new_host).exclude(tenant=tenant).exists():
        raise ValidationError({"slug": ["This subdomain is already taken."]})
    own = Domain.objects.filter(domain=new_host, tenant=tenant).first()

    old_slug = tenant.slug
    old_host = tenant_host(old_slug)
    until = timezone.now() + dt.timedelta(days=settings.TENANT_DELETION_GRACE_DAYS)
    with transaction.atomic():
        old = Domain.objects.select_for_update().filter(domain=old_host, tenant=tenant).first()
        was_primary = old is not None and old.is_primary
        if old is not None:
            old.is_primary = False
            old.redirect_until = until
            old.save(update_fields=["is_primary", "redirect_until"])
        if own is None:
            own = Domain(domain=new_host, tenant=tenant)
        own.redirect_until = None
        own.is_primary = was_primary or not Domain.objects.filter(tenant=tenant, is_primary=True).exists()
        own.save()
        tenant.slug = new_slug
        tenant.save(update_fields=["slug"])
        audit_record(
            action=AuditAction.TENANT_SUBDOMAIN_CHANGED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes={
                "slug": [old_slug, new_slug],
                "redirect_until": until.isoformat() if old is not None else None,
            },
        )
    return tenant


def domains_redirect_expired_remove() -> int:
    """Remove old hosts whose redirect period has ended (they already answer 404); returns
    how many. The scheduled purge job calls it."""
    count = 0
    for domain in Domain.objects.filter(redirect_until__lte=timezone.now(), is_primary=False):
        domain.delete()  # one by one, so the routing signals fire
        count += 1
    return count
