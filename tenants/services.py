"""Writes for tenants. Views, commands and the admin call these; nothing else creates tenants."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django_tenants.utils import schema_context

from .models import Client, Domain

# A lowercase DNS label that is also a safe schema name: starts with a letter,
# letters/digits/hyphens, no trailing hyphen.
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
SLUG_MIN_LEN = 3
SLUG_MAX_LEN = 30


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Client
    domain: Domain
    owner_email: str


def tenant_host(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def tenant_slug_validate(slug: str) -> str:
    """Return the normalised slug or raise ValidationError with a message for people."""
    slug = (slug or "").strip()
    if not slug:
        raise ValidationError("Choose a subdomain.", code="required")
    if slug != slug.lower():
        raise ValidationError("Use lowercase letters only.", code="invalid")
    if not SLUG_MIN_LEN <= len(slug) <= SLUG_MAX_LEN:
        raise ValidationError(f"Use {SLUG_MIN_LEN} to {SLUG_MAX_LEN} characters.", code="invalid_length")
    if not SLUG_RE.match(slug) or "--" in slug:
        raise ValidationError(
            "Use lowercase letters, digits and single hyphens; start with a letter "
            "and end with a letter or digit.",
            code="invalid",
        )
    if slug in settings.RESERVED_SLUGS:
        raise ValidationError("This subdomain is reserved.", code="reserved")
    if Client.objects.filter(slug=slug).exists() or Client.objects.filter(schema_name=slug).exists():
        raise ValidationError("This subdomain is already taken.", code="taken")
    return slug


def tenant_provision(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str,
) -> ProvisionedTenant:
    """Create a tenant: its schema, its primary domain and its owner, all or nothing.

    Raises ValidationError (with a dict of field errors) on bad input; nothing is
    created in that case.
    """
    errors: dict[str, list[str]] = {}
    try:
        slug = tenant_slug_validate(slug)
    except ValidationError as exc:
        errors["slug"] = exc.messages
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the organisation a name."]
    elif len(name) > 100:
        errors["name"] = ["Use at most 100 characters."]
    owner_email = (owner_email or "").strip().lower()
    try:
        validate_email(owner_email)
    except ValidationError:
        errors["owner_email"] = ["Enter a valid email address."]
    try:
        validate_password(owner_password or "")
    except ValidationError as exc:
        errors["owner_password"] = exc.messages
    if errors:
        raise ValidationError(errors)

    # Schema DDL is transactional in PostgreSQL: a failure anywhere below rolls
    # back the schema, the tenant row, the domain and the owner together.
    with transaction.atomic():
        tenant = Client(schema_name=slug, slug=slug, name=name)
        tenant.save(verbosity=0)
        domain = Domain.objects.create(domain=tenant_host(slug), tenant=tenant, is_primary=True)
        with schema_context(tenant.schema_name):
            get_user_model().objects.create_user(
                owner_email,
                owner_password,
                role="owner",
                is_staff=True,
                is_superuser=True,
            )
    return ProvisionedTenant(tenant=tenant, domain=domain, owner_email=owner_email)


def public_tenant_ensure() -> Client:
    """The public tenant and the base-domain routes to it (idempotent)."""
    tenant, _ = Client.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "Public", "slug": settings.PUBLIC_SCHEMA_NAME},
    )
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True})
    return tenant
