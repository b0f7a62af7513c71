"""Import: restore a `tenant_export` file (json or sql) into a new tenant, all or nothing.

- json (Django fixtures from `tenant_export`): a new schema is cloned from the template as
  for a sign-up, then every record is loaded into it and its sequences moved past the
  loaded ids. Only models that live in a tenant's schema are accepted (no sessions, no
  tenants, audit or usage rows): anything else is not a tenant export.
- sql (pg_dump of one tenant schema from `tenant_export --format sql`): the dump is
  checked (one schema, only the statements pg_dump writes for tables, sequences, indexes
  and constraints, the same tables as a tenant of this code), its schema name is rewritten
  to the new one outside the COPY data, and it is run on this connection. Its migration
  records must match the running code's; sessions are deleted.

Both run in one transaction with the tenant row, its domain and the audit record, so a bad
or foreign file leaves no schema, tenant or domain behind. The new tenant has its own uuid:
an import is a new organisation, never the exported one coming back.
"""

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, IntegrityError, connection, transaction
from django_tenants.utils import quote_schema_name, schema_context

from audit.actions import AuditAction
from audit.actors import Actor
from audit.services import audit_record

from ..migration_state import schemas_applied_migrations
from ..models import Client, Domain
from ..template import template_applied_migrations, template_ensure, template_schema_name
from .lifecycle import EXPORT_EXCLUDE, EXPORT_FORMATS
from .provisioning import tenant_host, tenant_slug_validate

# The statements pg_dump writes for one schema of tables, sequences, indexes and constraints.
_SQL_ALLOWED = re.compile(
    r"^(SET |SELECT pg_catalog\.set_config\(|SELECT pg_catalog\.setval\(|CREATE SCHEMA |CREATE TABLE "
    r"|CREATE SEQUENCE |ALTER TABLE |ALTER SEQUENCE |CREATE INDEX |CREATE UNIQUE INDEX |COPY )"
)
_CREATE_SCHEMA = re.compile(r'^CREATE SCHEMA ("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*);$')
_CREATE_TABLE = re.compile(
    r'^CREATE TABLE ("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\.("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*) '
)


@dataclass(frozen=True)
class ImportedTenant:
    tenant: Client
    domain: Domain
    records: int


def tenant_import(
    *, actor: Actor, path: Path, slug: str, name: str = "", fmt: str | None = None
) -> ImportedTenant:
    """Create tenant `slug` from the export at `path`; ValidationError (nothing created) if
    the file cannot be read, is not a tenant export, or does not fit this code's schema."""
    path = Path(path)
    fmt = fmt or _format_guess(path)
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"Unknown import format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"Cannot read {path}: {exc}") from None
    try:
        slug = tenant_slug_validate(slug)
    except ValidationError as exc:
        raise ValidationError(f"--slug {slug!r}: {' '.join(exc.messages)}") from None
    name = (name or "").strip()[:100] or slug
    # Checked before anything is created: a foreign file costs no schema at all.
    records = _json_records(text) if fmt == "json" else None
    script = _sql_script(text, new_schema=slug) if fmt == "sql" else None
    template_ensure()
    loaded = 0
    try:
        with transaction.atomic():
            connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' backend
            if script is not None:
                loaded = _sql_run(script, schema_name=slug)
            tenant = Client(schema_name=slug, slug=slug, name=name)
            tenant.save(verbosity=0)  # clones the template unless the dump made the schema
            domain = Domain.objects.create(domain=tenant_host(slug), tenant=tenant, is_primary=True)
            if records is not None:
                loaded = _json_load(records, schema_name=slug)
            audit_record(
                action=AuditAction.TENANT_IMPORTED,
                actor=actor,
                tenant=tenant,
                target=tenant,
                changes={"file": path.name, "format": fmt, "records": loaded},
            )
    except (DatabaseError, IntegrityError, psycopg2.Error) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"The export could not be loaded, nothing was created: {detail}") from None
    finally:
        connection.set_schema_to_public()  # type: ignore[attr-defined]
    return ImportedTenant(tenant=tenant, domain=domain, records=loaded)


def _format_guess(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in EXPORT_FORMATS else "json"


# --- json --------------------------------------------------------------------------------


def _tenant_model_labels() -> set[str]:
    """Models kept in a tenant's schema, minus what exports leave out."""
    excluded_apps = {e for e in EXPORT_EXCLUDE if "." not in e}
    excluded_models = {e.lower() for e in EXPORT_EXCLUDE if "." in e}
    labels = set()
    for app_name in settings.TENANT_APPS:
        config = next(c for c in apps.get_app_configs() if c.name == app_name)
        if config.label in excluded_apps:
            continue
        for model in config.get_models():
            if model._meta.label_lower not in excluded_models:
                labels.add(model._meta.label_lower)
    return labels


def _json_records(text: str) -> list[dict[str, Any]]:
    try:
        records = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"Not a JSON tenant export: {exc}.") from None
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and isinstance(r.get("model"), str) and isinstance(r.get("fields"), dict)
        for r in records
    ):
        raise ValidationError("Not a tenant export: expected a list of Django fixture records.")
    allowed = _tenant_model_labels()
    foreign = sorted({r["model"].lower() for r in records} - allowed)
    if foreign:
        raise ValidationError(
            f"Not a tenant export of this application: it holds {', '.join(foreign[:5])}, "
            "which is not data of an organisation's schema."
        )
    if not any(r["model"].lower() == "accounts.user" for r in records):
        raise ValidationError("Not a tenant export: it holds no people (accounts.user).")
    return records


