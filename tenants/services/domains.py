"""Domains: the hosts routed to a tenant; each change with an audit record."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.actions import AuditAction
from audit.actors import Actor
from audit.services import audit_record

from ..hosts import host_normalise
from ..models import Client, Domain
from .provisioning import tenant_host

# --- Domains ---------------------------------------------------------------------------------


def domain_normalize(domain: str) -> str:
    """A host name as routing sees it (tenants/hosts.py), or ValidationError.

    Stricter than a request's host: no port, and no bare IPv4 address.
    """
    if not (domain or "").strip():
        raise ValidationError("Enter a host name.", code="required")
    host = host_normalise(domain, port_allowed=False)
    if host is None or host.replace(".", "").isdigit():
        raise ValidationError(
            f"{domain!r} is not a host name: use letters, digits, hyphens and dots (no port, no scheme).",
            code="invalid",
        )
    return host


def domain_validate(*, tenant: Client, domain: str) -> str:
    """Normalise a new domain for `tenant` and check it may have it."""
    host = domain_normalize(domain)
    base = settings.BASE_DOMAIN
    # Subdomains of the base domain are slugs; each belongs to the tenant of that slug.
    is_public = tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
    if not is_public and (host == base or (host.endswith(f".{base}") and host != tenant_host(tenant.slug))):
        raise ValidationError(
            f"{host} is reserved: only {tenant_host(tenant.slug)} under {base} belongs to this tenant.",
            code="reserved",
        )
    if Domain.objects.filter(domain=host).exists():
        raise ValidationError(f"{host} is already in use.", code="taken")
    return host


def domain_add(*, actor: Actor, tenant: Client, domain: str, is_primary: bool = False) -> Domain:
    """Route another host (e.g. a custom domain tasks.acme-corp.com) to the tenant; next request on."""
    host = domain_validate(tenant=tenant, domain=domain)
    with transaction.atomic():
        added = Domain.objects.create(domain=host, tenant=tenant, is_primary=is_primary)
        audit_record(
            action=AuditAction.DOMAIN_ADDED,
            actor=actor,
            tenant=tenant,
            target=added,
            changes={"domain": host, "is_primary": is_primary},
        )
    return added


def domain_set_primary(*, actor: Actor, domain: Domain) -> Domain:
    """Make `domain` its tenant's primary domain (the others stay, not primary)."""
    previous = (
        Domain.objects.filter(tenant_id=domain.tenant_id, is_primary=True)
        .exclude(pk=domain.pk)
        .values_list("domain", flat=True)
        .first()
    )
    if previous is None and Domain.objects.filter(pk=domain.pk, is_primary=True).exists():
        return domain  # already the primary one
    domain.is_primary = True
    with transaction.atomic():
        domain.save()  # DomainMixin.save demotes the previous primary in the same transaction
        audit_record(
            action=AuditAction.DOMAIN_PRIMARY_CHANGED,
            actor=actor,
            tenant=domain.tenant,
            target=domain,
            changes={"primary": [previous, domain.domain]},
        )
    return domain


def domain_remove(*, actor: Actor, domain: Domain) -> None:
    """Stop routing a host; the primary domain cannot be removed (make another one primary first)."""
    if Domain.objects.filter(pk=domain.pk, is_primary=True).exists() or (
        domain.pk is None and domain.is_primary
    ):
        raise ValidationError(f"{domain.domain} is the primary domain; make another one primary first.")
    with transaction.atomic():
        audit_record(
            action=AuditAction.DOMAIN_REMOVED,
            actor=actor,
            tenant=domain.tenant,
            target=domain,
            changes={"domain": domain.domain},
        )
        domain.delete()
