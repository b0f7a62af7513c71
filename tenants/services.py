"""Writes for tenants. Views, commands and the admin call these; nothing else creates tenants."""

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

import usage_stats
from audit.actions import ActorKind, AuditAction
from audit.actors import Actor, actor_system
from audit.services import audit_record
from usage_stats.services import usage_stats_tenant_purge

from .hosts import host_normalise
from .models import Client, Domain
from .template import template_ensure

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
    owner_password: str | None,
    actor: Actor | None = None,
) -> ProvisionedTenant:
    """Create a tenant: its schema, its primary domain and its owner, all or nothing.

    The schema is a copy of the migrated template schema (tenants/template.py), which
    takes tens of milliseconds instead of running every migration. An owner_password of
    None gives the owner an unusable password (bulk and load-test tenants). The audit
    record names `actor`, or the new owner when None (a sign-up on the public site).

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
    if owner_password is not None:
        try:
            validate_password(owner_password)
        except ValidationError as exc:
            errors["owner_password"] = exc.messages
    if errors:
        raise ValidationError(errors)

    # Bring the template up to date outside the transaction below, so that transaction
    # stays short (a no-op after the first tenant of a deploy).
    template_ensure()
    # Schema DDL is transactional in PostgreSQL: a failure anywhere below rolls
    # back the schema, the tenant row, the domain and the owner together.
    with transaction.atomic():
        tenant = Client(schema_name=slug, slug=slug, name=name)
        tenant.save(verbosity=0)
        domain = Domain.objects.create(domain=tenant_host(slug), tenant=tenant, is_primary=True)
        with schema_context(tenant.schema_name):
            owner = get_user_model().objects.create_user(
                owner_email,
                owner_password,
                role="owner",
                is_staff=True,
                is_superuser=True,
            )
        audit_record(
            action=AuditAction.TENANT_CREATED,
            actor=actor or Actor(kind=ActorKind.OWNER, id=owner.pk, email=owner.email),
            tenant=tenant,
            target=tenant,
            changes={"slug": slug, "name": name, "owner_email": owner_email},
        )
        transaction.on_commit(lambda: _provision_events_record(tenant=tenant.schema_name, owner_id=owner.pk))
    return ProvisionedTenant(tenant=tenant, domain=domain, owner_email=owner_email)


def _provision_events_record(*, tenant: str, owner_id: int) -> None:
    """Usage events of a new tenant, once it really exists."""
    usage_stats.record("tenant.created", tenant=tenant, user_id=owner_id)
    usage_stats.record("user.signed_up", tenant=tenant, user_id=owner_id, properties={"role": "owner"})


def public_tenant_ensure() -> Client:
    """The public tenant and the base-domain routes to it (idempotent)."""
    tenant, _ = Client.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "Public", "slug": settings.PUBLIC_SCHEMA_NAME},
    )
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True})
    return tenant


# --- Lifecycle: suspend, reactivate, export, delete ----------------------------------------

EXPORT_FORMATS = ("json", "sql")
# Not exported: sessions are live credentials; content types and permissions are rebuilt
# by migrations in whatever schema the data is loaded into.
EXPORT_EXCLUDE = ["contenttypes", "auth.permission", "sessions"]


def _not_public(tenant: Client, action: str) -> None:
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise ValidationError(f"The public site cannot be {action}.", code="public")


def tenant_suspend(*, actor: Actor, tenant: Client, reason: str = "") -> Client:
    """Close the tenant's hosts (HTTP 423 page); its schema and data stay as they are.

    Suspending a suspended tenant keeps its start time and only replaces the reason.
    """
    _not_public(tenant, "suspended")
    reason = (reason or "").strip()[:200]
    if tenant.suspended_at is not None and tenant.suspended_reason == reason:
        return tenant
    before = {"suspended_at": _iso(tenant.suspended_at), "suspended_reason": tenant.suspended_reason}
    if tenant.suspended_at is None:
        tenant.suspended_at = timezone.now()
    tenant.suspended_reason = reason
    with transaction.atomic():
        tenant.save(update_fields=["suspended_at", "suspended_reason"])
        audit_record(
            action=AuditAction.TENANT_SUSPENDED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes=_changes(before, {"suspended_at": _iso(tenant.suspended_at), "suspended_reason": reason}),
        )
    return tenant


def tenant_reactivate(*, actor: Actor, tenant: Client) -> Client:
    """Open a suspended tenant's hosts again; a tenant that is not suspended is left alone."""
    if tenant.suspended_at is None:
        return tenant
    before = {"suspended_at": _iso(tenant.suspended_at), "suspended_reason": tenant.suspended_reason}
    tenant.suspended_at = None
    tenant.suspended_reason = ""
    with transaction.atomic():
        tenant.save(update_fields=["suspended_at", "suspended_reason"])
        audit_record(
            action=AuditAction.TENANT_REACTIVATED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes=_changes(before, {"suspended_at": None, "suspended_reason": ""}),
        )
    return tenant


