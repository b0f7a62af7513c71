"""Provisioning: new tenants (one, or many for load tests) and the public tenant."""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

import usage_stats
from accounts.directory import account_index_add
from audit.actions import ActorKind, AuditAction
from audit.actors import Actor, actor_system
from audit.services import audit_record
from core.text import text_problem

from ..models import Client, Domain
from ..template import template_ensure
from .spares import spare_schema_claim, spares_enabled, spares_refill_enqueue

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
    # A schema keeps the name of the slug it was created with (subdomain.py), and an old
    # subdomain redirects for a while after a change: both keep the slug taken.
    if (
        Client.objects.filter(slug=slug).exists()
        or Client.objects.filter(schema_name=slug).exists()
        or Domain.objects.filter(domain=tenant_host(slug), redirect_until__isnull=False).exists()
    ):
        raise ValidationError("This subdomain is already taken.", code="taken")
    return slug


def tenant_provision_check(
    *, slug: str, name: str, owner_email: str, owner_password: str | None
) -> dict[str, list[str]]:
    """Every problem with these sign-up values at once, by field ({} when they are fine).

    tenant_provision raises these; the sign-up page also shows them beside the form's own
    errors, so a person fixes everything in one round."""
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
    elif problem := text_problem(name):
        errors["name"] = [problem]
    owner_email = (owner_email or "").strip().lower()
    try:
        validate_email(owner_email)
    except ValidationError:
        errors["owner_email"] = ["Enter a valid email address."]
    if owner_password is not None:
        try:
            validate_password(owner_password)
        except ValidationError as exc:
            errors["owner_password"] = exc.messages
    return errors


def tenant_provision(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None,
    actor: Actor | None = None,
    owner_verified: bool = False,
) -> ProvisionedTenant:
    """Create a tenant: its schema, its primary domain and its owner, all or nothing.

    The schema is a copy of the migrated template schema (tenants/template.py), which
    takes tens of milliseconds instead of running every migration. An owner_password of
    None gives the owner an unusable password (bulk and load-test tenants). The audit
    record names `actor`, or the new owner when None (a sign-up on the public site).

    Raises ValidationError (with a dict of field errors) on bad input; nothing is
    created in that case. Concurrent calls for one slug are serialised by a transaction-level
    advisory lock on the slug: the first creates the tenant, the others then see it and get
    "already taken" (never an IntegrityError). `owner_verified` marks the owner's address as
    verified (operators' commands); a sign-up verifies it by mail (accounts/verification.py).
    """
    errors = tenant_provision_check(
        slug=slug, name=name, owner_email=owner_email, owner_password=owner_password
    )
    slug = (slug or "").strip()
    name = (name or "").strip()
    owner_email = (owner_email or "").strip().lower()
    if errors:
        raise ValidationError(errors)

    # Bring the template up to date outside the transaction below, so that transaction
    # stays short (a no-op after the first tenant of a deploy).
    template_ensure()
    # Schema DDL is transactional in PostgreSQL: a failure anywhere below rolls
    # back the schema, the tenant row, the domain and the owner together.
    try:
        with transaction.atomic():
            tenant, domain, owner = _tenant_create(
                slug=slug,
                name=name,
                owner_email=owner_email,
                owner_password=owner_password,
                verified=owner_verified,
            )
            audit_record(
                action=AuditAction.TENANT_CREATED,
                actor=actor or Actor(kind=ActorKind.OWNER, id=owner.pk, email=owner.email),
                tenant=tenant,
                target=tenant,
                changes={"slug": slug, "name": name, "owner_email": owner_email},
            )
            transaction.on_commit(lambda: _provision_events_record(tenant_id=tenant.uuid, owner_id=owner.pk))
    except IntegrityError:
        # A slug or host taken between the check and the insert by a path without the lock.
        raise ValidationError({"slug": ["This subdomain is already taken."]}, code="taken") from None
    return ProvisionedTenant(tenant=tenant, domain=domain, owner_email=owner_email)


def _tenant_create(
    *, slug: str, name: str, owner_email: str, owner_password: str | None, verified: bool
) -> tuple[Client, Domain, Any]:
    """The rows and the schema of a new tenant, in the caller's transaction, under the slug's lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"taskhive.tenant-slug:{slug}"]
        )
    if Client.objects.filter(slug=slug).exists() or Client.objects.filter(schema_name=slug).exists():
        raise ValidationError({"slug": ["This subdomain is already taken."]}, code="taken")
    # A spare schema made ahead (spares.py), or else a copy of the template made now.
    spare = spare_schema_claim()
    tenant = Client(schema_name=spare or slug, slug=slug, name=name)
    if spare is not None:
        tenant.auto_create_schema = False
    tenant.save(verbosity=0)
    if spares_enabled():
        spares_refill_enqueue()  # on commit: the job makes the next spare
    domain = Domain.objects.create(domain=tenant_host(slug), tenant=tenant, is_primary=True)
    with schema_context(tenant.schema_name):
        owner = get_user_model().objects.create_user(
            owner_email,
            owner_password,
            role="owner",
            is_staff=True,
            is_superuser=True,
            email_verified_at=timezone.now() if verified else None,
        )
    account_index_add(email=owner_email, schema_name=tenant.schema_name)
    return tenant, domain, owner


def _provision_events_record(*, tenant_id: uuid.UUID, owner_id: int) -> None:
    """Usage events of a new tenant, once it really exists (keyed by its uuid)."""
    usage_stats.record("tenant.created", tenant_id=tenant_id, user_id=owner_id)
    usage_stats.record("user.signed_up", tenant_id=tenant_id, user_id=owner_id, properties={"role": "owner"})


def public_tenant_ensure() -> Client:
    """The public tenant and the base-domain routes to it (idempotent)."""
    tenant, _ = Client.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "Public", "slug": settings.PUBLIC_SCHEMA_NAME},
    )
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True})
    return tenant


# --- Many tenants at once (load tests, benchmarks) ----------------------------------------


@dataclass
class BulkCreateResult:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def tenants_bulk_create(
    *,
    prefix: str,
    count: int,
    start: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
    actor: Actor | None = None,
) -> BulkCreateResult:
    """Provision `<prefix>-0001` ... with owners `owner@<slug>.example` (unusable passwords).

    Tenants that already exist are skipped, so it can be re-run to top up. `progress` is
    called after each slug with (done, count, slug).
    """
    if count < 1:
        raise ValidationError("Count must be at least 1.")
    width = max(4, len(str(start + count - 1)))
    slugs = [f"{prefix}-{i:0{width}d}" for i in range(start, start + count)]
    for slug in (slugs[0], slugs[-1]):
        try:
            tenant_slug_validate(slug)
        except ValidationError as exc:
            if exc.code != "taken":
                raise ValidationError(
                    f"Prefix {prefix!r} makes invalid slugs ({slug}): {exc.messages[0]}"
                ) from None
    existing = set(Client.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    result = BulkCreateResult()
    for done, slug in enumerate(slugs, start=1):
        if slug in existing:
            result.existing.append(slug)
        else:
            try:
                tenant_provision(
                    slug=slug,
                    name=f"Load {slug}",
                    owner_email=f"owner@{slug}.example",
                    owner_password=None,
                    actor=actor or actor_system(),
                )
            except ValidationError as exc:
                result.failed[slug] = " ".join(exc.messages)
            else:
                result.created.append(slug)
        if progress is not None:
            progress(done, count, slug)
    return result
