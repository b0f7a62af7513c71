"""The tenant lifecycle: suspend, reactivate, rename, export; each with an audit record.

Deletion (with its grace period) is in deletion.py, a change of subdomain in subdomain.py."""

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from audit.actions import AuditAction
from audit.actors import Actor
from audit.services import audit_record

from ..models import Client

# --- Lifecycle: suspend, reactivate, rename, export ------------------------------------------

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