def tenant_rename(*, actor: Actor, tenant: Client, name: str) -> Client:
    """Change the organisation's display name (its slug, schema and hosts stay)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the organisation a name."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Use at most 100 characters."]})
    stored = Client.objects.get(pk=tenant.pk).name
    if name == stored:
        return tenant
    tenant.name = name
    with transaction.atomic():
        tenant.save(update_fields=["name"])
        audit_record(
            action=AuditAction.TENANT_RENAMED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes={"name": [stored, name]},
        )
    return tenant


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [before, after]} for the fields that differ."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def tenant_export(*, actor: Actor, tenant: Client, path: Path, fmt: str = "json") -> Path:
    """Write the tenant's data to `path`: `json` (Django fixtures, loaddata-compatible,
    sessions left out) or `sql` (pg_dump of the schema, needs the pg_dump binary).

    The audit record is written once the file is complete; a failed export leaves none.
    """
    _not_public(tenant, "exported")
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"Unknown export format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}.")
    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError(f"The folder {path.parent} does not exist.")
    if fmt == "sql":
        _schema_dump_sql(schema_name=tenant.schema_name, path=path)
    else:
        with schema_context(tenant.schema_name), path.open("w", encoding="utf-8") as out:
            call_command(
                "dumpdata",
                exclude=EXPORT_EXCLUDE,
                natural_foreign=True,
                indent=2,
                database=DEFAULT_DB_ALIAS,
                stdout=out,
            )
    audit_record(
        action=AuditAction.TENANT_EXPORTED,
        actor=actor,
        tenant=tenant,
        target=tenant,
        changes={"format": fmt, "file": path.name},
    )
    return path


def _schema_dump_sql(*, schema_name: str, path: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise ValidationError("pg_dump is not installed here; export as json instead.")
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    command = [pg_dump, "--schema", schema_name, "--no-owner", "--no-privileges", "--file", str(path)]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    command.append(db["NAME"])
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or "", "PGCONNECT_TIMEOUT": "10"}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
    except subprocess.TimeoutExpired:
        raise ValidationError("pg_dump took longer than an hour and was stopped.") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValidationError(f"pg_dump failed: {detail}")


def tenant_delete(*, actor: Actor, tenant: Client, confirm_slug: str, purge_stats: bool = False) -> None:
    """Drop the tenant's schema and delete it with its domains, all or nothing.

    `confirm_slug` must be the tenant's slug, typed by the person deleting it. Usage stats
    are kept (they name the tenant, not its data) unless `purge_stats`. Audit records are
    kept too: their tenant becomes NULL and `tenant_schema` still names it.
    """
    _not_public(tenant, "deleted")
    if (confirm_slug or "").strip() != tenant.slug:
        raise ValidationError(f"Type the slug {tenant.slug!r} to confirm the deletion.", code="confirm")
    schema_name = tenant.schema_name
    with transaction.atomic():
        connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' backend
        audit_record(
            action=AuditAction.TENANT_DELETED,
            actor=actor,
            tenant=tenant,
            target=tenant,
            changes={"name": tenant.name, "purge_stats": purge_stats},
        )
        Domain.objects.filter(tenant=tenant).delete()
        tenant.delete(force_drop=True)  # DROP SCHEMA ... CASCADE, then the row
    if purge_stats:
        usage_stats_tenant_purge(tenant=schema_name)


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