def _json_load(records: list[dict[str, Any]], *, schema_name: str) -> int:
    loaded_models = set()
    count = 0
    with schema_context(schema_name):
        try:
            for obj in serializers.deserialize("json", json.dumps(records)):
                obj.save()
                loaded_models.add(type(obj.object))
                count += 1
        except (serializers.base.DeserializationError, ValidationError, LookupError) as exc:
            raise ValidationError(f"The export could not be loaded, nothing was created: {exc}") from None
        statements = connection.ops.sequence_reset_sql(no_style(), list(loaded_models))
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    return count


# --- sql ---------------------------------------------------------------------------------


@dataclass
class _Statement:
    sql: str
    copy_data: str | None = None


def _ident_pattern(ident: str) -> str:
    return re.escape(ident)


def _sql_script(text: str, *, new_schema: str) -> list[_Statement]:
    """The dump's statements, checked and with its schema renamed to `new_schema`."""
    if "-- PostgreSQL database dump" not in text[:2000]:
        raise ValidationError("Not an SQL tenant export: it does not start as a pg_dump file does.")
    statements = _sql_split(text)
    schemas = [m.group(1) for s in statements if (m := _CREATE_SCHEMA.match(s.sql))]
    if len(schemas) != 1:
        raise ValidationError(f"Not a tenant export: the dump creates {len(schemas)} schemas, not one.")
    old = schemas[0]
    new = quote_schema_name(new_schema)
    tables = set()
    for statement in statements:
        if not _SQL_ALLOWED.match(statement.sql):
            first = statement.sql.split("\n", 1)[0][:80]
            raise ValidationError(f"Not a tenant export: it holds a statement an export never has ({first}).")
        if match := _CREATE_TABLE.match(statement.sql):
            if match.group(1) != old:
                raise ValidationError(f"Not a tenant export: it creates tables outside schema {old}.")
            tables.add(match.group(2).strip('"'))
    expected = _template_tables()
    if tables != expected:
        missing, extra = sorted(expected - tables), sorted(tables - expected)
        raise ValidationError(
            "The export's tables do not match this version's tenant schema "
            f"(missing: {', '.join(missing[:5]) or 'none'}; unknown: {', '.join(extra[:5]) or 'none'})."
        )
    prefix = re.compile(rf"(^|[\s(,'=]){_ident_pattern(old)}\.")
    for statement in statements:
        if _CREATE_SCHEMA.match(statement.sql):
            statement.sql = f"CREATE SCHEMA {new};"
        else:
            statement.sql = prefix.sub(lambda m: f"{m.group(1)}{new}.", statement.sql)
    return statements


def _sql_split(text: str) -> list[_Statement]:
    """pg_dump's plain format: statements end with ';' at a line's end; COPY data follows
    its statement up to a line '\\.'. Comments and psql meta-commands are left out."""
    statements: list[_Statement] = []
    lines = iter(text.splitlines())
    current: list[str] = []
    for line in lines:
        if not current and (not line.strip() or line.startswith("--")):
            continue
        if not current and line.startswith(("\\restrict ", "\\unrestrict ")):
            continue  # pg_dump 17.6+ guards its output with these psql meta-commands
        if not current and line.startswith("\\"):
            raise ValidationError("Not a tenant export: it holds psql meta-commands.")
        current.append(line)
        if not line.rstrip().endswith(";"):
            continue
        sql = "\n".join(current)
        current = []
        if sql.startswith("COPY ") and sql.endswith("FROM stdin;"):
            data = []
            for row in lines:
                if row == "\\.":
                    break
                data.append(row)
            else:
                raise ValidationError("The SQL export is cut short (a COPY block has no end).")
            statements.append(_Statement(sql=sql, copy_data="\n".join(data) + ("\n" if data else "")))
        else:
            statements.append(_Statement(sql=sql))
    if current:
        raise ValidationError("The SQL export is cut short (its last statement has no end).")
    return statements


def _template_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [template_schema_name()])
        return {row[0] for row in cursor.fetchall()}


def _sql_run(script: list[_Statement], *, schema_name: str) -> int:
    """Run the checked dump; settings it makes last for this transaction only."""
    rows = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        search_path = cursor.fetchone()[0]
        for statement in script:
            sql = statement.sql
            if sql.startswith("SET "):
                sql = "SET LOCAL " + sql[4:]
            elif sql.startswith("SELECT pg_catalog.set_config("):
                sql = re.sub(r",\s*false\);$", ", true);", sql)
            if statement.copy_data is not None:
                cursor.copy_expert(sql, io.StringIO(statement.copy_data))
                rows += cursor.rowcount if cursor.rowcount > 0 else 0
            else:
                cursor.execute(sql)
        cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])
        cursor.execute(f"DELETE FROM {quote_schema_name(schema_name)}.django_session")  # noqa: S608 (quoted name)
    applied = schemas_applied_migrations(schema_names=[schema_name])[schema_name]
    expected = template_applied_migrations()
    if applied != expected:
        missing, extra = sorted(expected - applied), sorted(applied - expected)
        raise ValidationError(
            "The export was made by another version of the code "
            f"(migrations missing: {', '.join('.'.join(m) for m in missing[:3]) or 'none'}; "
            f"unknown: {', '.join('.'.join(m) for m in extra[:3]) or 'none'}); nothing was created."
        )
    return rows
